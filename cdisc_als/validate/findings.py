"""Findings as a stream: every finding goes to a CSV file as it is found; memory holds only counts
and the first findings of each rule per dataset (the Details sheet), so it stays flat however many
findings there are."""

from __future__ import annotations

import csv
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.io import neutralise_formula
from cdisc_als.validate.rules.registry import Hits, Rule

COLUMNS = ["dataset", "file", "record", "variables", "values", "rule", "p21", "message", "category", "severity"]
SUMMARY_COLUMNS = ["dataset", "file", "rule", "p21", "message", "category", "severity", "found"]
CHUNK = 50_000


def _shown(series: pd.Series) -> pd.Series:
    """Values as shown in the report: numbers without a trailing .0, missing as 'null' (as P21 does)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = []
    for value in uniques:
        if isinstance(value, float):
            text.append("null" if np.isnan(value) else f"{value:.15g}")
        else:
            text.append(str(value) if str(value) != "" else "null")
    labels = np.array(text + ["null"], dtype=object)
    return pd.Series(labels[np.where(codes < 0, len(labels) - 1, codes)], index=series.index)


def format_values(frame: pd.DataFrame, rows: np.ndarray, variables: list[str]) -> list[str]:
    present = [v for v in variables if v in frame.columns]
    if not present:
        return [""] * len(rows)
    part = frame.iloc[rows]
    texts = [_shown(part[v]) for v in present]
    return reduce(lambda a, b: a + ", " + b, texts).tolist()


class FindingSink:
    """Writes findings to CSV as they come; keeps counts and up to `cap` details per (dataset, rule)."""

    def __init__(self, path: Path, cap: int):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(COLUMNS)
        self.cap = cap
        self.counts: dict[tuple, int] = {}
        self.details: dict[tuple[str, str], list[tuple]] = {}

    def _emit(self, rows: list[tuple]) -> None:
        if not rows:
            return
        self._writer.writerows([tuple(neutralise_formula(v) for v in row) for row in rows])
        kept = self.details.setdefault((rows[0][0], rows[0][5]), [])
        if len(kept) < self.cap:
            kept.extend(rows[: self.cap - len(kept)])

    def add(self, dataset: str, file: str, rule: Rule, hit: Hits, standard: str,
            frame: pd.DataFrame | None = None) -> None:
        if not len(hit):
            return
        dataset = hit.dataset or dataset
        p21 = hit.p21 if hit.p21 is not None else rule.p21_for(standard)
        severity = hit.severity or rule.severity
        message = hit.message or rule.message
        variables = ", ".join(hit.variables)
        tail = (rule.id, p21, message, rule.category, severity)
        key = (dataset, file, *tail)
        self.counts[key] = self.counts.get(key, 0) + len(hit)
        if hit.rows is None or frame is None:
            self._emit([(dataset, file, "", variables, str(v), *tail) for v in (hit.values or [])])
            return
        for start in range(0, len(hit.rows), CHUNK):
            rows = hit.rows[start:start + CHUNK]
            values = hit.values[start:start + CHUNK] if hit.values is not None else \
                format_values(frame, rows, hit.variables)
            self._emit([(dataset, file, int(r) + 1, variables, v, *tail) for r, v in zip(rows, values, strict=True)])

    def close(self) -> None:
        self._handle.close()

    def summary(self) -> pd.DataFrame:
        rows = [(*key, n) for key, n in self.counts.items()]
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS) if rows else pd.DataFrame(columns=SUMMARY_COLUMNS)

    def detail_frame(self) -> pd.DataFrame:
        rows = [r for kept in self.details.values() for r in kept]
        frame = pd.DataFrame(rows, columns=COLUMNS) if rows else pd.DataFrame(columns=COLUMNS)
        frame["record"] = pd.to_numeric(frame["record"].map(lambda v: None if v == "" else v)).astype("Int64")
        return frame


def read_findings(path: Path) -> pd.DataFrame:
    """The full findings CSV as a frame (record as Int64; text exactly as written)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["record"] = pd.to_numeric(frame["record"].map(lambda v: None if v == "" else v)).astype("Int64")
    return frame
