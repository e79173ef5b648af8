"""Read a Pinnacle 21 Community report (XLSX): finding counts per source and P21 id, and the Rules sheet."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from cdisc_als.validate.reference import Reference
from cdisc_als.validate.rules import RULES

P21_ID = re.compile(r"\b(?:SD|AD|CT|DD)\d{4}[A-Z]?\b")


def _sheet(path: Path, name: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_excel(path, sheet_name=name, header=None, dtype=object)


def _table(frame: pd.DataFrame, first: str) -> pd.DataFrame:
    start = next(i for i, v in enumerate(frame.iloc[:, 0]) if v == first)
    table = frame.iloc[start + 1:].copy()
    table.columns = [str(c) for c in frame.iloc[start]]
    return table


def issue_counts(path: Path) -> dict[tuple[str, str], int]:
    """(source, P21 id) -> Found, from the Issue Summary sheet (sources are domains: LB for LBCH+LBHE+LBUR)."""
    table = _table(_sheet(path, "Issue Summary"), "Source")
    table["Source"] = table["Source"].ffill()
    table = table.dropna(subset=["Pinnacle 21 ID"])
    out: dict[tuple[str, str], int] = {}
    for source, pid, found in zip(table["Source"], table["Pinnacle 21 ID"], table["Found"], strict=True):
        out[(source, pid)] = out.get((source, pid), 0) + int(found)
    return out


def detail_counts(path: Path) -> dict[tuple[str, str], int]:
    """(file dataset, P21 id) -> rows of the Details sheet ('LB (LBUR)' -> LBUR); P21 caps them at 1000 a rule."""
    table = _sheet(path, "Details")
    table.columns = [str(c) for c in table.iloc[0]]
    table = table.iloc[1:]
    names = table["Domain"].astype(str).str.extract(r"\((\w+)\)")[0].fillna(table["Domain"])
    return {k: int(v) for k, v in table.groupby([names, table["Pinnacle 21 ID"]]).size().items()}


def rules_sheet(path: Path) -> pd.DataFrame:
    table = _sheet(path, "Rules")
    table.columns = [str(c) for c in table.iloc[0]]
    return table.iloc[1:].dropna(subset=["Pinnacle 21 ID"])


def claimed_ids() -> set[str]:
    """Every P21 id the catalogue claims (rule attributes and the table-driven Trial Summary checks)."""
    ids = {pid for r in RULES for pid in P21_ID.findall(r.p21_text)} | {"SD0062"}   # SD0062: file rule ALS0013
    for p in Reference.load().ts_parameters:
        ids |= {x for x in (p.missing_p21, p.format_p21, p.single_p21, p.vcdref_p21) if x}
    return ids


def p21_source(dataset: str) -> str:
    """The P21 source of one of our datasets: split datasets count under their domain (LBUR -> LB)."""
    if dataset.startswith("SUPP") and len(dataset) > 6:
        return dataset[:6]
    if dataset.startswith("AD") or len(dataset) <= 2 or dataset in ("RELREC",):
        return dataset
    return dataset[:2]
