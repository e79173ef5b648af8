"""Bad raw tables: every case gives its findings (rule, file, physical line, column), the right exit
status, and an accounting in which no line is lost. The small study (conftest.py) has 5 subjects:
demog.csv lines 2-6 are 002, 003, 004, 010, 017 (a screen failure); ae.csv lines 2-4 are AEs of 002,
003 and 010; 003 died on 2018-01-27 (visits.csv line 12 is its first visit)."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from tests.bad_input.harness import (
    Case,
    both,
    check_outcome,
    map_lines,
    nothing,
    read_rows,
    remove,
    replace_text,
    run_case,
    set_cell,
    write_rows,
    write_text,
)

AE_HEADER = ("SUBJID,AELINE,AETERM,LLT,LLTCD,PT,PTCD,HLT,HLTCD,HLGT,HLGTCD,SOC,SOCCD,AESTDT,AEENDT,ONGOING,SEVERITY,"
             "GRADE,SERIOUS,SDEATH,SLIFE,SHOSP,SDISAB,SCONG,SMIE,REL_CELLS,REL_PROC,ACTION,OUTCOME")


def _xpt(folder, name):
    return pyreadstat.read_xport(str(folder / f"{name}.xpt"))[0]


def _ae_terms(expected):
    def check(out):
        assert _xpt(out, "ae")["AETERM"].tolist() == expected
    return check


def _column(name, column, expected):
    def check(out):
        assert _xpt(out, name)[column].tolist() == expected
    return check


def _text_in(file, text):
    def check(out):
        assert text in (out / file).read_text(), (out / file).read_text()[:500]
    return check


def _records(name, n):
    def check(out):
        assert len(_xpt(out, name)) == n, (name, len(_xpt(out, name)))
    return check


def _no_dataset(name):
    """A domain none of whose raw tables is present is not written (no empty dataset to submit)."""
    def check(out):
        assert not (out / f"{name}.xpt").exists(), name
    return check


def _add_column(table, name, value, at=None):
    def edit(folder):
        rows = read_rows(folder, table)
        for k, row in enumerate(rows):
            cell = name if k == 0 else value
            row.insert(len(row) if at is None else at, cell)
        write_rows(folder, table, rows)
    return edit


def _rename_header(table, old, new):
    return map_lines(table, lambda lines: [lines[0].replace(old, new, 1), *lines[1:]])


def _csv_to_xlsx(table, edit_frame=None):
    def edit(folder):
        frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        if edit_frame:
            frame = edit_frame(frame)
        (folder / f"{table}.csv").unlink()
        frame.to_excel(folder / f"{table}.xlsx", index=False)
    return edit


def _xlsx_huge_range(folder):
    """fvc.xlsx whose used range reaches XFD1048576 (a formatted empty cell there), a few KB on disk."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    frame = pd.read_csv(folder / "fvc.csv", dtype=str, keep_default_na=False)
    book = Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    sheet.cell(row=1_048_576, column=16_384).font = Font(bold=True)
    (folder / "fvc.csv").unlink()
    book.save(folder / "fvc.xlsx")
    assert (folder / "fvc.xlsx").stat().st_size < 20_000


def _xlsx_check_rows(out):
    accounting = pd.read_csv(out / "raw_accounting.csv").set_index("table")
    assert accounting.loc["fvc", "rows"] == 17 and accounting.loc["fvc", "blank_lines"] == 1_048_576 - 18


