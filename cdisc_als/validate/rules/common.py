"""Rules for every dataset: file format, labels, lengths, metadata, core, codelists, keys."""

from __future__ import annotations

import re

import pandas as pd

from cdisc_als.validate.rules.registry import (
    _blank,
    _meta,
    _prefix,
    dataset_hit,
    dataset_hits,
    hits,
    none,
    rule,
)

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
