"""ADTTE: survival and ALS milestones, one record per subject per parameter of parameters.csv.

Origin STARTDT = the date of study.yaml `survival.origin_visit` (SV). AVAL = (ADT - STARTDT + 1) /
month_length_days months. Events: the `source` of each parameter in parameters.csv, tokens separated
by ';':
  DM.DTHDTC                 death (ADSL.DTHDT)
  <DOM>.<VAR>=<VALUE>       records of SDTM domain DOM whose VAR equals VALUE, dated by <DOM>STDTC
                            (or <DOM>DTC), SRCSEQ = <DOM>SEQ; a record with <DOM>OCCUR = N (the
                            procedure did not take place) is never an event
  PAV(<DOM>.<VAR>=<VALUE>)  permanent assisted ventilation: the daily NIV records so selected, hours
                            from <DOM>DUR, reduced to the first day of PAV (ventilation.py; definition
                            in study.yaml survival.permanent_ventilation)
  <ADAM>.<PARAMCD>>BASE     the analysis records (ANL01FL = Y) of an ADaM BDS parameter after the
                            baseline visit with AVAL > BASE (e.g. ADQS.KINGSTG>BASE: stage progression),
                            dated by ADT, SRCSEQ = ASEQ; only subjects with a BASE have a record, and
                            they are censored at their last analysis record of the parameter (CNSR 1,
                            LAST ASSESSMENT) instead of the last known alive date
The earliest event wins. Censoring, latest date wins, ties in this order: 3 = started another MSC
therapy (SUPPSS SSOTHMSC = Y), 4 = died without the event (parameters whose events do not include
death), 1 = last known alive date. Data cut-off (study.yaml survival.cutoff_date): events after it
are not events, and a censoring on or after it is a censoring at it (CNSR 2, DATA CUT-OFF DATE).
"""

from __future__ import annotations

import re

import pandas as pd

from cdisc_als.adam import derive as d
from cdisc_als.adam.bds import to_date
from cdisc_als.adam.ventilation import derive_pav_onset, duration_hours
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.study import Study

DEATH_TOKEN = "DM.DTHDTC"
PAV_TOKEN = re.compile(r"PAV\((.+)\)")
ADAM_TOKEN = re.compile(r"(AD[A-Z0-9]{1,6})\.([A-Z][A-Z0-9]{0,7})>BASE")
EMPTY = pd.DataFrame({"USUBJID": pd.Series(dtype=str), "DATE": pd.Series(dtype="datetime64[ns]")})


def _date_variable(frame: pd.DataFrame, domain: str) -> str | None:
    return next((c for c in (f"{domain}STDTC", f"{domain}DTC") if c in frame.columns), None)


def _selected_records(token: str, sdtm: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame | None, str, str, str]:
    """(records of `<DOM>.<VAR>=<VALUE>` that took place, domain, date variable, value); None when the
    domain or variable is absent."""
    target, _, value = token.partition("=")
    domain, _, variable = target.partition(".")
    frame = sdtm.get(domain)
    date_var = _date_variable(frame, domain) if frame is not None else None
    if frame is None or variable not in frame.columns or date_var is None:
        return None, domain, date_var or "", value or token
    # only the variables an event source reads are copied (PR holds a record per day of NIV use)
    used = [c for c in dict.fromkeys(("USUBJID", variable, date_var, f"{domain}SEQ", f"{domain}DUR",
                                      f"{domain}OCCUR")) if c in frame.columns]
    selected = (frame[variable] == value).to_numpy()
    if f"{domain}OCCUR" in frame.columns:
        selected &= (frame[f"{domain}OCCUR"] != "N").to_numpy()
    return frame.loc[selected, used], domain, date_var, value


def _dated(rows: pd.DataFrame, domain: str, date_var: str) -> pd.DataFrame:
    data = pd.DataFrame({"USUBJID": rows["USUBJID"], "DATE": to_date(rows[date_var])})
    if f"{domain}SEQ" in rows:
        data["SRCSEQ"] = rows[f"{domain}SEQ"].to_numpy()
    return data