CASES = [
    # ---- table files ------------------------------------------------------------------------------
    Case("header-only-table", "header-only table (a study without AEs)", write_text("ae", AE_HEADER + "\n"),
         verb="sdtm", exit=0, accounting={"ae": {"rows": 0, "lines": 0}}, check=_records("ae", 0)),
    Case("missing-optional-table", "missing optional table", remove("ae.csv"), verb="sdtm", exit=0,
         findings=(("RAW-FILE-MISSING", "ae.csv", None, ""),), check=_no_dataset("ae")),
    Case("missing-subject-table", "missing subject table", remove("demog.csv"), verb="sdtm", exit=1,
         findings=(("RAW-FILE-MISSING", "demog.csv", None, ""), ("RAW-SUBJECT-TABLE", "demog.csv", None, "SUBJID")),
         once=("RAW-SUBJECT-TABLE",), absent=("SDTM-USUBJID",), accounting={"ae": {"rows": 3, "rejected": 3}}),
    Case("empty-file", "empty file", write_text("fvc", ""), exit=0,
         findings=(("RAW-FILE-EMPTY", "fvc.csv", None, ""),)),
    Case("blank-lines-only", "file of blank lines", write_text("fvc", "\n\n  \n"), exit=0,
         findings=(("RAW-FILE-EMPTY", "fvc.csv", None, ""),)),
    Case("latin1-file", "Latin-1 (Windows-1252) file", replace_text("ae", "COMMON COLD", "CÉPHALÉE", encoding="cp1252"),
         verb="sdtm", exit=1,
         findings=(("RAW-ENCODING", "ae.csv", 3, ""), ("RAW-ASCII", "ae.csv", 3, "AETERM")),
         accounting={"ae": {"rows": 3, "rejected": 0, "mapped": 3}}, check=_ae_terms(["LOW BACK PAIN", "", "NAUSEA"])),
    Case("utf16-file", "UTF-16 file (Excel 'Unicode text')", replace_text("sf36", "SUBJID", "SUBJID", encoding="utf-16"),
         exit=0, findings=(("RAW-ENCODING", "sf36.csv", None, ""),), accounting={"sf36": {"rows": 17}}),
    Case("utf8-bom", "UTF-8 with byte-order mark", replace_text("sf36", "SUBJID", "\ufeffSUBJID"), exit=0,
         absent=("RAW-COL-MISSING", "RAW-COL-UNKNOWN"), accounting={"sf36": {"rows": 17}}),
    Case("binary-bytes", "binary bytes in a CSV", lambda f: (f / "sf36.csv").write_bytes(
             (f / "sf36.csv").read_bytes() + b"\xff\xfe\x00\x01garbage\n"), exit=1,
         findings=(("RAW-ENCODING", "sf36.csv", 19, ""), ("RAW-FIELD-COUNT", "sf36.csv", 19, "")),
         accounting={"sf36": {"rows": 18, "rows_rejected": 1}}),
    Case("ragged-long-row", "ragged row (an extra value)", replace_text("ae", "\n003,1,", "\n003,1,extra,"),
         verb="sdtm", exit=1, findings=(("RAW-FIELD-COUNT", "ae.csv", 3, ""),),
         absent=("RAW-ALLOWED", "RAW-INTEGER", "RAW-PARTIAL-DATE"), accounting={"ae": {"rows": 3, "rejected": 1}}),
    Case("ragged-short-row", "ragged row (values missing)", map_lines("ae", lambda ls: [*ls[:2], "003,1,COLD", *ls[3:]]),
         exit=1, findings=(("RAW-FIELD-COUNT", "ae.csv", 3, ""),), absent=("RAW-REQUIRED",),
         accounting={"ae": {"rows": 3, "rows_rejected": 1}}),
    Case("trailing-delimiter", "trailing delimiter on a row", map_lines("fvc", lambda ls: [*ls[:3], ls[3] + ",", *ls[4:]]),
         exit=0, findings=(("RAW-FIELD-COUNT", "fvc.csv", 4, ""),), accounting={"fvc": {"rows": 17, "rows_rejected": 0}}),
    Case("semicolon-csv", "semicolon-delimited CSV", replace_text("fvc", ",", ";", count=-1), verb="sdtm", exit=0,
         findings=(("RAW-DELIMITER", "fvc.csv", 1, ""),), accounting={"fvc": {"rows": 17, "mapped": 17}},
         check=_records("re", 34)),
    Case("tab-csv", "tab-delimited file", replace_text("sf36", ",", "\t", count=-1), exit=0,
         findings=(("RAW-DELIMITER", "sf36.csv", 1, ""),), accounting={"sf36": {"rows": 17}}),
    Case("lower-case-headers", "lower-case headers", map_lines("fvc", lambda ls: [ls[0].lower(), *ls[1:]]),
         verb="sdtm", exit=0, findings=(("RAW-COL-CASE", "fvc.csv", None, "subjid"),), check=_records("re", 34)),
    Case("header-spaces", "header names with spaces", map_lines("fvc", lambda ls: [ls[0].replace(",", " , "), *ls[1:]]),
         exit=0, absent=("RAW-COL-MISSING", "RAW-COL-UNKNOWN")),
    Case("duplicate-header", "repeated header name", _add_column("sf36", "SF36DT", "2012-01-01"), exit=1,
         findings=(("RAW-COL-DUPLICATE", "sf36.csv", None, "SF36DT"),), accounting={"sf36": {"rows": 17}}),
    Case("unnamed-column", "column without a header name", _add_column("sf36", "", "x"), exit=0,
         findings=(("RAW-COL-UNNAMED", "sf36.csv", None, "column 5"),)),
    Case("missing-required-column", "missing required column", _rename_header("visits", "VISDT", "VDATE"),
         verb="sdtm", exit=1, findings=(("RAW-COL-MISSING", "visits.csv", None, "VISDT"),
                                        ("RAW-COL-UNKNOWN", "visits.csv", None, "VDATE")),
         accounting={"visits": {"rows": 39, "rejected": 0, "mapped": 39}}, check=_records("sv", 39)),
    Case("missing-key-column", "missing key column", _rename_header("fvc", "SUBJID", "PATIENT"), exit=1,
         findings=(("RAW-COL-MISSING", "fvc.csv", None, "SUBJID"),), accounting={"fvc": {"rows": 17, "rows_rejected": 17}}),
    Case("unknown-column", "column not in the data model", _add_column("fvc", "COMMENT", "none"), exit=0,
         findings=(("RAW-COL-UNKNOWN", "fvc.csv", None, "COMMENT"),)),
    Case("blank-lines-inside", "blank lines between rows (row numbers stay physical)",
         map_lines("alsfrs", lambda ls: [*ls[:3], "", "  ", *ls[3:5], ls[5].replace("VISIT 5,2012-03-08,", "VISIT 5,2012-03-08,9", 1), *ls[6:]]),
         exit=1, findings=(("RAW-RANGE", "alsfrs.csv", 8, "Q01"),),
         accounting={"alsfrs": {"rows": 39, "blank_lines": 2, "lines": 41}}),
    Case("leading-blank-lines", "header after blank lines", map_lines("fvc", lambda ls: ["", "", *ls]), exit=0,
         findings=(("RAW-HEADER-LINE", "fvc.csv", 3, ""),), accounting={"fvc": {"rows": 17}}),
    Case("crlf-line-ends", "Windows line ends", lambda f: (f / "fvc.csv").write_bytes(
             (f / "fvc.csv").read_bytes().replace(b"\n", b"\r\n")), exit=0, accounting={"fvc": {"rows": 17, "lines": 17}}),
    Case("no-final-line-end", "last line without a line end", lambda f: (f / "fvc.csv").write_bytes(
             (f / "fvc.csv").read_bytes().rstrip(b"\n")), exit=0, accounting={"fvc": {"rows": 17, "lines": 17}}),
    Case("unbalanced-quote", "unbalanced quote swallowing rows", replace_text("ae", "\n002,1,LOW BACK PAIN", '\n002,1,"LOW BACK PAIN'),
         verb="sdtm", exit=1, findings=(("RAW-QUOTE", "ae.csv", 2, "AETERM"),),
         accounting={"ae": {"rows": 3, "continuation_lines": 0, "rejected": 0, "mapped": 3}},
         check=_ae_terms(["", "COMMON COLD", "NAUSEA"])),
    Case("quoted-line-break", "line break inside a quoted value", replace_text("ae", "COMMON COLD", '"COMMON\nCOLD"'),
         exit=1, findings=(("RAW-LINE-BREAK", "ae.csv", 3, "AETERM"), ("RAW-CONTROL", "ae.csv", 3, "AETERM")),
         accounting={"ae": {"rows": 3, "lines": 4, "continuation_lines": 1, "rows_rejected": 0}}),
    Case("nul-byte", "NUL byte in a value", replace_text("ae", "COMMON COLD", "COMMON\0COLD"), verb="sdtm", exit=1,
         findings=(("RAW-CONTROL", "ae.csv", 3, "AETERM"),), check=_ae_terms(["LOW BACK PAIN", "", "NAUSEA"])),
    Case("control-x01", "control character \\x01", replace_text("ae", "NAUSEA", "NAU\x01SEA"), exit=1,
         findings=(("RAW-CONTROL", "ae.csv", 4, "AETERM"),), accounting={"ae": {"rows_with_values_set_missing": 1}}),
    Case("control-x0b", "vertical tab \\x0b", replace_text("demog", "ASIAN", "ASI\x0bAN"), exit=1,
         findings=(("RAW-CONTROL", "demog.csv", 2, "RACE"),), absent=("RAW-ALLOWED",)),
    Case("tab-in-value", "tab inside a comma-separated value", replace_text("ae", "NAUSEA", "NAU\tSEA"), exit=1,
         findings=(("RAW-CONTROL", "ae.csv", 4, "AETERM"),)),
    Case("xlsx-bad-cell", "XLSX with a bad cell (Excel row numbers)",
         _csv_to_xlsx("fvc", lambda f: f.assign(FVC_PCT=f["FVC_PCT"].where(f.index != 4, "abc"))), exit=1,
         findings=(("RAW-DECIMAL", "fvc.xlsx", 6, "FVC_PCT"),)),
    Case("xlsx-huge-used-range", "XLSX whose used range reaches XFD1048576", _xlsx_huge_range, exit=0,
         check=_xlsx_check_rows),
    Case("xlsx-not-a-workbook", "text file named .xlsx",
         both(remove("sf36.csv"), lambda f: (f / "sf36.xlsx").write_text("SUBJID,VISIT\n002,VISIT 1\n")), exit=1,
         findings=(("RAW-FILE-READ", "sf36.xlsx", None, ""),)),
    Case("csv-and-xlsx", "a table given twice (CSV and XLSX)", lambda f: pd.read_csv(
             f / "fvc.csv", dtype=str).to_excel(f / "fvc.xlsx", index=False), exit=0,
         findings=(("RAW-FILE-AMBIGUOUS", "fvc.xlsx", None, ""),)),
    # ---- values -----------------------------------------------------------------------------------
    Case("race-lower-case", "allowed value in lower case", set_cell("demog", 2, "RACE", "asian"), verb="sdtm", exit=0,
         findings=(("RAW-CASE", "demog.csv", 2, "RACE"),),
         check=_column("dm", "RACE", ["ASIAN"] * 5)),
    Case("height-text", "text in an optional number column", set_cell("demog", 2, "HEIGHT", "abc"), verb="sdtm", exit=1,
         findings=(("RAW-DECIMAL", "demog.csv", 2, "HEIGHT"),), absent=("SDTM-USUBJID", "RAW-UNKNOWN-SUBJECT"),
         accounting={"demog": {"rejected": 0, "mapped": 5}, "visits": {"rejected": 0}}, check=_records("dm", 5)),
    Case("age-out-of-range", "number outside its range", set_cell("demog", 3, "AGE", "150"), exit=1,
         findings=(("RAW-RANGE", "demog.csv", 3, "AGE"),), accounting={"demog": {"rows_rejected": 0}}),
    Case("arm-not-in-spec", "arm value not in study.yaml", set_cell("demog", 4, "ARM", "MSCX"), verb="sdtm", exit=1,
         findings=(("RAW-ARM", "demog.csv", 4, "ARM"),), once=("RAW-ARM",),
         absent=("RAW-RANDOMIZATION", "RAW-INJECTION-ARM", "SDTM-USUBJID"),
         accounting={"demog": {"rejected": 0, "mapped": 5}, "visits": {"rejected": 0}}, check=_records("dm", 5)),
    Case("blank-subject-id", "blank subject id (key)", set_cell("visits", 5, "SUBJID", ""), exit=1,
         findings=(("RAW-REQUIRED", "visits.csv", 5, "SUBJID"),), accounting={"visits": {"rows": 39, "rows_rejected": 1}}),
    Case("unknown-subject", "subject not in the subject table", both(
             replace_text("aals", "\n010,", "\n999,", count=-1), replace_text("fvc", "\n010,", "\n999,", count=-1)),
         verb="sdtm", exit=1, findings=(("RAW-UNKNOWN-SUBJECT", "aals.csv", None, "SUBJID"),),
         once=("RAW-UNKNOWN-SUBJECT",), absent=("SDTM-USUBJID",),
         accounting={"aals": {"rejected": 4}, "fvc": {"rejected": 4}}),
    Case("duplicate-subject", "subject twice in the subject table (key)",
         map_lines("demog", lambda ls: [*ls, ls[4].replace("2012-01-19", "2012-01-20")]), verb="sdtm", exit=1,
         findings=(("RAW-DUPLICATE-KEY", "demog.csv", 5, "SUBJID"), ("RAW-DUPLICATE-KEY", "demog.csv", 7, "SUBJID"),
                   ("RAW-SUBJECT-REJECTED", "demog.csv", None, "SUBJID")),
         once=("RAW-SUBJECT-REJECTED",), absent=("SDTM-USUBJID",),
         accounting={"demog": {"rows": 6, "rejected": 2}, "survival": {"rejected": 12}, "visits": {"rejected": 9}}),
    Case("blank-site", "blank site (builds USUBJID)", set_cell("demog", 5, "SITEID", ""), exit=1,
         findings=(("RAW-REQUIRED", "demog.csv", 5, "SITEID"), ("RAW-SUBJECT-REJECTED", "demog.csv", 5, "SUBJID")),
         once=("RAW-SUBJECT-REJECTED",), accounting={"demog": {"rows_rejected": 1}, "survival": {"rows_rejected": 12}}),
    Case("formula-equals", "formula =1+1", set_cell("ae", 3, "AETERM", "=1+1"), exit=1,
         findings=(("RAW-FORMULA", "ae.csv", 3, "AETERM"),),
         check=_text_in("raw_findings.csv", ",'=1+1,")),
    Case("formula-plus-cmd", "formula +cmd|' /C calc'!A0", set_cell("ae", 3, "AETERM", "+cmd|' /C calc'!A0"), exit=1,
         findings=(("RAW-FORMULA", "ae.csv", 3, "AETERM"),)),
    Case("formula-minus", "formula -2+3+cmd", set_cell("ae", 2, "LLT", "-2+3+cmd|' /C calc'!A0"), exit=1,
         findings=(("RAW-FORMULA", "ae.csv", 2, "LLT"),)),
    Case("formula-at", "formula @SUM(1)", set_cell("ae", 4, "HLT", "@SUM(1)"), exit=1,
         findings=(("RAW-FORMULA", "ae.csv", 4, "HLT"),)),
    Case("negative-number", "a negative number is a number, not a formula", set_cell("alsfrs", 2, "Q01", "-2"), exit=1,
         findings=(("RAW-RANGE", "alsfrs.csv", 2, "Q01"),), absent=("RAW-FORMULA",)),
    Case("non-ascii", "characters outside ASCII", set_cell("ae", 2, "AETERM", "CÉPHALÉE"), exit=1,
         findings=(("RAW-ASCII", "ae.csv", 2, "AETERM"),)),
    Case("too-long", "text over 200 characters", set_cell("ae", 2, "AETERM", "X" * 201), exit=1,
         findings=(("RAW-LENGTH", "ae.csv", 2, "AETERM"),)),
    Case("impossible-date", "date not on the calendar", set_cell("visits", 4, "VISDT", "2012-02-30"), exit=1,
         findings=(("RAW-DATE", "visits.csv", 4, "VISDT"),),
         accounting={"visits": {"rows_rejected": 0, "rows_with_values_set_missing": 1}}),
    Case("partial-where-full", "partial date where a full date is required", set_cell("fvc", 3, "FVCDT", "2012-03"),
         exit=1, findings=(("RAW-DATE", "fvc.csv", 3, "FVCDT"),)),
    Case("two-bad-cells", "two bad cells in different tables", both(
             set_cell("visits", 4, "VISDT", "2012-02-30"), set_cell("ae", 3, "AESTDT", "2012-13-14"),
             set_cell("demog", 3, "SEX", "X"), set_cell("demog", 5, "RACE", "MARTIAN")), verb="sdtm", exit=1,
         findings=(("RAW-DATE", "visits.csv", 4, "VISDT"), ("RAW-PARTIAL-DATE", "ae.csv", 3, "AESTDT")),
         accounting={"ae": {"mapped": 3}, "demog": {"mapped": 5}}, check=_records("ae", 3)),
    Case("visit-not-in-study", "visit not in study.yaml (key)", set_cell("fvc", 3, "VISIT", "VISIT 11"), exit=1,
         findings=(("RAW-VISIT", "fvc.csv", 3, "VISIT"),), accounting={"fvc": {"rows_rejected": 1}}),
    Case("decimal-comma", "decimal comma", set_cell("csf", 3, "RESULT", "12,4"), exit=1,
         findings=(("RAW-PATTERN", "csf.csv", 3, "RESULT"),)),
    # ---- plausibility (warnings) ------------------------------------------------------------------
    Case("ae-in-1899", "date before the plausible range", set_cell("ae", 3, "AESTDT", "1899-06-14"), exit=0,
         findings=(("RAW-DATE-IMPLAUSIBLE", "ae.csv", 3, "AESTDT"),)),
    Case("ae-end-2099", "date after the plausible range", set_cell("ae", 3, "AEENDT", "2099-01-01"), exit=0,
         findings=(("RAW-DATE-IMPLAUSIBLE", "ae.csv", 3, "AEENDT"),)),
    Case("partial-date-1899", "partial date wholly outside the range", set_cell("alshist", 2, "ONSETDT", "1899"),
         exit=0, findings=(("RAW-DATE-IMPLAUSIBLE", "alshist.csv", 2, "ONSETDT"),)),
    Case("visit-before-consent", "visit before informed consent", set_cell("visits", 2, "VISDT", "2011-12-01"), exit=0,
         findings=(("RAW-BEFORE-CONSENT", "visits.csv", 2, "VISDT"),)),
    Case("ae-after-death", "event after death", both(set_cell("ae", 3, "AESTDT", "2018-02-10"),
                                                      set_cell("ae", 3, "AEENDT", "2018-02-12")), exit=0,
         findings=(("RAW-AFTER-DEATH", "ae.csv", 3, "AESTDT"),)),
    Case("visit-after-death", "visit after death", set_cell("visits", 12, "VISDT", "2018-02-10"), exit=0,
         findings=(("RAW-AFTER-DEATH", "visits.csv", 12, "VISDT"),)),
    # ---- subjects ---------------------------------------------------------------------------------
    Case("one-subject-study", "a one-subject study", lambda f: [
             write_rows(f, p.stem, [r for k, r in enumerate(read_rows(f, p.stem)) if k == 0 or r[0] == "004"])
             for p in sorted(f.glob("*.csv"))], verb="sdtm", exit=0, check=_records("dm", 1)),
    Case("randomized-without-arm", "randomized subject without an arm", set_cell("demog", 3, "ARM", ""), exit=1,
         findings=(("RAW-RANDOMIZATION", "demog.csv", 3, "ARM"),)),
    Case("screen-failure-with-arm", "screen failure with an arm", set_cell("demog", 6, "ARM", "MSC"), verb="sdtm",
         exit=1, findings=(("RAW-RANDOMIZATION", "demog.csv", 6, "ARM"),),
         check=_column("dm", "ARMCD", ["MSC", "CONTROL", "MSC", "CONTROL", ""])),
    Case("valid-small-study", "valid input (control)", nothing, exit=0,
         accounting={"demog": {"rows": 5, "rows_clean": 5, "rows_rejected": 0}}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_raw_input(case, small_raw, tmp_path, log_dir):
    outcome = run_case(case, small_raw, tmp_path)
    check_outcome(case, outcome, tmp_path / "in", log_dir)
