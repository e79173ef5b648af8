"""Bad raw input: every kind gives a finding naming file, row, column, value and rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cdisc_als.raw.pipeline import read_and_check_raw
from cdisc_als.resources import SAMPLE_RAW_DIR
from cdisc_als.study import load_study


@pytest.fixture()
def raw_dir(tmp_path: Path) -> Path:
    target = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, target)
    return target


def _edit(folder: Path, table: str, edit) -> None:
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = edit(frame)
    frame.to_csv(path, index=False, lineterminator="\n")


def _set(folder: Path, table: str, index: int, column: str, value: str) -> int:
    """Set one cell; returns the row number the finding must name (header is row 1)."""
    def edit(frame):
        frame.loc[index, column] = value
        return frame
    _edit(folder, table, edit)
    return index + 2


def _check(folder: Path):
    return read_and_check_raw(folder, load_study())


def _has(result, file, row, column, value, rule):
    hits = [f for f in result.findings if f.rule == rule and f.file == file and f.column == column
            and (row is None or f.row == row) and (value is None or f.value == value)]
    assert hits, f"no {rule} finding for {file} row {row} column {column}; got " + "; ".join(
        f.describe() for f in result.findings[:10])
    return hits


def test_sample_is_clean():
    result = _check(SAMPLE_RAW_DIR)
    # the sample has every table, the optional daily-NIV table (permanent assisted ventilation) included
    assert (SAMPLE_RAW_DIR / "niv.csv").exists()
    assert [(f.rule, f.file, f.severity) for f in result.findings] == [], \
        [f.describe() for f in result.findings[:5]]
    accounting = result.accounting()
    assert accounting["rows_with_errors"].sum() == 0
    assert accounting.set_index("table").loc["demog", "rows"] == 71


@pytest.mark.parametrize("table, index, column, value, rule", [
    ("alsfrs", 3, "Q02", "5", "RAW-RANGE"),                          # item score 5
    ("alsfrs", 4, "Q03", "three", "RAW-INTEGER"),                    # text in a numeric column
    ("visits", 2, "VISDT", "2012-UN-UN", "RAW-DATE"),                 # partial date where a full date is required
    ("visits", 5, "VISDT", "2012-02-30", "RAW-DATE"),                 # date not on the calendar
    ("ae", 1, "AESTDT", "2012-13", "RAW-PARTIAL-DATE"),               # month 13
    ("ae", 2, "AESTDT", "2012-UN-14", "RAW-PARTIAL-DATE"),            # known day with unknown month
    ("ae", 0, "AETERM", "CÉPHALÉE", "RAW-ASCII"),                     # non-ASCII verbatim term
    ("demog", 1, "SEX", "X", "RAW-ALLOWED"),                          # not in the allowed values
    ("demog", 2, "AGE", "", "RAW-REQUIRED"),                          # required value blank
    ("alsfrs", 6, "VISIT", "VISIT 11", "RAW-VISIT"),                  # visit not in study.yaml
    ("fvc", 1, "FVC_PCT", "73.12", "RAW-DECIMALS"),                   # more decimals than the CRF has
    ("sf36", 1, "SF36_TOTAL", "=SUM(A1:A3)", "RAW-FORMULA"),          # spreadsheet formula
    ("ae", 3, "AETERM", "X" * 201, "RAW-LENGTH"),                     # over the XPT 200-byte limit
    ("csf", 0, "RESULT", "12,4", "RAW-PATTERN"),                      # decimal comma
])
def test_cell_level_findings(raw_dir, table, index, column, value, rule):
    row = _set(raw_dir, table, index, column, value)
    result = _check(raw_dir)
    hit = _has(result, f"{table}.csv", row, column, value, rule)[0]
    assert hit.severity == "error" and hit.message
    assert result.has_errors


def test_unknown_subject(raw_dir):
    row = _set(raw_dir, "aals", 0, "SUBJID", "999")
    _has(_check(raw_dir), "aals.csv", row, "SUBJID", "999", "RAW-UNKNOWN-SUBJECT")


def test_duplicate_subject_visit(raw_dir):
    def dup(frame):
        return pd.concat([frame, frame.iloc[[10]]], ignore_index=True)
    _edit(raw_dir, "alsfrs", dup)
    result = _check(raw_dir)
    n = len(pd.read_csv(raw_dir / "alsfrs.csv", dtype=str))
    hits = _has(result, "alsfrs.csv", None, "SUBJID+VISIT", None, "RAW-DUPLICATE-KEY")
    assert {h.row for h in hits} == {12, n + 1}
    assert f"row(s) {n + 1}" in hits[0].message or "row(s) 12" in hits[0].message


def test_missing_column(raw_dir):
    _edit(raw_dir, "fvc", lambda f: f.drop(columns=["FVC_PCT"]))
    hit = _has(_check(raw_dir), "fvc.csv", None, "FVC_PCT", "", "RAW-COL-MISSING")[0]
    assert hit.severity == "error"


def test_unknown_column_is_a_warning(raw_dir):
    _edit(raw_dir, "fvc", lambda f: f.assign(COMMENT="x"))
    result = _check(raw_dir)
    hit = _has(result, "fvc.csv", None, "COMMENT", "", "RAW-COL-UNKNOWN")[0]
    assert hit.severity == "warning" and not result.has_errors


def test_item5_both_filled(raw_dir):
    row = _set(raw_dir, "alsfrs", 0, "Q05B", "3")
    _has(_check(raw_dir), "alsfrs.csv", row, "Q05A", None, "RAW-ALSFRS-ITEM5")


def test_aals_total_not_sum(raw_dir):
    frame = pd.read_csv(raw_dir / "aals.csv", dtype=str)
    total = str(int(frame.loc[2, "TOTAL"]) + 1)
    row = _set(raw_dir, "aals", 2, "TOTAL", total)
    _has(_check(raw_dir), "aals.csv", row, "TOTAL", total, "RAW-AALS-TOTAL")


def test_ae_end_before_start(raw_dir):
    row = _set(raw_dir, "ae", 0, "AEENDT", "2011-01-01")
    _has(_check(raw_dir), "ae.csv", row, "AEENDT", "2011-01-01", "RAW-DATE-ORDER")


def test_ae_serious_criterion_without_serious(raw_dir):
    frame = pd.read_csv(raw_dir / "ae.csv", dtype=str, keep_default_na=False)
    index = int(frame.index[frame["SERIOUS"] == "N"][0])
    row = _set(raw_dir, "ae", index, "SHOSP", "Y")
    _has(_check(raw_dir), "ae.csv", row, "SERIOUS", "N", "RAW-AE-SERIOUS")


def test_screen_failure_with_arm(raw_dir):
    frame = pd.read_csv(raw_dir / "demog.csv", dtype=str, keep_default_na=False)
    index = int(frame.index[frame["SCRNFAIL"] == "Y"][0])
    row = _set(raw_dir, "demog", index, "ARM", "MSC")
    _has(_check(raw_dir), "demog.csv", row, "ARM", "MSC", "RAW-RANDOMIZATION")


def test_injection_for_control_subject(raw_dir):
    demog = pd.read_csv(raw_dir / "demog.csv", dtype=str, keep_default_na=False)
    control = demog[demog["ARM"] == "CONTROL"]["SUBJID"].iloc[0]
    row = _set(raw_dir, "injections", 0, "SUBJID", control)
    _has(_check(raw_dir), "injections.csv", row, "SUBJID", control, "RAW-INJECTION-ARM")


def test_missing_subject_table(raw_dir):
    (raw_dir / "demog.csv").unlink()
    result = _check(raw_dir)
    hit = _has(result, "demog.csv", None, "", "", "RAW-FILE-MISSING")[0]
    assert hit.severity == "error" and "demog" in result.missing_tables


def test_unreadable_file(raw_dir):
    (raw_dir / "sf36.csv").unlink()
    (raw_dir / "sf36.xlsx").write_bytes(b"SUBJID,VISIT\nthis is not a workbook")
    result = _check(raw_dir)
    assert _has(result, "sf36.xlsx", None, "", "", "RAW-FILE-READ")[0].severity == "error"
    assert "sf36" in result.missing_tables


def test_binary_bytes_in_a_csv_are_a_rejected_row(raw_dir):
    (raw_dir / "sf36.csv").write_bytes(b"SUBJID,VISIT,SF36DT,SF36_TOTAL\n\xff\xfe\x00bad")
    result = _check(raw_dir)
    assert _has(result, "sf36.csv", 2, "", None, "RAW-ENCODING")[0].value == "byte 0xff at character 1"
    assert _has(result, "sf36.csv", 2, "", None, "RAW-FIELD-COUNT")[0].action == "row rejected"
    assert result.accounting().set_index("table").loc["sf36", ["rows", "rows_rejected"]].tolist() == [1, 1]


def test_all_findings_are_collected(raw_dir):
    """Several problems in several tables: every one is reported, none stops the others."""
    rows = [_set(raw_dir, "alsfrs", 3, "Q02", "5"), _set(raw_dir, "alsfrs", 8, "Q04", "9"),
            _set(raw_dir, "demog", 1, "SEX", "X")]
    result = _check(raw_dir)
    assert {(f.file, f.row) for f in result.findings} >= {("alsfrs.csv", rows[0]), ("alsfrs.csv", rows[1]),
                                                          ("demog.csv", rows[2])}
    accounting = result.accounting().set_index("table")
    assert accounting.loc["alsfrs", "rows_with_errors"] == 2
    assert accounting.loc["alsfrs", "rows"] == accounting.loc["alsfrs", "rows_clean"] + 2


def test_xlsx_input_names_the_excel_row(raw_dir):
    frame = pd.read_csv(raw_dir / "fvc.csv", dtype=str, keep_default_na=False)
    frame.loc[4, "FVC_PCT"] = "abc"
    (raw_dir / "fvc.csv").unlink()
    frame.to_excel(raw_dir / "fvc.xlsx", index=False)
    _has(_check(raw_dir), "fvc.xlsx", 6, "FVC_PCT", "abc", "RAW-DECIMAL")


def test_findings_file_written(raw_dir, tmp_path):
    _set(raw_dir, "alsfrs", 3, "Q02", "5")
    out = tmp_path / "out"
    read_and_check_raw(raw_dir, load_study(), out_dir=out)
    findings = pd.read_csv(out / "raw_findings.csv", dtype=str)
    assert list(findings.columns) == ["file", "row", "column", "value", "rule", "severity", "action", "message"]
    assert (findings["rule"] == "RAW-RANGE").any()
    assert (out / "raw_accounting.csv").exists()


def test_raw_data_doc_is_generated_from_the_model():
    from cdisc_als.raw.docs import render
    from cdisc_als.raw.spec import load_raw_spec
    from cdisc_als.resources import PROJECT_DIR

    assert (PROJECT_DIR / "docs" / "raw-data.md").read_text() == render(load_raw_spec()), \
        "docs/raw-data.md is stale: run python -m cdisc_als.raw.docs > docs/raw-data.md"
