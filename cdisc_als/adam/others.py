"""ADRE (FVC), ADLB (CSF cytokines) and ADAE (adverse events), built from the same helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.adam import bds
from cdisc_als.adam import derive as d
from cdisc_als.adam.adqs import finish_bds
from cdisc_als.adam.params import attach_param_text, select_findings
from cdisc_als.adam.slopes import derive_slope_params
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.study import Study

RELATED = ("POSSIBLY RELATED", "PROBABLY RELATED", "DEFINITELY RELATED")


def build_adre(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study,
               parameters: dict[str, Parameter]) -> pd.DataFrame:
    """Respiratory results (`RE.RETESTCD=<code>` parameters of parameters.csv) by analysis visit with
    BASE/CHG, and the slope parameters (slopes.py) at the study's slope months."""
    records = select_findings({"RE": sdtm["RE"]}, parameters)
    records = records[records["USUBJID"].isin(adsl["USUBJID"])]
    visits = bds.analysis_visits(records, "DTC", bds.visit_anchor(sdtm["SV"], study), study)
    visits = bds.add_baseline(bds.flag_analysis_records(visits), study.baseline_visit.month)
    slopes = derive_slope_params(visits, parameters, adsl, study).assign(ANL01FL="Y")
    slopes["ADT"] = slopes["AENDT"]
    adre = pd.concat([visits.drop(columns=["_DIST", "VISITNUM", "DTC"]), slopes], ignore_index=True)
    return finish_bds(attach_param_text(adre, parameters, "ADRE"), adsl)


def build_adlb(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    """LB results by analysis visit with the change from baseline; PARAMCD = LBTESTCD, PARAM = LBTEST
    (LBSTRESU), AVALU = standard unit, PARCAT1 = LBCAT (the parameters are the data's tests)."""
    lb = sdtm["LB"]
    lb = lb[lb["USUBJID"].isin(adsl["USUBJID"])]
    records = pd.DataFrame({"USUBJID": lb["USUBJID"], "VISITNUM": lb["VISITNUM"], "LBDTC": lb["LBDTC"],
                            "PARAMCD": lb["LBTESTCD"], "PARAM": lb["LBTEST"] + " (" + lb["LBSTRESU"] + ")",
                            "AVAL": lb["LBSTRESN"], "AVALU": lb["LBSTRESU"], "LBSPEC": lb["LBSPEC"],
                            "PARCAT1": lb["LBCAT"] if "LBCAT" in lb else "", "SRCDOM": "LB", "SRCVAR": "LBSTRESN",
                            "SRCSEQ": lb["LBSEQ"]})
    visits = bds.analysis_visits(records, "LBDTC", bds.visit_anchor(sdtm["SV"], study), study)
    visits = bds.add_baseline(bds.flag_analysis_records(visits), study.baseline_visit.month)
    visits = visits.drop(columns=["_DIST", "VISITNUM", "LBDTC"])
    order = {code: float(k) for k, code in enumerate(sorted(visits["PARAMCD"].unique()), start=1)}
    return finish_bds(visits.assign(PARAMN=visits["PARAMCD"].map(order)), adsl)


def build_adae(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    """AEs of randomized subjects with analysis dates (start imputed to the first possible day, not
    before randomization; end to the last), TRTEMFL (on or after randomization), ADRFL (related to
    cells or to a study procedure), AESERFL, FATALFL and the window flags of study.yaml
    analysis.ae_windows: Y when the AE starts on or before the subject's window visit, or its end of
    trial participation (RFENDTC) when it left before that visit."""
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
    for window in study.analysis.ae_windows:
        flag, visit = window.flag, study.visit(window.visit).visitnum
        limit = sv[sv["VISITNUM"] == visit].groupby("USUBJID")["D"].min()
        end = ae["USUBJID"].map(limit).fillna(ae["USUBJID"].map(end_of_trial))
        ae[flag] = np.where(ae["ASTDT"] <= end, "Y", "N")
    for target, source in (("SUBJID", "SUBJID"), ("SITEID", "SITEID"), ("TRT01P", "TRT01P"), ("TRTA", "TRT01A"),
                           ("TRTAN", "TRT01AN"), ("SAFFL", "SAFFL")):
        ae[target] = ae["USUBJID"].map(subject[source])
    return ae.sort_values(["USUBJID", "AESEQ"]).reset_index(drop=True)
