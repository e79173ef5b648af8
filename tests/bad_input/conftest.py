"""A small valid study cut from the embedded sample: five subjects (two MSC, two control, one screen
failure; two deaths; three adverse events), its SDTM, and a private folder for error logs."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest

from cdisc_als.cli import main
from cdisc_als.resources import SAMPLE_RAW_DIR

SUBJECTS = ("002", "003", "004", "010", "017")


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small_raw")
    for path in sorted(SAMPLE_RAW_DIR.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame[frame["SUBJID"].isin(SUBJECTS)].to_csv(folder / path.name, index=False, lineterminator="\n")
    return folder


@pytest.fixture(scope="session")
def small_sdtm(small_raw, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small_sdtm")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["sdtm", "--raw", str(small_raw), "--out", str(folder), "--quiet"]) == 0
    return folder


@pytest.fixture(autouse=True)
def log_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "logs"
    monkeypatch.setenv("CDISC_ALS_LOG_DIR", str(folder))
    return folder
