"""The rule registry and the helpers every rule module uses: vectorised checks over whole columns.

Each rule has an id (ALSnnnn), a severity, the standard it applies to (SDTM, ADAM or ALL), a
category, a message and, where one corresponds, the Pinnacle 21 id of the same check (a string,
or a {standard: id} mapping when the SDTM and ADaM checks carry different P21 ids). A P21 id is
only claimed when the P21 rule description (Rules sheet of a P21 report) states the same check.

A dataset rule returns the offending records as Hits (record positions plus the variables to
show), a list of them, or None; it never loops over records in Python. A study rule (scope
"study") runs once per folder and returns Hits that name their dataset.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdisc_als.metadata import Metadata
from cdisc_als.validate.datasets import OWN_STUDY_KEY, PREFIX_KEY, LoadedDataset
from cdisc_als.validate.reference import Reference

ISO8601 = re.compile(
    r"(\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3])(:[0-5]\d(:[0-5]\d(\.\d+)?)?)?)?)?)?"
    r"|\d{4}---(0[1-9]|[12]\d|3[01])(T[\d:-]*)?|-{1,2}[\d-]*T?[\d:-]*)"
)
ISO_DURATION = re.compile(r"-?P(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                          r"(T(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?")


@dataclass
class Hits:
    """Findings of one rule on one dataset: record positions (0-based) or, for a dataset-level
    finding, rows=None and one finding per entry of values. With rows, values (when given) replace
    the values the report would show from the variables."""

    rows: np.ndarray | None
    variables: list[str]
    values: list[str] | None = None
    dataset: str | None = None          # study rules: the dataset the findings belong to
    p21: str | None = None              # overrides of the rule's P21 id, severity and message, for
    severity: str | None = None         # table-driven rules (one row of metadata per P21 check)
    message: str | None = None

    def __len__(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.values or [])


@dataclass
class Context:
    datasets: dict[str, LoadedDataset]
    metadata: Metadata | None
    study_id: str = ""
    reference: Reference = field(default_factory=Reference.load)
    define: object | None = None        # cdisc_als.validate.define.DefineXml when a define.xml was read
    folder_files: list[str] = field(default_factory=list)
    _frames: dict = field(default_factory=dict, repr=False)

    def frame(self, name: str) -> pd.DataFrame | None:
        """A dataset by name, or the rows of every split dataset of that domain (LBUR -> LB)."""
        if name in self._frames:
            return self._frames[name]
        ds = self.datasets.get(name)
        if ds is not None:
            out = ds.frame
        else:
            parts = [d.frame for d in self.split_parts(name)]
            out = pd.concat(parts, ignore_index=True) if parts else None
        self._frames[name] = out
        return out

    def unload(self) -> None:
        """Unload every dataset's records (a rule reads them again when it needs them) and forget the frames
        kept by name; tables kept under names starting with '_' (one row per subject) stay."""
        for ds in self.datasets.values():
            ds.unload()
        for name in [n for n in self._frames if not n.startswith("_")]:
            del self._frames[name]

    def split_parts(self, domain: str) -> list[LoadedDataset]:
        """The datasets holding records of a domain: the dataset itself or its split datasets."""
        if domain in self.datasets:
            return [self.datasets[domain]]
        return [d for d in self.datasets.values() if d.name.startswith(domain) and _prefix(d) == domain]

    def has_domain(self, domain: str) -> bool:
        return bool(self.split_parts(domain))

    def own_study(self, ds: LoadedDataset) -> bool:
        """True when the dataset belongs to the study the metadata describes (same STUDYID)."""
        if OWN_STUDY_KEY not in ds._distinct:
            ds._distinct[OWN_STUDY_KEY] = ("STUDYID" in ds.frame and bool(self.study_id) and len(ds.frame) > 0
                                    and bool((ds.frame["STUDYID"] == self.study_id).all()))
        return ds._distinct[OWN_STUDY_KEY]

    def domain_class(self, ds: LoadedDataset) -> str:
        """EVENTS, FINDINGS, INTERVENTIONS, SPECIAL PURPOSE, TRIAL DESIGN, RELATIONSHIP or '' (unknown)."""
        if ds.name.startswith("SUPP") or ds.name == "RELREC":
            return "RELATIONSHIP"
        if self.define is not None:
            declared = self.define.dataset_class(ds.name)
            if declared:
                return declared
        return self.reference.domain_class(_prefix(ds))


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    standard: str
    category: str
    message: str
    p21: str | dict
    check: Callable
    scope: str = "dataset"      # "dataset" or "study"

    def p21_for(self, standard: str) -> str:
        return self.p21.get(standard, "") if isinstance(self.p21, dict) else self.p21

    @property
    def p21_text(self) -> str:
        if isinstance(self.p21, dict):
            return ", ".join(f"{k}: {v}" for k, v in self.p21.items())
        return self.p21


RULES: list[Rule] = []


def rule(rule_id: str, severity: str, standard: str, category: str, message: str, p21: str | dict = "",
         scope: str = "dataset"):
    def register(func: Callable) -> Callable:
        RULES.append(Rule(rule_id, severity, standard, category, message, p21, func, scope))
        return func
    return register


def hits(frame: pd.DataFrame, mask: pd.Series | np.ndarray, variables: list[str] | str) -> Hits | None:
    """The records of frame where mask holds, shown with the given variables."""
    rows = np.nonzero(np.asarray(mask, dtype=bool))[0]
    if not len(rows):
        return None
    return Hits(rows, [variables] if isinstance(variables, str) else list(variables))


def dataset_hit(variables: str, values: str, dataset: str | None = None, **overrides) -> Hits:
    return Hits(None, [variables] if variables else [], [values], dataset, **overrides)


def dataset_hits(pairs: list[tuple[str, str]]) -> list[Hits]:
    """Dataset-level findings, one per (variables, values) pair."""
    return [dataset_hit(v, x) for v, x in pairs]


def none() -> None:
    return None


def _col(ds: LoadedDataset, name: str) -> pd.Series | None:
    return ds.frame[name] if name in ds.frame.columns else None


def _blank(series: pd.Series) -> pd.Series:
    if series.dtype != object:
        return series.isna()
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    blank = np.array([not isinstance(u, str) or u.strip() == "" for u in uniques] + [True])
    return pd.Series(blank[np.where(codes < 0, len(blank) - 1, codes)], index=series.index)


def _text(ds: LoadedDataset, name: str) -> pd.Series:
    """A character column as str ('' where absent or missing); a numeric one formatted."""
    if name not in ds.frame:
        return pd.Series("", index=ds.frame.index)
    series = ds.frame[name]
    return series if series.dtype == object else series.map(lambda v: "" if pd.isna(v) else f"{v:g}")


def _prefix(ds: LoadedDataset) -> str:
    """The variable prefix: the most common DOMAIN value (split datasets: LBUR -> LB), else the name."""
    if PREFIX_KEY not in ds._distinct:
        prefix = ds.name[:2] if not ds.name.startswith(("SUPP", "AP")) else ds.name
        if "DOMAIN" in ds.frame and len(ds.frame) and ds.frame["DOMAIN"].dtype == object:
            codes, values = ds.distinct("DOMAIN")
            counts = np.bincount(codes, minlength=len(values))
            counts[values.to_numpy() == ""] = 0
            if counts.max() > 0:
                prefix = str(values[int(np.argmax(counts))])
        ds._distinct[PREFIX_KEY] = prefix
    return ds._distinct[PREFIX_KEY]


def _meta(ds: LoadedDataset, ctx: Context):
    if ctx.metadata is None or not ctx.own_study(ds):
        return None
    name = "SUPPQUAL" if ds.name.startswith("SUPP") else ds.name
    return ctx.metadata.datasets.get(name)


def _sdtm_columns(ds: LoadedDataset, suffix: str) -> list[str]:
    return [c for c in ds.frame.columns if c.endswith(suffix) and len(c) <= 8]


def date_part(series: pd.Series) -> pd.Series:
    """The complete date (YYYY-MM-DD) of ISO 8601 values as datetime64 (NaT when partial or absent)."""
    text = series.astype(str).str.slice(0, 10)
    return pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), errors="coerce", format="%Y-%m-%d")


def subject_dates(ctx: Context, column: str, ds: LoadedDataset) -> pd.Series:
    """DM.<column> (complete date part) for every record of ds, by USUBJID (NaT when unknown); computed once
    per dataset and column, from the dataset's distinct subjects."""
    key = ("_subject_dates", column)
    if key in ds._distinct:
        return ds._distinct[key]
    dm = ctx.frame("DM")
    if dm is None or column not in dm or "USUBJID" not in ds.frame or "USUBJID" not in dm:
        dates = pd.Series(pd.NaT, index=ds.frame.index, dtype="datetime64[ns]")
    else:
        reference = dm.drop_duplicates("USUBJID").set_index("USUBJID")[column]
        codes, subjects = ds.distinct("USUBJID")
        per_subject = date_part(subjects.map(reference).fillna("")).to_numpy(dtype="datetime64[ns]")
        dates = pd.Series(per_subject[codes], index=ds.frame.index)
    ds._distinct[key] = dates
    return dates
