"""SDTM subject rules: DM, reference dates, death, adverse events, disposition, history dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.validate.rules.registry import (
    _prefix,
    _sdtm_columns,
    _text,
    hits,
    none,
    rule,
    subject_dates,
)

NOT_ASSIGNED = ("SCRNFAIL", "NOTASSGN")
SERIOUSNESS = ("AESCAN", "AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESMIE")


@rule("ALS0109", "error", "SDTM", "Consistency", "Duplicate USUBJID in DM", "SD0083")
def dm_unique(ds, ctx):
    if ds.name != "DM" or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, ds.duplicated("USUBJID"), "USUBJID")


@rule("ALS0110", "error", "SDTM", "Consistency", "RFSTDTC is after RFENDTC", "SD1002")
def rfst_after_rfen(ds, ctx):
    if ds.name != "DM" or not {"RFSTDTC", "RFENDTC"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.dates("RFSTDTC") > ds.dates("RFENDTC"), ["RFSTDTC", "RFENDTC"])


@rule("ALS0111", "warning", "SDTM", "Consistency", "ACTARMCD does not equal ARMCD", "SD2236")
def actarm(ds, ctx):
    if ds.name != "DM" or not {"ARMCD", "ACTARMCD"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.frame["ARMCD"] != ds.frame["ACTARMCD"], ["ARMCD", "ACTARMCD"])


@rule("ALS0128", "warning", "SDTM", "Consistency", "ARMNRS populated together with ARMCD, or both null")
def armnrs(ds, ctx):
    if ds.name != "DM" or not {"ARMCD", "ARMNRS"} <= set(ds.frame):
        return none()
    both = (ds.frame["ARMCD"] != "") & (ds.frame["ARMNRS"] != "")
    neither = (ds.frame["ARMCD"] == "") & (ds.frame["ARMNRS"] == "")
    return hits(ds.frame, both | neither, ["ARMCD", "ARMNRS"])


@rule("ALS0129", "error", "SDTM", "Limit", "Negative value for AGE", "SD0084")
def age_negative(ds, ctx):
    if ds.name != "DM" or ds.types.get("AGE") != "Num":
        return none()
    return hits(ds.frame, ds.frame["AGE"] < 0, "AGE")


@rule("ALS0145", "error", "SDTM", "Consistency", "Missing value for AGEU, when AGE or AGETXT is populated", "SD2022")
def ageu_missing(ds, ctx):
    if ds.name != "DM" or not {"AGE", "AGETXT"} & set(ds.frame):
        return none()
    age = ds.frame["AGE"].notna() if "AGE" in ds.frame else False
    agetxt = _text(ds, "AGETXT") != ""
    return hits(ds.frame, (age | agetxt) & (_text(ds, "AGEU") == ""), ["AGE", "AGEU"])


@rule("ALS0116", "error", "SDTM", "Consistency", "Missing value for DTHFL, when DTHDTC is populated", "SD2004")
def dthfl(ds, ctx):
    if ds.name != "DM" or not {"DTHDTC", "DTHFL"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["DTHDTC"] != "") & (ds.frame["DTHFL"] != "Y"), ["DTHDTC", "DTHFL"])


@rule("ALS0146", "warning", "SDTM", "Consistency", "Missing value for DTHDTC, when DTHFL is populated", "SD2005")
def dthdtc(ds, ctx):
    if ds.name != "DM" or not {"DTHDTC", "DTHFL"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["DTHFL"] == "Y") & (ds.frame["DTHDTC"] == ""), ["DTHFL", "DTHDTC"])


def _subject_dates(ctx) -> pd.DataFrame:
    """The latest complete date of each subject over every --DTC/--STDTC/--ENDTC of the SDTM datasets (index
    USUBJID; `date`, and `where` the DATASET.VARIABLE holding it: the last in dataset and variable order when
    several hold it). Each variable is first reduced to one date per subject: memory follows the subjects,
    not the records."""
    if "_latest" in ctx._frames:
        return ctx._frames["_latest"]
    parts = []
    for other in ctx.datasets.values():
        if other.standard != "SDTM" or other.name == "DM" or not other.has_column("USUBJID") or \
                ctx.domain_class(other) in ("TRIAL DESIGN", "RELATIONSHIP"):
            continue
        if ctx.reference.flag(_prefix(other), "history"):
            continue
        was_loaded = other.loaded
        codes, subjects = other.distinct("USUBJID")
        for col in _sdtm_columns(other, "DTC"):
            dates = other.dates(col).to_numpy()
            known = ~np.isnat(dates)
            if known.any():
                latest = pd.Series(dates[known]).groupby(codes[known]).max()
                parts.append(pd.DataFrame({"USUBJID": subjects.to_numpy()[latest.index.to_numpy()],
                                           "date": latest.to_numpy(), "where": f"{other.name}.{col}"}))
        if not was_loaded:
            other.unload()                      # read for this table only: one dataset at a time
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["USUBJID", "date", "where"])
    latest = table.sort_values("date", kind="stable").drop_duplicates("USUBJID", keep="last").set_index("USUBJID") \
        if len(table) else table
    ctx._frames["_latest"] = latest
    return latest


@rule("ALS0147", "error", "SDTM", "Consistency", "RFPENDTC is before a date recorded for the subject")
def rfpendtc_last(ds, ctx):
    if ds.name != "DM" or "RFPENDTC" not in ds.frame:
        return none()
    latest = _subject_dates(ctx)
    if not len(latest):
        return none()
    last = pd.to_datetime(ds.frame["USUBJID"].map(latest["date"]))
    where = ds.frame["USUBJID"].map(latest["where"]).fillna("")
    mask = np.asarray(ds.dates("RFPENDTC") < last)
    found = hits(ds.frame, mask, ["USUBJID", "RFPENDTC", "latest date"])
    if found is not None:
        found.values = [f"{ds.frame['USUBJID'].iat[i]}, {ds.frame['RFPENDTC'].iat[i]}, "
                        f"{last.iat[i]:%Y-%m-%d} ({where.iat[i]})" for i in found.rows]
    return found


@rule("ALS0112", "error", "SDTM", "Consistency",
      "AESER is not Y although a seriousness criterion (AESCAN, AESCONG, AESDISAB, AESDTH, AESHOSP, AESLIFE, "
      "AESMIE) is Y")
def aeser(ds, ctx):
    crit = [c for c in SERIOUSNESS if c in ds.frame]
    if _prefix(ds) != "AE" or "AESER" not in ds.frame or not crit:
        return none()
    return hits(ds.frame, ds.frame[crit].eq("Y").any(axis=1) & (ds.frame["AESER"] != "Y"), ["AESER", *crit])


@rule("ALS0148", "error", "SDTM", "Consistency", "AESER is not 'Y', when AESOD equals 'Y'", "SD1062")
def aeser_overdose(ds, ctx):
    if _prefix(ds) != "AE" or not {"AESER", "AESOD"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["AESOD"] == "Y") & (ds.frame["AESER"] != "Y"), ["AESER", "AESOD"])


@rule("ALS0149", "error", "SDTM", "Consistency", "No qualifiers set to 'Y', when AE is Serious", "SD0009")
def serious_without_criterion(ds, ctx):
    crit = [c for c in SERIOUSNESS if c in ds.frame]
    if _prefix(ds) != "AE" or "AESER" not in ds.frame or not crit:
        return none()
    return hits(ds.frame, (ds.frame["AESER"] == "Y") & ~ds.frame[crit].eq("Y").any(axis=1), ["AESER", *crit])


@rule("ALS0113", "warning", "SDTM", "Consistency", "AEENDTC is populated although AEOUT is NOT RECOVERED/NOT RESOLVED")
def aeendtc_not_recovered(ds, ctx):
    if _prefix(ds) != "AE" or not {"AEENDTC", "AEOUT"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["AEOUT"] == "NOT RECOVERED/NOT RESOLVED") & (ds.frame["AEENDTC"] != ""),
                ["AEOUT", "AEENDTC"])


@rule("ALS0114", "error", "SDTM", "Cross-reference", "Fatal AE but the subject has no death date in DM")
def fatal_ae(ds, ctx):
    dm = ctx.frame("DM")
    if _prefix(ds) != "AE" or "AEOUT" not in ds.frame or dm is None or "DTHDTC" not in dm:
        return none()
    dead = set(dm.loc[dm["DTHDTC"] != "", "USUBJID"])
    return hits(ds.frame, (ds.frame["AEOUT"] == "FATAL") & ~ds.frame["USUBJID"].isin(dead), ["USUBJID", "AEOUT"])


@rule("ALS0115", "error", "SDTM", "Consistency", "AEOUT is not 'FATAL', when AESDTH='Y'", "SD0091")
def aesdth(ds, ctx):
    if _prefix(ds) != "AE" or not {"AESDTH", "AEOUT"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["AESDTH"] == "Y") & (ds.frame["AEOUT"] != "FATAL"), ["AESDTH", "AEOUT"])


@rule("ALS0150", "error", "SDTM", "Consistency", "AESDTH is not 'Y', when AEOUT='FATAL'", "SD0090")
def aeout_fatal(ds, ctx):
    if _prefix(ds) != "AE" or not {"AESDTH", "AEOUT"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["AEOUT"] == "FATAL") & (ds.frame["AESDTH"] != "Y"), ["AEOUT", "AESDTH"])


def _death_records(ctx) -> set[str]:
    ds_frame = ctx.frame("DS")
    if ds_frame is None or "DSDECOD" not in ds_frame:
        return set()
    return set(ds_frame.loc[ds_frame["DSDECOD"] == "DEATH", "USUBJID"])


@rule("ALS0151", "error", "SDTM", "Cross-reference", "DTHFL is Y in DM but DS has no death record (DSDECOD = DEATH)")
def death_without_ds(ds, ctx):
    if ds.name != "DM" or "DTHFL" not in ds.frame or not ctx.has_domain("DS"):
        return none()
    return hits(ds.frame, (ds.frame["DTHFL"] == "Y") & ~ds.frame["USUBJID"].isin(_death_records(ctx)),
                ["USUBJID", "DTHFL"])


@rule("ALS0152", "error", "SDTM", "Cross-reference", "DS death record (DSDECOD = DEATH) but DTHFL is not Y in DM")
def ds_death_without_dthfl(ds, ctx):
    dm = ctx.frame("DM")
    if _prefix(ds) != "DS" or "DSDECOD" not in ds.frame or dm is None or "DTHFL" not in dm:
        return none()
    dead = set(dm.loc[dm["DTHFL"] == "Y", "USUBJID"])
    return hits(ds.frame, (ds.frame["DSDECOD"] == "DEATH") & ~ds.frame["USUBJID"].isin(dead), ["USUBJID", "DSDECOD"])


@rule("ALS0153", "error", "SDTM", "Cross-reference", "Subject is DEAD in SS but DS has no death record")
def ss_dead_without_ds(ds, ctx):
    if _prefix(ds) != "SS" or not {"SSSTRESC", "USUBJID"} <= set(ds.frame) or not ctx.has_domain("DS"):
        return none()
    dead = ds.frame["SSSTRESC"] == "DEAD"
    first = dead & ~ds.frame[["USUBJID", "SSSTRESC"]].duplicated()
    return hits(ds.frame, first & ~ds.frame["USUBJID"].isin(_death_records(ctx)), ["USUBJID", "SSSTRESC"])


@rule("ALS0154", "warning", "SDTM", "Consistency", "History record starts after the subject's first study treatment "
      "(RFSTDTC)")
def history_after_start(ds, ctx):
    p = _prefix(ds)
    if not ctx.reference.flag(p, "history"):
        return none()
    col = next((c for c in (f"{p}STDTC", f"{p}DTC") if c in ds.frame), None)
    if col is None:
        return none()
    start = subject_dates(ctx, "RFSTDTC", ds)
    return hits(ds.frame, ds.dates(col) > start, ["USUBJID", col])


@rule("ALS0155", "error", "SDTM", "Consistency",
      "Event, intervention, finding or visit starts after the subject's death (DM.DTHDTC); DS and SS excepted")
def after_death(ds, ctx):
    cls = ctx.domain_class(ds)
    if "USUBJID" not in ds.frame or _prefix(ds) in ("DS", "SS") or \
            not (cls in ("EVENTS", "INTERVENTIONS", "FINDINGS") or ds.name == "SV"):
        return none()
    death = subject_dates(ctx, "DTHDTC", ds)
    if not death.notna().any():
        return none()
    p = _prefix(ds)
    out = []
    for col in (f"{p}STDTC", f"{p}DTC"):
        if col in ds.frame and (col != f"{p}DTC" or f"{p}STDTC" not in ds.frame):
            out.append(hits(ds.frame, np.asarray(ds.dates(col) > death), ["USUBJID", col]))
    return out


@rule("ALS0132", "warning", "SDTM", "Consistency", "Missing End Time-Point value", "SD0021")
def end_timepoint(ds, ctx):
    p = _prefix(ds)
    if ctx.domain_class(ds) != "EVENTS" or f"{p}ENDTC" not in ds.frame or p == "DS":
        return none()
    mask = _text(ds, f"{p}ENDTC") == ""
    for c in (f"{p}ENRF", f"{p}ENRTPT"):
        mask &= _text(ds, c) == ""
    mask &= _text(ds, f"{p}OCCUR") != "N"
    return hits(ds.frame, mask, f"{p}ENDTC")


@rule("ALS0174", "error", "SDTM", "Consistency", "Missing value for --DOSU, when --DOSE, --DOSTXT or --DOSTOT is provided",
      "SD0035")
def dose_unit(ds, ctx):
    p = _prefix(ds)
    given = [c for c in (f"{p}DOSE", f"{p}DOSTXT", f"{p}DOSTOT") if c in ds.frame]
    if not given:
        return none()
    provided = np.logical_or.reduce([_text(ds, c) != "" for c in given])
    return hits(ds.frame, provided & (_text(ds, f"{p}DOSU") == ""), [*given, f"{p}DOSU"])
