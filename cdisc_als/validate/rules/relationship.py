"""SUPP--, RELREC and CO, each validated by its own structure.

SUPP--: one record per qualifier per parent record (RDOMAIN, USUBJID, IDVAR, IDVARVAL, QNAM).
RELREC: record-level rows relate parent records (USUBJID, IDVAR, IDVARVAL); dataset-level rows
relate whole datasets (USUBJID and IDVARVAL null, RELTYPE ONE or MANY). CO: a comment, related to
parent records when RDOMAIN/IDVAR/IDVARVAL are given. IDVARVAL is compared with the parent's value
with blanks trimmed (SAS writes numbers right-aligned, e.g. '   12').
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.validate.rules.registry import _text, hits, none, rule


def _is_supp(ds) -> bool:
    return ds.name.startswith("SUPP") and {"RDOMAIN", "QNAM"} <= set(ds.frame)


def _related(ds) -> bool:
    return _is_supp(ds) or ds.name in ("RELREC", "CO") or ds.name.startswith("CO") and "COVAL" in ds.frame


def _as_text(values: pd.Series) -> pd.Series:
    if values.dtype == object:
        return values.astype(str).str.strip()
    return values.map(lambda v: "" if pd.isna(v) else f"{v:.15g}")


def _record_rows(ds) -> pd.Series:
    """Rows that point at parent records: IDVAR and IDVARVAL given (RELREC: USUBJID given as well)."""
    mask = (_text(ds, "IDVAR") != "") & (_text(ds, "IDVARVAL").str.strip() != "")
    if ds.name == "RELREC":
        mask &= _text(ds, "USUBJID") != ""
    return mask


@rule("ALS0125", "error", "SDTM", "Presence", "QVAL is null in a supplemental qualifier")
def qval_null(ds, ctx):
    return hits(ds.frame, _text(ds, "QVAL").str.strip() == "", ["QNAM", "QVAL"]) if _is_supp(ds) else none()


@rule("ALS0126", "warning", "SDTM", "Format", "Invalid value for QNAM variable", "SD1022")
def qnam_format(ds, ctx):
    if "QNAM" not in ds.frame:
        return none()
    return hits(ds.frame, ds.char_test("QNAM", lambda v: ~v.str.fullmatch(r"[A-Z][A-Z0-9_]{0,7}").astype(bool)),
                "QNAM")


@rule("ALS0159", "error", "SDTM", "Format", "Invalid value for QLABEL (longer than 40 characters)", "SD1049")
def qlabel_length(ds, ctx):
    return hits(ds.frame, _text(ds, "QLABEL").str.len() > 40, "QLABEL") if _is_supp(ds) else none()


@rule("ALS0160", "warning", "SDTM", "Consistency", "Inconsistent value for QLABEL within QNAM", "SD0046")
def qlabel_within_qnam(ds, ctx):
    from cdisc_als.validate.rules.sdtm_general import _one_to_one

    return _one_to_one(ds, "QNAM", "QLABEL") if _is_supp(ds) else none()


@rule("ALS0161", "error", "SDTM", "Consistency", "SUPPQUAL duplicate records", "SD0086")
def supp_duplicates(ds, ctx):
    if not _is_supp(ds):
        return none()
    key = [c for c in ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "QNAM") if c in ds.frame]
    frame = ds.frame[key].assign(_ID=_text(ds, "IDVARVAL").str.strip())
    return hits(ds.frame, frame.duplicated(keep="first").to_numpy(), [*key, "IDVARVAL"])


@rule("ALS0162", "error", "SDTM", "Consistency", "Invalid RDOMAIN: not a domain of the study data", "SD0072")
def rdomain_known(ds, ctx):
    if not _related(ds) or "RDOMAIN" not in ds.frame:
        return none()
    known = {d for d in _text(ds, "RDOMAIN").unique() if d and ctx.has_domain(d)}
    return hits(ds.frame, (_text(ds, "RDOMAIN") != "") & ~_text(ds, "RDOMAIN").isin(known), "RDOMAIN")


@rule("ALS0163", "error", "SDTM", "Consistency", "Invalid IDVAR: not a variable of the related domain", "SD0075")
def idvar_known(ds, ctx):
    if not _related(ds) or not {"RDOMAIN", "IDVAR"} <= set(ds.frame):
        return none()
    bad = pd.Series(False, index=ds.frame.index)
    for (rdomain, idvar), group in ds.frame.groupby([_text(ds, "RDOMAIN"), _text(ds, "IDVAR")]):
        parent = ctx.frame(rdomain) if rdomain else None
        if parent is not None and idvar and idvar not in parent:
            bad.loc[group.index] = True
    return hits(ds.frame, bad, ["RDOMAIN", "IDVAR"])


@rule("ALS0127", "error", "SDTM", "Cross-reference", "Invalid referenced record: no parent record", "SD0077")
def parent_record(ds, ctx):
    if not _related(ds) or not {"RDOMAIN", "IDVAR", "IDVARVAL", "USUBJID"} <= set(ds.frame):
        return none()
    rows = _record_rows(ds)
    bad = pd.Series(False, index=ds.frame.index)
    for (rdomain, idvar), group in ds.frame[rows].groupby([_text(ds, "RDOMAIN")[rows], _text(ds, "IDVAR")[rows]]):
        parent = ctx.frame(rdomain)
        if parent is None or idvar not in parent or "USUBJID" not in parent:
            continue        # SD0072 / SD0075 report these
        keys = set(zip(parent["USUBJID"], _as_text(parent[idvar]), strict=True))
        found = [(u, v) in keys for u, v in zip(group["USUBJID"], _as_text(group["IDVARVAL"]), strict=True)]
        bad.loc[group.index] = ~np.array(found, dtype=bool)
    return hits(ds.frame, bad, ["RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL"])


@rule("ALS0164", "warning", "SDTM", "Consistency",
      "Unexpected value for IDVAR/IDVARVAL: populated when relating to DM", "SD1051")
def dm_idvar(ds, ctx):
    if not _is_supp(ds):
        return none()
    return hits(ds.frame, (_text(ds, "RDOMAIN") == "DM") & ((_text(ds, "IDVAR") != "") |
                                                          (_text(ds, "IDVARVAL").str.strip() != "")),
                ["RDOMAIN", "IDVAR", "IDVARVAL"])


@rule("ALS0165", "error", "SDTM", "Consistency", "Missing IDVAR value, when RDOMAIN value is provided", "SD1072")
def idvar_missing(ds, ctx):
    if not (_is_supp(ds) or ds.name == "RELREC"):
        return none()
    return hits(ds.frame, (_text(ds, "RDOMAIN") != "") & (_text(ds, "RDOMAIN") != "DM") & (_text(ds, "IDVAR") == ""),
                ["RDOMAIN", "IDVAR"])


@rule("ALS0166", "error", "SDTM", "Presence", "Missing RDOMAIN value, when IDVAR is populated", "SD1065")
def rdomain_missing(ds, ctx):
    if not _related(ds):
        return none()
    return hits(ds.frame, (_text(ds, "IDVAR") != "") & (_text(ds, "RDOMAIN") == ""), ["IDVAR", "RDOMAIN"])


@rule("ALS0167", "error", "SDTM", "Consistency", "Invalid value for RELTYPE: must be null when IDVAR is a --SEQ",
      "SD1026")
def reltype_with_seq(ds, ctx):
    if ds.name != "RELREC":
        return none()
    return hits(ds.frame, _text(ds, "IDVAR").str.fullmatch(r"[A-Z]{2}SEQ") & (_text(ds, "RELTYPE") != ""),
                ["IDVAR", "RELTYPE"])


@rule("ALS0168", "error", "SDTM", "Consistency", "Invalid value for RELTYPE variable (ONE or MANY)", "SD1128")
def reltype_values(ds, ctx):
    if ds.name != "RELREC":
        return none()
    return hits(ds.frame, ~_text(ds, "RELTYPE").isin(["", "ONE", "MANY"]), "RELTYPE")


@rule("ALS0169", "warning", "SDTM", "Presence", "IDVARVAL value is populated, when RELTYPE value is populated",
      "SD1066")
def reltype_idvarval(ds, ctx):
    if ds.name != "RELREC":
        return none()
    return hits(ds.frame, (_text(ds, "RELTYPE") != "") & (_text(ds, "IDVARVAL").str.strip() != ""),
                ["RELTYPE", "IDVARVAL"])


@rule("ALS0170", "warning", "SDTM", "Presence", "USUBJID value is populated, when RELTYPE value is populated",
      "SD1067")
def reltype_usubjid(ds, ctx):
    if ds.name != "RELREC":
        return none()
    return hits(ds.frame, (_text(ds, "RELTYPE") != "") & (_text(ds, "USUBJID") != ""), ["RELTYPE", "USUBJID"])


@rule("ALS0171", "error", "SDTM", "Presence",
      "USUBJID is null on a record-level RELREC row (neither USUBJID nor RELTYPE given)")
def relrec_subject(ds, ctx):
    if ds.name != "RELREC":
        return none()
    return hits(ds.frame, (_text(ds, "USUBJID") == "") & (_text(ds, "RELTYPE") == ""), ["USUBJID", "RELTYPE"])


@rule("ALS0172", "warning", "SDTM", "Consistency", "CODTC is populated, when comment is a child record of another "
      "domain", "SD1008")
def codtc_child(ds, ctx):
    if ds.name != "CO":
        return none()
    child = (_text(ds, "RDOMAIN") != "") & (_text(ds, "IDVAR") != "")
    return hits(ds.frame, child & (_text(ds, "CODTC") != ""), ["RDOMAIN", "IDVAR", "CODTC"])


@rule("ALS0173", "error", "SDTM", "Presence",
      "Invalid usage of SUPPQUAL for non-general-observation-class domain", "SD0095")
def supp_parent_class(ds, ctx):
    if not _is_supp(ds):
        return none()
    classes = {d: ctx.reference.domain_class(d) for d in _text(ds, "RDOMAIN").unique()}
    bad = {d for d, c in classes.items() if c in ("TRIAL DESIGN", "RELATIONSHIP")}
    return hits(ds.frame, _text(ds, "RDOMAIN").isin(bad), "RDOMAIN")
