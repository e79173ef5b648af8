"""ADTTE: survival and ALS milestones from the screening visit (V1), as the paper analysed them.

Origin STARTDT = V1 date (study.yaml survival.origin_visit). AVAL = (ADT - STARTDT + 1)/30.4375
months. Censoring, latest date wins, ties in this order: 2 = alive at the survival cut-off
(study.yaml survival.cutoff_date), 3 = started another MSC therapy (SUPPSS SSOTHMSC = Y),
4 = died without the event (milestone parameters only), 1 = last known alive date.
"""

from __future__ import annotations

import pandas as pd

from cdisc_als.adam import derive as d
from cdisc_als.adam.bds import to_date
from cdisc_als.study import Study

PARAMS = [
    ("TTDEATH", "Time from Screening (V1) to Death (Months)", ["DEATH"]),
    ("TTDTRACH", "Time from Screening (V1) to Death or Tracheostomy (Months)", ["DEATH", "TRACHEOSTOMY"]),
    ("TTTRACH", "Time from Screening (V1) to Tracheostomy (Months)", ["TRACHEOSTOMY"]),
    ("TTPEG", "Time from Screening (V1) to Gastrostomy (Months)", ["GASTROSTOMY"]),
    ("TTNIV", "Time from Screening (V1) to Non-Invasive Ventilation (Months)", ["NIV"]),
]
PROCEDURES = {"TRACHEOSTOMY": "TRACHEOSTOMY", "GASTROSTOMY": "PERCUTANEOUS ENDOSCOPIC GASTROSTOMY",
              "NIV": "NON-INVASIVE MECHANICAL VENTILATION"}


def _sources(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> dict[str, d.EventSource]:
    pr = sdtm.get("PR", pd.DataFrame(columns=["USUBJID", "PRDECOD", "PRSTDTC", "PRSEQ"]))
    out = {"DEATH": d.EventSource("DEATH", pd.DataFrame({"USUBJID": adsl["USUBJID"], "DATE": adsl["DTHDT"]}), 0,
                                  "DEATH", "DM", "DTHDTC")}
    for key, decod in PROCEDURES.items():
        rows = pr[pr["PRDECOD"] == decod]
        out[key] = d.EventSource(key, pd.DataFrame({"USUBJID": rows["USUBJID"], "DATE": to_date(rows["PRSTDTC"]),
                                                    "SRCSEQ": rows["PRSEQ"]}), 0, decod, "PR", "PRSTDTC")
    cutoff = pd.Timestamp(study.survival_cutoff)
    alive = adsl[adsl["DTHDT"].isna()]
    at_cutoff = alive[alive["LSTALVDT"] >= cutoff]
    out["CUTOFF"] = d.EventSource("CUTOFF", pd.DataFrame({"USUBJID": at_cutoff["USUBJID"], "DATE": cutoff}), 2,
                                  "DATA CUT-OFF DATE", "ADSL", "LSTALVDT")
    ss, supp = sdtm.get("SS"), sdtm.get("SUPPSS")
    if ss is not None and supp is not None and len(supp):
        flagged = supp[(supp["QNAM"] == "SSOTHMSC") & (supp["QVAL"] == "Y")]
        keys = set(zip(flagged["USUBJID"], flagged["IDVARVAL"].astype(float), strict=True))
        rows = ss[[(u, float(s)) in keys for u, s in zip(ss["USUBJID"], ss["SSSEQ"], strict=True)]]
        out["OTHERMSC"] = d.EventSource("OTHERMSC", pd.DataFrame({"USUBJID": rows["USUBJID"], "DATE": to_date(rows["SSDTC"]),
                                                                  "SRCSEQ": rows["SSSEQ"]}),
                                        3, "STARTED ANOTHER MSC THERAPY", "SS", "SSDTC")
    dead = adsl.dropna(subset=["DTHDT"])
    out["DIED"] = d.EventSource("DIED", pd.DataFrame({"USUBJID": dead["USUBJID"], "DATE": dead["DTHDT"]}), 4,
                                "DEATH WITHOUT EVENT", "DM", "DTHDTC")
    lstalv = adsl[["USUBJID", "LSTALVDT"]].rename(columns={"LSTALVDT": "DATE"})
    lstalv["DATE"] = lstalv["DATE"].where(lstalv["DATE"] <= cutoff, cutoff)
    out["LASTALIVE"] = d.EventSource("LASTALIVE", lstalv, 1, "LAST KNOWN ALIVE DATE", "ADSL", "LSTALVDT")
    return out


def build_adtte(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study) -> pd.DataFrame:
    sources = _sources(sdtm, adsl, study)
    subjects = adsl[["USUBJID"]].assign(STARTDT=adsl["V1DT"]).dropna(subset=["STARTDT"])
    parts = []
    for paramn, (paramcd, param, events) in enumerate(PARAMS, start=1):
        censor_names = ["CUTOFF", "OTHERMSC"] + ([] if "DEATH" in events else ["DIED"]) + ["LASTALIVE"]
        tte = d.derive_tte(subjects, [sources[e] for e in events], [sources[c] for c in censor_names if c in sources])
        tte["PARAMCD"], tte["PARAM"], tte["PARAMN"] = paramcd, param, float(paramn)
        parts.append(tte)
    adtte = pd.concat(parts, ignore_index=True)
    subject = adsl.set_index("USUBJID")
    for target, source in (("STUDYID", "STUDYID"), ("TRTP", "TRT01P"), ("TRTPN", "TRT01PN"), ("FASFL", "FASFL"),
                           ("AGE", "AGE"), ("AGEGR1", "AGEGR1"), ("SEX", "SEX"), ("ONSETSIT", "ONSETSIT")):
        adtte[target] = adtte["USUBJID"].map(subject[source])
    return adtte.sort_values(["USUBJID", "PARAMN"]).reset_index(drop=True)