def event_source(token: str, sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study | None = None,
                 adam: dict[str, pd.DataFrame] | None = None) -> d.EventSource:
    """The dated records one source token of parameters.csv selects (no records when the domain is absent)."""
    if token == DEATH_TOKEN:
        return d.EventSource("DEATH", pd.DataFrame({"USUBJID": adsl["USUBJID"], "DATE": adsl["DTHDT"]}), 0,
                             "DEATH", "DM", "DTHDTC")
    pav = PAV_TOKEN.fullmatch(token)
    if pav:
        rows, domain, date_var, _ = _selected_records(pav.group(1), sdtm)
        if rows is None or f"{domain}DUR" not in rows.columns or study is None:
            return d.EventSource(token, EMPTY, 0, "PERMANENT ASSISTED VENTILATION", domain, f"{domain}DUR")
        daily = _dated(rows, domain, date_var).assign(HOURS=duration_hours(rows[f"{domain}DUR"]).to_numpy())
        onset = derive_pav_onset(daily, study.survival.permanent_ventilation)
        return d.EventSource(token, onset, 0, "PERMANENT ASSISTED VENTILATION", domain, f"{domain}DUR")
    progression = ADAM_TOKEN.fullmatch(token)
    if progression:
        dataset, paramcd = progression.groups()
        records = analysis_records((adam or {}).get(dataset), paramcd)
        after = records["AVISITN"] > (study.baseline_visit.month if study is not None else 0.0)
        worse = records[after & (records["AVAL"] > records["BASE"])]
        return d.EventSource(token, pd.DataFrame({"USUBJID": worse["USUBJID"], "DATE": worse["ADT"],
                                                  "SRCSEQ": worse["ASEQ"]}),
                             0, f"{paramcd} ABOVE BASELINE", dataset, "AVAL")
    rows, domain, date_var, value = _selected_records(token, sdtm)
    if rows is None:
        return d.EventSource(token, EMPTY, 0, value, domain, date_var)
    return d.EventSource(token, _dated(rows, domain, date_var), 0, value, domain, date_var)


ANALYSIS_COLUMNS = ["USUBJID", "ADT", "AVAL", "BASE", "ASEQ", "AVISITN"]     # what analysis_records keeps


def analysis_records(frame: pd.DataFrame | None, paramcd: str) -> pd.DataFrame:
    """The analysis records (ANL01FL = Y, AVAL present) of one parameter of a BDS dataset: USUBJID, ADT,
    AVAL, BASE, ASEQ, AVISITN (none when the dataset or a column is absent)."""
    if frame is None or not {*ANALYSIS_COLUMNS, "PARAMCD", "ANL01FL"} <= set(frame.columns):
        return pd.DataFrame(columns=ANALYSIS_COLUMNS)
    rows = frame[(frame["PARAMCD"] == paramcd) & (frame["ANL01FL"] == "Y") & frame["AVAL"].notna()]
    return rows[ANALYSIS_COLUMNS]


def _tokens(parameter: Parameter) -> list[str]:
    """The event tokens of a time-to-event parameter's source (';'-separated)."""
    return [t.strip() for t in parameter.source.split(";") if t.strip()]


def _censor_sources(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, death_is_event: bool,
                    assessments: d.EventSource | None = None) -> list[d.EventSource]:
    sources = []
    ss, supp = sdtm.get("SS"), sdtm.get("SUPPSS")
    if ss is not None and supp is not None and len(supp):
        flagged = supp[(supp["QNAM"] == "SSOTHMSC") & (supp["QVAL"] == "Y")]
        keys = pd.MultiIndex.from_arrays([flagged["USUBJID"].to_numpy(object),
                                          pd.to_numeric(flagged["IDVARVAL"], errors="coerce").to_numpy(float)])
        rows = ss[pd.MultiIndex.from_arrays([ss["USUBJID"].to_numpy(object),
                                             ss["SSSEQ"].to_numpy(float)]).isin(keys) & ss["SSSEQ"].notna()]
        sources.append(d.EventSource("OTHERMSC", pd.DataFrame({"USUBJID": rows["USUBJID"], "DATE": to_date(rows["SSDTC"]),
                                                               "SRCSEQ": rows["SSSEQ"]}),
                                     3, "STARTED ANOTHER MSC THERAPY", "SS", "SSDTC"))
    if not death_is_event:
        dead = adsl.dropna(subset=["DTHDT"])
        sources.append(d.EventSource("DIED", pd.DataFrame({"USUBJID": dead["USUBJID"], "DATE": dead["DTHDT"]}), 4,
                                     "DEATH WITHOUT EVENT", "DM", "DTHDTC"))
    if assessments is not None:
        sources.append(assessments)
        return sources
    alive = adsl[["USUBJID", "LSTALVDT"]].rename(columns={"LSTALVDT": "DATE"})
    sources.append(d.EventSource("LASTALIVE", alive, 1, "LAST KNOWN ALIVE DATE", "ADSL", "LSTALVDT"))
    return sources


def _last_assessment(tokens: list[str], adam: dict[str, pd.DataFrame] | None) -> tuple[d.EventSource | None, set]:
    """For a parameter with an `<ADAM>.<PARAMCD>>BASE` token: the censoring at the last analysis record of
    that parameter (CNSR 1, LAST ASSESSMENT) and the subjects with a baseline value; (None, set()) else."""
    match = next((m for m in map(ADAM_TOKEN.fullmatch, tokens) if m), None)
    if match is None:
        return None, set()
    dataset, paramcd = match.groups()
    records = analysis_records((adam or {}).get(dataset), paramcd)
    last = records.sort_values(["USUBJID", "ADT"]).groupby("USUBJID", sort=False).tail(1)
    source = d.EventSource("LASTASSESS", pd.DataFrame({"USUBJID": last["USUBJID"], "DATE": last["ADT"],
                                                       "SRCSEQ": last["ASEQ"]}),
                           1, "LAST ASSESSMENT", dataset, "ADT")
    return source, set(records.loc[records["BASE"].notna(), "USUBJID"])


