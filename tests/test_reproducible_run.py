"""Two `cdisc-als run` with the same SOURCE_DATE_EPOCH give byte-identical output folders (define.xml,
define.html, Dataset-JSON, reviewer's guides included), the first with a second process (SDTM validation
and export beside the ADaM build, then the TLFs), the second all in one process; and the reviewer's guides
are complete."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

EPOCH = "1700000000"


def _run(cwd: Path, workers: int) -> Path:
    env = {"SOURCE_DATE_EPOCH": EPOCH, "PATH": str(Path(sys.executable).parent), "HOME": str(cwd),
           "CDISC_ALS_WORKERS": str(workers)}
    done = subprocess.run([sys.executable, "-m", "cdisc_als.cli", "run", "--out", "out", "--quiet"], cwd=cwd,
                          env=env, check=False, capture_output=True, text=True)
    assert done.returncode == 0, f"{workers} worker(s): exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return cwd / "out"


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    first = _run(tmp_path_factory.mktemp("run_a"), workers=2)
    second = _run(tmp_path_factory.mktemp("run_b"), workers=1)
    return first, second


@pytest.mark.slow
def test_two_runs_are_byte_identical(two_runs):
    first, second = (_digests(folder) for folder in two_runs)
    assert set(first) == set(second)
    assert {"sdtm/define.xml", "sdtm/define.html", "adam/define.xml", "sdtm/json/dm.json", "adam/json/adsl.ndjson",
            "guides/csdrg.docx", "guides/adrg.html", "sdtm/se.xpt", "index.html"} <= set(first)
    differ = sorted(name for name in first if first[name] != second[name])
    assert differ == [], "every file, the XLSX workbooks and the run manifest included"
    assert {"tlf/tables/tables.xlsx", "validation/sdtm/validation.xlsx"} <= set(first)
    manifest = json.loads((two_runs[0] / "run_manifest.json").read_text())
    assert manifest["created"] == "2023-11-14T22:13:20+00:00"


@pytest.mark.slow
def test_the_reviewers_guides_are_complete(two_runs):
    out = two_runs[0]
    for name in ("csdrg", "adrg"):
        html = (out / "guides" / f"{name}.html").read_text()
        assert "NOT EXPLAINED" not in html
        with zipfile.ZipFile(out / "guides" / f"{name}.docx") as docx:
            body = docx.read("word/document.xml").decode()
            assert {i.date_time for i in docx.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        assert "Data Conformance Summary" in html and "Data Conformance Summary" in body
    csdrg = (out / "guides" / "csdrg.html").read_text()
    for section in ("2.3 Trial Design Datasets", "3.5 Use of Supplemental Qualifiers", "3.6 Sponsor-Defined Terminology",
                    "4.2 Issues Summary", "SSOTHMSC", "ALSFRS-R", "ASSIGNED, NOT TREATED"):
        assert section in csdrg, section
    assert "after their trial period, during the long-term survival follow-up" in csdrg
    adrg = (out / "guides" / "adrg.html").read_text()
    for section in ("3.2 Population Flags", "5.2 Analysis Parameters", "7 Submission of Programs", "ALSR1PI4",
                    "tlf/ard/T3.csv"):
        assert section in adrg, section
    index = (out / "index.html").read_text()
    assert "guides/csdrg.docx" in index and "guides/adrg.html" in index
