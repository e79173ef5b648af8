"""ADQS: ALSFRS-R items, subscores and total, AALS, SF-36 by analysis visit, plus the slope,
change-in-slope, % improvement and responder parameters of the trial (one record per subject).

Slopes use the nominal months of the visit schedule (V1 -> V5: 3, V5 -> V9: 4, V5 -> V10: 6);
responders: CRIT1/2/3 = improvement >= 50/75/100 %; a subject who died before the 6-month visit
is a poor responder at 6 months (CRITyFL = 'N').
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.adam import bds
from cdisc_als.adam import derive as d
from cdisc_als.sdtm.fast import map_values
from cdisc_als.study import Study

ITEM_NAMES = ["Speech", "Salivation", "Swallowing", "Handwriting", "Cutting Food", "Dressing and Hygiene",
              "Turning in Bed", "Walking", "Climbing Stairs", "Dyspnea", "Orthopnea", "Respiratory Insufficiency"]
SUBSCORES = {"ALSR1BUL": ("ALSFRS-R Bulbar Subscore (Items 1-3)", [1, 2, 3]),
             "ALSR1FMO": ("ALSFRS-R Fine Motor Subscore (Items 4-6)", [4, 5, 6]),
             "ALSR1GMO": ("ALSFRS-R Gross Motor Subscore (Items 7-9)", [7, 8, 9]),
             "ALSR1RES": ("ALSFRS-R Respiratory Subscore (Items 10-12)", [10, 11, 12])}
AALS_NAMES = {"AALS101": "AALS Bulbar Subscore", "AALS102": "AALS Respiratory Subscore",
              "AALS103": "AALS Muscle Strength Subscore", "AALS104": "AALS Upper Extremity Function Subscore",
              "AALS105": "AALS Lower Extremity Function Subscore", "AALS106": "AALS Total Score (30-164)"}
CRITERIA = [50.0, 75.0, 100.0]


def _visit_records(qs: pd.DataFrame, study: Study) -> pd.DataFrame:
    items = bds.alsfrs_items(qs)
    items["PARAM"] = items["PARAMCD"].map({f"ALSR1{i:02d}": f"ALSFRS-R Item {i}: {n} (0-4)"
                                           for i, n in enumerate(ITEM_NAMES, start=1)})
    items["PARCAT1"] = "ALSFRS-R"
    parts = [items]
    rule = str(study.raw.get("analysis", {}).get("alsfrs_missing_item_rule", "any_missing_total_missing"))
    totals = bds.alsfrs_totals(items, rule)
    totals["PARAMCD"], totals["PARAM"], totals["PARCAT1"] = "ALSR1TOT", "ALSFRS-R Total Score (0-48)", "ALSFRS-R"
    parts.append(totals)
    item_wide = items.pivot_table(index=["USUBJID", "VISITNUM"], columns="PARAMCD", values="AVAL", aggfunc="first")
    dates = items.groupby(["USUBJID", "VISITNUM"])["QSDTC"].first()
    for code, (label, numbers) in SUBSCORES.items():
        cols = [f"ALSR1{i:02d}" for i in numbers]
        value = item_wide.reindex(columns=cols).sum(axis=1, min_count=len(cols))
        sub = value.rename("AVAL").reset_index()
        sub["QSDTC"] = dates.reindex(value.index).to_numpy()
        sub["PARAMCD"], sub["PARAM"], sub["PARCAT1"] = code, label, "ALSFRS-R"
        parts.append(sub)
    aals = qs[qs["QSCAT"] == "AALS"].assign(PARAMCD=lambda f: f["QSTESTCD"], AVAL=lambda f: f["QSSTRESN"])
    aals["PARAM"], aals["PARCAT1"] = aals["PARAMCD"].map(AALS_NAMES), "AALS"
    sf36 = qs[qs["QSTESTCD"] == "SF363TOT"].assign(PARAMCD="SF363TOT", AVAL=lambda f: f["QSSTRESN"])
    sf36["PARAM"], sf36["PARCAT1"] = "SF-36 Total Score (0-100)", "SF-36"
    parts += [aals, sf36]
    columns = ["USUBJID", "VISITNUM", "QSDTC", "PARAMCD", "PARAM", "PARCAT1", "AVAL", "QSSEQ"]
    records = pd.concat([p.reindex(columns=columns) for p in parts], ignore_index=True)
    records["SRCDOM"] = np.where(records["QSSEQ"].notna(), "QS", "")
    records["SRCVAR"] = np.where(records["QSSEQ"].notna(), "QSSTRESN", "")
    return records.rename(columns={"QSSEQ": "SRCSEQ"})


def _slopes(visits: pd.DataFrame, adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    months = {v.visitnum: v.month for v in study.visits}
    base = study.baseline_visit.visitnum
    lead = study.visits[0].visitnum
    m4 = next((v.visitnum for v in study.visits if v.month == 4), None)
    m6 = next((v.visitnum for v in study.visits if v.month == 6), None)
    out = []
    for prefix, paramcd, label, cat in (("ALSR1", "ALSR1TOT", "ALSFRS-R", "ALSFRS-R SLOPE"),
                                        ("AALS", "AALS106", "AALS", "AALS SLOPE")):
        recs = visits[(visits["PARAMCD"] == paramcd) & (visits["ANL01FL"] == "Y")]
        wide = recs.pivot_table(index="USUBJID", columns="VISITNUM", values="AVAL", aggfunc="first")
        dates = recs.pivot_table(index="USUBJID", columns="VISITNUM", values="ADT", aggfunc="first")
        lead_in = bds.slope_records(wide, dates, lead, base, months[base] - months[lead], f"{prefix}SLI",
                                    f"{label} Slope, Lead-in (points/month)", "LEAD-IN", 100.0)
        parts = [lead_in]
        for visit, tag in ((m4, 4), (m6, 6)):
            if visit is None or (prefix == "AALS" and tag == 6):
                continue
            follow = bds.slope_records(wide, dates, base, visit, months[visit] - months[base], f"{prefix}SF{tag}",
                                       f"{label} Slope, Month 0-{tag} (points/month)", f"MONTH 0-{tag}", 100.0 + tag)
            change = bds.combine_slopes(follow, lead_in, d.slope_change, f"{prefix}SC{tag}",
                                        f"Change in {label} Slope, Month 0-{tag} vs Lead-in")
            parts += [follow, change]
            if prefix == "ALSR1":
                improvement = _improvement(follow, lead_in, tag, adsl, study)
                parts.append(improvement)
        for part in parts:
            part["PARCAT1"] = cat
        out += parts
    return pd.concat(out, ignore_index=True)


def _improvement(follow: pd.DataFrame, lead_in: pd.DataFrame, tag: int, adsl: pd.DataFrame,
                 study: Study) -> pd.DataFrame:
    paramcd, label = f"ALSR1PI{tag}", f"Improvement in ALSFRS-R Slope, Month 0-{tag} (%)"
    imp = bds.combine_slopes(follow, lead_in, d.slope_improvement, paramcd, label)
    # subjects with a lead-in slope but no follow-up value who died before the visit: poor responders
    died = adsl.dropna(subset=["DTHDT"])
    window_end = died["RFSTDT"] + pd.Timedelta(days=round(tag * d.MONTH_DAYS))
    dead_before = set(died.loc[died["DTHDT"] <= window_end, "USUBJID"])
    missing = lead_in[~lead_in["USUBJID"].isin(imp["USUBJID"]) & lead_in["USUBJID"].isin(dead_before)]
    extra = pd.DataFrame({"USUBJID": missing["USUBJID"], "AVAL": np.nan, "PARAMCD": paramcd, "PARAM": label,
                          "AVISIT": f"MONTH 0-{tag}", "AVISITN": 100.0 + tag, "ASTDT": missing["ASTDT"],
                          "AENDT": pd.NaT})
    imp = pd.concat([imp, extra], ignore_index=True)
    force_no = imp["USUBJID"].isin(dead_before) & imp["AVAL"].isna()
    flags = d.criterion_flags(imp["AVAL"], CRITERIA, force_no=force_no)
    for k, (threshold, flag) in enumerate(zip(CRITERIA, flags, strict=True), start=1):
        imp[f"CRIT{k}"] = f"Improvement in ALSFRS-R slope >= {threshold:.0f}%"
        imp[f"CRIT{k}FL"] = flag
    return imp


def build_adqs(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    anchor = bds.visit_anchor(sdtm["SV"], study)
    records = _visit_records(sdtm["QS"], study)
    records = records[records["USUBJID"].isin(adsl["USUBJID"])]
    visits = bds.analysis_visits(records, "QSDTC", anchor, study)
    visits = bds.flag_analysis_records(visits)
    visits = bds.add_baseline(visits, study.baseline_visit.month)
    slopes = _slopes(visits, adsl, study)
    slopes["ADT"] = slopes["AENDT"]
    slopes["ADY"] = d.study_day(slopes["ADT"], slopes["USUBJID"].map(adsl.set_index("USUBJID")["RFSTDT"]))
    slopes["ANL01FL"] = "Y"
    adqs = pd.concat([visits.drop(columns=["_DIST", "VISITNUM", "QSDTC"]), slopes], ignore_index=True)
    return finish_bds(adqs, adsl)


def finish_bds(frame: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Treatment and population variables from ADSL, PARAMN, ASEQ; sorted by subject, parameter, visit."""
    subject = adsl.set_index("USUBJID")
    for target, source in (("STUDYID", "STUDYID"), ("SUBJID", "SUBJID"), ("SITEID", "SITEID"), ("TRTP", "TRT01P"),
                           ("TRTPN", "TRT01PN"), ("TRTA", "TRT01A"), ("FASFL", "FASFL")):
        frame[target] = map_values(frame["USUBJID"], subject[source])
    order = {code: k for k, code in enumerate(dict.fromkeys(frame["PARAMCD"]), start=1)}
    frame["PARAMN"] = frame["PARAMCD"].map(order).astype(float)
    frame = frame.sort_values(["USUBJID", "PARAMN", "AVISITN", "ADT"], kind="stable").reset_index(drop=True)
    frame["ASEQ"] = (frame.groupby("USUBJID").cumcount() + 1).astype(float)
    return frame
