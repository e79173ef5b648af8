"""Findings: what is wrong with an input, where, and by which rule. Collected, never raised one by one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_als.io import write_csv

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: file, row (as numbered in the file, header = 1), column, value, rule and message."""

    file: str
    row: int | None
    column: str
    value: str
    rule: str
    message: str
    severity: str = ERROR

    def describe(self) -> str:
        where = f"{self.file}" + (f", row {self.row}" if self.row is not None else "")
        where += f", column {self.column}" if self.column else ""
        value = f" value {self.value!r}" if self.value != "" else ""
        return f"{self.severity.upper()} {self.rule}: {where}:{value} {self.message}"


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
        columns = ["file", "row", "column", "value", "rule", "severity", "message"]
        if not self.items:
            return pd.DataFrame(columns=columns)
        frame = pd.DataFrame([asdict(f) for f in self.items])[columns]
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def write_csv(self, path: str | Path) -> None:
        write_csv(self.frame(), path)
