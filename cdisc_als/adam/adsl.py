"""ADSL: one record per randomized subject, read top to bottom.

Sources: DM, DS, EX, SV, QS, RE, MH, FA, GF, SS (SDTM frames; character missing = '').
Populations: SAFFL = ITTFL = RANDFL = 'Y' for every randomized subject; FASFL = 'Y' when the
subject has a baseline (V5) ALSFRS-R total and at least one later total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.adam import derive as d
from cdisc_als.adam.bds import alsfrs_totals, visit_values
from cdisc_als.study import Study

RELATED = ("POSSIBLY RELATED", "PROBABLY RELATED", "DEFINITELY RELATED")


def _date(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.fillna("").astype(str).str.slice(0, 10).where(lambda s: s.str.len() == 10, None),
                          format="%Y-%m-%d", errors="coerce")


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
    adsl["AGEGR1"] = np.where(adsl["AGE"] < study.age_cut, f"<{study.age_cut}", f">={study.age_cut}")
    adsl["AGEGR1N"] = np.where(adsl["AGE"] < study.age_cut, 1.0, 2.0)
    for flag in ("RANDFL", "SAFFL", "ITTFL"):
        adsl[flag] = "Y"

    ds = sdtm["DS"]
    adsl["RANDDT"] = adsl["USUBJID"].map(_date(_by_subject(ds, ds["DSDECOD"] == "RANDOMIZED", "DSSTDTC")))
    disposition = ds[ds["DSCAT"] == "DISPOSITION EVENT"].sort_values("DSSTDTC").groupby("USUBJID").last()
    adsl["EOSSTT"] = adsl["USUBJID"].map(disposition["DSDECOD"]).map(
        lambda v: "COMPLETED" if v == "COMPLETED" else ("DISCONTINUED" if isinstance(v, str) and v else "ONGOING"))
    adsl["DCSREAS"] = adsl["USUBJID"].map(disposition["DSDECOD"]).where(adsl["EOSSTT"] == "DISCONTINUED", "")

    ex = sdtm.get("EX", pd.DataFrame(columns=["USUBJID", "EXSTDTC", "EXENDTC"]))
    adsl["TRTSDT"] = adsl["USUBJID"].map(_date(_by_subject(ex, ex["EXSTDTC"] != "", "EXSTDTC", "first")))
    adsl["TRTEDT"] = adsl["USUBJID"].map(_date(_by_subject(ex, ex["EXENDTC"] != "", "EXENDTC", "last")))
    adsl["RFSTDT"] = _date(adsl["RFSTDTC"])
    sv = sdtm["SV"]
    adsl["V1DT"] = adsl["USUBJID"].map(_date(_by_subject(sv, sv["VISITNUM"] == study.visits[0].visitnum, "SVSTDTC")))
    adsl["DTHDT"], adsl["DTHDTF"] = d.impute_date(adsl["DTHDTC"], "first")
    adsl["DTHFL"] = np.where(adsl["DTHDTC"] != "", "Y", "")
    adsl["LSTALVDT"] = _last_alive(adsl, sdtm)

    mh = sdtm["MH"]
    onset = mh[mh["MHEVDTYP"] == "SYMPTOM ONSET"].set_index("USUBJID")["MHSTDTC"]
    diag = mh[mh["MHEVDTYP"] == "DIAGNOSIS"].set_index("USUBJID")["MHSTDTC"]
    adsl["ONSETDT"], adsl["ONSETDTF"] = d.impute_date(adsl["USUBJID"].map(onset).fillna(""), "mid")
    adsl["DIAGDT"], _ = d.impute_date(adsl["USUBJID"].map(diag).fillna(""), "mid")
    adsl["DURONSM"] = d.months_between(adsl["ONSETDT"], adsl["RFSTDT"])
    adsl["DURDIAGM"] = d.months_between(adsl["DIAGDT"], adsl["RFSTDT"])
    fa = sdtm["FA"]
    adsl["ONSETSIT"] = adsl["USUBJID"].map(fa[fa["FATESTCD"] == "LOCONSET"].set_index("USUBJID")["FASTRESC"]).fillna("")
    adsl["ELESCAT"] = adsl["USUBJID"].map(fa[fa["FATESTCD"] == "DXCRITMT"].set_index("USUBJID")["FASTRESC"]).fillna("")
    gf = sdtm.get("GF")
    if gf is not None and len(gf):
        positive = set(gf.loc[gf["GFSTRESC"] == "DETECTED", "USUBJID"])
        adsl["GENPOSFL"] = np.where(adsl["USUBJID"].isin(positive), "Y", np.where(adsl["USUBJID"].isin(gf["USUBJID"]), "N", ""))

    baseline = study.baseline_visit.visitnum
    lead_visit = study.visits[0].visitnum
    totals = alsfrs_totals(sdtm["QS"])
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
    adsl["DELTAFS"] = (48 - adsl["BALSFRS"]) / adsl["DURONSM"]
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
    alldates["D"] = _date(alldates["DTC"])
    last = alldates.dropna(subset=["D"]).groupby("USUBJID")["D"].max()
    alive = adsl["USUBJID"].map(last)
    return adsl["DTHDT"].where(adsl["DTHDT"].notna(), alive)
