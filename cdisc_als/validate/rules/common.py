"""Rules for every dataset: names, labels, lengths, text, metadata, core, codelists, duplicates."""

from __future__ import annotations

import re

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

SD1029_SUFFIXES = ("TEST", "TESTCD", "PARM", "PARMCD")
SD1029_NAMES = ("QLABEL", "QNAM")


def _char_columns(ds) -> list[str]:
    return [c for c, t in ds.types.items() if t == "Char" and c in ds.frame and ds.frame[c].dtype == object]


def _sd1029_column(ds, column: str) -> bool:
    p = _prefix(ds)
    return column in SD1029_NAMES or column in {p + s for s in SD1029_SUFFIXES} or column in ("PARAM", "PARAMCD")


@rule("ALS0001", "error", "ALL", "Format", "Dataset name is not 1-8 letters or digits")
def dataset_name(ds, ctx):
    return none() if re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", ds.name) else dataset_hit("", ds.name)


@rule("ALS0002", "error", "ALL", "Format", "Variable name is not 1-8 letters, digits or _", {"ADAM": "AD0013"})
def variable_names(ds, ctx):
    return dataset_hits([(c, c) for c in ds.frame.columns if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,7}", c)])


@rule("ALS0003", "error", "ALL", "Format", "Variable label is longer than 40 characters", {"ADAM": "AD0016"})
def label_length(ds, ctx):
    return dataset_hits([(c, lbl) for c, lbl in ds.labels.items() if len(lbl) > 40])


@rule("ALS0004", "warning", "ALL", "Metadata", "Variable label is missing")
def label_missing(ds, ctx):
    return dataset_hits([(c, "") for c in ds.frame.columns if not ds.labels.get(c)])


@rule("ALS0005", "notice", "ALL", "Metadata", "Dataset label is missing or longer than 40 characters")
def dataset_label(ds, ctx):
    return none() if 0 < len(ds.label) <= 40 else dataset_hit("", ds.label)


@rule("ALS0006", "error", "ALL", "Format", "Character value is longer than 200 bytes (XPT v5 limit)")
def value_length(ds, ctx):
    return [hits(ds.frame, ds.char_test(c, lambda v: v.str.len() > 200), c) for c in _char_columns(ds)]


@rule("ALS0007", "error", "ALL", "Format", "Value holds non-ASCII characters")
def non_ascii(ds, ctx):
    return [hits(ds.frame, ds.char_test(c, lambda v: ~v.map(str.isascii).astype(bool)), c)
            for c in _char_columns(ds) if not _sd1029_column(ds, c)]


@rule("ALS0026", "error", "ALL", "Format",
      "Non-ASCII or non-printable characters in --TEST, --TESTCD, --PARM, --PARMCD, QLABEL or QNAM",
      {"SDTM": "SD1029"})
def non_printable_names(ds, ctx):
    printable = re.compile(r"[\x20-\x7e]*")
    return [hits(ds.frame, ds.char_test(c, lambda v: ~v.str.fullmatch(printable.pattern).astype(bool)), c)
            for c in _char_columns(ds) if _sd1029_column(ds, c)]


@rule("ALS0008", "warning", "ALL", "Format", "Value starts with a space or is '.' (COVALn and TSVALn excepted)",
      {"SDTM": "SD1021"})
def leading_space(ds, ctx):
    return [hits(ds.frame, ds.char_test(c, lambda v: v.str.match(r" ").astype(bool) | (v == ".")), c)
            for c in _char_columns(ds) if not re.fullmatch(r"(CO|TS)VAL\d*", c)]


@rule("ALS0009", "notice", "ALL", "Metadata",
      "Variable length is longer than the longest value (across the split datasets of the domain)",
      {"SDTM": "SD1082"})
def length_too_long(ds, ctx):
    parts = ctx.split_parts(_prefix(ds)) if ds.standard == "SDTM" and ds.name != _prefix(ds) else [ds]
    if ds not in parts:
        parts = [ds]
    bad = []
    for c in _char_columns(ds):
        if not ds.lengths.get(c):
            continue
        longest = max((int(p.distinct(c)[1].str.len().max()) for p in parts if c in p.frame and len(p.frame)),
                      default=0)
        if ds.lengths[c] > max(longest, 1):
            bad.append((c, f"length {ds.lengths[c]} > longest value {longest}"))
    return dataset_hits(bad)


@rule("ALS0010", "warning", "ALL", "Consistency", "Duplicate records (all values identical)")
def duplicate_records(ds, ctx):
    return hits(ds.frame, ds.duplicated(), list(ds.frame.columns[:3]))


@rule("ALS0011", "warning", "ALL", "Presence", "Dataset has no records", {"SDTM": "SD0001"})
def empty(ds, ctx):
    return dataset_hit("", "0 records") if len(ds.frame) == 0 else none()


def _missing_by_core(ds, ctx, core: str):
    meta = _meta(ds, ctx)
    if meta is None:
        return none()
    return dataset_hits([(v.name, "") for v in meta.variables if v.core == core and v.name not in ds.frame.columns])


@rule("ALS0014", "error", "ALL", "Presence", "Required variable not found", {"SDTM": "SD0056", "ADAM": "AD0047"})
def req_missing(ds, ctx):
    return _missing_by_core(ds, ctx, "Req")


@rule("ALS0015", "warning", "ALL", "Presence", "Expected variable not found", {"SDTM": "SD0057"})
def exp_missing(ds, ctx):
    return _missing_by_core(ds, ctx, "Exp")


def _required_names(ds, ctx) -> list[str]:
    meta = _meta(ds, ctx)
    if meta is not None:
        return [v.name for v in meta.variables if v.core == "Req"]
    cls = ctx.domain_class(ds)
    p = _prefix(ds)
    names = ["STUDYID"]
    if cls in ("EVENTS", "FINDINGS", "INTERVENTIONS", "SPECIAL PURPOSE"):
        names += ["DOMAIN", "USUBJID", f"{p}SEQ", f"{p}TESTCD", f"{p}TEST", f"{p}TERM", f"{p}TRT"]
    elif cls == "RELATIONSHIP" and ds.name != "RELREC":
        names += ["RDOMAIN", "USUBJID", "QNAM", "QLABEL"]
    elif cls == "RELATIONSHIP":
        names += ["RDOMAIN", "RELID"]
    return [n for n in names if n in ds.frame]


@rule("ALS0016", "error", "ALL", "Presence", "Null value in a Required variable", {"SDTM": "SD0002"})
def req_null(ds, ctx):
    names = [n for n in _required_names(ds, ctx) if n in ds.frame]
    if ds.standard == "ADAM":
        names = [n for n in names if n in ("STUDYID", "USUBJID", "PARAM", "PARAMCD")]
    return [hits(ds.frame, _blank(ds.frame[n]), n) for n in names]


@rule("ALS0017", "error", "ALL", "Metadata", "Variable type differs from the metadata", {"SDTM": "SD0055"})
def type_mismatch(ds, ctx):
    meta = _meta(ds, ctx)
    if meta is None:
        return none()
    return dataset_hits([(v.name, ds.types[v.name]) for v in meta.variables
                         if v.name in ds.types and ds.types[v.name] != v.type])


def _codelist_hits(ds, ctx, kind: str):
    """Values outside the codelist of each variable: the study's own codelists for its own data; for
    other studies only the CDISC codelists the project carries complete. kind: 'closed' (CDISC
    non-extensible), 'extensible' (CDISC extensible) or 'sponsor' (a list the sponsor defines)."""
    if ctx.metadata is None:
        return none()
    own = ctx.own_study(ds)
    meta = ctx.metadata.datasets.get("SUPPQUAL" if ds.name.startswith("SUPP") else ds.name) or \
        ctx.metadata.datasets.get(_prefix(ds))
    if meta is None:
        return none()
    parts = []
    for var in meta.variables:
        if not var.codelist or var.name not in ds.frame or var.codelist not in ctx.metadata.codelists:
            continue
        codelist = ctx.metadata.codelist(var.codelist)
        this = "sponsor" if codelist.sponsor else ("extensible" if codelist.extensible else "closed")
        if this != kind or not (own or codelist.complete) or ds.frame[var.name].dtype != object:
            continue
        allowed = set(codelist.values) | {""}
        parts.append(hits(ds.frame, ds.char_test(var.name, lambda v, a=allowed: ~v.isin(a)), var.name))
    return parts


@rule("ALS0018", "error", "ALL", "Terminology", "Value not found in non-extensible codelist", "CT2001")
def ct_non_extensible(ds, ctx):
    return _codelist_hits(ds, ctx, "closed")


@rule("ALS0019", "warning", "ALL", "Terminology", "Value not found in extensible codelist", "CT2002")
def ct_extensible(ds, ctx):
    return _codelist_hits(ds, ctx, "extensible")


@rule("ALS0027", "error", "ALL", "Terminology", "Value not found in the sponsor-defined codelist")
def ct_sponsor(ds, ctx):
    return _codelist_hits(ds, ctx, "sponsor")


@rule("ALS0020", "notice", "ALL", "Metadata", "Variable is not in the study metadata")
def not_in_metadata(ds, ctx):
    meta = _meta(ds, ctx)
    if meta is None:
        return none()
    known = set(meta.variable_names)
    return dataset_hits([(c, "") for c in ds.frame.columns if c not in known])


def natural_key(ds, ctx) -> list[str]:
    """The key that should identify a record when define.xml declares none: the study metadata (own
    data) or the standard record key of domains.csv, with --SEQ left out where USUBJID is a key (a
    sequence number identifies any record; the natural key must do it without one)."""
    declared = ctx.define.dataset(ds.name) if ctx.define is not None else None
    if declared is not None and declared.keys:
        return []                   # the declared key is checked once per dataset (ALS0412)
    keys: list[str] = []
    meta = _meta(ds, ctx)
    if meta is not None and meta.keys:
        keys = list(meta.keys)
    elif ctx.domain_class(ds) not in ("EVENTS", "FINDINGS"):
        keys = ctx.reference.record_key(_prefix(ds) if not ds.name.startswith("SUPP") else "SUPPQUAL")
    if "USUBJID" in keys:
        keys = [k for k in keys if not (k.endswith("SEQ") and len(k) == 5)]
    return [k for k in keys if k in ds.frame.columns]


@rule("ALS0021", "error", "ALL", "Consistency", "Natural key variables do not identify records uniquely")
def key_unique(ds, ctx):
    keys = natural_key(ds, ctx)
    if not keys or ds.standard == "ADAM":
        return none()
    return hits(ds.frame, ds.duplicated(keys), keys)


def _class_duplicates(ds, ctx, cls: str):
    if ds.standard != "SDTM" or ctx.domain_class(ds) != cls:
        return none()
    key = [k for k in ctx.reference.record_key(_prefix(ds), cls) if k in ds.frame.columns]
    if "USUBJID" not in key or len(key) < 2:
        return none()
    return hits(ds.frame, ds.duplicated(key), key)


@rule("ALS0028", "warning", "SDTM", "Consistency",
      "Duplicate records in an Events domain (same subject, --TERM, --DECOD, --CAT, --SCAT, --SEV, --TOXGR, --STDTC)",
      "SD1201")
def events_duplicates(ds, ctx):
    return _class_duplicates(ds, ctx, "EVENTS")


@rule("ALS0029", "warning", "SDTM", "Consistency",
      "Duplicate records in a Findings domain (same subject, test, qualifiers, time point, visit and --DTC)",
      "SD1117")
def findings_duplicates(ds, ctx):
    return _class_duplicates(ds, ctx, "FINDINGS")
