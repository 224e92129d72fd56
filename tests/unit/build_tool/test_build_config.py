"""Function discovery, build.toml and target platform tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_build.config import ARCHITECTURES, RUNTIMES, Runtime, discover_functions, load_config, platform_tags
from lambda_build.errors import ConfigError, FunctionNotFoundError, MissingHandlerError
from lambda_build.testing import write_files


def _src(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    write_files(tmp_path / "lambda_src", files)
    return tmp_path / "lambda_src"


def test_discovers_only_folders_with_a_handler(tmp_path: Path) -> None:
    src = _src(
        tmp_path,
        {
            "Zed/lambda_function.py": "",
            "Alpha/lambda_function.py": "",
            "atlas_shared/__init__.py": "",
            "atlas_shared/lambda_function.py": "",  # the shared package is never a function
            "docs/readme.md": "",
            ".hidden/lambda_function.py": "",
            "build.toml": "",
        },
    )
    assert discover_functions(src) == ["Alpha", "Zed"]


def test_requirements_without_handler_is_an_error_naming_the_folder(tmp_path: Path) -> None:
    src = _src(tmp_path, {"Broken/requirements.txt": "six==1.17.0\n"})
    with pytest.raises(MissingHandlerError) as caught:
        discover_functions(src)
    assert caught.value.function == "Broken"
    assert "no lambda_function.py" in str(caught.value)


def test_defaults_are_python312_x86_64(tmp_path: Path) -> None:
    src = _src(tmp_path, {"Fn/lambda_function.py": ""})
    config = load_config(src, ["Fn"])["Fn"]
    assert (config.runtime.name, config.architecture.name, config.exclude) == ("python3.12", "x86_64", ())


def test_build_toml_defaults_and_per_function_overrides(tmp_path: Path) -> None:
    src = _src(
        tmp_path,
        {
            "A/lambda_function.py": "",
            "B/lambda_function.py": "",
            "build.toml": '[defaults]\narchitecture = "arm64"\n\n'
            '[functions.B]\nruntime = "python3.13"\narchitecture = "x86_64"\nexclude = ["lxml/html"]\n',
        },
    )
    configs = load_config(src, ["A", "B"])
    assert (configs["A"].runtime.name, configs["A"].architecture.name) == ("python3.12", "arm64")
    assert (configs["B"].runtime.name, configs["B"].architecture.name) == ("python3.13", "x86_64")
    assert configs["B"].exclude == ("lxml/html",)


@pytest.mark.parametrize(
    ("toml", "error", "fragment"),
    [
        ('[functions.Fn]\nruntime = "python2.7"\n', ConfigError, "unknown runtime 'python2.7'"),
        ('[functions.Fn]\narchitecture = "ppc64"\n', ConfigError, "unknown architecture 'ppc64'"),
        ("[functions.Fn]\nmemory = 512\n", ConfigError, "unknown key(s) memory"),
        ("[functions.Fn]\nexclude = 'x'\n", ConfigError, "must be a list"),
        ('[functions.Ghost]\nruntime = "python3.12"\n', FunctionNotFoundError, "lambda_src/Ghost/ does not exist"),
        ("[functions.Fn\n", ConfigError, "not valid TOML"),
    ],
)
def test_bad_build_toml_gives_a_clear_error(tmp_path: Path, toml: str, error: type[Exception], fragment: str) -> None:
    src = _src(tmp_path, {"Fn/lambda_function.py": "", "build.toml": toml})
    with pytest.raises(error) as caught:
        load_config(src, ["Fn"])
    assert fragment in str(caught.value)
    assert "->" in str(caught.value)


def test_runtime_error_names_the_function(tmp_path: Path) -> None:
    src = _src(tmp_path, {"Fn/lambda_function.py": "", "build.toml": '[functions.Fn]\nruntime = "nodejs20.x"\n'})
    with pytest.raises(ConfigError) as caught:
        load_config(src, ["Fn"])
    assert caught.value.function == "Fn"
    assert str(caught.value).startswith("Fn: ")


def test_build_toml_naming_a_folder_without_handler(tmp_path: Path) -> None:
    src = _src(tmp_path, {"Half/notes.txt": "", "build.toml": "[functions.Half]\n"})
    with pytest.raises(MissingHandlerError, match="Half"):
        load_config(src, [])


def test_platform_tags_cover_al2023_glibc_and_nothing_newer() -> None:
    x86 = platform_tags(RUNTIMES["python3.12"], ARCHITECTURES["x86_64"])
    assert x86[0] == "manylinux_2_34_x86_64"
    assert {"manylinux_2_28_x86_64", "manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux1_x86_64"} <= set(x86)
    assert "manylinux_2_35_x86_64" not in x86
    arm = platform_tags(RUNTIMES["python3.12"], ARCHITECTURES["arm64"])
    assert "manylinux_2_28_aarch64" in arm and "manylinux2014_aarch64" in arm
    assert all(tag.endswith("_aarch64") for tag in arm)
    assert "manylinux1_aarch64" not in arm
    older_glibc = platform_tags(Runtime("python3.x", "3.11", (2, 26)), ARCHITECTURES["x86_64"])
    assert older_glibc[0] == "manylinux_2_26_x86_64"


@pytest.mark.parametrize("runtime", ["python3.11", "python3.14"])
def test_only_the_runtimes_the_terraform_module_accepts(tmp_path: Path, runtime: str) -> None:
    assert sorted(RUNTIMES) == ["python3.12", "python3.13"]
    src = _src(tmp_path, {"Fn/lambda_function.py": "", "build.toml": f'[functions.Fn]\nruntime = "{runtime}"\n'})
    with pytest.raises(ConfigError) as caught:
        load_config(src, ["Fn"])
    assert str(caught.value) == (
        f"Fn: unknown runtime '{runtime}' in build.toml [functions.Fn]\n"
        "  -> use python3.12 or python3.13 in lambda_src/build.toml: the Python runtimes that both the Terraform "
        "module (modules/lambda_function) and its AWS provider accept"
    )


def test_an_invalid_exclude_glob_names_the_function_and_the_glob(tmp_path: Path) -> None:
    toml = '[functions.Fn]\nexclude = ["lxml/html", "lxml/[z-a]*"]\n'
    src = _src(tmp_path, {"Fn/lambda_function.py": "", "build.toml": toml})
    with pytest.raises(ConfigError) as caught:
        load_config(src, ["Fn"])
    message = str(caught.value)
    assert message.startswith("Fn: exclude glob 'lxml/[z-a]*' in build.toml [functions.Fn] is not a valid glob: ")
    assert "bad character range z-a" in message and "-> fix it in lambda_src/build.toml" in message


def test_build_toml_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    src = _src(tmp_path, {"Fn/lambda_function.py": "", "build.toml": '\ufeff[functions.Fn]\narchitecture = "arm64"\n'})
    assert load_config(src, ["Fn"])["Fn"].architecture.name == "arm64"
