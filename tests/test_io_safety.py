"""Output safety: formulas neutralised in CSV and XLSX without altering numbers, writes confined to the
output folder (symbolic links included), error logs, and the raw checks agreeing with their pandera
schema."""

from __future__ import annotations

import io as stdio
import shutil

import pandas as pd
import pandera.pandas as pa
import pytest
from openpyxl import Workbook, load_workbook

from cdisc_als.io import (
    OutputPathError,
    atomic_write_text,
    confine_writes,
    neutralise_formula,
    neutralise_frame,
    plain_csv_text,
    protect_formulas,
    safe_child,
    write_csv,
    write_error_log,
)
from cdisc_als.raw.readers import read_table
from cdisc_als.raw.schemas import schema_findings, table_schema
from cdisc_als.raw.spec import load_raw_spec
from cdisc_als.resources import SAMPLE_RAW_DIR
from cdisc_als.study import load_study

ATTACKS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\tx", "\r=1", "=HYPERLINK(\"x\")"]


@pytest.mark.parametrize("text", ATTACKS)
def test_csv_formula_gets_an_apostrophe(text):
    assert neutralise_formula(text) == "'" + text


@pytest.mark.parametrize("value", ["-2", "+3.5", "-0.181", "1e5", "-", "NE", "ALSFRS-R", "", 4.5, -2, None])
def test_numbers_and_plain_text_are_unchanged(value):
    assert neutralise_formula(value) == value


def test_write_csv_neutralises_text_cells_only(tmp_path):
    frame = pd.DataFrame({"text": ["=1+1", "-2", "ok"], "number": [-1.5, 2.0, 3.0]})
    write_csv(frame, tmp_path / "x.csv")
    lines = (tmp_path / "x.csv").read_text().splitlines()
    assert lines == ["text,number", "'=1+1,-1.5", "-2,2.0", "ok,3.0"]


def test_plain_csv_text_is_what_to_csv_writes():
    """The column-wise CSV writer gives to_csv's bytes after neutralising formulas (numpy float repr,
    missing values blank), and declines any frame that needs quoting or has another column type."""
    import numpy as np

    frame = pd.DataFrame({"USUBJID": ["A-1", None, "", "A-1"], "SEQ": [-0.0, np.nan, 1e-05, 0.0],
                          "ROW": np.array([2, 3, 4, 10**12], dtype=np.int64), "BLANK": [np.nan] * 4,
                          "BIG": [123456789012.5, np.inf, 2.0, 1e300],
                          "ODD": [" x ", "nan", "=1+1", "-2"]})
    assert plain_csv_text(frame) == neutralise_frame(frame).to_csv(index=False, lineterminator="\n")
    assert plain_csv_text(frame).splitlines()[3].endswith(",'=1+1")
    assert plain_csv_text(frame.iloc[:0]) == "USUBJID,SEQ,ROW,BLANK,BIG,ODD\n" == frame.iloc[:0].to_csv(index=False)
    for declined in (frame.assign(ODD=["a,b", "", "", ""]), frame.assign(ODD=['say "x"', "", "", ""]),
                     frame.assign(ODD=["two\nlines", "", "", ""]), frame.assign(FLAG=[True, False, True, True]),
                     frame.assign(MIXED=["a", 1, 2.5, None]), frame[["USUBJID"]], frame.rename(columns={"SEQ": "S,Q"})):
        assert plain_csv_text(declined) is None


def test_xlsx_cells_keep_the_exact_text_as_quote_prefixed_strings():
    book = Workbook()
    sheet = book.active
    for text in [*ATTACKS[:4], "-2", "plain"]:
        sheet.append([text, -2.5])
    assert sheet["A1"].data_type == "f"          # openpyxl would write =1+1 as a formula
    assert protect_formulas(book) == 4
    buffer = stdio.BytesIO()
    book.save(buffer)
    cells = [(c.value, c.data_type, bool(c.quotePrefix)) for c in load_workbook(buffer)["Sheet"]["A"]]
    assert cells == [(t, "s", True) for t in ATTACKS[:4]] + [("-2", "s", False), ("plain", "s", False)]
    numbers = [c.value for c in load_workbook(buffer)["Sheet"]["B"]]
    assert numbers == [-2.5] * 6


def test_writes_through_a_symbolic_link_out_of_the_folder_are_refused(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "trace").symlink_to(outside)
    with confine_writes(out):
        atomic_write_text(out / "ok.txt", "fine")
        with pytest.raises(OutputPathError, match="outside the output folder"):
            atomic_write_text(out / "trace" / "x.csv", "no")
        with pytest.raises(OutputPathError):
            atomic_write_text(out / ".." / "escape.txt", "no")
    assert (out / "ok.txt").read_text() == "fine" and not any(outside.iterdir())
    assert not (tmp_path / "escape.txt").exists()
    with pytest.raises(OutputPathError):
        safe_child(out, "trace/x.csv")


def test_error_log_goes_to_the_configured_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CDISC_ALS_LOG_DIR", str(tmp_path / "logs"))
    path = write_error_log("Traceback: boom")
    assert path.parent == tmp_path / "logs" and path.read_text() == "Traceback: boom"


def test_raw_checks_agree_with_their_pandera_schema(tmp_path):
    """schema_findings evaluates the pandera Checks itself; pandera's own lazy validation of table_schema
    must fail exactly the same cells."""
    folder = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, folder)
    frame = pd.read_csv(folder / "alsfrs.csv", dtype=str, keep_default_na=False)
    frame.loc[2, "Q01"], frame.loc[5, "Q02"], frame.loc[7, "VISIT"], frame.loc[9, "ALSDT"] = "7", "x", "V99", "2012-02-30"
    frame.loc[11, "RESPBY"], frame.loc[12, "Q03"] = "patient", "=1+1"
    frame.to_csv(folder / "alsfrs.csv", index=False, lineterminator="\n")
    study = load_study()
    values = {"visit": frozenset(v.visit for v in study.visits), "arm": frozenset(a.raw for a in study.arms)}
    table = load_raw_spec().tables["alsfrs"]
    read = read_table(folder / "alsfrs.csv", table.column_names).frame
    ours = {(f.row, f.column) for f in schema_findings(table, read, "alsfrs.csv", values) if f.row is not None}
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        table_schema(table, list(table.column_names), values).validate(read, lazy=True)
    cases = caught.value.failure_cases
    theirs = {(int(read["_ROW"].iloc[int(i)]), c) for i, c in zip(cases["index"], cases["column"], strict=True)}
    assert ours == theirs == {(4, "Q01"), (7, "Q02"), (9, "VISIT"), (11, "ALSDT"), (13, "RESPBY"), (14, "Q03")}
