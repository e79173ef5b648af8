"""ADaM rules: parameters, baseline and change, time-to-event, populations, ADSL."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc_als.validate.datasets import LoadedDataset
from cdisc_als.validate.rules.registry import (
    dataset_hit,
    hits,
    none,
    rule,
)

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
