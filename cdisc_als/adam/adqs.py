"""ADQS: ALSFRS-R items, subscores and total, the other questionnaire scores and the slope,
change-in-slope and % improvement (responder) parameters; every parameter, its text and its source
are rows of mappings/metadata/parameters.csv.

ALSFRS-R items and total are the instrument's own rules (bds.alsfrs_items: item 5 = 5b when present;
bds.alsfrs_totals: study.yaml analysis.alsfrs_missing_item_rule, as in ADSL); subscores are `sum(...)`
parameters, collected scores `QS.QSTESTCD=<code>` parameters (params.py), disease stages `stage(KINGS)`
and `stage(MITOS)` parameters (staging.py: per administration, stage 5 at the visits after a death),
slopes the slope functions of slopes.py at the study's slope months and responder thresholds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cdisc_als.adam import bds
from cdisc_als.adam import derive as d
from cdisc_als.adam.assemble import sequence_in_subject, subject_key_order
from cdisc_als.adam.params import attach_param_text, derive_sums, select_findings
from cdisc_als.adam.slopes import derive_slope_params
from cdisc_als.adam.staging import (
    attach_stage_criteria,
    derive_death_stages,
    derive_stage_records,
    stage_specs,
)
from cdisc_als.columnar import frame_of, stack_parts, stacked_columns
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.study import Study


def _visit_records(qs: pd.DataFrame, study: Study,
                   parameters: dict[str, Parameter]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records of every collected and per-administration parameter, the stage records with their
    CRITy columns: those are set on the analysis records at the end, not carried through the windows)."""
    collected = bds.alsfrs_items(qs)
    items = collected.rename(columns={"QSDTC": "DTC", "QSSEQ": "SRCSEQ"})
    items["SRCDOM"], items["SRCVAR"] = "QS", "QSSTRESN"
    totals = bds.alsfrs_totals(items.rename(columns={"DTC": "QSDTC"}), study.analysis.alsfrs_missing_item_rule)
    totals = totals.rename(columns={"QSDTC": "DTC"}).assign(PARAMCD="ALSR1TOT")
    columns = ["USUBJID", "VISITNUM", "DTC", "PARAMCD", "AVAL", "SRCDOM", "SRCVAR", "SRCSEQ"]
    stages = derive_stage_records(qs, parameters, collected)
    parts = [items.reindex(columns=columns), totals.reindex(columns=columns)]
    parts.append(derive_sums(items, parameters).reindex(columns=columns))
    parts.append(select_findings({"QS": qs}, parameters).reindex(columns=columns))
    parts.append(stages.reindex(columns=columns))
    filled = [p for p in parts if len(p)]
    records = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=columns)
    records["SRCDOM"] = records["SRCDOM"].fillna("")
    records["SRCVAR"] = records["SRCVAR"].fillna("")
    return records[records["PARAMCD"].isin(parameters)], stages


SUBJECTS_PER_PART = 2000     # ADQS is derived for this many subjects at a time (a bounded working set)


