"""Read a folder of raw tables, check them all, and account for every row and every physical line.

Order of work, so that one problem is reported once, where it starts:
  1. read each table (readers.py: encoding, delimiter, quotes, field counts, header names);
  2. check each cell against the data model (schemas.py) and decide what happens to the data
     (cleaning.py: a bad key value rejects the row, any other bad value is set to missing);
  3. duplicated keys (rows rejected), then subjects without a usable subject-table row (their rows
     rejected, one finding per subject: subjects.py);
  4. rules across rows and tables on the cleaned values (crosscheck.py) and plausibility warnings
     (plausibility.py), which therefore never repeat a problem already reported on a cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.findings import ERROR, REJECTED, SET_MISSING, WARNING, Finding, Findings
from cdisc_als.raw.cleaning import clean_table, decide_actions
from cdisc_als.raw.crosscheck import cross_findings, key_findings
from cdisc_als.raw.plausibility import implausible_dates, timeline_findings
from cdisc_als.raw.readers import TableRead, find_table_file, read_table
from cdisc_als.raw.schemas import schema_findings
from cdisc_als.raw.spec import RawSpec, load_raw_spec
from cdisc_als.raw.subjects import arm_consequences, orphan_rows
from cdisc_als.study import Study

ACCOUNTING_COLUMNS = ["table", "file", "lines", "blank_lines", "continuation_lines", "rows", "rows_rejected",
                      "rows_with_values_set_missing", "rows_with_errors", "rows_clean"]


@dataclass
class RawData:
    """Raw tables as cleaned text (column _ROW = line or sheet row of the record), the rows rejected
    per table (row -> reason), the file names, what reading each file found (its line counts and findings;
    the read frame is released once the table is cleaned), and all findings."""

    tables: dict[str, pd.DataFrame]
    files: dict[str, str]
    findings: Findings
    spec: RawSpec
    missing_tables: list[str] = field(default_factory=list)
    rejected: dict[str, dict[int, str]] = field(default_factory=dict)
    reads: dict[str, TableRead] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.findings.errors)

    def usable(self) -> dict[str, pd.DataFrame]:
        """What the mapping reads: every table of the data model (an absent one empty, an absent column
        blank), rejected rows removed, values set to missing blank. A table without rejected rows is the
        cleaned frame itself (not a copy): read it, do not change it."""
        out = {}
        for name, table in self.spec.tables.items():
            frame = self.tables.get(name)
            if frame is None:
                out[name] = pd.DataFrame({**{c: pd.Series(dtype=object) for c in table.column_names},
                                          "_ROW": pd.Series(dtype="int64")})
                continue
            dropped = self.rejected.get(name, {})
            if not dropped and frame.index.equals(pd.RangeIndex(len(frame))):
                out[name] = frame
                continue
            out[name] = frame[~frame["_ROW"].isin(list(dropped))].reset_index(drop=True)
        return out

    def rejected_rows(self) -> dict[tuple[str, int], list[str]]:
        """(file, row) -> reasons, for every rejected raw row."""
        return {(self.files[name], row): [reason] for name, rows in self.rejected.items() if name in self.files
                for row, reason in rows.items()}

    def accounting(self) -> pd.DataFrame:
        """Per table: physical lines after the header = rows + blank lines + continuation lines; rows =
        rejected + mapped (with or without values set to missing)."""
        errors: dict[str, set[int]] = {}
        missing: dict[str, set[int]] = {}
        for f in self.findings:
            if f.row is not None and f.severity == ERROR:
                errors.setdefault(f.file, set()).add(int(f.row))
            if f.row is not None and f.action == SET_MISSING:
                missing.setdefault(f.file, set()).add(int(f.row))
        rows = []
        for name, frame in self.tables.items():
            file, read = self.files[name], self.reads[name]
            numbers = frame["_ROW"].to_numpy(dtype=np.int64)
            dropped = np.isin(numbers, np.fromiter(self.rejected.get(name, {}), dtype=np.int64))
            with_missing = np.isin(numbers, np.fromiter(missing.get(file, ()), dtype=np.int64))
            with_error = np.isin(numbers, np.fromiter(errors.get(file, ()), dtype=np.int64))
            n_errors = int((with_error | dropped).sum())
            rows.append({"table": name, "file": file, "lines": read.lines, "blank_lines": read.blank_lines,
                         "continuation_lines": read.continuation_lines, "rows": len(frame),
                         "rows_rejected": int(dropped.sum()),
                         "rows_with_values_set_missing": int((with_missing & ~dropped).sum()),
                         "rows_with_errors": n_errors, "rows_clean": len(frame) - n_errors})
        return pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)

    def summary(self) -> str:
        n_rows = sum(len(f) for f in self.tables.values())
        n_rejected = sum(len(r) for r in self.rejected.values())
        errors = len(self.findings.errors)
        warnings = len(self.findings) - errors
        return (f"{len(self.tables)} tables, {n_rows} rows read, {n_rejected} rejected; {errors} errors, "
                f"{warnings} warnings"
                + (f"; missing tables: {', '.join(self.missing_tables)}" if self.missing_tables else ""))


def _read_all(raw_dir: Path, spec: RawSpec, study_values: dict[str, frozenset[str]],
              findings: Findings) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, TableRead], list[str],
                                           dict[str, dict[int, str]]]:
    tables, files, reads, missing, rejected = {}, {}, {}, [], {}
    for name, table in spec.tables.items():
        path, extra = find_table_file(raw_dir, name)
        findings.extend(extra)
        read = read_table(path, table.column_names) if path is not None else None
        if read is not None and read.frame is None and name != spec.subject_table:
            read.findings = [replace(f, severity=WARNING) if f.rule == "RAW-FILE-EMPTY" else f for f in read.findings]
        if read is None or read.frame is None:
            findings.extend(read.findings if read is not None else [])
            missing.append(name)
            severity = ERROR if name == spec.subject_table else WARNING
            if path is None:
                findings.add(Finding(f"{name}.csv", None, "", "", "RAW-FILE-MISSING",
                                     f"table '{name}' not found (expected {name}.csv or {name}.xlsx); read as "
                                     "a table without rows", severity))
            continue
        unusable = {int(f.row) for f in read.findings if f.action == REJECTED and f.row is not None}
        checked = read.frame[~read.frame["_ROW"].isin(unusable)].reset_index(drop=True) if unusable else read.frame
        cell = decide_actions(read.findings + schema_findings(table, checked, path.name, study_values),
                              spec.key_columns(name))
        findings.extend(cell)
        clean, dropped = clean_table(table, read.frame, cell)
        del checked
        read.frame = None        # the cleaned copy is kept; the file's line counts stay with the read
        tables[name], files[name], reads[name], rejected[name] = clean, path.name, read, dropped
    return tables, files, reads, missing, rejected


def read_and_check_raw(raw_dir: str | Path, study: Study, spec: RawSpec | None = None,
                       out_dir: str | Path | None = None) -> RawData:
    """Read every table of the data model found in raw_dir and collect all findings (see the module
    docstring). A table whose file is absent or empty is a finding (error for the subject table,
    warning otherwise) and reads as a table without rows; nothing stops at the first problem. With
    out_dir, writes raw_findings.csv and raw_accounting.csv there."""
    raw_dir = Path(raw_dir)
    spec = spec or load_raw_spec()
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw data folder not found: {raw_dir}")
    study_values = {"visit": frozenset(v.visit for v in study.visits), "arm": frozenset(a.raw for a in study.arms)}
    findings = Findings()
    tables, files, reads, missing, rejected = _read_all(raw_dir, spec, study_values, findings)

    def usable() -> dict[str, pd.DataFrame]:
        return {n: f[~f["_ROW"].isin(list(rejected[n]))] for n, f in tables.items()}

    for f in key_findings(spec, usable(), files):
        findings.add(f)
        rejected[_table_of(files, f.file)].setdefault(int(f.row), f"{f.rule} {f.column}={f.value!r}: {f.message}")
    findings.extend(orphan_rows(spec, tables, files, rejected))
    reported = {(f.file, f.row, f.column) for f in findings if f.severity == ERROR}
    cross = [f for f in cross_findings(spec, usable(), files, study) if (f.file, f.row, f.column) not in reported]
    for name, table in spec.tables.items():
        if name in tables:
            tables[name], more = clean_table(table, tables[name], [f for f in cross if f.file == files[name]])
            rejected[name].update(more)
    findings.extend(cross)
    findings.extend(implausible_dates(spec, usable(), files, study.plausible_dates.earliest, study.plausible_latest))
    findings.extend(timeline_findings(spec, usable(), files))
    findings = Findings(arm_consequences(spec, tables, files, findings.items))
    data = RawData(tables, files, findings, spec, missing, rejected, reads)
    if out_dir is not None:
        from cdisc_als.io import write_csv

        out = Path(out_dir)
        findings.write_csv(out / "raw_findings.csv")
        write_csv(data.accounting(), out / "raw_accounting.csv")
    return data


def _table_of(files: dict[str, str], file_name: str) -> str:
    return next(name for name, f in files.items() if f == file_name)


__all__ = ["RawData", "read_and_check_raw"]
