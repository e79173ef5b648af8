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
`<table>.xlsx` (first sheet, header in its first row with a value), all in one folder. Cells are read
as text; leading and trailing spaces are removed. This page is generated from
`mappings/raw/tables.yaml` (`python -m cdisc_als.raw.docs > docs/raw-data.md`); change the YAML, not
this page.

Checking: `cdisc-als check-raw DIR --out REPORTDIR` (and `cdisc-als sdtm`, `cdisc-als run`) reads
every table, checks every cell and every cross-table rule, and lists each finding with file, row,
column, value, rule, severity and the action taken in `raw_findings.csv`. The row is the physical
line of the file where the record starts (header = line 1; blank lines keep their numbers), or the
sheet row of an XLSX file. `raw_accounting.csv` accounts for every physical line: lines after the
header = rows + blank lines + continuation lines (lines inside a record whose quoted value holds a
line break), and counts the rows rejected, the rows with values set to missing and the clean rows.
Nothing stops at the first problem and no row is dropped silently. [bad-input.md](bad-input.md)
lists every kind of bad input and what happens to it.

What happens to the data behind a finding (the `action` column):

- a bad value in an ordinary column is **set to missing**; the record and its subject are mapped;
- a bad value in a key column (the table's `key` below, and the site of the subject table, which
  builds USUBJID) **rejects the row**; the subject's rows in other tables are then rejected too, with
  one finding per subject that counts them (RAW-SUBJECT-REJECTED, RAW-UNKNOWN-SUBJECT);
- an allowed value in other letter case (`asian`) is read as the allowed spelling (RAW-CASE warning);
- everything else is kept as written and reported.

Files: UTF-8 (a byte-order mark is fine; UTF-16 and Windows-1252 files are read with a RAW-ENCODING
warning), separated by commas (semicolons, tabs or pipes are recognised with a RAW-DELIMITER
warning), header names matched to the model ignoring case.

Conventions:

- Text is printable ASCII (no control characters: NUL, tab, line breaks, \\x01-\\x1f), at most 200
  characters (the SAS XPORT v5 limit); a text cell starting with `=`, `+`, `-` or `@` that is not a
  number looks like a spreadsheet formula and is a finding.
- `date` is a complete calendar date `YYYY-MM-DD`. `date, partial allowed` also accepts `YYYY-MM`,
  `YYYY`, and `UN` for an unknown day or month (`2012-03-UN`, `2012-UN-UN`); a known day needs a
  known month (`2012-UN-14` is a finding).
- `visit name` is one of the visits of the study spec (`mappings/study.yaml`, `visits[].visit`).
- `arm of study.yaml` is the `raw_value` (else the `armcd`) of one of the study spec's `arms`.
- Numbers use a decimal point; `min`/`max` are inclusive.

## Rules across rows and tables

| rule | what it checks |
|---|---|
| RAW-FILE-MISSING / RAW-FILE-EMPTY | a table of the model has no file, or an empty one (error for the subject table, warning otherwise; read as a table without rows) |
| RAW-FILE-READ | the file cannot be read (a damaged workbook, ...); its rows are lost, so an error |
| RAW-FILE-AMBIGUOUS | a table given as both CSV and XLSX (the CSV is read) |
| RAW-ENCODING / RAW-DELIMITER / RAW-HEADER-LINE | not UTF-8 / not comma-separated / header after blank lines (warnings) |
| RAW-FIELD-COUNT | a row with more or fewer values than the header (rejected; extra blank fields only warned) |
| RAW-QUOTE / RAW-LINE-BREAK | an unbalanced quote that glued lines together (the lines are read separately) / a quoted value holding line breaks |
| RAW-COL-MISSING / RAW-COL-UNKNOWN | a model column is absent (read as blank; a key column rejects the table's rows) / a column is not in the model (warning: not mapped) |
| RAW-COL-CASE / RAW-COL-DUPLICATE / RAW-COL-UNNAMED | header in other letter case (warning) / a header name repeated (error, repeat ignored) / values under an empty header (warning) |
| RAW-DUPLICATE-KEY | two rows share the table's key (both rows are named and rejected) |
| RAW-UNKNOWN-SUBJECT | a subject is not in the subject table: one finding per subject, counting its rows |
| RAW-SUBJECT-REJECTED / RAW-SUBJECT-TABLE | the subject's row (or the whole subject table) was rejected or is missing: one finding counting the rows it costs |
| RAW-ALSFRS-ITEM5 | ALSFRS-R item 5 must be answered once: 5a or 5b |
| RAW-AALS-TOTAL | the AALS total must equal the sum of the five subscores |
| RAW-DATE-ORDER | an AE end date before its start date (on the parts both dates know) |
| RAW-AE-ONGOING | ongoing event with an end date (error); ended event without one (warning) |
| RAW-AE-SERIOUS | a seriousness criterion is Y but SERIOUS is N (error); SERIOUS Y without criterion (warning) |
| RAW-AE-FATAL | outcome FATAL but "results in death" is not Y |
| RAW-RANDOMIZATION | a screen failure with an arm (the arm is set to missing), or a randomized subject without arm or date |
| RAW-INJECTION-ARM | an injection for a subject outside the treated arms of study.yaml |
| RAW-DEATH-DATE | vital status DEAD without a date of death (warning) |
| RAW-DATE-IMPLAUSIBLE | a date outside study.yaml `plausible_dates` (warning; a partial date only when all its days are) |
| RAW-BEFORE-CONSENT / RAW-AFTER-DEATH | a date of `timeline.after_consent` before informed consent / of `timeline.before_death` after death (warnings) |

Cell rules: RAW-REQUIRED, RAW-CONTROL, RAW-ASCII, RAW-FORMULA, RAW-LENGTH, RAW-INTEGER, RAW-DECIMAL,
RAW-DECIMALS, RAW-RANGE, RAW-ALLOWED, RAW-CASE, RAW-ARM, RAW-PATTERN, RAW-DATE, RAW-PARTIAL-DATE,
RAW-VISIT (one finding per cell: the first rule it breaks).
"""


def render(spec: RawSpec) -> str:
    """Markdown description of every table and column of the raw data model."""
    parts = [INTRO]
    if spec.timeline:
        parts.append("## Timeline (plausibility rules)\n")
        parts.append("| role | dates |")
        parts.append("|---|---|")
        parts += [f"| {role} | {', '.join(sources)} |" for role, sources in spec.timeline.items()]
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
