"""The rule registry and the helpers every rule module uses: vectorised checks over whole columns.

Each rule has an id (ALSnnnn), a severity, the standard it applies to (SDTM, ADAM or ALL), a
category, a message and, where one corresponds, the Pinnacle 21 id (P21) of the same check. A
check returns the offending records as (record number, variables, values) rows; it never loops
over records in Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_als.metadata import Metadata
from cdisc_als.validate.datasets import LoadedDataset

ISO8601 = re.compile(
    r"(\d{4}(-(\d{2}(-(\d{2}(T(\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?)?)?)?"
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|-{1,2}[\d-]*T?[\d:-]*)"
)


@dataclass
class Context:
    datasets: dict[str, LoadedDataset]
    metadata: Metadata | None
    study_id: str = ""

    def frame(self, name: str) -> pd.DataFrame | None:
        """A dataset by name, or the rows of every split dataset of that domain (LBUR -> LB)."""
        ds = self.datasets.get(name)
        if ds is not None:
            return ds.frame
        parts = [d.frame for d in self.datasets.values()
                 if d.name.startswith(name) and "DOMAIN" in d.frame and (d.frame["DOMAIN"] == name).all()]
        return pd.concat(parts, ignore_index=True) if parts else None

    def own_study(self, ds: LoadedDataset) -> bool:
        """True when the dataset belongs to the study the metadata describes (same STUDYID)."""
        return "STUDYID" in ds.frame and bool(self.study_id) and (ds.frame["STUDYID"] == self.study_id).all()


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    standard: str
    category: str
    message: str
    p21: str
    check: Callable[[LoadedDataset, Context], pd.DataFrame]


RULES: list[Rule] = []


def rule(rule_id: str, severity: str, standard: str, category: str, message: str, p21: str = ""):
    def register(func: Callable[[LoadedDataset, Context], pd.DataFrame]) -> Callable:
        RULES.append(Rule(rule_id, severity, standard, category, message, p21, func))
        return func
    return register


def hits(frame: pd.DataFrame, mask: pd.Series | np.ndarray, variables: list[str] | str) -> pd.DataFrame:
    """Rows of frame where mask holds: record number (1-based), variable names, their values."""
    mask = np.asarray(mask, dtype=bool)
    names = [variables] if isinstance(variables, str) else list(variables)
    idx = np.nonzero(mask)[0]
    if not len(idx):
        return pd.DataFrame(columns=["row", "variables", "values"])
    present = [v for v in names if v in frame.columns]
    values = frame.iloc[idx][present].astype(str).agg(", ".join, axis=1) if present else ""
    return pd.DataFrame({"row": idx + 1, "variables": ", ".join(names), "values": values})


def dataset_hit(variables: str, values: str) -> pd.DataFrame:
    return pd.DataFrame({"row": [np.nan], "variables": [variables], "values": [values]})


def none() -> pd.DataFrame:
    return pd.DataFrame(columns=["row", "variables", "values"])


def dataset_hits(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Dataset-level findings, one per (variables, values) pair."""
    return pd.concat([dataset_hit(v, x) for v, x in pairs]) if pairs else none()


def _col(ds: LoadedDataset, name: str) -> pd.Series | None:
    return ds.frame[name] if name in ds.frame.columns else None


def _blank(series: pd.Series) -> pd.Series:
    if series.dtype != object:
        return series.isna()
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    blank = np.array([not isinstance(u, str) or u.strip() == "" for u in uniques] + [True])
    return pd.Series(blank[np.where(codes < 0, len(blank) - 1, codes)], index=series.index)


def _prefix(ds: LoadedDataset) -> str:
    """The variable prefix: the most common DOMAIN value (split datasets: LBUR -> LB), else the name."""
    if "_prefix" not in ds._distinct:
        prefix = ds.name[:2]
        if "DOMAIN" in ds.frame and len(ds.frame):
            codes, values = ds.distinct("DOMAIN")
            counts = np.bincount(codes, minlength=len(values))
            counts[values.to_numpy() == ""] = 0
            if counts.max() > 0:
                prefix = str(values[int(np.argmax(counts))])
        ds._distinct["_prefix"] = prefix
    return ds._distinct["_prefix"]


def _meta(ds: LoadedDataset, ctx: Context):
    if ctx.metadata is None or not ctx.own_study(ds):
        return None
    name = "SUPPQUAL" if ds.name.startswith("SUPP") else ds.name
    return ctx.metadata.datasets.get(name)
