"""ADRE (FVC), ADLB (CSF cytokines) and ADAE (adverse events), built from the same helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.adam import bds
from cdisc_als.adam import derive as d
from cdisc_als.adam.adqs import finish_bds
from cdisc_als.study import Study

RELATED = ("POSSIBLY RELATED", "PROBABLY RELATED", "DEFINITELY RELATED")


def build_adre(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    """FVC (L) and FVC % predicted by analysis visit with BASE/CHG; FVC % lead-in, month 0-4 slopes
    and their change (nominal months, as ADQS)."""
    re = sdtm["RE"]
    re = re[re["USUBJID"].isin(adsl["USUBJID"])]
    records = pd.DataFrame({"USUBJID": re["USUBJID"], "VISITNUM": re["VISITNUM"], "REDTC": re["REDTC"],
                            "PARAMCD": re["RETESTCD"], "AVAL": re["RESTRESN"], "SRCSEQ": re["RESEQ"]})
    records["PARAM"] = records["PARAMCD"].map({"FVC": "Forced Vital Capacity (L)",
                                               "FVCPP": "Percent Predicted Forced Vital Capacity (%)"})
    records["PARCAT1"], records["SRCDOM"], records["SRCVAR"] = "SPIROMETRY", "RE", "RESTRESN"
    visits = bds.analysis_visits(records, "REDTC", bds.visit_anchor(sdtm["SV"], study), study)
    visits = bds.add_baseline(bds.flag_analysis_records(visits), study.baseline_visit.month)
    months = {v.visitnum: v.month for v in study.visits}
    base, lead = study.baseline_visit.visitnum, study.visits[0].visitnum
    m4 = next(v.visitnum for v in study.visits if v.month == 4)
    pp = visits[(visits["PARAMCD"] == "FVCPP") & (visits["ANL01FL"] == "Y")]
    wide = pp.pivot_table(index="USUBJID", columns="VISITNUM", values="AVAL", aggfunc="first")
    dates = pp.pivot_table(index="USUBJID", columns="VISITNUM", values="ADT", aggfunc="first")
    lead_in = bds.slope_records(wide, dates, lead, base, months[base] - months[lead], "FVCPPSLI",
                                "FVC % Predicted Slope, Lead-in (%/month)", "LEAD-IN", 100.0)
    follow = bds.slope_records(wide, dates, base, m4, months[m4] - months[base], "FVCPPSF4",
                               "FVC % Predicted Slope, Month 0-4 (%/month)", "MONTH 0-4", 104.0)
    change = bds.combine_slopes(follow, lead_in, d.slope_change, "FVCPPSC4",
                                "Change in FVC % Predicted Slope, Month 0-4")
    slopes = pd.concat([lead_in, follow, change], ignore_index=True).assign(PARCAT1="SPIROMETRY SLOPE", ANL01FL="Y")
    slopes["ADT"] = slopes["AENDT"]
    adre = pd.concat([visits.drop(columns=["_DIST", "VISITNUM", "REDTC"]), slopes], ignore_index=True)
    return finish_bds(adre, adsl)


def build_adlb(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    """CSF cytokines at V5 (baseline) and V6 with the change from V5; AVALU = standard unit."""
    lb = sdtm["LB"]
    lb = lb[lb["USUBJID"].isin(adsl["USUBJID"])]
    records = pd.DataFrame({"USUBJID": lb["USUBJID"], "VISITNUM": lb["VISITNUM"], "LBDTC": lb["LBDTC"],
                            "PARAMCD": lb["LBTESTCD"], "PARAM": lb["LBTEST"] + " (" + lb["LBSTRESU"] + ")",
                            "AVAL": lb["LBSTRESN"], "AVALU": lb["LBSTRESU"], "LBSPEC": lb["LBSPEC"],
                            "PARCAT1": "CSF CYTOKINES", "SRCDOM": "LB", "SRCVAR": "LBSTRESN", "SRCSEQ": lb["LBSEQ"]})
    visits = bds.analysis_visits(records, "LBDTC", bds.visit_anchor(sdtm["SV"], study), study)
    visits = bds.add_baseline(bds.flag_analysis_records(visits), study.baseline_visit.month)
    return finish_bds(visits.drop(columns=["_DIST", "VISITNUM", "LBDTC"]), adsl)


def build_adae(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    """AEs of randomized subjects with analysis dates (start imputed to the first possible day, not
    before randomization; end to the last), TRTEMFL (on or after randomization), ADRFL (related to
    cells or to a study procedure), AESERFL, FATALFL and the 4- and 6-month windows of Table 2:
    start on or before the subject's month-4 (V9) / month-6 (V10) visit, or its end of trial
    participation when it left before that visit."""
    ae = sdtm["AE"]
    ae = ae[ae["USUBJID"].isin(adsl["USUBJID"])].copy()
    subject = adsl.set_index("USUBJID")
    rand = ae["USUBJID"].map(subject["RANDDT"])
    ae["ASTDT"], ae["ASTDTF"] = d.impute_date(ae["AESTDTC"], "first", min_date=rand)
    ae["AENDT"], ae["AENDTF"] = d.impute_date(ae["AEENDTC"], "last")
    ae["ASTDY"] = d.study_day(ae["ASTDT"], ae["USUBJID"].map(subject["RFSTDT"]))
    ae["TRTEMFL"] = np.where(ae["ASTDT"] >= rand, "Y", "")
    related = ae["AEREL"].isin(RELATED) | ae.get("AERLPRT", pd.Series("", index=ae.index)).isin(RELATED)
    ae["ADRFL"] = np.where(related, "Y", "N")
    ae["AESERFL"] = np.where(ae["AESER"] == "Y", "Y", "N")
    ae["FATALFL"] = np.where(ae["AEOUT"] == "FATAL", "Y", "N")
    sv = sdtm["SV"].assign(D=lambda f: bds.to_date(f["SVSTDTC"]))
    end_of_trial = bds.to_date(adsl.set_index("USUBJID")["RFENDTC"])
    for flag, month in (("AW4FL", 4), ("AW6FL", 6)):
        visit = next(v.visitnum for v in study.visits if v.month == month)
        limit = sv[sv["VISITNUM"] == visit].set_index("USUBJID")["D"]
        end = ae["USUBJID"].map(limit).fillna(ae["USUBJID"].map(end_of_trial))
        ae[flag] = np.where(ae["ASTDT"] <= end, "Y", "N")
    for target, source in (("SUBJID", "SUBJID"), ("SITEID", "SITEID"), ("TRT01P", "TRT01P"), ("TRTA", "TRT01A"),
                           ("TRTAN", "TRT01AN"), ("SAFFL", "SAFFL")):
        ae[target] = ae["USUBJID"].map(subject[source])
    return ae.sort_values(["USUBJID", "AESEQ"]).reset_index(drop=True)
