"""ADSL: one record per randomized subject, read top to bottom.

Sources: DM, DS, EX, SV, QS, RE, MH, FA, GF, SS (SDTM frames; character missing = '').
Populations: SAFFL = ITTFL = RANDFL = 'Y' for every randomized subject; FASFL = 'Y' when the
subject has a baseline ALSFRS-R total and at least one later total (totals under study.yaml
analysis.alsfrs_missing_item_rule, as in ADQS). Subgroup variables (e.g. AGEGR1/AGEGR1N, the DeltaFS
group DFSGR1/DFSGR1N) are cut from their source variable at study.yaml analysis.subgroups; DCUTDT is the
survival cut-off date. DELTAFS is the pre-baseline ALSFRS-R progression rate (derive_deltafs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.adam import derive as d
from cdisc_als.adam.bds import alsfrs_totals, to_date, visit_values
from cdisc_als.study import Study, Subgroup

RELATED = ("POSSIBLY RELATED", "PROBABLY RELATED", "DEFINITELY RELATED")


def derive_subgroup(frame: pd.DataFrame, subgroup: Subgroup) -> pd.DataFrame:
    """<variable> = level text and <variable>N = level number (1..k) of the numeric `source` column cut at
    the subgroup's cut points; a value equal to a cut point belongs to the upper group; missing stays
    missing (text '' and number NaN)."""
    if subgroup.source not in frame.columns:
        raise KeyError(f"subgroup {subgroup.variable}: source variable {subgroup.source} is not in ADSL")
    out = frame.copy()
    value = pd.to_numeric(out[subgroup.source], errors="coerce")
    number = pd.Series(np.searchsorted(np.asarray(subgroup.cuts, float), value.to_numpy(float), side="right") + 1.0,
                       index=out.index).where(value.notna())
    levels = subgroup.levels()
    out[subgroup.variable] = number.map(lambda n: levels[int(n) - 1] if n == n else "")
    out[f"{subgroup.variable}N"] = number
    return out


ALSFRS_R_MAXIMUM = 48.0   # the ALSFRS-R total of a person without functional loss (12 items x 4)


def derive_deltafs(adsl: pd.DataFrame, totals: pd.DataFrame, visitnum: float, month_days: float) -> pd.DataFrame:
    """DELTAFS, the ALSFRS-R progression rate (Kimura F et al., Neurology 2006;66:265-267; Labra J et al.,
    J Neurol Neurosurg Psychiatry 2016;87:628-632): (48 - ALSFRS-R total at the reference visit) /
    (months from symptom onset to that assessment). The reference visit is `visitnum` (the baseline
    visit); months = (assessment date - ADSL.ONSETDT) / month_days, elapsed days. ONSETDT is the
    collected onset date with a missing day imputed as the 15th and a missing month as July 1st
    (ONSETDTF = D or M). Missing when the total, either date, or a positive duration is missing.
    `totals` holds the ALSFRS-R totals per administration (USUBJID, VISITNUM, AVAL, QSDTC)."""
    missing = [c for c in ("USUBJID", "ONSETDT") if c not in adsl.columns]
    missing += [f"totals.{c}" for c in ("USUBJID", "VISITNUM", "AVAL", "QSDTC") if c not in totals.columns]
    if missing:
        raise KeyError(f"derive_deltafs: missing required column(s) {missing}")
    out = adsl.copy()
    reference = totals[totals["VISITNUM"] == visitnum].drop_duplicates("USUBJID").set_index("USUBJID")
    score = out["USUBJID"].map(reference["AVAL"])
    when = out["USUBJID"].map(to_date(reference["QSDTC"]))
    months = (when - out["ONSETDT"]).dt.days.astype("float64") / month_days
    out["DELTAFS"] = ((ALSFRS_R_MAXIMUM - score) / months).where(months > 0)
    return out


def _by_subject(frame: pd.DataFrame, mask: pd.Series, column: str, keep: str = "first") -> pd.Series:
    data = frame[mask & (frame[column] != "")][["USUBJID", column]].sort_values(column)
    grouped = data.groupby("USUBJID")[column]
    return grouped.first() if keep == "first" else grouped.last()


def build_adsl(sdtm: dict[str, pd.DataFrame], study: Study) -> pd.DataFrame:
    dm = sdtm["DM"]
    adsl = dm[dm["ARMCD"] != ""].copy()
    arms = {a.armcd: a for a in study.arms}
    untreated = next((a for a in study.arms if not a.treated), None)
    adsl["TRT01P"] = adsl["ARM"]
    adsl["TRT01PN"] = adsl["ARMCD"].map(lambda c: float(arms[c].trt_code) if c in arms else np.nan)
    never = adsl["ACTARMCD"] == ""
    adsl["TRT01A"] = np.where(never & (untreated is not None), untreated.arm if untreated else "", adsl["ACTARM"])
    adsl["TRT01AN"] = np.where(never & (untreated is not None), float(untreated.trt_code) if untreated else np.nan,
                               adsl["TRT01PN"])
    for flag in ("RANDFL", "SAFFL", "ITTFL"):
        adsl[flag] = "Y"

    ds = sdtm["DS"]
    adsl["RANDDT"] = adsl["USUBJID"].map(to_date(_by_subject(ds, ds["DSDECOD"] == "RANDOMIZED", "DSSTDTC")))
    disposition = ds[ds["DSCAT"] == "DISPOSITION EVENT"].sort_values("DSSTDTC").groupby("USUBJID").last()
    adsl["EOSSTT"] = adsl["USUBJID"].map(disposition["DSDECOD"]).map(
        lambda v: "COMPLETED" if v == "COMPLETED" else ("DISCONTINUED" if isinstance(v, str) and v else "ONGOING"))
    adsl["DCSREAS"] = adsl["USUBJID"].map(disposition["DSDECOD"]).where(adsl["EOSSTT"] == "DISCONTINUED", "")

    ex = sdtm.get("EX", pd.DataFrame(columns=["USUBJID", "EXSTDTC", "EXENDTC"]))
    adsl["TRTSDT"] = adsl["USUBJID"].map(to_date(_by_subject(ex, ex["EXSTDTC"] != "", "EXSTDTC", "first")))
    adsl["TRTEDT"] = adsl["USUBJID"].map(to_date(_by_subject(ex, ex["EXENDTC"] != "", "EXENDTC", "last")))
    adsl["RFSTDT"] = to_date(adsl["RFSTDTC"])
    sv = sdtm["SV"]
    adsl["V1DT"] = adsl["USUBJID"].map(to_date(_by_subject(sv, sv["VISITNUM"] == study.first_visit.visitnum, "SVSTDTC")))
    adsl["DTHDT"], adsl["DTHDTF"] = d.impute_date(adsl["DTHDTC"], "first")
    adsl["DTHFL"] = np.where(adsl["DTHDTC"] != "", "Y", "")
    adsl["DCUTDT"] = pd.Timestamp(study.survival_cutoff)
    adsl["LSTALVDT"] = _last_alive(adsl, sdtm)

    mh = sdtm["MH"]
    onset = mh[mh["MHEVDTYP"] == "SYMPTOM ONSET"].set_index("USUBJID")["MHSTDTC"]
    diag = mh[mh["MHEVDTYP"] == "DIAGNOSIS"].set_index("USUBJID")["MHSTDTC"]
    adsl["ONSETDT"], adsl["ONSETDTF"] = d.impute_date(adsl["USUBJID"].map(onset).fillna(""), "mid")
    adsl["DIAGDT"], _ = d.impute_date(adsl["USUBJID"].map(diag).fillna(""), "mid")
    adsl["DURONSM"] = d.months_between(adsl["ONSETDT"], adsl["RFSTDT"], study.month_length_days)
    adsl["DURDIAGM"] = d.months_between(adsl["DIAGDT"], adsl["RFSTDT"], study.month_length_days)
    fa = sdtm["FA"]
    adsl["ONSETSIT"] = adsl["USUBJID"].map(fa[fa["FATESTCD"] == "LOCONSET"].set_index("USUBJID")["FASTRESC"]).fillna("")
    adsl["ELESCAT"] = adsl["USUBJID"].map(fa[fa["FATESTCD"] == "DXCRITMT"].set_index("USUBJID")["FASTRESC"]).fillna("")
    gf = sdtm.get("GF")
    if gf is not None and len(gf):
        positive = set(gf.loc[gf["GFSTRESC"] == "DETECTED", "USUBJID"])
        adsl["GENPOSFL"] = np.where(adsl["USUBJID"].isin(positive), "Y", np.where(adsl["USUBJID"].isin(gf["USUBJID"]), "N", ""))

    baseline = study.baseline_visit.visitnum
    lead_visit = study.first_visit.visitnum
    totals = alsfrs_totals(sdtm["QS"], study.analysis.alsfrs_missing_item_rule)
    als = visit_values(totals, "USUBJID")
    post_visits = [v.visitnum for v in study.visits if v.visitnum > baseline]
    has_base = als.get(baseline, pd.Series(dtype=float)).reindex(adsl["USUBJID"]).notna().to_numpy()
    has_post = als.reindex(columns=post_visits).reindex(adsl["USUBJID"]).notna().any(axis=1).to_numpy()
    adsl["FASFL"] = np.where(has_base & has_post, "Y", "N")
    months = {v.visitnum: v.month for v in study.visits}
    lead_months = months[baseline] - months[lead_visit]
    qs = sdtm["QS"]
    aals = visit_values(qs[qs["QSTESTCD"] == "AALS106"].assign(AVAL=qs["QSSTRESN"]), "USUBJID")
    sf36 = visit_values(qs[qs["QSTESTCD"] == "SF363TOT"].assign(AVAL=qs["QSSTRESN"]), "USUBJID")
    re = sdtm["RE"]
    fvc = visit_values(re[re["RETESTCD"] == "FVCPP"].assign(AVAL=re["RESTRESN"]), "USUBJID")
    for name, wide in (("BALSFRS", als), ("BAALS", aals), ("BFVCPP", fvc), ("BSF36", sf36)):
        adsl[name] = adsl["USUBJID"].map(wide.get(baseline, pd.Series(dtype=float)))
    for name, wide in (("LSLPALS", als), ("LSLPAALS", aals), ("LSLPFVC", fvc)):
        start = adsl["USUBJID"].map(wide.get(lead_visit, pd.Series(dtype=float)))
        end = adsl["USUBJID"].map(wide.get(baseline, pd.Series(dtype=float)))
        adsl[name] = d.two_point_slope(start, end, lead_months)
    adsl = derive_deltafs(adsl, totals, baseline, study.month_length_days)
    for subgroup in study.analysis.subgroups:
        adsl = derive_subgroup(adsl, subgroup)
    return adsl.sort_values("USUBJID").reset_index(drop=True)


def _last_alive(adsl: pd.DataFrame, sdtm: dict[str, pd.DataFrame]) -> pd.Series:
    """LSTALVDT: latest visit, disposition or ALIVE contact date; the death date for deaths."""
    dates = []
    sv = sdtm["SV"]
    dates.append(sv[["USUBJID", "SVSTDTC"]].rename(columns={"SVSTDTC": "DTC"}))
    ss = sdtm.get("SS")
    if ss is not None and len(ss):
        dates.append(ss.loc[ss["SSSTRESC"] == "ALIVE", ["USUBJID", "SSDTC"]].rename(columns={"SSDTC": "DTC"}))
    ds = sdtm["DS"]
    dates.append(ds.loc[ds["DSDECOD"] != "DEATH", ["USUBJID", "DSSTDTC"]].rename(columns={"DSSTDTC": "DTC"}))
    alldates = pd.concat(dates, ignore_index=True)
    alldates["D"] = to_date(alldates["DTC"])
    last = alldates.dropna(subset=["D"]).groupby("USUBJID")["D"].max()
    alive = adsl["USUBJID"].map(last)
    return adsl["DTHDT"].where(adsl["DTHDT"].notna(), alive)
