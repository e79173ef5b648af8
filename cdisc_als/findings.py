"""Findings: what is wrong with an input, where, and by which rule. Collected, never raised one by one.

A finding names the file, the row (for CSV the physical line where the record starts, header = line 1;
for XLSX the sheet row), the column, the value as written (control characters shown as \\xNN), the
rule, a message, the severity and the action taken with the data:

  row rejected           the record is not mapped (its key is unusable); listed in the accounting
  value set to missing   the record is mapped, this one value is left blank
  (blank)                nothing was changed: the value or row is kept as written
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_als.io import write_csv

ERROR = "error"
WARNING = "warning"
REJECTED = "row rejected"
SET_MISSING = "value set to missing"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(value: object) -> str:
    """Text with control characters written as \\xNN (a NUL or tab in a raw value stays visible and
    cannot break the CSV, XLSX or XML it is reported in)."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(value))


@dataclass(frozen=True)
class Finding:
    """One problem: file, row (the physical line where the record starts, header = line 1; the sheet row
    of an XLSX file), column, value, rule, message, severity and the action taken with the data."""

    file: str
    row: int | None
    column: str
    value: str
    rule: str
    message: str
    severity: str = ERROR
    action: str = ""

    def describe(self) -> str:
        where = f"{self.file}" + (f", row {self.row}" if self.row is not None else "")
        where += f", column {self.column}" if self.column else ""
        value = f" value '{printable(self.value)}'" if self.value != "" else ""
        action = f" [{self.action}]" if self.action else ""
        return f"{self.severity.upper()} {self.rule}: {where}:{value} {self.message}{action}"


@dataclass
class Findings:
    """An ordered collection of findings with counts by severity."""

    items: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.items.append(finding)

    def extend(self, findings: list[Finding]) -> None:
        self.items.extend(findings)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, key):
        return self.items[key]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.items if f.severity == ERROR]

    def rules(self) -> set[str]:
        return {f.rule for f in self.items}

    def frame(self) -> pd.DataFrame:
        columns = ["file", "row", "column", "value", "rule", "severity", "action", "message"]
        if not self.items:
            return pd.DataFrame(columns=columns)
        frame = pd.DataFrame([asdict(f) for f in self.items])[columns]
        frame["row"] = frame["row"].astype("Int64")
        for text in ("file", "column", "value", "message"):
            frame[text] = frame[text].map(printable)
        return frame

    def write_csv(self, path: str | Path) -> None:
        write_csv(self.frame(), path)
