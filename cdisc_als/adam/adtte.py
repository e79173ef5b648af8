"""ADTTE: survival and ALS milestones, one record per subject per parameter of parameters.csv.

Origin STARTDT = the date of study.yaml `survival.origin_visit` (SV). AVAL = (ADT - STARTDT + 1) /
month_length_days months. Events: the `source` of each parameter in parameters.csv, tokens separated
by ';':
  DM.DTHDTC                 death (ADSL.DTHDT)
  <DOM>.<VAR>=<VALUE>       records of SDTM domain DOM whose VAR equals VALUE, dated by <DOM>STDTC
                            (or <DOM>DTC), SRCSEQ = <DOM>SEQ
The earliest event wins. Censoring, latest date wins, ties in this order: 3 = started another MSC
therapy (SUPPSS SSOTHMSC = Y), 4 = died without the event (parameters whose events do not include
death), 1 = last known alive date. Data cut-off (study.yaml survival.cutoff_date): events after it
are not events, and a censoring on or after it is a censoring at it (CNSR 2, DATA CUT-OFF DATE).
"""

from __future__ import annotations

import pandas as pd

from cdisc_als.adam import derive as d
from cdisc_als.adam.bds import to_date
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.study import Study

DEATH_TOKEN = "DM.DTHDTC"


def _date_variable(frame: pd.DataFrame, domain: str) -> str | None:
    return next((c for c in (f"{domain}STDTC", f"{domain}DTC") if c in frame.columns), None)


def event_source(token: str, sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame) -> d.EventSource:
    """The dated records one source token of parameters.csv selects (no records when the domain is absent)."""
    if token == DEATH_TOKEN:
        return d.EventSource("DEATH", pd.DataFrame({"USUBJID": adsl["USUBJID"], "DATE": adsl["DTHDT"]}), 0,
                             "DEATH", "DM", "DTHDTC")
    target, _, value = token.partition("=")
    domain, _, variable = target.partition(".")
    frame = sdtm.get(domain)
    empty = pd.DataFrame({"USUBJID": pd.Series(dtype=str), "DATE": pd.Series(dtype="datetime64[ns]")})
    date_var = _date_variable(frame, domain) if frame is not None else None
    if frame is None or variable not in frame.columns or date_var is None:
        return d.EventSource(token, empty, 0, value or token, domain, date_var or "")
    rows = frame[frame[variable] == value]
    data = pd.DataFrame({"USUBJID": rows["USUBJID"], "DATE": to_date(rows[date_var])})
    if f"{domain}SEQ" in rows:
        data["SRCSEQ"] = rows[f"{domain}SEQ"].to_numpy()
    return d.EventSource(token, data, 0, value, domain, date_var)


def _censor_sources(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, death_is_event: bool) -> list[d.EventSource]:
    sources = []
    ss, supp = sdtm.get("SS"), sdtm.get("SUPPSS")
    if ss is not None and supp is not None and len(supp):
        flagged = supp[(supp["QNAM"] == "SSOTHMSC") & (supp["QVAL"] == "Y")]
        keys = set(zip(flagged["USUBJID"], pd.to_numeric(flagged["IDVARVAL"], errors="coerce"), strict=True))
        rows = ss[[(u, float(s)) in keys for u, s in zip(ss["USUBJID"], ss["SSSEQ"], strict=True)]]
        sources.append(d.EventSource("OTHERMSC", pd.DataFrame({"USUBJID": rows["USUBJID"], "DATE": to_date(rows["SSDTC"]),
                                                               "SRCSEQ": rows["SSSEQ"]}),
                                     3, "STARTED ANOTHER MSC THERAPY", "SS", "SSDTC"))
    if not death_is_event:
        dead = adsl.dropna(subset=["DTHDT"])
        sources.append(d.EventSource("DIED", pd.DataFrame({"USUBJID": dead["USUBJID"], "DATE": dead["DTHDT"]}), 4,
                                     "DEATH WITHOUT EVENT", "DM", "DTHDTC"))
    alive = adsl[["USUBJID", "LSTALVDT"]].rename(columns={"LSTALVDT": "DATE"})
    sources.append(d.EventSource("LASTALIVE", alive, 1, "LAST KNOWN ALIVE DATE", "ADSL", "LSTALVDT"))
    return sources


def origin_dates(sv: pd.DataFrame, study: Study) -> pd.Series:
    """USUBJID -> date of the time-to-event origin visit (study.yaml survival.origin_visit)."""
    visit = study.survival_origin
    rows = sv[sv["VISITNUM"] == visit.visitnum]
    return rows.assign(D=to_date(rows["SVSTDTC"])).dropna(subset=["D"]).groupby("USUBJID")["D"].min()


def build_adtte(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study,
                parameters: dict[str, Parameter]) -> pd.DataFrame:
    start = adsl["USUBJID"].map(origin_dates(sdtm["SV"], study))
    subjects = adsl[["USUBJID"]].assign(STARTDT=start).dropna(subset=["STARTDT"])
    cutoff = d.DataCutoff(pd.Timestamp(study.survival_cutoff))
    parts = []
    for paramn, (paramcd, parameter) in enumerate(parameters.items(), start=1):
        tokens = [t.strip() for t in parameter.source.split(";") if t.strip()]
        events = [event_source(t, sdtm, adsl) for t in tokens]
        censors = _censor_sources(sdtm, adsl, death_is_event=DEATH_TOKEN in tokens)
        tte = d.derive_tte(subjects, events, censors, study.month_length_days, cutoff)
        tte["PARAMCD"], tte["PARAM"], tte["PARCAT1"], tte["PARAMN"] = (paramcd, parameter.param, parameter.parcat1,
                                                                       float(paramn))
        parts.append(tte)
    adtte = pd.concat(parts, ignore_index=True)
    subject = adsl.set_index("USUBJID")
    carried = ["STUDYID", "FASFL", "AGE", "SEX", "ONSETSIT", *(g.variable for g in study.analysis.subgroups),
               *(f"{g.variable}N" for g in study.analysis.subgroups)]
    for target, source in (("TRTP", "TRT01P"), ("TRTPN", "TRT01PN"), *((c, c) for c in carried)):
        if source in subject:
            adtte[target] = adtte["USUBJID"].map(subject[source])
    return adtte.sort_values(["USUBJID", "PARAMN"]).reset_index(drop=True)
