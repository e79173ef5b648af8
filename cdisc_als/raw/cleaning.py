"""What happens to the data behind each finding: the row is rejected, one value is set to missing, or
the value is normalised; nothing else changes.

A row never takes its subject down with it. A bad value in an ordinary column becomes a finding and a
missing value, and the record is mapped. Only a bad value in a key column of the table (tables.yaml
`key`, plus the site column of the subject table, which builds USUBJID) rejects the row, since the
record cannot be identified. An allowed value in other letter case is read as the allowed spelling.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cdisc_als.findings import ERROR, REJECTED, SET_MISSING, Finding
from cdisc_als.raw.spec import RawTable

# rules that judge one cell's value on its own (schemas.py, csvtext.py)
CELL_RULES = {"RAW-CONTROL", "RAW-ASCII", "RAW-FORMULA", "RAW-LENGTH", "RAW-INTEGER", "RAW-DECIMAL",
              "RAW-DECIMALS", "RAW-RANGE", "RAW-ALLOWED", "RAW-ARM", "RAW-PATTERN", "RAW-DATE",
              "RAW-PARTIAL-DATE", "RAW-VISIT", "RAW-QUOTE", "RAW-REQUIRED"}


def decide_actions(findings: list[Finding], key_columns: tuple[str, ...]) -> list[Finding]:
    """Each error finding of a cell gets its action: a key column rejects the row, any other column's
    value is set to missing (a blank required value stays blank); a missing key column rejects every
    row of the table."""
    out = []
    for f in findings:
        if f.rule == "RAW-CASE":
            out.append(replace(f, action="value read in the allowed spelling"))
        elif f.action or f.severity != ERROR:
            out.append(f)
        elif f.rule in CELL_RULES and f.row is not None:
            if f.column in key_columns:
                out.append(replace(f, action=REJECTED))
            elif f.rule != "RAW-REQUIRED":
                out.append(replace(f, action=SET_MISSING))
            else:
                out.append(f)
        elif f.rule == "RAW-COL-MISSING" and f.column in key_columns:
            out.append(replace(f, action=REJECTED, message=f"{f.message}: it is part of the table's key, so no "
                                                           "row of the table can be used"))
        else:
            out.append(f)
    return out


def clean_table(table: RawTable, frame: pd.DataFrame, findings: list[Finding]) -> tuple[pd.DataFrame, dict[int, str]]:
    """The frame as the mapping sees it, and the rejected rows (row -> reason).

    Every column of the data model is present (an absent one is blank); a value set to missing is
    blank; a RAW-CASE value takes the allowed spelling; rejected rows stay in the frame (the caller
    removes them) so that cross-table rules can still name them."""
    out = frame.copy()
    for column in table.column_names:
        if column not in out.columns:
            out[column] = ""
    position = {int(r): k for k, r in enumerate(out["_ROW"])} if findings else {}
    rejected: dict[int, str] = {}
    allowed = {c.name: {a.upper(): a for a in c.allowed} for c in table.columns if c.allowed}
    for f in findings:
        if f.action == REJECTED and f.row is None:
            for row in position:
                rejected.setdefault(row, _reason(f))
            continue
        if f.row is None or int(f.row) not in position or f.column not in out.columns:
            if f.action == REJECTED and f.row is not None:
                rejected.setdefault(int(f.row), _reason(f))
            continue
        k = position[int(f.row)]
        if f.action == REJECTED:
            rejected.setdefault(int(f.row), _reason(f))
        elif f.action == SET_MISSING:
            out.iat[k, out.columns.get_loc(f.column)] = ""
        elif f.rule == "RAW-CASE" and f.column in allowed:
            value = out.iat[k, out.columns.get_loc(f.column)]
            out.iat[k, out.columns.get_loc(f.column)] = allowed[f.column].get(value.upper(), value)
    return out, rejected


def _reason(f: Finding) -> str:
    column = f" {f.column}" if f.column else ""
    value = f"={f.value!r}" if f.value else ""
    return f"{f.rule}{column}{value}: {f.message}"
