"""The clean-interpreter import check, on hand-made zips (no network: the runtime folder is faked)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from lambda_build.errors import ImportCheckError
from lambda_build.importcheck import check_zip_imports
from lambda_build.testing import write_files


def _zip(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "fn.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


@pytest.fixture
def runtime_site(tmp_path: Path) -> Path:
    site = tmp_path / "runtime"
    write_files(site, {"boto3/__init__.py": "RUNTIME = True\n"})
    return site


def test_handler_and_every_top_level_module_import_from_the_zip(tmp_path: Path, runtime_site: Path) -> None:
    zip_path = _zip(
        tmp_path,
        {
            "lambda_function.py": "import os\nREGION = os.environ['AWS_REGION']\ndef lambda_handler(e, c):\n    return 1\n",
            "atlas_shared/__init__.py": "",
            "atlas_shared/settings.py": "import json\n",
            "dep.py": "VALUE = 1\n",
        },
    )
    report = check_zip_imports(zip_path, runtime_site=runtime_site, function="Fn", python=sys.executable)
    assert report.origins == {"lambda_function": "zip", "atlas_shared": "zip", "boto3": "runtime", "botocore": None}
    assert report.sys_path[1] == str(runtime_site)
    assert not [p for p in report.sys_path if "site-packages" in p]  # the build venv is invisible
    assert set(report.imported) == {"lambda_function", "atlas_shared", "atlas_shared.settings", "boto3", "dep"}


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({"lambda_function.py": "import pytest\n"}, "ModuleNotFoundError: No module named 'pytest'"),
        ({"lambda_function.py": "handler = 1\n"}, "no callable lambda_handler"),
        ({"lambda_function.py": "def lambda_handler(e, c): pass\n", "broken.py": "import zeep\n"}, "broken: Module"),
    ],
)
def test_import_failures_name_the_function_and_show_the_error(
    tmp_path: Path, runtime_site: Path, files: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ImportCheckError) as caught:
        check_zip_imports(_zip(tmp_path, files), runtime_site=runtime_site, function="Fn", python=sys.executable)
    assert str(caught.value).startswith("Fn: importing the zip's code failed")
    assert fragment in str(caught.value)


def test_every_pinned_package_must_import_from_the_zip(tmp_path: Path, runtime_site: Path) -> None:
    # The handler imports zeep lazily, so nothing in the zip would import it: an exclude that removed
    # it would only fail on the request that needs it.
    handler = "def lambda_handler(e, c):\n    import zeep\n    return zeep\n"
    files = {"lambda_function.py": handler, "jwt/__init__.py": "", "six.py": ""}
    zip_path = _zip(tmp_path, files)
    required = {"jwt": "PyJWT==2.10.1", "six": "six==1.17.0"}
    report = check_zip_imports(zip_path, runtime_site=runtime_site, function="Fn", required=required)
    assert {"jwt", "six"} <= set(report.imported)
    with pytest.raises(ImportCheckError) as caught:
        check_zip_imports(
            zip_path, runtime_site=runtime_site, function="Fn", required={**required, "zeep": "zeep==4.3.0"}
        )
    assert "zeep (from zeep==4.3.0, pinned in requirements.txt): ModuleNotFoundError" in str(caught.value)


def test_a_pinned_package_found_only_in_the_runtime_fails(tmp_path: Path, runtime_site: Path) -> None:
    zip_path = _zip(tmp_path, {"lambda_function.py": "def lambda_handler(e, c):\n    return 1\n"})
    with pytest.raises(ImportCheckError) as caught:
        check_zip_imports(
            zip_path, runtime_site=runtime_site, function="Fn", required={"boto3": "boto3==1.35.0"}, deep=False
        )
    assert "boto3 (from boto3==1.35.0, pinned in requirements.txt): imported from outside the zip" in str(caught.value)
