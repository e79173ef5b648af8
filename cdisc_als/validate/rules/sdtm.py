"""SDTM rules: dates and study days, sequence, DM, AE, findings, SUPPQUAL, visits, baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.validate.datasets import LoadedDataset
from cdisc_als.validate.rules.registry import (
    ISO8601,
    _col,
    _prefix,
    hits,
    none,
    rule,
)

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
