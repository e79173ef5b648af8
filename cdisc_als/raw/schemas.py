"""pandera schemas of the raw tables, built from the raw data model, and their failures as findings.

Every cell is read as text, so each check is a vectorised test on a string column: a blank
cell ('') passes every check except `RAW-REQUIRED`. The check name is the finding's rule id.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa

from cdisc_als.findings import ERROR, WARNING, Finding
from cdisc_als.raw.spec import RawColumn, RawTable

INTEGER = re.compile(r"[+-]?\d+")
DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PARTIAL_DATE = re.compile(r"\d{4}(-(\d{2}|UN)(-(\d{2}|UN))?)?")
MAX_TEXT = 200

MESSAGES = {
    "RAW-REQUIRED": "value is required",
    "RAW-ASCII": "contains characters outside ASCII (not allowed in SAS XPORT v5)",
    "RAW-LENGTH": f"longer than {MAX_TEXT} characters",
    "RAW-FORMULA": "looks like a spreadsheet formula; enter the value, not a formula",
    "RAW-INTEGER": "not a whole number",
    "RAW-DECIMAL": "not a number",
    "RAW-DECIMALS": "more decimals than the data model allows",
    "RAW-RANGE": "outside the allowed range",
    "RAW-ALLOWED": "not an allowed value",
    "RAW-ARM": "not an arm of study.yaml (its raw_value, else armcd)",
    "RAW-PATTERN": "does not have the expected form",
    "RAW-DATE": "not a complete valid date YYYY-MM-DD",
    "RAW-PARTIAL-DATE": "not a valid date: use YYYY-MM-DD, YYYY-MM, YYYY or UN for unknown day/month",
    "RAW-VISIT": "not a visit of study.yaml",
}


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
        _check("RAW-ASCII", lambda s: s.map(str.isascii).astype(bool)),
        _check("RAW-LENGTH", lambda s: s.str.len() <= MAX_TEXT),
        _check("RAW-FORMULA", lambda s: ~s.str.match(r"=[A-Za-z(]")),
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
        checks.append(_check("RAW-ALLOWED", lambda s: _blank(s) | s.isin(allowed)))
    if col.pattern:
        pattern = col.pattern
        checks.append(_check("RAW-PATTERN", lambda s: _blank(s) | s.str.fullmatch(pattern)))
    return checks


def table_schema(table: RawTable, present: list[str], study_values: dict[str, frozenset[str]]) -> pa.DataFrameSchema:
    """pandera schema for the columns of `table` that are present in the file."""
    columns = {c.name: pa.Column(str, checks=column_checks(c, study_values), nullable=False, required=True)
               for c in table.columns if c.name in present}
    return pa.DataFrameSchema(columns, strict=False, name=table.name)


def schema_findings(table: RawTable, frame: pd.DataFrame, file_name: str,
                    study_values: dict[str, frozenset[str]]) -> list[Finding]:
    """Validate lazily (every failure collected) and turn pandera's failure cases into findings."""
    present = [c for c in frame.columns if c != "_ROW"]
    findings = [Finding(file_name, None, c.name, "", "RAW-COL-MISSING",
                        "required column is missing" if c.required else "column of the data model is missing",
                        ERROR if c.required else WARNING)
                for c in table.columns if c.name not in present]
    known = set(table.column_names)
    findings += [Finding(file_name, None, c, "", "RAW-COL-UNKNOWN",
                         "column is not in the data model; its values are not mapped", WARNING)
                 for c in present if c not in known]
    schema = table_schema(table, present, study_values)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        rows = frame["_ROW"]
        for case in cases.itertuples(index=False):
            rule = str(case.check)
            index = case.index
            row = int(rows.iloc[int(index)]) if index is not None and not pd.isna(index) else None
            findings.append(Finding(file_name, row, str(case.column), str(case.failure_case), rule,
                                    _message(table, str(case.column), rule)))
    return findings


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
