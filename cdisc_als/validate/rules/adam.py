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

POPULATION_FLAGS = ("COMPLFL", "FASFL", "ITTFL", "PPROTFL", "SAFFL", "RANDFL", "ENRLFL")
# standard ADaM numeric variables whose name ends in N but that are primaries themselves (no *C/char twin)
NUMERIC_PRIMARIES = ("ADURN", "AVISITN", "ATPTN", "PARAMN", "APHASEN", "ASEQ", "TRTDURN", "AVALN", "BASEN",
                     "SRCSEQN", "ASPERN", "APERIODN", "CNSRN")

# ------------------------------------------------------------------ ADaM rules

def _one_to_one(ds, first: str, second: str):
    if not {first, second} <= set(ds.frame):
        return none()
    pairs = ds.frame[[first, second]].dropna().drop_duplicates()
    bad = set(pairs[pairs.duplicated(first, keep=False)][first])
    return hits(ds.frame, ds.frame[first].isin(bad) & ~ds.duplicated([first, second]), [first, second])


@rule("ALS0201", "error", "ADAM", "Consistency", "Inconsistent value for PARAM within a unique PARAMCD", "AD0141")
def param_within_paramcd(ds, ctx):
    return _one_to_one(ds, "PARAMCD", "PARAM")


@rule("ALS0223", "error", "ADAM", "Consistency", "Inconsistent value for PARAMCD within a unique PARAM", "AD0142")
def paramcd_within_param(ds, ctx):
    return _one_to_one(ds, "PARAM", "PARAMCD")


@rule("ALS0202", "error", "ADAM", "Format", "Illegal PARAMCD value", "AD0143")
def paramcd_format(ds, ctx):
    if "PARAMCD" not in ds.frame:
        return none()
    return hits(ds.frame, ~ds.frame["PARAMCD"].astype(str).str.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,7}"), "PARAMCD")


def _baseline_groups(ds: LoadedDataset) -> list[str]:
    return ["USUBJID", "PARAMCD"] + (["BASETYPE"] if "BASETYPE" in ds.frame else [])


@rule("ALS0203", "error", "ADAM", "Consistency", "Multiple baseline records exist for a unique USUBJID, PARAMCD, "
      "BASETYPE", "AD0154")
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
    key = ds.group_keys(_baseline_groups(ds))
    baseline = np.flatnonzero((ds.frame["ABLFL"] == "Y").to_numpy())
    first = pd.Series(baseline).groupby(key[baseline], sort=False).first()   # the first baseline record per group
    aval = np.full(int(key.max()) + 1 if len(key) else 0, np.nan)
    aval[first.index.to_numpy()] = ds.frame["AVAL"].to_numpy(dtype=float)[first.to_numpy()]
    expected = pd.Series(aval[key], index=ds.frame.index, dtype="float64")
    bad = ds.frame["BASE"].notna() & expected.notna() & ((ds.frame["BASE"] - expected).abs() > 1e-9)
    return hits(ds.frame, bad, ["PARAMCD", "BASE", "AVAL"])


@rule("ALS0205", "error", "ADAM", "Consistency", "Calculation issue: CHG != AVAL - BASE", "AD0223")
def chg_value(ds, ctx):
    if not {"CHG", "AVAL", "BASE"} <= set(ds.frame):
        return none()
    f = ds.frame
    bad = f["CHG"].notna() & ((f["CHG"] - (f["AVAL"] - f["BASE"])).abs() > 1e-6)
    return hits(f, bad, ["AVAL", "BASE", "CHG"])


@rule("ALS0206", "error", "ADAM", "Consistency", "Calculation issue: PCHG != (AVAL - BASE)/BASE * 100", "AD0225")
def pchg_value(ds, ctx):
    if not {"PCHG", "AVAL", "BASE"} <= set(ds.frame):
        return none()
    f = ds.frame
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = 100 * (f["AVAL"] - f["BASE"]) / f["BASE"]
    bad = f["PCHG"].notna() & (f["BASE"] != 0) & expected.notna() & ((f["PCHG"] - expected).abs() > 1e-6)
    return hits(f, bad, ["AVAL", "BASE", "PCHG"])


@rule("ALS0224", "error", "ADAM", "Consistency", "Calculation issue: BASE = 0 but PCHG is populated", "AD0225A")
def pchg_base_zero(ds, ctx):
    if not {"PCHG", "BASE"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["BASE"] == 0) & ds.frame["PCHG"].notna(), ["BASE", "PCHG"])


@rule("ALS0225", "error", "ADAM", "Consistency", "ABLFL = Y, but BASE != AVAL", "AD0152")
def baseline_record_base(ds, ctx):
    if not {"ABLFL", "BASE", "AVAL"} <= set(ds.frame):
        return none()
    f = ds.frame
    bad = (f["ABLFL"] == "Y") & f["BASE"].notna() & f["AVAL"].notna() & ((f["BASE"] - f["AVAL"]).abs() > 1e-9)
    return hits(f, bad, ["ABLFL", "BASE", "AVAL"])


@rule("ALS0207", "error", "ADAM", "Limit", "CNSR is not an integer >= 0", "AD0169")
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


@rule("ALS0209", "error", "ADAM", "Presence", "Variable subject-population flag value is null", "AD0019")
def population_flags(ds, ctx):
    if ds.name != "ADSL":
        return none()
    flags = [c for c in POPULATION_FLAGS if c in ds.frame]
    return [hits(ds.frame, ds.frame[c] == "", c) for c in flags]


@rule("ALS0210", "error", "ADAM", "Consistency", "TRT01P is not the planned arm of DM (ARM)")
def trt01p_arm(ds, ctx):
    if ds.name != "ADSL" or not {"TRT01P", "ARM"} <= set(ds.frame):
        return none()
    return hits(ds.frame, (ds.frame["ARM"] != "") & (ds.frame["TRT01P"] != ds.frame["ARM"]), ["ARM", "TRT01P"])


