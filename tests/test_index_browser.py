"""The run's index page renders its tables in a real browser (headless Chromium; .ci/run installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cdisc_als.cli import main

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run_output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", "--out", str(out), "--quiet"]) == 0
    return out


def test_index_lists_datasets_with_record_counts(run_output):
    page = (run_output / "index.html").read_text()
    assert "<td>71</td>" in page, "DM has 71 records"
    assert "None" not in page


def test_index_renders_in_headless_chromium(run_output, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")
    url = (run_output / "index.html").resolve().as_uri()
    shot = tmp_path / "index.png"
    subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400",
                    f"--screenshot={shot}", url], capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, check=False).stdout
    assert dom.count("<table") >= 3 and "<tbody>" in dom and "Reconciliation with the published tables" in dom
    assert "known inconsistency" in dom and "f_km_os.png" in dom


def test_the_runs_adam_folder_with_its_arm_define_validates_without_errors(run_output):
    # define.xml of ADaM carries Analysis Results Metadata: the validator checks it against the Define-XML
    # schema with the ARM extension, as export does (the plain schema reported a false ALS0402 error)
    from cdisc_als.metadata import load_metadata
    from cdisc_als.study import load_study
    from cdisc_als.validate.engine import validate_folder

    assert "arm:AnalysisResultDisplays" in (run_output / "adam" / "define.xml").read_text()
    study = load_study(None)
    result = validate_folder(run_output / "adam", load_metadata(None, study), study.study_id)
    assert "ALS0402" not in set(result.counts.loc[result.counts["found"] > 0, "rule"])
    assert result.errors == 0
