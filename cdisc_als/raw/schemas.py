"""pandera schemas of the raw tables, built from the raw data model, and their failures as findings.

Every cell is read as text, so each check is a vectorised test on a string column: a blank
cell ('') passes every check except `RAW-REQUIRED`. The check name is the finding's rule id.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cdisc_als.findings import ERROR, WARNING, Finding
from cdisc_als.raw.spec import RawColumn, RawTable

INTEGER = re.compile(r"[+-]?\d+")
DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PARTIAL_DATE = re.compile(r"\d{4}(-(\d{2}|UN)(-(\d{2}|UN))?)?")
MAX_TEXT = 200

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
FORMULA_START = r"[=+\-@]"

MESSAGES = {
    "RAW-REQUIRED": "value is required",
    "RAW-CONTROL": "contains a control character (NUL, tab, line break, \\x01-\\x1f); they break XPT, XML, "
                   "RTF and XLSX outputs",
    "RAW-ASCII": "contains characters outside ASCII (not allowed in SAS XPORT v5)",
    "RAW-LENGTH": f"longer than {MAX_TEXT} characters",
    "RAW-FORMULA": "starts like a spreadsheet formula (=, +, -, @) and is not a number; enter the value, "
                   "not a formula",
    "RAW-INTEGER": "not a whole number",
    "RAW-DECIMAL": "not a number",
    "RAW-DECIMALS": "more decimals than the data model allows",
    "RAW-RANGE": "outside the allowed range",
    "RAW-ALLOWED": "not an allowed value",
    "RAW-CASE": "an allowed value written in other letter case; mapped as that value",
    "RAW-ARM": "not an arm of study.yaml (its raw_value, else armcd)",
    "RAW-PATTERN": "does not have the expected form",
    "RAW-DATE": "not a complete valid date YYYY-MM-DD",
    "RAW-PARTIAL-DATE": "not a valid date: use YYYY-MM-DD, YYYY-MM, YYYY or UN for unknown day/month",
    "RAW-VISIT": "not a visit of study.yaml",
}


WARNING_RULES = {"RAW-CASE"}


def _blank(s: pd.Series) -> pd.Series:
    return s == ""


def _valid_calendar(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").notna()


def is_full_date(s: pd.Series) -> pd.Series:
    """Blank, or YYYY-MM-DD that exists on the calendar (2012-02-30 fails)."""
    shaped = s.str.fullmatch(FULL_DATE.pattern)
    return _blank(s) | (shaped & _valid_calendar(s.where(shaped, "")))


def is_partial_date(s: pd.Series) -> pd.Series:
    """Blank, or a full or partial date whose known parts are valid; a known day needs a known month."""
    shaped = s.str.fullmatch(PARTIAL_DATE.pattern)
    parts = s.where(shaped, "").str.split("-", expand=True).reindex(columns=[0, 1, 2]).fillna("")
    year, month, day = parts[0], parts[1], parts[2]
    month_ok = month.isin(["", "UN"]) | month.str.fullmatch(r"0[1-9]|1[0-2]")
    known_day = ~day.isin(["", "UN"])
    day_needs_month = ~(known_day & month.isin(["", "UN"]))
    full = known_day & ~month.isin(["", "UN"])
    calendar = ~full | _valid_calendar((year + "-" + month + "-" + day).where(full, ""))
    year_ok = (year == "") | (year.str.fullmatch(r"\d{4}") & (year.where(year != "", "0").astype(int) >= 1850))
    return _blank(s) | (shaped & month_ok & day_needs_month & calendar & year_ok)


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.where(s.str.fullmatch(DECIMAL.pattern), None), errors="coerce")


def _check(rule: str, test: Callable[[pd.Series], pd.Series]) -> pa.Check:
    return pa.Check(test, name=rule)


def column_checks(col: RawColumn, study_values: dict[str, frozenset[str]]) -> list[pa.Check]:
    """The checks a column's values must pass, from its data-model entry; columns of type visit and arm
    take their allowed values from the study spec (study_values: visit names, arm raw values)."""
    checks = [
        _check("RAW-CONTROL", lambda s: ~s.str.contains(r"[\x00-\x1f\x7f]", regex=True)),
        _check("RAW-ASCII", lambda s: s.map(str.isascii).astype(bool)),
        _check("RAW-FORMULA", lambda s: ~s.str.match(FORMULA_START) | s.str.fullmatch(NUMBER.pattern)),
        _check("RAW-LENGTH", lambda s: s.str.len() <= MAX_TEXT),
    ]
    if col.required:
        checks.append(_check("RAW-REQUIRED", lambda s: ~_blank(s)))
    if col.type == "integer":
        checks.append(_check("RAW-INTEGER", lambda s: _blank(s) | s.str.fullmatch(INTEGER.pattern)))
    if col.type == "decimal":
        checks.append(_check("RAW-DECIMAL", lambda s: _blank(s) | s.str.fullmatch(DECIMAL.pattern)))
        if col.decimals is not None:
            places = col.decimals
            checks.append(_check("RAW-DECIMALS",
                                 lambda s: ~s.str.fullmatch(rf"[+-]?\d*\.\d{{{places + 1},}}")))
    if col.type in ("integer", "decimal") and (col.min is not None or col.max is not None):
        lo = -float("inf") if col.min is None else float(col.min)
        hi = float("inf") if col.max is None else float(col.max)
        checks.append(_check("RAW-RANGE", lambda s: _numeric(s).isna() | _numeric(s).between(lo, hi)))
    if col.type == "date":
        checks.append(_check("RAW-DATE", is_full_date))
    if col.type == "partial_date":
        checks.append(_check("RAW-PARTIAL-DATE", is_partial_date))
    if col.type == "visit":
        allowed_visits = study_values["visit"]
        checks.append(_check("RAW-VISIT", lambda s: _blank(s) | s.isin(allowed_visits)))
    if col.type == "arm":
        allowed_arms = study_values["arm"]
        checks.append(_check("RAW-ARM", lambda s: _blank(s) | s.isin(allowed_arms)))
    if col.allowed:
        allowed = set(col.allowed)
        upper = {a.upper() for a in allowed}
        checks.append(_check("RAW-ALLOWED", lambda s: _blank(s) | s.str.upper().isin(upper)))
        checks.append(_check("RAW-CASE", lambda s: _blank(s) | s.isin(allowed) | ~s.str.upper().isin(upper)))
    if col.pattern:
        pattern = col.pattern
        checks.append(_check("RAW-PATTERN", lambda s: _blank(s) | s.str.fullmatch(pattern)))
    return checks


def table_schema(table: RawTable, present: list[str], study_values: dict[str, frozenset[str]]) -> pa.DataFrameSchema:
    """pandera schema for the columns of `table` that are present in the file."""
    columns = {c.name: pa.Column(None, checks=column_checks(c, study_values), nullable=False, required=True)
               for c in table.columns if c.name in present}
    return pa.DataFrameSchema(columns, strict=False, name=table.name)


def schema_findings(table: RawTable, frame: pd.DataFrame, file_name: str,
                    study_values: dict[str, frozenset[str]]) -> list[Finding]:
    """Every failing cell as a finding: one per cell, the first failing check in check order (a formula
    in a number column is RAW-FORMULA, not also RAW-DECIMAL).

    The checks are the pandera Checks of `table_schema`, evaluated column by column here (the same
    vectorised functions pandera would run, without its per-check overhead: a raw folder is checked
    several times per run); tests/test_raw_findings.py keeps the two in agreement."""
    present = [c for c in frame.columns if c != "_ROW"]
    findings = [Finding(file_name, None, c.name, "", "RAW-COL-MISSING",
                        "required column is missing" if c.required else "column of the data model is missing",
                        ERROR if c.required else WARNING)
                for c in table.columns if c.name not in present]
    known = set(table.column_names)
    findings += [Finding(file_name, None, c, "", "RAW-COL-UNKNOWN",
                         "column is not in the data model; its values are not mapped", WARNING)
                 for c in present if c not in known and not c.startswith(("_UNNAMED", "_DUPLICATE"))]
    if frame.empty:
        return findings
    rows = frame["_ROW"].to_numpy()
    cells = []
    for col in table.columns:
        if col.name not in present:
            continue
        # every check judges one value on its own: run it on the distinct values, broadcast the result
        codes, uniques = pd.factorize(frame[col.name].astype(str))
        distinct = pd.Series(uniques, dtype=object)
        failed = np.zeros(len(distinct), dtype=bool)
        for rank, check in enumerate(column_checks(col, study_values)):
            passed = np.asarray(pd.Series(check._check_fn(distinct), index=distinct.index).fillna(False), dtype=bool)
            new = ~passed & ~failed
            failed |= ~passed
            for k in np.nonzero(new[codes])[0]:
                value = distinct.iloc[codes[k]]
                cells.append((int(k), rank, Finding(file_name, int(rows[k]), col.name, value, check.name,
                                                    _message(table, col.name, check.name),
                                                    WARNING if check.name in WARNING_RULES else ERROR)))
    return findings + [f for _, _, f in sorted(cells, key=lambda c: (c[0], c[1]))]


def _message(table: RawTable, column: str, rule: str) -> str:
    base = MESSAGES.get(rule, rule)
    try:
        col = table.column(column)
    except KeyError:
        return base
    if rule == "RAW-RANGE":
        return f"{base} [{col.min}, {col.max}]"
    if rule == "RAW-ALLOWED" and col.allowed:
        shown = ", ".join(col.allowed[:8]) + (", ..." if len(col.allowed) > 8 else "")
        return f"{base} ({shown})"
    if rule == "RAW-DECIMALS":
        return f"{base} (at most {col.decimals})"
    return base