def build_adqs(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, study: Study,
               parameters: dict[str, Parameter],
               hand_over: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """ADQS from SDTM QS and SV, derived SUBJECTS_PER_PART subjects at a time (every ADQS derivation is
    within one subject), the parts stacked in USUBJID order, with the working memory of one part. Once
    finalized (pipeline.finalize_adam) these are the records of one pass; before, a column that only some
    parts derive (DTYPE when none of a part's subjects died, King's CRITy when none of its stages has them)
    is missing (NaN) in the others' records and may stand later in the column order.

    `hand_over`: each part, in order, is handed to it as soon as it is derived, and what it returns is
    stacked in its place (e.g. the part is kept finalized and compact elsewhere, adam.parted, and only the
    records that ADTTE and ADCAFS read are returned)."""
    missing = [f"{name}.USUBJID" for name, frame in (("QS", sdtm["QS"]), ("SV", sdtm["SV"]), ("ADSL", adsl))
               if "USUBJID" not in frame.columns]
    if missing:
        raise KeyError(f"build_adqs: missing required column(s) {missing}")
    subjects = np.sort(adsl["USUBJID"].astype(str).unique())
    take = hand_over or (lambda part: part)
    if len(subjects) <= SUBJECTS_PER_PART:
        return take(_build_adqs_part(sdtm["QS"], sdtm["SV"], adsl, study, parameters))
    bounds = subjects[::SUBJECTS_PER_PART]             # first subject of each part, in USUBJID order
    part_of = {name: np.searchsorted(bounds, sdtm[name]["USUBJID"].astype(str).to_numpy(), side="right") - 1
               for name in ("QS", "SV")}
    adsl_part = np.searchsorted(bounds, adsl["USUBJID"].astype(str).to_numpy(), side="right") - 1
    parts = []
    for part in range(len(bounds)):
        rows = {name: np.flatnonzero(part_of[name] == part) for name in part_of}
        parts.append(take(_build_adqs_part(sdtm["QS"].take(rows["QS"]), sdtm["SV"].take(rows["SV"]),
                                           adsl[adsl_part == part], study, parameters)))
    return stack_parts(parts)


def _build_adqs_part(qs: pd.DataFrame, sv: pd.DataFrame, adsl: pd.DataFrame, study: Study,
                     parameters: dict[str, Parameter]) -> pd.DataFrame:
    anchor = bds.visit_anchor(sv, study)
    records, stage_records = _visit_records(qs, study, parameters)
    records = records[records["USUBJID"].isin(adsl["USUBJID"])]
    visits = bds.analysis_visits(records, "DTC", anchor, study)
    visits = bds.flag_analysis_records(visits)
    deaths = derive_death_stages(visits, adsl, anchor, study, parameters)
    if len(deaths):
        visits = pd.concat([visits, deaths.assign(_DIST=0.0)], ignore_index=True)
    visits = bds.add_baseline(visits, study.baseline_visit.month)
    stages = visits["PARAMCD"].isin(stage_specs(parameters))
    visits.loc[stages, "PCHG"] = float("nan")   # a percent change of an ordinal stage means nothing
    visits = attach_stage_criteria(visits, stage_records)
    slopes = derive_slope_params(visits, parameters, adsl, study)
    slopes["ADT"] = slopes["AENDT"]
    slopes["ADY"] = d.study_day(slopes["ADT"], slopes["USUBJID"].map(adsl.set_index("USUBJID")["RFSTDT"]))
    slopes["ANL01FL"] = "Y"
    visits = attach_param_text(visits.drop(columns=["_DIST", "VISITNUM", "DTC"]), parameters, "ADQS")
    return finish_bds(visits, adsl, attach_param_text(slopes, parameters, "ADQS"))


def finish_bds(frame: pd.DataFrame, adsl: pd.DataFrame, *more: pd.DataFrame) -> pd.DataFrame:
    """Treatment and population variables from ADSL and ASEQ; sorted by subject, PARAMN (the
    parameters.csv order), visit and date. `more`: further records stacked under `frame` (as pd.concat,
    but column by column: the records are copied once, in their final order)."""
    subject = adsl.set_index("USUBJID")
    keys = ["PARAMN", "AVISITN", "ADT"]
    columns = stacked_columns([frame, *more])
    codes, subjects = pd.factorize(columns["USUBJID"] if columns else frame["USUBJID"], use_na_sentinel=True)
    order = subject_key_order(codes, subjects, [columns[k] for k in keys]) if columns else None
    if order is None:               # other kinds of keys or columns: pandas' concat and sort
        return _finish_sorted(pd.concat([frame, *more], ignore_index=True) if more else frame, subject)
    arrays = {name: values[order] for name, values in columns.items()}
    sorted_codes = codes[order]
    for target, source in ADSL_VARIABLES:
        arrays[target] = _per_subject(subject[source], subjects)[sorted_codes]
    arrays["ASEQ"] = sequence_in_subject(sorted_codes)
    return frame_of(arrays)


ADSL_VARIABLES = (("STUDYID", "STUDYID"), ("SUBJID", "SUBJID"), ("SITEID", "SITEID"), ("TRTP", "TRT01P"),
                  ("TRTPN", "TRT01PN"), ("TRTA", "TRT01A"), ("FASFL", "FASFL"))


def _per_subject(values: pd.Series, subjects) -> np.ndarray:
    """values (indexed by USUBJID) of each subject, then a missing value for code -1."""
    mapped = pd.Series(subjects).map(values).to_numpy()
    return np.concatenate([mapped, np.array([np.nan], dtype=mapped.dtype if mapped.dtype != object else object)])


def _finish_sorted(frame: pd.DataFrame, subject: pd.DataFrame) -> pd.DataFrame:
    codes, subjects = pd.factorize(frame["USUBJID"], use_na_sentinel=True)   # one lookup per subject
    frame = frame.copy(deep=False)          # the columns below are new arrays: the input is never written
    for target, source in ADSL_VARIABLES:
        frame[target] = _per_subject(subject[source], subjects)[codes]
    frame = frame.sort_values(["USUBJID", "PARAMN", "AVISITN", "ADT"], kind="stable")
    frame.index = pd.RangeIndex(len(frame))
    frame["ASEQ"] = (frame.groupby("USUBJID").cumcount() + 1).astype(float)
    return frame