def adam_parameters_read(parameters: dict[str, Parameter]) -> dict[str, set[str]]:
    """The parameter codes of each ADaM dataset that the `<ADAM>.<PARAMCD>>BASE` tokens of these time-to-event
    parameters read, e.g. {'ADQS': {'KINGSTG'}}."""
    wanted: dict[str, set[str]] = {}
    for parameter in parameters.values():
        for match in filter(None, map(ADAM_TOKEN.fullmatch, _tokens(parameter))):
            wanted.setdefault(match.group(1), set()).add(match.group(2))
    return wanted


def _token_records(parameters: dict[str, Parameter],
                   adam: dict[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame] | None:
    """The BDS datasets cut to what the `<ADAM>.<PARAMCD>>BASE` tokens read: the analysis records (ANL01FL =
    Y) of those parameters and the columns analysis_records keeps, selected once for every parameter
    that reads them (a dataset without PARAMCD or ANL01FL is passed on as it is)."""
    if not adam:
        return adam
    out = dict(adam)
    for dataset, codes in adam_parameters_read(parameters).items():
        frame = adam.get(dataset)
        if frame is None or not {"PARAMCD", "ANL01FL"} <= set(frame.columns):
            continue
        keep = [c for c in (*ANALYSIS_COLUMNS, "PARAMCD", "ANL01FL") if c in frame.columns]
        out[dataset] = frame.loc[frame["PARAMCD"].isin(codes) & (frame["ANL01FL"] == "Y"), keep]
    return out


def origin_dates(sv: pd.DataFrame, study: Study) -> pd.Series:
    """USUBJID -> date of the time-to-event origin visit (study.yaml survival.origin_visit)."""
    visit = study.survival_origin
    rows = sv[sv["VISITNUM"] == visit.visitnum]
    return rows.assign(D=to_date(rows["SVSTDTC"])).dropna(subset=["D"]).groupby("USUBJID")["D"].min()


def build_adtte(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study,
                parameters: dict[str, Parameter], adam: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One record per subject and parameter; `adam` holds the BDS datasets that `<ADAM>.<PARAMCD>>BASE`
    tokens read (e.g. {'ADQS': adqs})."""
    adam = _token_records(parameters, adam)
    start = adsl["USUBJID"].map(origin_dates(sdtm["SV"], study))
    subjects = adsl[["USUBJID"]].assign(STARTDT=start).dropna(subset=["STARTDT"])
    cutoff = d.DataCutoff(pd.Timestamp(study.survival_cutoff))
    parts = []
    selected: dict[str, d.EventSource] = {}        # a token shared by several parameters is selected once
    censoring: dict[bool, list[d.EventSource]] = {}     # by whether death is an event
    for paramn, (paramcd, parameter) in enumerate(parameters.items(), start=1):
        tokens = _tokens(parameter)
        events = [selected[t] if t in selected else selected.setdefault(t, event_source(t, sdtm, adsl, study, adam))
                  for t in tokens]
        assessments, with_baseline = _last_assessment(tokens, adam)
        death = DEATH_TOKEN in tokens
        if death not in censoring:
            censoring[death] = _censor_sources(sdtm, adsl, death_is_event=death)
        # the last known alive date (last of the list) gives way to the last assessment when there is one
        censors = censoring[death] if assessments is None else [*censoring[death][:-1], assessments]
        eligible = subjects if assessments is None else subjects[subjects["USUBJID"].isin(with_baseline)]
        if eligible.empty:
            continue
        tte = d.derive_tte(eligible, events, censors, study.month_length_days, cutoff)
        tte["PARAMCD"], tte["PARAM"], tte["PARCAT1"], tte["PARAMN"] = (paramcd, parameter.param, parameter.parcat1,
                                                                       float(paramn))
        parts.append(tte)
    if not parts:
        return pd.DataFrame(columns=["USUBJID", "STARTDT", "ADT", "AVAL", "CNSR", "PARAMCD", "PARAM", "PARAMN"])
    adtte = pd.concat(parts, ignore_index=True)
    subject = adsl.set_index("USUBJID")
    carried = ["STUDYID", "FASFL", "AGE", "SEX", "ONSETSIT", *(g.variable for g in study.analysis.subgroups),
               *(f"{g.variable}N" for g in study.analysis.subgroups)]
    for target, source in (("TRTP", "TRT01P"), ("TRTPN", "TRT01PN"), *((c, c) for c in carried)):
        if source in subject:
            adtte[target] = adtte["USUBJID"].map(subject[source])
    return adtte.sort_values(["USUBJID", "PARAMN"]).reset_index(drop=True)
