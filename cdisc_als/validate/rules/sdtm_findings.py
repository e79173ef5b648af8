"""SDTM Findings rules: units, standard results, tests, baseline and last-observation flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.validate.datasets import LoadedDataset
from cdisc_als.validate.rules.registry import _prefix, _text, hits, none, rule
from cdisc_als.validate.rules.sdtm_general import _one_to_one

NOT_ASSIGNED = ("SCRNFAIL", "NOTASSGN")


def _unit_missing(ds: LoadedDataset, ctx, result: str, unit: str):
    """A non-zero numeric result without a unit, in domains whose results carry units, for tests that
    have units (metadata/unitless_tests.csv lists those that do not: pH, specific gravity)."""
    p = _prefix(ds)
    res, uni, testcd = f"{p}{result}", f"{p}{unit}", f"{p}TESTCD"
    if not ctx.reference.flag(p, "unit_results") or res not in ds.frame or ds.frame[res].dtype != object:
        return none()
    number = pd.to_numeric(ds.frame[res], errors="coerce")
    unitless = {code for dom, code in ctx.reference.unitless if dom == p}
    with_unit = ~_text(ds, testcd).isin(unitless)
    return hits(ds.frame, number.notna() & (number != 0) & with_unit & (_text(ds, uni) == ""), [res, uni, testcd])


@rule("ALS0118", "warning", "SDTM", "Consistency", "Missing value for --ORRESU, when --ORRES is provided", "SD0026")
def orresu(ds, ctx):
    return _unit_missing(ds, ctx, "ORRES", "ORRESU")


@rule("ALS0119", "warning", "SDTM", "Consistency", "Missing value for --STRESU, when --STRESC is provided", "SD0029")
def stresu(ds, ctx):
    return _unit_missing(ds, ctx, "STRESC", "STRESU")


@rule("ALS0120", "warning", "SDTM", "Presence", "Missing --STRESC value for Baseline record", "SD1131")
def baseline_stresc(ds, ctx):
    p = _prefix(ds)
    if f"{p}STRESC" not in ds.frame or f"{p}BLFL" not in ds.frame:
        return none()
    return hits(ds.frame, (ds.frame[f"{p}BLFL"] == "Y") & (ds.frame[f"{p}STRESC"] == ""), [f"{p}STRESC", f"{p}BLFL"])


@rule("ALS0121", "warning", "SDTM", "Consistency", "Missing value for --ORRES, when --STAT or --DRVFL is not populated",
      "SD0047")
def orres_missing(ds, ctx):
    p = _prefix(ds)
    if f"{p}ORRES" not in ds.frame or ds.frame[f"{p}ORRES"].dtype != object:
        return none()
    return hits(ds.frame, (ds.frame[f"{p}ORRES"] == "") & (_text(ds, f"{p}STAT") != "NOT DONE") &
                (_text(ds, f"{p}DRVFL") != "Y"), f"{p}ORRES")


@rule("ALS0122", "error", "SDTM", "Format", "Invalid value for --TESTCD variable", "SD0018")
def testcd_format(ds, ctx):
    c = f"{_prefix(ds)}TESTCD"
    if c not in ds.frame or ds.frame[c].dtype != object:
        return none()
    return hits(ds.frame, ds.char_test(c, lambda v: ~v.str.fullmatch(r"[A-Z_][A-Z0-9_]{0,7}").astype(bool)), c)


@rule("ALS0123", "error", "SDTM", "Format", "Invalid value for --TEST variable (longer than 40 characters)", "SD0017")
def test_length(ds, ctx):
    c = f"{_prefix(ds)}TEST"
    if c not in ds.frame or ds.frame[c].dtype != object or ds.name == "TI" or _prefix(ds) == "IE":
        return none()
    return hits(ds.frame, ds.char_test(c, lambda v: v.str.len() > 40), c)


@rule("ALS0124", "error", "SDTM", "Consistency", "Inconsistent value for --TEST within --TESTCD", "SD0040")
def test_within_testcd(ds, ctx):
    p = _prefix(ds)
    return _one_to_one(ds, f"{p}TESTCD", f"{p}TEST")


@rule("ALS0156", "error", "SDTM", "Consistency", "Inconsistent value for --TESTCD within --TEST", "SD1043")
def testcd_within_test(ds, ctx):
    p = _prefix(ds)
    return _one_to_one(ds, f"{p}TEST", f"{p}TESTCD")


@rule("ALS0131", "warning", "SDTM", "Presence", "No baseline result in the domain for subject", "SD0006")
def no_baseline(ds, ctx):
    if ds.name != "DM" or "USUBJID" not in ds.frame:
        return none()
    masks = []
    arm = _text(ds, "ARMCD")
    treated = ~arm.str.upper().isin(["", *NOT_ASSIGNED]) & (_text(ds, "ACTARMCD").str.upper() != "NOTTRT")
    for name, info in ctx.reference.domains.items():
        frame = ctx.frame(name) if info.baseline_expected else None
        if frame is None or "USUBJID" not in frame:
            continue
        flag = f"{name}BLFL" if f"{name}BLFL" in frame else (f"{name}LOBXFL" if f"{name}LOBXFL" in frame else None)
        with_base = set(frame.loc[frame[flag] == "Y", "USUBJID"]) if flag else set()
        masks.append(treated & ds.frame["USUBJID"].isin(set(frame["USUBJID"])) & ~ds.frame["USUBJID"].isin(with_base))
    if not masks:
        return none()
    return hits(ds.frame, np.logical_or.reduce(masks), ["USUBJID", "ARMCD", "ACTARMCD"])


@rule("ALS0133", "error", "SDTM", "Consistency", "--STRESN does not equal the numeric value of --STRESC")
def stresn(ds, ctx):
    p = _prefix(ds)
    if not {f"{p}STRESC", f"{p}STRESN"} <= set(ds.frame) or ds.types.get(f"{p}STRESN") != "Num":
        return none()
    number = pd.to_numeric(ds.frame[f"{p}STRESC"], errors="coerce")
    bad = number.notna() & ds.frame[f"{p}STRESN"].notna() & ((number - ds.frame[f"{p}STRESN"]).abs() > 1e-9)
    return hits(ds.frame, bad, [f"{p}STRESC", f"{p}STRESN"])


@rule("ALS0157", "warning", "SDTM", "Consistency", "Missing value for --STRESN", "SD1122")
def stresn_missing(ds, ctx):
    p = _prefix(ds)
    if not {f"{p}STRESC", f"{p}STRESN"} <= set(ds.frame) or ds.types.get(f"{p}STRESN") != "Num":
        return none()
    number = pd.to_numeric(ds.frame[f"{p}STRESC"], errors="coerce")
    return hits(ds.frame, number.notna() & ds.frame[f"{p}STRESN"].isna(), [f"{p}STRESC", f"{p}STRESN"])


def _flag_unique(ds: LoadedDataset, flag_suffix: str):
    """At most one flagged record per subject, test and time point (--TPTREF, --TPTNUM/--TPT, --REPNUM)."""
    p = _prefix(ds)
    flag, cd = f"{p}{flag_suffix}", f"{p}TESTCD"
    if not {flag, cd, "USUBJID"} <= set(ds.frame):
        return none()
    candidates = [f"{p}CAT", f"{p}SCAT", f"{p}SPEC", f"{p}METHOD", f"{p}POS", f"{p}LOC", f"{p}LAT",
                  f"{p}TPTREF", f"{p}TPTNUM", f"{p}TPT", f"{p}ELTM", f"{p}REPNUM", f"{p}EVAL"]
    by = ["USUBJID", cd] + [c for c in candidates if c in ds.frame]
    flagged = ds.frame[ds.frame[flag] == "Y"]
    return hits(ds.frame, ds.frame.index.isin(flagged[flagged.duplicated(by)].index), [flag, *by])


@rule("ALS0134", "error", "SDTM", "Consistency",
      "--LOBXFL is Y on more than one record per subject, test and time point")
def lobxfl_unique(ds, ctx):
    return _flag_unique(ds, "LOBXFL")


@rule("ALS0158", "error", "SDTM", "Consistency", "--BLFL is Y on more than one record per subject, test and time point")
def blfl_unique(ds, ctx):
    return _flag_unique(ds, "BLFL")
