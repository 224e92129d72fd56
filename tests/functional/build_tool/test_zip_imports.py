"""Each real function's zip imports its handler and every pinned package in a clean Python 3.12 with only the runtime's boto3.

Builds lambda_src/ with the real pip (wheels and trees cached in the repository's .cache/), extracts
each zip and runs ``python -I -S`` with sys.path = [extracted zip, .cache/runtime-python/...] plus
the standard library (lambda_build.importcheck). Only functions whose architecture and Python
version match this machine can be imported here; the others are skipped.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from lambda_build import Builder, BuildPaths, SubprocessPipRunner
from lambda_build.config import discover_functions, load_config
from lambda_build.importcheck import check_zip_imports, ensure_runtime_site, host_architecture

REPO_ROOT = Path(__file__).resolve().parents[3]
SRC = REPO_ROOT / "lambda_src"
FUNCTIONS = discover_functions(SRC) if SRC.is_dir() else []
BASELINE_BYTES = 29_300_000  # terraform-aws-lambda's package.py zip for LexFulfillmentHandler's requirements

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildPaths:
    """All real functions built once into a temp dist/ (the repository's dist/ is left alone)."""
    paths = BuildPaths(SRC, tmp_path_factory.mktemp("dist"), REPO_ROOT / ".cache")
    report = Builder(paths, pip_runner=SubprocessPipRunner(), jobs=2).build()
    assert report.ok, "\n".join(str(e) for e in report.errors)
    return paths


@pytest.fixture(scope="module")
def runtime_site() -> Path:
    """boto3 1.40.61 and its dependencies, as the python3.12 runtime provides them, installed once."""
    configs = load_config(SRC, FUNCTIONS)
    first = next(iter(configs.values()))
    return ensure_runtime_site(REPO_ROOT / ".cache", first.runtime, first.architecture, SubprocessPipRunner())


@pytest.mark.skipif(not FUNCTIONS, reason="lambda_src/ has no functions yet")
@pytest.mark.parametrize("name", FUNCTIONS or ["(none)"])
def test_handler_imports_with_only_the_zip_and_runtime_boto3(name: str, built: BuildPaths, runtime_site: Path) -> None:
    config = load_config(SRC, FUNCTIONS)[name]
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if config.architecture != host_architecture() or config.runtime.python_version != here:
        pytest.skip(f"{name} targets {config.runtime.name}/{config.architecture.name}; this is Python {here}")
    zip_path = built.dist_dir / f"{name}.zip"
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    assert "lambda_function.py" in names and "atlas_shared/__init__.py" in names
    assert not [n for n in names if n.split("/")[0] in ("boto3", "botocore", "s3transfer", "jmespath")]
    # Every package requirements.txt pins must import from the zip, even those the handler imports lazily.
    required = Builder(built, pip_runner=SubprocessPipRunner()).import_names(name)
    assert required, f"{name} pins no packages"
    report = check_zip_imports(zip_path, runtime_site=runtime_site, function=name, required=required)
    assert set(required) <= set(report.imported)
    assert report.origins["lambda_function"] == "zip"
    assert report.origins["atlas_shared"] == "zip"
    assert report.origins["boto3"] == "runtime"
    assert report.sys_path[:2] == [report.sys_path[0], str(runtime_site)]
    assert not [p for p in report.sys_path if "site-packages" in p]
    assert "atlas_shared.settings" in report.imported


@pytest.mark.skipif("LexFulfillmentHandler" not in FUNCTIONS, reason="LexFulfillmentHandler not written yet")
def test_lex_zip_is_far_below_the_baseline(built: BuildPaths) -> None:
    size = (built.dist_dir / "LexFulfillmentHandler.zip").stat().st_size
    assert size < BASELINE_BYTES / 2, f"{size / 1e6:.2f} MB"
