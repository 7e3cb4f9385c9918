"""The project installs like a real package: a wheel built from the checkout holds every data file, declares its
dependencies, and its console command `wso2-audit` answers as `python -m audit_lib` does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import audit_lib

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    tree = tmp_path_factory.mktemp("tree")  # a copy: the build writes build/ and egg-info beside its sources
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "audit_lib", tree / "audit_lib", ignore=shutil.ignore_patterns("__pycache__"))
    # pip builds in an environment of its own, with the build backend pyproject.toml names (from the index)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(tree)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (found,) = out.glob("audit_lib-*.whl")
    return found


def test_the_version_is_said_in_one_place(wheel: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert wheel.name.startswith(f"audit_lib-{audit_lib.__version__}-")


def test_the_wheel_holds_every_data_file_and_declares_its_dependencies(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [p.relative_to(ROOT).as_posix() for p in (ROOT / "audit_lib").rglob("*")
            if p.is_file() and p.suffix in (".json", ".ttf", ".png") or p.name == "LICENSE"]
    assert data and [d for d in data if d not in names] == []
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    for package in ("polars", "streamlit", "altair", "python-dateutil", "fpdf2"):
        assert f"Requires-Dist: {package}" in text
    assert "extra == \"store\"" in text and "deltalake" in text
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "wso2-audit = audit_lib.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_the_installed_command_equals_python_m_audit_lib(wheel: Path, tmp_path: Path) -> None:
    """Installed into a prefix of its own and run from outside the checkout: what it reads comes from the wheel."""
    prefix = tmp_path / "prefix"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--prefix",
                        str(prefix), str(wheel)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    purelib = sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)})
    env = {**os.environ, "PYTHONPATH": purelib}
    command = prefix / "bin" / "wso2-audit"
    assert command.exists()
    samples = str(ROOT / "samples")
    installed = subprocess.run([sys.executable, str(command), "summary", samples, "--json"], capture_output=True,
                               text=True, cwd=tmp_path, env=env, timeout=300)
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run([sys.executable, "-c", "import audit_lib; print(audit_lib.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    assert where.startswith(purelib)
    module = subprocess.run([sys.executable, "-m", "audit_lib", "summary", samples, "--json"], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert json.loads(installed.stdout) == json.loads(module.stdout)
    assert json.loads(installed.stdout)["events"] > 0
