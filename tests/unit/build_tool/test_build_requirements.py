"""requirements.txt parsing: exact pins only, markers for the target, hashes kept for pip."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_build.config import ARCHITECTURES, RUNTIMES, marker_environment
from lambda_build.deps import parse_requirements_file
from lambda_build.errors import RequirementError
from lambda_build.requirements import applicable, parse_requirements, render_for_pip

SHA = "sha256:" + "a" * 64
SHA2 = "sha256:" + "b" * 64
X86 = marker_environment(RUNTIMES["python3.12"], ARCHITECTURES["x86_64"])
ARM = marker_environment(RUNTIMES["python3.12"], ARCHITECTURES["arm64"])


def test_parses_pins_extras_markers_comments_and_continued_hashes() -> None:
    text = (
        "# top comment\n"
        "\n"
        "PyJWT[crypto]==2.10.1  # inline comment\n"
        "requests==2.32.3 \\\n"
        f"    --hash={SHA} \\\n"
        f"    --hash {SHA2}\n"
        'wrapt===1.17.2 ; python_version >= "3.8"\n'
        "--require-hashes\n"
    )
    pins = parse_requirements(text, function="Fn")
    assert [(p.name, p.key, p.version, p.operator) for p in pins] == [
        ("PyJWT", "pyjwt", "2.10.1", "=="),
        ("requests", "requests", "2.32.3", "=="),
        ("wrapt", "wrapt", "1.17.2", "==="),
    ]
    assert pins[0].extras == frozenset({"crypto"})
    assert pins[1].hashes == (SHA, SHA2)
    assert pins[1].line == 4
    assert pins[2].marker is not None


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("requests>=2.0", "not pinned to one exact version"),
        ("requests", "not pinned to one exact version"),
        ("requests==2.*", "not pinned to one exact version"),
        ("requests==2.0,<3", "not pinned to one exact version"),
        ("requests @ https://example.com/r.whl", "URL requirement"),
        ("-e ./local", "option -e is not supported"),
        ("-r other.txt", "option -r is not supported"),
        ("--index-url https://example.com/simple", "option --index-url is not supported"),
        ("requests==2.0 --hash=md5:abc", "malformed hash"),
        ("requests==2.0 --no-binary", "unknown or unsupported option"),
        ("requests===", "cannot parse"),
        ("!!!", "cannot parse"),
    ],
)
def test_rejects_bad_lines_naming_function_file_and_line(line: str, fragment: str) -> None:
    with pytest.raises(RequirementError) as caught:
        parse_requirements(f"six==1.16.0\n{line}\n", function="CreateLeadHandler")
    message = str(caught.value)
    assert fragment in message
    assert message.startswith("CreateLeadHandler: lambda_src/CreateLeadHandler/requirements.txt line 2")
    assert "->" in message  # every error says what to do


def test_rejects_the_same_project_twice_under_different_spellings() -> None:
    with pytest.raises(RequirementError, match="listed again"):
        parse_requirements("PyJWT==2.10.1\npyjwt==2.10.1\n", function="Fn")


def test_markers_are_evaluated_for_the_target_architecture_not_the_build_machine() -> None:
    pins = parse_requirements(
        'armonly==1.0 ; platform_machine == "aarch64"\n'
        'x86only==1.0 ; platform_machine == "x86_64"\n'
        'winonly==1.0 ; sys_platform == "win32"\n'
        'old==1.0 ; python_version < "3.12"\n'
        "always==1.0\n",
        function="Fn",
    )
    assert [p.name for p in applicable(pins, X86, function="Fn")] == ["x86only", "always"]
    assert [p.name for p in applicable(pins, ARM, function="Fn")] == ["armonly", "always"]


def test_some_hashed_and_some_unhashed_pins_are_rejected_before_pip() -> None:
    pins = parse_requirements(f"a==1.0 --hash={SHA}\nb==1.0\n", function="Fn")
    with pytest.raises(RequirementError, match="hashes some pins but not b"):
        applicable(pins, X86, function="Fn")


def test_rendered_pip_file_is_sorted_marker_free_and_keeps_hashes() -> None:
    pins = parse_requirements(
        f'zeta==1.0 --hash={SHA}\nPyJWT[crypto]==2.1 ; python_version >= "3" --hash={SHA2}\n', function="Fn"
    )
    assert render_for_pip(applicable(pins, X86, function="Fn")) == (
        f"PyJWT[crypto]==2.1 --hash={SHA2}\nzeta==1.0 --hash={SHA}\n"
    )


def test_a_byte_order_mark_is_dropped() -> None:
    pins = parse_requirements("\ufeff# exported by an editor on Windows\nsix==1.17.0\n", function="Fn")
    assert [(p.name, p.version, p.line) for p in pins] == [("six", "1.17.0", 2)]


def test_a_bom_in_the_requirements_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"\xef\xbb\xbfsix==1.17.0\n")
    assert [p.name for p in parse_requirements_file(path, function="Fn")] == ["six"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("boto3==1.35.0\n", "boto3==1.35.0 is pinned but botocore and s3transfer are not"),
        ("boto3==1.35.0\nbotocore==1.35.0\n", "boto3==1.35.0 is pinned but s3transfer is not"),
        ("s3transfer==0.10.2\n", "s3transfer==0.10.2 is pinned but botocore is not"),
    ],
)
def test_boto3_without_the_botocore_it_requires_is_rejected(text: str, fragment: str) -> None:
    with pytest.raises(RequirementError) as caught:
        applicable(parse_requirements(text, function="Fn"), X86, function="Fn")
    message = str(caught.value)
    assert message.startswith(f"Fn: {fragment}: the zip's ")
    assert "would run with the Lambda runtime's" in message
    assert "-> pin" in message and "or remove the" in message


def test_the_whole_sdk_pinned_together_or_botocore_alone_is_fine() -> None:
    text = "boto3==1.35.0\nbotocore==1.35.0\ns3transfer==0.10.2\njmespath==1.0.1\n"
    assert len(applicable(parse_requirements(text, function="Fn"), X86, function="Fn")) == 4
    assert len(applicable(parse_requirements("botocore==1.35.0\n", function="Fn"), X86, function="Fn")) == 1
    # A boto3 pin for another platform only does not count.
    arm_only = 'boto3==1.35.0 ; platform_machine == "aarch64"\n'
    assert applicable(parse_requirements(arm_only, function="Fn"), X86, function="Fn") == []
