"""SDTM rules on identifiers, dates and study days, sequence numbers, visits, time points and EPOCH."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.validate.datasets import LoadedDataset
from cdisc_als.validate.rules.registry import (
    ISO8601,
    _col,
    _prefix,
    _sdtm_columns,
    dataset_hit,
    hits,
    none,
    rule,
    subject_dates,
)

GENERAL_CLASSES = ("EVENTS", "FINDINGS", "INTERVENTIONS")


@rule("ALS0101", "error", "SDTM", "Consistency", "DOMAIN does not match the dataset name", "SD0004")
def domain_value(ds, ctx):
    dom = _col(ds, "DOMAIN")
    if dom is None or dom.dtype != object:
        return none()
    expected = ds.name[:2] if not ds.name.startswith("SUPP") else ds.name
    return hits(ds.frame, (dom != "") & (dom != expected) & (dom != ds.name), "DOMAIN")


@rule("ALS0102", "error", "SDTM", "Format", "Invalid ISO 8601 value in a --DTC variable", "SD0003")
def iso_dates(ds, ctx):
    return [hits(ds.frame, ds.char_test(c, lambda v: (v != "") & ~v.str.fullmatch(ISO8601.pattern).astype(bool)), c)
            for c in _sdtm_columns(ds, "DTC") if ds.frame[c].dtype == object]


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
    out = []
    for s, e in _pairs(ds, "STDTC", "ENDTC"):
        a, b = ds.dates(s), ds.dates(e)
        out.append(hits(ds.frame, a > b, [s, e]))
    return out


@rule("ALS0104", "error", "SDTM", "Consistency", "--STDY is after --ENDY", "SD0012")
def stdy_after_endy(ds, ctx):
    return [hits(ds.frame, ds.frame[s] > ds.frame[e], [s, e]) for s, e in _pairs(ds, "STDY", "ENDY")
            if ds.types.get(s) == "Num" and ds.types.get(e) == "Num"]


@rule("ALS0105", "warning", "SDTM", "Consistency", "Study day equals 0", "SD0038")
def day_zero(ds, ctx):
    return [hits(ds.frame, ds.frame[c] == 0, c) for c in _sdtm_columns(ds, "DY") if ds.types.get(c) == "Num"]


def _day_mismatch(ds, ctx, suffix: str):
    """--<suffix>DY against the date part of --<suffix>DTC and DM.RFSTDTC (no day 0)."""
    ref = subject_dates(ctx, "RFSTDTC", ds)
    out = []
    for c in _sdtm_columns(ds, f"{suffix}DY"):
        dtc = c[:-2] + "DTC"
        if suffix == "" and (c.endswith(("STDY", "ENDY")) or c == "VISITDY"):
            continue
        if dtc not in ds.frame or ds.types.get(c) != "Num":
            continue
        days = (ds.dates(dtc) - ref).dt.days
        expected = np.where(days >= 0, days + 1, days)
        known = days.notna() & ds.frame[c].notna()
        out.append(hits(ds.frame, known & (ds.frame[c] != expected), [c, dtc]))
    return out


@rule("ALS0106", "error", "SDTM", "Consistency", "Incorrect value for --DY variable", "SD1086")
def dy_consistent(ds, ctx):
    return _day_mismatch(ds, ctx, "")


@rule("ALS0135", "error", "SDTM", "Consistency", "Incorrect value for --STDY variable", "SD1090")
def stdy_consistent(ds, ctx):
    return _day_mismatch(ds, ctx, "ST")


@rule("ALS0136", "error", "SDTM", "Consistency", "Incorrect value for --ENDY variable", "SD1094")
def endy_consistent(ds, ctx):
    return _day_mismatch(ds, ctx, "EN")


@rule("ALS0137", "error", "SDTM", "Presence",
      "--DY without its --DTC (a study day of --STDTC is --STDY, of --ENDTC is --ENDY)")
def dy_without_dtc(ds, ctx):
    found = []
    for c in _sdtm_columns(ds, "DY"):
        if c == "VISITDY" or c.endswith(("STDY", "ENDY")) or ds.types.get(c) != "Num":
            continue
        if c[:-2] + "DTC" not in ds.frame:
            hint = [f"{c[:-2]}{x}DTC" for x in ("ST", "EN") if f"{c[:-2]}{x}DTC" in ds.frame]
            found.append(dataset_hit(c, f"{c[:-2]}DTC absent" + (f"; name it after {hint[0]}: {hint[0][:-3]}DY"
                                                                  if hint else "")))
    return found


@rule("ALS0138", "warning", "SDTM", "Presence", "Missing --DY variable, when --DTC variable is present", "SD1083")
def dtc_without_dy(ds, ctx):
    p = _prefix(ds)
    if ctx.domain_class(ds) not in GENERAL_CLASSES or f"{p}DTC" not in ds.frame or f"{p}DY" in ds.frame:
        return none()
    return dataset_hit(f"{p}DY", f"{p}DTC present")


@rule("ALS0139", "warning", "SDTM", "Presence", "--DY variable value is not populated", "SD1084")
def dy_not_populated(ds, ctx):
    p = _prefix(ds)
    if f"{p}DY" not in ds.frame or f"{p}DTC" not in ds.frame or ds.types.get(f"{p}DY") != "Num":
        return none()
    both = ds.dates(f"{p}DTC").notna() & subject_dates(ctx, "RFSTDTC", ds).notna()
    return hits(ds.frame, both & ds.frame[f"{p}DY"].isna(), [f"{p}DY", f"{p}DTC"])


@rule("ALS0140", "warning", "SDTM", "Presence", "--DTC (collection date of the domain) present but null on every record")
def empty_dtc(ds, ctx):
    c = f"{_prefix(ds)}DTC"
    if c not in ds.frame or not len(ds.frame) or ds.frame[c].dtype != object or not (ds.frame[c] == "").all():
        return none()
    return dataset_hit(c, f"{len(ds.frame)} records, all null")


@rule("ALS0107", "error", "SDTM", "Consistency", "Duplicate value for --SEQ variable", "SD0005")
def seq_unique(ds, ctx):
    seq = f"{_prefix(ds)}SEQ"
    if seq not in ds.frame or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, ds.duplicated(["USUBJID", seq]), ["USUBJID", seq])


@rule("ALS0108", "error", "SDTM", "Cross-reference", "Subject is not present in DM domain", "SD0064")
def subject_in_dm(ds, ctx):
    dm = ctx.frame("DM")
    if dm is None or ds.name == "DM" or "USUBJID" not in ds.frame or ds.frame["USUBJID"].dtype != object:
        return none()
    return hits(ds.frame, (ds.frame["USUBJID"] != "") & ~ds.frame["USUBJID"].isin(set(dm["USUBJID"])), "USUBJID")


def _one_to_one(ds, first: str, second: str):
    """Records whose `second` value differs within a value of `first` (first record of each pair shown once)."""
    if not {first, second} <= set(ds.frame):
        return none()
    frame = ds.frame[[first, second]].apply(lambda s: s.round(9) if s.dtype != object else s)
    pairs = frame.dropna().drop_duplicates()
    bad = set(pairs[pairs.duplicated(first, keep=False)][first])
    return hits(ds.frame, frame[first].isin(bad) & ~frame.duplicated([first, second]), [first, second])


@rule("ALS0130", "error", "SDTM", "Consistency", "Inconsistent value for VISIT within VISITNUM", "SD0051")
def visit_within_visitnum(ds, ctx):
    return _one_to_one(ds, "VISITNUM", "VISIT") if ds.name != "TV" else none()


@rule("ALS0141", "error", "SDTM", "Consistency", "Inconsistent value for VISITNUM within VISIT", "SD0052")
def visitnum_within_visit(ds, ctx):
    return _one_to_one(ds, "VISIT", "VISITNUM") if ds.name != "TV" else none()


@rule("ALS0142", "warning", "SDTM", "Consistency", "Missing value for --TPTNUM, when --TPT is provided", "SD0033")
def tpt_without_tptnum(ds, ctx):
    p = _prefix(ds)
    tpt, num = f"{p}TPT", f"{p}TPTNUM"
    if tpt not in ds.frame or ds.frame[tpt].dtype != object:
        return none()
    if num not in ds.frame:
        return dataset_hit(num, f"{tpt} present, {num} absent")
    return hits(ds.frame, (ds.frame[tpt] != "") & ds.frame[num].isna(), [tpt, num])


@rule("ALS0143", "warning", "SDTM", "Consistency", "Missing value for --TPT, when --TPTNUM is provided", "SD0032")
def tptnum_without_tpt(ds, ctx):
    p = _prefix(ds)
    tpt, num = f"{p}TPT", f"{p}TPTNUM"
    if num not in ds.frame:
        return none()
    text = ds.frame[tpt] if tpt in ds.frame else pd.Series("", index=ds.frame.index)
    return hits(ds.frame, ds.frame[num].notna() & (text == ""), [num, tpt])


@rule("ALS0117", "warning", "SDTM", "Presence", "EPOCH is missing for a subject-level observation with a date")
def epoch_missing(ds, ctx):
    if "EPOCH" not in ds.frame or "USUBJID" not in ds.frame or ds.name in ("SV", "SE", "DM"):
        return none()
    p = _prefix(ds)
    dtc = [c for c in (f"{p}STDTC", f"{p}DTC") if c in ds.frame]
    if not dtc:
        return none()
    return hits(ds.frame, ds.dates(dtc[0]).notna() & (ds.frame["EPOCH"] == ""), ["EPOCH", dtc[0]])


@rule("ALS0144", "warning", "SDTM", "Presence", "FDA expected variable EPOCH not found in a domain with dates",
      "SD1077")
def epoch_variable(ds, ctx):
    p = _prefix(ds)
    if ctx.domain_class(ds) not in GENERAL_CLASSES or "EPOCH" in ds.frame or ds.name.startswith("SUPP"):
        return none()
    if not any(c in ds.frame for c in (f"{p}DTC", f"{p}STDTC")):
        return none()
    info = ctx.reference.info(p)
    if info is not None and not info.epoch_expected:
        return none()
    return dataset_hit("EPOCH", "not in the dataset")
