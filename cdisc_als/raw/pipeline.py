"""Read a folder of raw tables, check them all, and account for every row."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_als.findings import ERROR, Finding, Findings
from cdisc_als.raw.crosscheck import cross_findings
from cdisc_als.raw.readers import find_table_file, read_table
from cdisc_als.raw.schemas import schema_findings
from cdisc_als.raw.spec import RawSpec, load_raw_spec
from cdisc_als.study import Study


@dataclass
class RawData:
    """Raw tables as text (column _ROW = row in the file), their file names, and all findings."""

    tables: dict[str, pd.DataFrame]
    files: dict[str, str]
    findings: Findings
    spec: RawSpec
    missing_tables: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.findings.errors)

    def accounting(self) -> pd.DataFrame:
        """Per table: rows read, rows with at least one error finding, rows without."""
        bad = {(f.file, f.row) for f in self.findings if f.severity == ERROR and f.row is not None}
        rows = []
        for name, frame in self.tables.items():
            file = self.files[name]
            n_bad = sum((file, int(r)) in bad for r in frame["_ROW"])
            rows.append({"table": name, "file": file, "rows": len(frame), "rows_with_errors": n_bad,
                         "rows_clean": len(frame) - n_bad})
        return pd.DataFrame(rows, columns=["table", "file", "rows", "rows_with_errors", "rows_clean"])

    def summary(self) -> str:
        n_rows = sum(len(f) for f in self.tables.values())
        errors = len(self.findings.errors)
        warnings = len(self.findings) - errors
        return (f"{len(self.tables)} tables, {n_rows} rows read; {errors} errors, {warnings} warnings"
                + (f"; missing tables: {', '.join(self.missing_tables)}" if self.missing_tables else ""))


def read_and_check_raw(raw_dir: str | Path, study: Study, spec: RawSpec | None = None,
                       out_dir: str | Path | None = None) -> RawData:
    """Read every table of the data model found in raw_dir and collect all findings.

    A table whose file is absent is a finding (error for the subject table, warning otherwise);
    an unreadable file is a finding; nothing stops at the first problem. With out_dir, writes
    raw_findings.csv and raw_accounting.csv there.
    """
    raw_dir = Path(raw_dir)
    spec = spec or load_raw_spec()
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw data folder not found: {raw_dir}")
    study_values = {"visit": frozenset(v.visit for v in study.visits), "arm": frozenset(a.raw for a in study.arms)}
    findings = Findings()
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    missing = []
    for name, table in spec.tables.items():
        path = find_table_file(raw_dir, name)
        if path is None:
            missing.append(name)
            severity = ERROR if name == spec.subject_table else "warning"
            findings.add(Finding(f"{name}.csv", None, "", "", "RAW-FILE-MISSING",
                                 f"table '{name}' not found (expected {name}.csv or {name}.xlsx)", severity))
            continue
        frame, read_problems = read_table(path)
        findings.extend(read_problems)
        if frame is None:
            continue
        tables[name], files[name] = frame, path.name
        findings.extend(schema_findings(table, frame, path.name, study_values))
    findings.extend(cross_findings(spec, tables, files, study))
    data = RawData(tables, files, findings, spec, missing)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        findings.write_csv(out / "raw_findings.csv")
        from cdisc_als.io import write_csv

        write_csv(data.accounting(), out / "raw_accounting.csv")
    return data
