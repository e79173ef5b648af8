"""The conformance rule catalogue: vectorised checks over whole columns.

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
RELATED_EMPTY = ("", )


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


# ------------------------------------------------------------------ file and metadata rules (ALL)

@rule("ALS0001", "error", "ALL", "Format", "Dataset name is not 1-8 letters or digits", "SD0062")
def dataset_name(ds, ctx):
    return none() if re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", ds.name) else dataset_hit("", ds.name)


@rule("ALS0002", "error", "ALL", "Format", "Variable name is not 1-8 letters, digits or _", "SD0063")
def variable_names(ds, ctx):
    return dataset_hits([(c, c) for c in ds.frame.columns if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,7}", c)])


@rule("ALS0003", "error", "ALL", "Format", "Variable label is longer than 40 characters", "SD1073")
def label_length(ds, ctx):
    return dataset_hits([(c, lbl) for c, lbl in ds.labels.items() if len(lbl) > 40])


@rule("ALS0004", "warning", "ALL", "Metadata", "Variable label is missing", "SD0064")
def label_missing(ds, ctx):
    return dataset_hits([(c, "") for c in ds.frame.columns if not ds.labels.get(c)])


@rule("ALS0005", "notice", "ALL", "Metadata", "Dataset label is missing or longer than 40 characters")
def dataset_label(ds, ctx):
    return none() if 0 < len(ds.label) <= 40 else dataset_hit("", ds.label)


@rule("ALS0006", "error", "ALL", "Format", "Character value is longer than 200 bytes (XPT v5 limit)")
def value_length(ds, ctx):
    parts = [hits(ds.frame, ds.char_test(c, lambda v: v.str.len() > 200), c)
             for c, t in ds.types.items() if t == "Char" and c in ds.frame]
    return pd.concat(parts) if parts else none()


@rule("ALS0007", "error", "ALL", "Format", "Value holds non-ASCII characters", "SD1222")
def non_ascii(ds, ctx):
    parts = [hits(ds.frame, ds.char_test(c, lambda v: ~v.map(str.isascii).astype(bool)), c)
             for c, t in ds.types.items() if t == "Char" and c in ds.frame]
    return pd.concat(parts) if parts else none()


@rule("ALS0008", "warning", "ALL", "Format", "Value starts with a space", "SD1114")
def leading_space(ds, ctx):
    parts = [hits(ds.frame, ds.char_test(c, lambda v: v.str.match(r"\s").astype(bool)), c)
             for c, t in ds.types.items() if t == "Char" and c in ds.frame]
    return pd.concat(parts) if parts else none()


@rule("ALS0009", "notice", "ALL", "Format", "Variable length is longer than the longest value", "SD1082")
def length_too_long(ds, ctx):
    bad = []
    for c, t in ds.types.items():
        if t == "Char" and c in ds.frame and ds.lengths.get(c):
            longest = int(ds.distinct(c)[1].str.len().max()) if len(ds.frame) else 0
            if ds.lengths[c] > max(longest, 1):
                bad.append(dataset_hit(c, f"length {ds.lengths[c]} > longest value {longest}"))
    return pd.concat(bad) if bad else none()


@rule("ALS0010", "warning", "ALL", "Consistency", "Duplicate records (all values identical)", "SD1117")
def duplicate_records(ds, ctx):
    return hits(ds.frame, ds.frame.duplicated(keep="first").to_numpy(), list(ds.frame.columns[:3]))


@rule("ALS0011", "notice", "ALL", "Presence", "Dataset has no records")
def empty(ds, ctx):
    return dataset_hit("", "0 records") if len(ds.frame) == 0 else none()


def _missing_by_core(ds, ctx, core: str) -> pd.DataFrame:
    meta = _meta(ds, ctx)
    if meta is None:
        return none()
    return dataset_hits([(v.name, "") for v in meta.variables if v.core == core and v.name not in ds.frame.columns])


@rule("ALS0014", "error", "ALL", "Presence", "Required variable not found", "SD0056")
def req_missing(ds, ctx):
    return _missing_by_core(ds, ctx, "Req")


@rule("ALS0015", "warning", "ALL", "Presence", "Expected variable not found", "SD0057")
def exp_missing(ds, ctx):
    return _missing_by_core(ds, ctx, "Exp")


@rule("ALS0016", "error", "ALL", "Presence", "Null value in a Required variable", "SD0002")
def req_null(ds, ctx):
    meta = _meta(ds, ctx)
    names = [v.name for v in meta.variables if v.core == "Req"] if meta else \
        [c for c in ("STUDYID", "DOMAIN", "USUBJID", f"{_prefix(ds)}SEQ", f"{_prefix(ds)}TESTCD") if c in ds.frame]
    parts = [hits(ds.frame, _blank(ds.frame[n]), n) for n in names if n in ds.frame]
    return pd.concat(parts) if parts else none()


@rule("ALS0017", "error", "ALL", "Metadata", "Variable type differs from the metadata", "SD0055")
def type_mismatch(ds, ctx):
    meta = _meta(ds, ctx)
    if meta is None:
        return none()
    return dataset_hits([(v.name, ds.types[v.name]) for v in meta.variables
                         if v.name in ds.types and ds.types[v.name] != v.type])


def _codelist_hits(ds, ctx, extensible: bool) -> pd.DataFrame:
    """Values outside the codelist of each variable: the study's own codelists for its own data;
    for other studies only the CDISC codelists the project carries complete."""
    if ctx.metadata is None:
        return none()
    own = ctx.own_study(ds)
    meta = ctx.metadata.datasets.get("SUPPQUAL" if ds.name.startswith("SUPP") else ds.name)
    if meta is None:
        meta = ctx.metadata.datasets.get(_prefix(ds))
    if meta is None:
        return none()
    parts = []
    for var in meta.variables:
        if not var.codelist or var.name not in ds.frame or var.codelist not in ctx.metadata.codelists:
            continue
        codelist = ctx.metadata.codelist(var.codelist)
        if codelist.extensible != extensible or not (own or codelist.complete):
            continue
        values = ds.frame[var.name].astype(str)
        allowed = set(codelist.values)
        parts.append(hits(ds.frame, (values != "") & ~values.isin(allowed) & (values != "nan"), var.name))
    return pd.concat(parts) if parts else none()


@rule("ALS0018", "error", "ALL", "Terminology", "Value not found in non-extensible codelist", "CT2001")
def ct_non_extensible(ds, ctx):
    return _codelist_hits(ds, ctx, extensible=False)


@rule("ALS0019", "warning", "ALL", "Terminology", "Value not found in extensible codelist", "CT2002")
def ct_extensible(ds, ctx):
    return _codelist_hits(ds, ctx, extensible=True)


@rule("ALS0020", "notice", "ALL", "Metadata", "Variable is not in the study metadata")
def not_in_metadata(ds, ctx):
    meta = _meta(ds, ctx)
    if meta is None:
        return none()
    known = set(meta.variable_names)
    return dataset_hits([(c, "") for c in ds.frame.columns if c not in known])


@rule("ALS0021", "error", "ALL", "Consistency", "Key variables do not identify records uniquely")
def key_unique(ds, ctx):
    meta = _meta(ds, ctx)
    if meta is None or ds.name.startswith("SUPP"):
        return none()
    keys = [k for k in meta.keys if k in ds.frame.columns]
    if not keys:
        return none()
    return hits(ds.frame, ds.frame.duplicated(keys, keep="first").to_numpy(), keys)


# ------------------------------------------------------------------ SDTM rules

def _sdtm_columns(ds: LoadedDataset, suffix: str) -> list[str]:
    return [c for c in ds.frame.columns if c.endswith(suffix) and len(c) <= 8]


@rule("ALS0101", "error", "SDTM", "Consistency", "DOMAIN does not match the dataset name", "SD0004")
def domain_value(ds, ctx):
    dom = _col(ds, "DOMAIN")
    if dom is None:
        return none()
    expected = ds.name[:2] if not ds.name.startswith("SUPP") else ds.name
    return hits(ds.frame, (dom != "") & (dom != expected) & (dom != ds.name), "DOMAIN")


@rule("ALS0102", "error", "SDTM", "Format", "Invalid ISO 8601 value in a --DTC variable", "SD0003")
def iso_dates(ds, ctx):
    parts = []
    for c in _sdtm_columns(ds, "DTC"):
        values = ds.frame[c].astype(str)
        parts.append(hits(ds.frame, (values != "") & ~values.str.fullmatch(ISO8601.pattern), c))
    return pd.concat(parts) if parts else none()


def _pairs(ds: LoadedDataset, start: str, end: str) -> list[tuple[str, str]]:
    out = []
    for c in ds.frame.columns:
        if c.endswith(start) and len(c) > len(start):
            other = c[: -len(start)] + end
            if other in ds.frame.columns:
                out.append((c, other))
    return out


@rule("ALS0103", "error", "SDTM", "Consistency", "--STDTC is after --ENDTC", "SD0013")
def start_after_end(ds, ctx):
    parts = []
    for s, e in _pairs(ds, "STDTC", "ENDTC"):
        a, b = ds.frame[s].astype(str).str.slice(0, 10), ds.frame[e].astype(str).str.slice(0, 10)
        full = (a.str.len() == 10) & (b.str.len() == 10)
        parts.append(hits(ds.frame, full & (a > b), [s, e]))
    return pd.concat(parts) if parts else none()


@rule("ALS0104", "error", "SDTM", "Consistency", "--STDY is after --ENDY", "SD0012")
def stdy_after_endy(ds, ctx):
    parts = [hits(ds.frame, ds.frame[s] > ds.frame[e], [s, e]) for s, e in _pairs(ds, "STDY", "ENDY")]
    return pd.concat(parts) if parts else none()


@rule("ALS0105", "warning", "SDTM", "Consistency", "Study day equals 0", "SD0038")
def day_zero(ds, ctx):
    parts = [hits(ds.frame, ds.frame[c] == 0, c) for c in _sdtm_columns(ds, "DY") if ds.types.get(c) == "Num"]
    return pd.concat(parts) if parts else none()


@rule("ALS0106", "error", "SDTM", "Consistency", "--DY is not consistent with --DTC and DM.RFSTDTC")
def dy_consistent(ds, ctx):
    dm = ctx.frame("DM")
    if dm is None or "RFSTDTC" not in dm or "USUBJID" not in ds.frame:
        return none()
    reference = dm.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"].astype(str).str.slice(0, 10)
    ref = pd.to_datetime(ds.frame["USUBJID"].map(reference)
                         .where(lambda s: s.str.len() == 10), errors="coerce")
    parts = []
    for c in _sdtm_columns(ds, "DY"):
        dtc = c[:-2] + "DTC"
        if dtc not in ds.frame or ds.types.get(c) != "Num":
            continue
        date = pd.to_datetime(ds.frame[dtc].astype(str).str.slice(0, 10).where(lambda s: s.str.len() == 10),
                              errors="coerce")
        days = (date - ref).dt.days
        expected = np.where(days >= 0, days + 1, days)
        known = date.notna() & ref.notna() & ds.frame[c].notna()
        parts.append(hits(ds.frame, known & (ds.frame[c] != expected), [c, dtc]))
    return pd.concat(parts) if parts else none()


@rule("ALS0107", "error", "SDTM", "Consistency", "Duplicate --SEQ within a subject", "SD0005")
def seq_unique(ds, ctx):
    seq = f"{_prefix(ds)}SEQ"
    if seq not in ds.frame or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, ds.frame.duplicated(["USUBJID", seq], keep="first").to_numpy(), ["USUBJID", seq])


@rule("ALS0108", "error", "SDTM", "Cross-reference", "USUBJID not found in DM", "SD0085")
def subject_in_dm(ds, ctx):
    dm = ctx.frame("DM")
    if dm is None or ds.name == "DM" or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, (ds.frame["USUBJID"] != "") & ~ds.frame["USUBJID"].isin(set(dm["USUBJID"])), "USUBJID")


@rule("ALS0109", "error", "SDTM", "Consistency", "Duplicate USUBJID in DM", "SD0083")
def dm_unique(ds, ctx):
    if ds.name != "DM" or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, ds.frame.duplicated("USUBJID", keep="first").to_numpy(), "USUBJID")


@rule("ALS0110", "error", "SDTM", "Consistency", "RFSTDTC is after RFENDTC", "SD1002")
def rfst_after_rfen(ds, ctx):
    if ds.name != "DM" or not {"RFSTDTC", "RFENDTC"} <= set(ds.frame):
        return none()
    a, b = ds.frame["RFSTDTC"].astype(str).str.slice(0, 10), ds.frame["RFENDTC"].astype(str).str.slice(0, 10)
    return hits(ds.frame, (a.str.len() == 10) & (b.str.len() == 10) & (a > b), ["RFSTDTC", "RFENDTC"])


@rule("ALS0111", "warning", "SDTM", "Consistency", "ACTARMCD does not equal ARMCD", "SD2236")
def actarm(ds, ctx):
    if ds.name != "DM" or not {"ARMCD", "ACTARMCD"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.frame["ARMCD"] != ds.frame["ACTARMCD"], ["ARMCD", "ACTARMCD"])


@rule("ALS0112", "error", "SDTM", "Consistency", "AESER is not Y although a seriousness criterion is Y")
def aeser(ds, ctx):
    crit = [c for c in ("AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESMIE") if c in ds.frame]
    if ds.name != "AE" or "AESER" not in ds.frame or not crit:
        return none()
    return hits(ds.frame, ds.frame[crit].eq("Y").any(axis=1) & (ds.frame["AESER"] != "Y"), ["AESER", *crit])


@rule("ALS0113", "warning", "SDTM", "Consistency", "AEENDTC is populated although AEOUT is NOT RECOVERED/NOT RESOLVED")
def aeendtc_not_recovered(ds, ctx):
    if ds.name != "AE" or not {"AEENDTC", "AEOUT"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["AEOUT"] == "NOT RECOVERED/NOT RESOLVED") & (ds.frame["AEENDTC"] != ""),
                ["AEOUT", "AEENDTC"])


@rule("ALS0114", "error", "SDTM", "Cross-reference", "Fatal AE but the subject has no death date in DM")
def fatal_ae(ds, ctx):
    dm = ctx.frame("DM")
    if ds.name != "AE" or "AEOUT" not in ds.frame or dm is None or "DTHDTC" not in dm:
        return none()
    dead = set(dm.loc[dm["DTHDTC"] != "", "USUBJID"])
    return hits(ds.frame, (ds.frame["AEOUT"] == "FATAL") & ~ds.frame["USUBJID"].isin(dead), ["USUBJID", "AEOUT"])


@rule("ALS0115", "error", "SDTM", "Consistency", "AESDTH is Y but AEOUT is not FATAL")
def aesdth(ds, ctx):
    if ds.name != "AE" or not {"AESDTH", "AEOUT"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["AESDTH"] == "Y") & (ds.frame["AEOUT"] != "FATAL"), ["AESDTH", "AEOUT"])


@rule("ALS0116", "error", "SDTM", "Consistency", "DTHDTC is populated but DTHFL is not Y")
def dthfl(ds, ctx):
    if ds.name != "DM" or not {"DTHDTC", "DTHFL"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["DTHDTC"] != "") & (ds.frame["DTHFL"] != "Y"), ["DTHDTC", "DTHFL"])


@rule("ALS0117", "warning", "SDTM", "Presence", "EPOCH is missing for a subject-level observation")
def epoch_missing(ds, ctx):
    if "EPOCH" not in ds.frame or "USUBJID" not in ds.frame or ds.name in ("SV", "SE"):
        return none()
    dtc = [c for c in _sdtm_columns(ds, "DTC") if c.endswith("STDTC") or c == f"{_prefix(ds)}DTC"]
    if not dtc:
        return none()
    return hits(ds.frame, (ds.frame[dtc[0]].astype(str).str.len() >= 10) & (ds.frame["EPOCH"] == ""), ["EPOCH", dtc[0]])


UNIT_DOMAINS = ("LB", "VS", "EG", "RE", "PC", "PP", "MB", "IS", "CV")


def _unit_missing(ds: LoadedDataset, result: str, unit: str) -> pd.DataFrame:
    """Records with a numeric result but no unit, in domains whose results carry units."""
    p = _prefix(ds)
    res, uni = f"{p}{result}", f"{p}{unit}"
    if p not in UNIT_DOMAINS or not {res, uni} <= set(ds.frame):
        return none()
    numeric = pd.to_numeric(ds.frame[res], errors="coerce").notna()
    return hits(ds.frame, numeric & (ds.frame[uni] == ""), [res, uni])


@rule("ALS0118", "warning", "SDTM", "Presence", "Missing value for --ORRESU, when --ORRES is provided", "SD0026")
def orresu(ds, ctx):
    return _unit_missing(ds, "ORRES", "ORRESU")


@rule("ALS0119", "warning", "SDTM", "Presence", "Missing value for --STRESU, when --STRESC is provided", "SD0029")
def stresu(ds, ctx):
    return _unit_missing(ds, "STRESC", "STRESU")


@rule("ALS0120", "warning", "SDTM", "Presence", "Missing --STRESC value for Baseline record", "SD1131")
def baseline_stresc(ds, ctx):
    p = _prefix(ds)
    flags = [c for c in (f"{p}BLFL", f"{p}LOBXFL") if c in ds.frame]
    if f"{p}STRESC" not in ds.frame or not flags:
        return none()
    return hits(ds.frame, (ds.frame[flags[0]] == "Y") & (ds.frame[f"{p}STRESC"] == ""), [flags[0], f"{p}STRESC"])


@rule("ALS0121", "warning", "SDTM", "Presence", "Missing --ORRES although --STAT is not NOT DONE", "SD0047")
def orres_missing(ds, ctx):
    p = _prefix(ds)
    if f"{p}ORRES" not in ds.frame:
        return none()
    stat = ds.frame[f"{p}STAT"] if f"{p}STAT" in ds.frame else pd.Series("", index=ds.frame.index)
    drv = ds.frame[f"{p}DRVFL"] if f"{p}DRVFL" in ds.frame else pd.Series("", index=ds.frame.index)
    return hits(ds.frame, (ds.frame[f"{p}ORRES"] == "") & (stat != "NOT DONE") & (drv != "Y"), f"{p}ORRES")


@rule("ALS0122", "error", "SDTM", "Format", "--TESTCD is longer than 8 characters or starts with a digit")
def testcd_format(ds, ctx):
    c = f"{_prefix(ds)}TESTCD"
    if c not in ds.frame:
        return none()
    values = ds.frame[c].astype(str)
    return hits(ds.frame, (values.str.len() > 8) | values.str.match(r"\d") | ~values.str.fullmatch(r"[A-Za-z0-9_]*"), c)


@rule("ALS0123", "error", "SDTM", "Format", "--TEST is longer than 40 characters")
def test_length(ds, ctx):
    c = f"{_prefix(ds)}TEST"
    return hits(ds.frame, ds.frame[c].astype(str).str.len() > 40, c) if c in ds.frame else none()


@rule("ALS0124", "error", "SDTM", "Consistency", "--TESTCD and --TEST are not one-to-one")
def testcd_pairs(ds, ctx):
    p = _prefix(ds)
    cd, name = f"{p}TESTCD", f"{p}TEST"
    if not {cd, name} <= set(ds.frame):
        return none()
    pairs = ds.frame[[cd, name]].drop_duplicates()
    bad = set(pairs[pairs.duplicated(cd, keep=False)][cd]) | set(pairs[pairs.duplicated(name, keep=False)][cd])
    return hits(ds.frame, ds.frame[cd].isin(bad) & ~ds.frame.duplicated([cd, name]), [cd, name])


@rule("ALS0125", "error", "SDTM", "Presence", "QVAL is null in a supplemental qualifier")
def qval_null(ds, ctx):
    return hits(ds.frame, ds.frame["QVAL"] == "", ["QNAM", "QVAL"]) if "QVAL" in ds.frame else none()


@rule("ALS0126", "error", "SDTM", "Format", "QNAM is not 1-8 characters starting with a letter")
def qnam_format(ds, ctx):
    if "QNAM" not in ds.frame:
        return none()
    return hits(ds.frame, ~ds.frame["QNAM"].astype(str).str.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,7}"), "QNAM")


@rule("ALS0127", "error", "SDTM", "Cross-reference", "Supplemental qualifier has no parent record")
def supp_parent(ds, ctx):
    if not {"RDOMAIN", "IDVAR", "IDVARVAL", "USUBJID"} <= set(ds.frame):
        return none()
    bad = pd.Series(False, index=ds.frame.index)
    for (rdomain, idvar), group in ds.frame.groupby(["RDOMAIN", "IDVAR"]):
        parent = ctx.frame(rdomain)
        if parent is None or not idvar or idvar not in parent:
            continue
        ids = parent[idvar]
        keys = set(zip(parent["USUBJID"], ids.map(lambda v: f"{v:g}" if isinstance(v, float) else str(v)), strict=True))
        found = [(u, str(v)) in keys for u, v in zip(group["USUBJID"], group["IDVARVAL"], strict=True)]
        bad.loc[group.index] = ~np.array(found, dtype=bool)
    return hits(ds.frame, bad, ["RDOMAIN", "IDVAR", "IDVARVAL"])


@rule("ALS0128", "warning", "SDTM", "Consistency", "ARMNRS populated together with ARMCD, or both null")
def armnrs(ds, ctx):
    if ds.name != "DM" or not {"ARMCD", "ARMNRS"} <= set(ds.frame):
        return none()
    both = (ds.frame["ARMCD"] != "") & (ds.frame["ARMNRS"] != "")
    neither = (ds.frame["ARMCD"] == "") & (ds.frame["ARMNRS"] == "")
    return hits(ds.frame, both | neither, ["ARMCD", "ARMNRS"])


@rule("ALS0129", "error", "SDTM", "Consistency", "AGE is negative or AGEU is missing when AGE is given")
def age(ds, ctx):
    if ds.name != "DM" or "AGE" not in ds.frame:
        return none()
    ageu = ds.frame["AGEU"] if "AGEU" in ds.frame else pd.Series("", index=ds.frame.index)
    return hits(ds.frame, (ds.frame["AGE"] < 0) | (ds.frame["AGE"].notna() & (ageu == "")), ["AGE", "AGEU"])


@rule("ALS0130", "error", "SDTM", "Consistency", "One VISITNUM has more than one VISIT name")
def visit_pairs(ds, ctx):
    if not {"VISITNUM", "VISIT"} <= set(ds.frame):
        return none()
    pairs = ds.frame[["VISITNUM", "VISIT"]].dropna().drop_duplicates()
    bad = set(pairs[pairs.duplicated("VISITNUM", keep=False)]["VISITNUM"])
    return hits(ds.frame, ds.frame["VISITNUM"].isin(bad) & ~ds.frame.duplicated(["VISITNUM", "VISIT"]),
                ["VISITNUM", "VISIT"])


@rule("ALS0131", "warning", "SDTM", "Presence", "No baseline result in the domain for subject", "SD0006")
def no_baseline(ds, ctx):
    if ds.name != "DM":
        return none()
    masks = []
    for name in ("LB", "VS", "EG"):
        frame = ctx.frame(name)
        if frame is None:
            continue
        flag = next((c for c in (f"{name}BLFL", f"{name}LOBXFL") if c in frame), None)
        with_base = set(frame.loc[frame[flag] == "Y", "USUBJID"]) if flag else set()
        arm = ds.frame["ARMCD"] if "ARMCD" in ds.frame else pd.Series("", index=ds.frame.index)
        assigned = ~arm.isin(["", "SCRNFAIL", "NOTASSGN"])
        masks.append(assigned & ds.frame["USUBJID"].isin(set(frame["USUBJID"])) & ~ds.frame["USUBJID"].isin(with_base))
    if not masks:
        return none()
    return hits(ds.frame, np.logical_or.reduce(masks), "USUBJID")


@rule("ALS0132", "warning", "SDTM", "Presence", "Missing End Time-Point value", "SD0021")
def end_timepoint(ds, ctx):
    p = _prefix(ds)
    if ds.name not in ("AE", "MH", "CE") or f"{p}ENDTC" not in ds.frame:
        return none()
    mask = ds.frame[f"{p}ENDTC"] == ""
    for c in (f"{p}ENRF", f"{p}ENRTPT", f"{p}ENTPT"):
        if c in ds.frame:
            mask &= ds.frame[c] == ""
    return hits(ds.frame, mask, f"{p}ENDTC")


@rule("ALS0133", "error", "SDTM", "Consistency", "--STRESN does not equal the numeric value of --STRESC")
def stresn(ds, ctx):
    p = _prefix(ds)
    if not {f"{p}STRESC", f"{p}STRESN"} <= set(ds.frame):
        return none()
    number = pd.to_numeric(ds.frame[f"{p}STRESC"], errors="coerce")
    bad = number.notna() & ds.frame[f"{p}STRESN"].notna() & ((number - ds.frame[f"{p}STRESN"]).abs() > 1e-9)
    return hits(ds.frame, bad, [f"{p}STRESC", f"{p}STRESN"])


@rule("ALS0134", "error", "SDTM", "Consistency", "--LOBXFL is Y on more than one record per subject and test")
def lobxfl_unique(ds, ctx):
    p = _prefix(ds)
    flag, cd = f"{p}LOBXFL", f"{p}TESTCD"
    if not {flag, cd, "USUBJID"} <= set(ds.frame):
        return none()
    by = ["USUBJID", cd] + ([f"{p}CAT"] if f"{p}CAT" in ds.frame else [])
    flagged = ds.frame[ds.frame[flag] == "Y"]
    return hits(ds.frame, (ds.frame[flag] == "Y") & ds.frame.index.isin(flagged[flagged.duplicated(by)].index), by)


# ------------------------------------------------------------------ ADaM rules

@rule("ALS0201", "error", "ADAM", "Consistency", "PARAMCD and PARAM are not one-to-one", "AD0018")
def param_pairs(ds, ctx):
    if not {"PARAMCD", "PARAM"} <= set(ds.frame):
        return none()
    pairs = ds.frame[["PARAMCD", "PARAM"]].drop_duplicates()
    bad = set(pairs[pairs.duplicated("PARAMCD", keep=False)]["PARAMCD"]) | \
        set(pairs[pairs.duplicated("PARAM", keep=False)]["PARAMCD"])
    return hits(ds.frame, ds.frame["PARAMCD"].isin(bad) & ~ds.frame.duplicated(["PARAMCD", "PARAM"]),
                ["PARAMCD", "PARAM"])


@rule("ALS0202", "error", "ADAM", "Format", "PARAMCD is longer than 8 characters or not alphanumeric")
def paramcd_format(ds, ctx):
    if "PARAMCD" not in ds.frame:
        return none()
    return hits(ds.frame, ~ds.frame["PARAMCD"].astype(str).str.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,7}"), "PARAMCD")


def _baseline_groups(ds: LoadedDataset) -> list[str]:
    return ["USUBJID", "PARAMCD"] + (["BASETYPE"] if "BASETYPE" in ds.frame else [])


@rule("ALS0203", "error", "ADAM", "Consistency", "More than one ABLFL = Y record per subject and parameter")
def ablfl_unique(ds, ctx):
    if not {"ABLFL", "PARAMCD", "USUBJID"} <= set(ds.frame):
        return none()
    by = _baseline_groups(ds)
    flagged = ds.frame[ds.frame["ABLFL"] == "Y"]
    return hits(ds.frame, ds.frame.index.isin(flagged[flagged.duplicated(by)].index), by)


@rule("ALS0204", "error", "ADAM", "Consistency", "BASE does not equal AVAL of the baseline record")
def base_value(ds, ctx):
    if not {"ABLFL", "BASE", "AVAL", "PARAMCD"} <= set(ds.frame):
        return none()
    by = _baseline_groups(ds)
    base = ds.frame[ds.frame["ABLFL"] == "Y"].drop_duplicates(by).set_index(by)["AVAL"]
    expected = pd.Series(ds.frame.set_index(by).index.map(base.to_dict()), index=ds.frame.index, dtype="float64")
    bad = ds.frame["BASE"].notna() & expected.notna() & ((ds.frame["BASE"] - expected).abs() > 1e-9)
    return hits(ds.frame, bad, ["PARAMCD", "BASE", "AVAL"])


@rule("ALS0205", "error", "ADAM", "Consistency", "CHG does not equal AVAL - BASE")
def chg_value(ds, ctx):
    if not {"CHG", "AVAL", "BASE"} <= set(ds.frame):
        return none()
    f = ds.frame
    bad = f["CHG"].notna() & ((f["CHG"] - (f["AVAL"] - f["BASE"])).abs() > 1e-6)
    return hits(f, bad, ["AVAL", "BASE", "CHG"])


@rule("ALS0206", "error", "ADAM", "Consistency", "PCHG does not equal 100 x CHG / BASE")
def pchg_value(ds, ctx):
    if not {"PCHG", "CHG", "BASE"} <= set(ds.frame):
        return none()
    f = ds.frame
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = f["PCHG"].notna() & ((f["PCHG"] - 100 * f["CHG"] / f["BASE"]).abs() > 1e-6)
    return hits(f, bad, ["CHG", "BASE", "PCHG"])


@rule("ALS0207", "error", "ADAM", "Consistency", "CNSR is not an integer >= 0")
def cnsr_values(ds, ctx):
    if "CNSR" not in ds.frame:
        return none()
    c = ds.frame["CNSR"]
    return hits(ds.frame, c.isna() | (c < 0) | (c != np.floor(c)), "CNSR")


@rule("ALS0208", "warning", "ADAM", "Consistency", "EVNTDESC is missing for an event (CNSR = 0)")
def evntdesc(ds, ctx):
    if not {"CNSR", "EVNTDESC"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["CNSR"] == 0) & (ds.frame["EVNTDESC"] == ""), ["CNSR", "EVNTDESC"])


@rule("ALS0209", "error", "ADAM", "Presence", "Population flag is blank", "AD0050")
def population_flags(ds, ctx):
    if ds.name != "ADSL":
        return none()
    flags = [c for c in ds.frame.columns if re.fullmatch(r"(SAF|ITT|FAS|EFF|RAND|PPROT|ENRL|COMP\w*)FL", c)]
    parts = [hits(ds.frame, ds.frame[c] == "", c) for c in flags]
    return pd.concat(parts) if parts else none()


@rule("ALS0210", "error", "ADAM", "Consistency", "TRT01P is not the planned arm of DM (ARM)")
def trt01p_arm(ds, ctx):
    if ds.name != "ADSL" or not {"TRT01P", "ARM"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["ARM"] != "") & (ds.frame["TRT01P"] != ds.frame["ARM"]), ["ARM", "TRT01P"])


@rule("ALS0211", "error", "ADAM", "Consistency", "More than one ADSL record per subject", "AD0019")
def adsl_unique(ds, ctx):
    if ds.name != "ADSL" or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, ds.frame.duplicated("USUBJID").to_numpy(), "USUBJID")


@rule("ALS0212", "error", "ADAM", "Cross-reference", "USUBJID not found in ADSL")
def subject_in_adsl(ds, ctx):
    adsl = ctx.frame("ADSL")
    if adsl is None or ds.name == "ADSL" or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, ~ds.frame["USUBJID"].isin(set(adsl["USUBJID"])), "USUBJID")


@rule("ALS0213", "warning", "ADAM", "Presence", "Both AVAL and AVALC are missing")
def aval_missing(ds, ctx):
    if "PARAMCD" not in ds.frame or "AVAL" not in ds.frame:
        return none()
    avalc = ds.frame["AVALC"] if "AVALC" in ds.frame else pd.Series("", index=ds.frame.index)
    crit = ds.frame["CRIT1FL"] if "CRIT1FL" in ds.frame else pd.Series("", index=ds.frame.index)
    return hits(ds.frame, ds.frame["AVAL"].isna() & (avalc == "") & (crit == ""), ["PARAMCD", "AVAL"])


@rule("ALS0214", "warning", "ADAM", "Consistency", "Analysis day equals 0")
def ady_zero(ds, ctx):
    parts = [hits(ds.frame, ds.frame[c] == 0, c) for c in ("ADY", "ASTDY", "AENDY") if c in ds.frame]
    return pd.concat(parts) if parts else none()


@rule("ALS0215", "error", "ADAM", "Terminology", "Flag variable holds a value other than Y, N or blank")
def flag_values(ds, ctx):
    flags = [c for c, t in ds.types.items() if t == "Char" and c.endswith("FL") and c in ds.frame]
    parts = [hits(ds.frame, ~ds.frame[c].isin(["Y", "N", ""]), c) for c in flags]
    return pd.concat(parts) if parts else none()


@rule("ALS0216", "warning", "ADAM", "Presence", "CRITy is populated but CRITyFL is missing")
def crit_flags(ds, ctx):
    parts = []
    for k in range(1, 10):
        c, f = f"CRIT{k}", f"CRIT{k}FL"
        if {c, f} <= set(ds.frame):
            parts.append(hits(ds.frame, (ds.frame[c] != "") & (ds.frame[f] == ""), [c, f]))
    return pd.concat(parts) if parts else none()


@rule("ALS0217", "error", "ADAM", "Consistency", "ASEQ is not unique within a subject")
def aseq_unique(ds, ctx):
    if not {"ASEQ", "USUBJID"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.frame.duplicated(["USUBJID", "ASEQ"]).to_numpy(), ["USUBJID", "ASEQ"])


@rule("ALS0218", "warning", "ADAM", "Presence", "BDS dataset has no treatment variable (TRTP, TRTA or TRT01P)")
def bds_treatment(ds, ctx):
    if "PARAMCD" not in ds.frame or ds.name == "ADSL":
        return none()
    has = {"TRTP", "TRTA", "TRT01P", "TRT01A"} & set(ds.frame.columns)
    return none() if has else dataset_hit("TRTP", "")


@rule("ALS0219", "error", "ADAM", "Consistency", "ADT is before STARTDT in a time-to-event record")
def adt_before_start(ds, ctx):
    if not {"ADT", "STARTDT", "CNSR"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.frame["ADT"] < ds.frame["STARTDT"], ["STARTDT", "ADT"])


@rule("ALS0220", "error", "ADAM", "Consistency", "ABLFL = Y on a record without AVAL")
def ablfl_without_aval(ds, ctx):
    if not {"ABLFL", "AVAL"} <= set(ds.frame):
        return none()
    avalc = ds.frame["AVALC"] if "AVALC" in ds.frame else pd.Series("", index=ds.frame.index)
    return hits(ds.frame, (ds.frame["ABLFL"] == "Y") & ds.frame["AVAL"].isna() & (avalc == ""), ["ABLFL", "AVAL"])


@rule("ALS0221", "warning", "ADAM", "Consistency", "Date variable (*DT) holds a non-integer SAS date")
def integer_dates(ds, ctx):
    cols = [c for c, t in ds.types.items() if t == "Num" and c.endswith("DT") and c in ds.frame]
    parts = [hits(ds.frame, ds.frame[c].notna() & (ds.frame[c] != np.floor(ds.frame[c])), c) for c in cols]
    return pd.concat(parts) if parts else none()


@rule("ALS0222", "error", "ADAM", "Consistency", "DTHFL is Y but DTHDT is missing, or DTHDT without DTHFL")
def adsl_death(ds, ctx):
    if ds.name != "ADSL" or not {"DTHFL", "DTHDT"} <= set(ds.frame):
        return none()
    f = ds.frame
    return hits(f, ((f["DTHFL"] == "Y") & f["DTHDT"].isna()) | ((f["DTHFL"] != "Y") & f["DTHDT"].notna()),
                ["DTHFL", "DTHDT"])