@rule("ALS0211", "error", "ADAM", "Consistency", "USUBJID duplicate values are not allowed within a study", "AD0054")
def adsl_unique(ds, ctx):
    if ds.name != "ADSL" or "USUBJID" not in ds.frame:
        return none()
    return hits(ds.frame, ds.duplicated("USUBJID"), "USUBJID")


@rule("ALS0212", "error", "ADAM", "Cross-reference", "USUBJID value does not exist in the ADaM ADSL domain", "AD0256")
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


@rule("ALS0214", "warning", "ADAM", "Limit", "*DY = 0", "AD0046")
def ady_zero(ds, ctx):
    return [hits(ds.frame, ds.frame[c] == 0, c) for c, t in ds.types.items() if t == "Num" and c.endswith("DY")]


@rule("ALS0215", "error", "ADAM", "Terminology", "*FL value is not Y, N or null", "AD0005")
def flag_values(ds, ctx):
    flags = [c for c, t in ds.types.items() if t == "Char" and c.endswith("FL") and c in ds.frame
             and not c.endswith(("RFL", "PFL")) and c != "ABLFL" and not re.fullmatch(r"ANL\d\dFL", c)]
    return [hits(ds.frame, ~ds.frame[c].isin(["Y", "N", ""]), c) for c in flags]


@rule("ALS0216", "warning", "ADAM", "Presence", "CRITy is populated but CRITyFL is missing")
def crit_flags(ds, ctx):
    return [hits(ds.frame, (ds.frame[f"CRIT{k}"] != "") & (ds.frame[f"CRIT{k}FL"] == ""), [f"CRIT{k}", f"CRIT{k}FL"])
            for k in range(1, 10) if {f"CRIT{k}", f"CRIT{k}FL"} <= set(ds.frame)]


@rule("ALS0217", "error", "ADAM", "Consistency", "ASEQ is not unique within a subject")
def aseq_unique(ds, ctx):
    if not {"ASEQ", "USUBJID"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.duplicated(["USUBJID", "ASEQ"]), ["USUBJID", "ASEQ"])


@rule("ALS0218", "error", "ADAM", "Presence", "None of the subject-level or record-level treatment variables defined "
      "in the IG are present", "AD0090")
def bds_treatment(ds, ctx):
    if "PARAMCD" not in ds.frame or ds.name == "ADSL":
        return none()
    names = set(ds.frame.columns)
    has = {"ARM", "ACTARM", "TRTP", "TRTA", "TRTSEQP", "TRTSEQA"} & names or \
        any(re.fullmatch(r"TRT\d\d[PA]|TR\d\d[PA]G\d|TSEQ[PA]G\d|TRT[PA]G\d", c) for c in names)
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
    return [hits(ds.frame, ds.frame[c].notna() & (ds.frame[c] != np.floor(ds.frame[c])), c) for c in cols]


@rule("ALS0222", "error", "ADAM", "Consistency", "DTHFL is Y but DTHDT is missing, or DTHDT without DTHFL")
def adsl_death(ds, ctx):
    if ds.name != "ADSL" or not {"DTHFL", "DTHDT"} <= set(ds.frame):
        return none()
    f = ds.frame
    return hits(f, ((f["DTHFL"] == "Y") & f["DTHDT"].isna()) | ((f["DTHFL"] != "Y") & f["DTHDT"].notna()),
                ["DTHFL", "DTHDT"])


@rule("ALS0226", "warning", "ADAM", "Presence", "Secondary custom variable is present but its primary variable is not "
      "present", "AD1012")
def secondary_without_primary(ds, ctx):
    names = set(ds.frame.columns)
    orphans = [c for c, t in ds.types.items()
               if t == "Num" and c.endswith("N") and not c.endswith(("FN", "DTN")) and c not in NUMERIC_PRIMARIES
               and len(c) > 2 and c[:-1] not in names and not re.fullmatch(r"TRT\d\d[PA]N|TR\d\d[PA]G\dN", c)]
    return [dataset_hit("VARIABLE", c[:-1]) for c in orphans]


@rule("ALS0227", "error", "ADAM", "Cross-reference", "For the same USUBJID, an ADSL variable differs from DM "
      "(AGE AD0204, AGEU AD0205, SEX AD0206, RACE AD0207, SUBJID AD0208, SITEID AD0209, ARM AD0210, ACTARM AD0367)",
      "AD0204, AD0205, AD0206, AD0207, AD0208, AD0209, AD0210, AD0367")
def adsl_against_dm(ds, ctx):
    dm = ctx.frame("DM")
    if ds.name != "ADSL" or dm is None or "USUBJID" not in dm:
        return none()
    ids = {"AGE": "AD0204", "AGEU": "AD0205", "SEX": "AD0206", "RACE": "AD0207", "SUBJID": "AD0208",
           "SITEID": "AD0209", "ARM": "AD0210", "ACTARM": "AD0367"}
    base = dm.drop_duplicates("USUBJID").set_index("USUBJID")
    out = []
    for var, p21 in ids.items():
        if var in ds.frame and var in base:
            other = ds.frame["USUBJID"].map(base[var])
            known = ds.frame["USUBJID"].isin(base.index)
            mine = ds.frame[var]
            differs = known & ~((mine == other) | (mine.isna() & other.isna()))
            hit = hits(ds.frame, differs, ["USUBJID", var])
            if hit is not None:
                hit.p21, hit.message = p21, f"For the same USUBJID, the ADSL.{var} != DM.{var}"
            out.append(hit)
    return out
