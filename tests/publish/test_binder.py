"""`binder/` describes an environment that installs this package: a Python that satisfies the package's
`requires-python`, JupyterLab, and a `postBuild` that installs the repository and makes the sample data.

`postBuild` is run for real, with `python` and `aqtra-nb` replaced by recorders on the PATH, so the test
sees what Binder would run and where, without installing anything."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_has_a_python_the_package_accepts_and_jupyterlab():
    env = yaml.safe_load((BINDER / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    version = tuple(int(part) for part in python.split("=")[1].split(".")[:2])
    minimum = re.match(r">=\s*(\d+)\.(\d+)", pyproject()["project"]["requires-python"])
    assert minimum and version >= (int(minimum.group(1)), int(minimum.group(2)))
    assert "pip" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert any(p.startswith("jupyterlab") for p in pip)


def test_the_package_brings_voila_and_a_kernel():
    names = {re.split(r"[<>=\[ ]", d)[0].lower() for d in pyproject()["project"]["dependencies"]}
    assert {"voila", "ipykernel", "ipywidgets"} <= names


def recorder(path: Path, log: Path) -> None:
    path.write_text(f'#!/bin/sh\necho "$(basename "$0") $PWD $*" >> {log}\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_post_build_installs_this_repository_and_makes_sample_data(tmp_path: Path):
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"
    assert post_build.read_text().startswith("#!")
    fake_bin, log = tmp_path / "bin", tmp_path / "calls.log"
    fake_bin.mkdir()
    for name in ("python", "aqtra-nb"):
        recorder(fake_bin / name, log)
    env = {"PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    bash = shutil.which("bash")
    assert bash
    # Started from elsewhere: postBuild must find the repository root itself.
    subprocess.run([bash, str(post_build)], cwd=tmp_path, env=env, check=True, timeout=60)
    calls = log.read_text().splitlines()
    assert calls[0] == f"python {ROOT} -m pip install --no-cache-dir -e ."
    name, cwd, *args = calls[1].split()
    assert (name, cwd) == ("aqtra-nb", str(ROOT)) and args[:2] == ["sample-data", "notebooks/data"]
    assert pyproject()["project"]["scripts"]["aqtra-nb"] == "aqtra_nb.cli:console"
