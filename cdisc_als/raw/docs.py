"""Generate docs/raw-data.md from the raw data model: `python -m cdisc_als.raw.docs > docs/raw-data.md`."""

from __future__ import annotations

import sys

from cdisc_als.raw.spec import RawSpec, load_raw_spec

TYPE_TEXT = {
    "text": "text",
    "integer": "integer",
    "decimal": "number",
    "date": "date YYYY-MM-DD",
    "partial_date": "date, partial allowed",
    "visit": "visit name",
    "arm": "arm of study.yaml",
}

INTRO = """# Raw data model

The raw tables a study brings to `cdisc-als`: one file per table, named `<table>.csv` or
`<table>.xlsx` (first sheet, header in the first row), all in one folder. Cells are read as text;
leading and trailing spaces are removed. This page is generated from `mappings/raw/tables.yaml`
(`python -m cdisc_als.raw.docs > docs/raw-data.md`); change the YAML, not this page.

Checking: `cdisc-als check-raw DIR --out REPORTDIR` (and `cdisc-als run --raw DIR`) reads every table,
checks every cell and every cross-table rule, and lists each finding with file, row (header = row 1),
column, value and rule in `raw_findings.csv`; `raw_accounting.csv` counts, per table, the rows read,
the rows with errors and the clean rows. Nothing stops at the first problem and no row is dropped.

Conventions:

- Text is ASCII, at most 200 characters (the SAS XPORT v5 limit); a cell that looks like a
  spreadsheet formula (`=SUM(...)`) is a finding.
- `date` is a complete calendar date `YYYY-MM-DD`. `date, partial allowed` also accepts `YYYY-MM`,
  `YYYY`, and `UN` for an unknown day or month (`2012-03-UN`, `2012-UN-UN`); a known day needs a
  known month (`2012-UN-14` is a finding).
- `visit name` is one of the visits of the study spec (`mappings/study.yaml`, `visits[].visit`).
- `arm of study.yaml` is the `raw_value` (else the `armcd`) of one of the study spec's `arms`.
- Numbers use a decimal point; `min`/`max` are inclusive.

## Rules across rows and tables

| rule | what it checks |
|---|---|
| RAW-FILE-MISSING | a table of the model has no file (error for `demog`, warning otherwise) |
| RAW-FILE-READ | the file cannot be read (not UTF-8, not a spreadsheet, ...) |
| RAW-COL-MISSING / RAW-COL-UNKNOWN | a model column is absent / a column is not in the model (warning: not mapped) |
| RAW-DUPLICATE-KEY | two rows share the table's key (both rows are named) |
| RAW-UNKNOWN-SUBJECT | SUBJID is not in `demog` |
| RAW-ALSFRS-ITEM5 | ALSFRS-R item 5 must be answered once: 5a or 5b |
| RAW-AALS-TOTAL | the AALS total must equal the sum of the five subscores |
| RAW-DATE-ORDER | an AE end date before its start date (on the parts both dates know) |
| RAW-AE-ONGOING | ongoing event with an end date (error); ended event without one (warning) |
| RAW-AE-SERIOUS | a seriousness criterion is Y but SERIOUS is N (error); SERIOUS Y without criterion (warning) |
| RAW-AE-FATAL | outcome FATAL but "results in death" is not Y |
| RAW-RANDOMIZATION | a screen failure with an arm, or a randomized subject without arm or date |
| RAW-INJECTION-ARM | an injection for a subject outside the treated arms of study.yaml |
| RAW-DEATH-DATE | vital status DEAD without a date of death (warning) |

Cell rules: RAW-REQUIRED, RAW-ASCII, RAW-LENGTH, RAW-FORMULA, RAW-INTEGER, RAW-DECIMAL,
RAW-DECIMALS, RAW-RANGE, RAW-ALLOWED, RAW-PATTERN, RAW-DATE, RAW-PARTIAL-DATE, RAW-VISIT.
"""


def render(spec: RawSpec) -> str:
    """Markdown description of every table and column of the raw data model."""
    parts = [INTRO]
    for table in spec.tables.values():
        parts.append(f"\n## `{table.name}`\n\n{table.description}\n\nKey: {', '.join(table.key)}\n")
        parts.append("| column | type | required | allowed values / range | description |")
        parts.append("|---|---|---|---|---|")
        for col in table.columns:
            allowed = ""
            if col.allowed:
                allowed = "; ".join(col.allowed)
            elif col.min is not None or col.max is not None:
                allowed = f"{col.min} to {col.max}"
            if col.decimals is not None:
                allowed += f" (at most {col.decimals} decimals)"
            if col.pattern:
                allowed += f" pattern `{col.pattern}`"
            parts.append(f"| {col.name} | {TYPE_TEXT[col.type]} | {'yes' if col.required else ''} | "
                         f"{allowed.strip()} | {col.description} |")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(load_raw_spec()))
