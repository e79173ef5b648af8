"""A wheel is a complete tool: built, installed into a fresh virtual environment and run from another
folder, it runs the sample study with the mappings and templates it carries as package data."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cdisc_als.resources import PROJECT_DIR


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(PROJECT_DIR)],
                   check=True, capture_output=True)
    (found,) = dist.glob("cdisc_als-*.whl")
    return found


def test_wheel_carries_the_default_mappings_and_templates(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("cdisc_als/mappings/study.yaml", "cdisc_als/mappings/metadata/parameters.csv",
                     "cdisc_als/mappings/sdtm/DM.yaml", "cdisc_als/mappings/tlf/outputs.yaml",
                     "cdisc_als/templates/define.xml.j2", "cdisc_als/data/sample_raw/demog.csv"):
        assert expected in names, expected


def test_wheel_runs_the_sample_study_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True)
    # the dependencies come from the test environment (no network needed); its editable install of
    # cdisc_als is not activated (.pth files of an added folder are not processed)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import cdisc_als.resources as r; print(r.MAPPINGS_DIR)"],
                           cwd=work, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(PROJECT_DIR)
    done = subprocess.run([str(venv / "bin" / "cdisc-als"), "run", "--out", "out", "--quiet"], cwd=work,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    out = work / "out"
    assert (out / "sdtm" / "dm.xpt").is_file() and (out / "adam" / "adsl.xpt").is_file()
    assert (out / "sdtm" / "define.xml").is_file() and (out / "index.html").is_file()
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["inputs"]["study"]["file"] == "study.yaml"
