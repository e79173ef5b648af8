"""Disease stages of ALS per ALSFRS-R administration, death being the final stage of both systems.

King's clinical stage estimated from the ALSFRS-R (Balendra R et al., Amyotroph Lateral Scler
Frontotemporal Degener 2014;15:279-284, doi:10.3109/21678421.2014.897357; the staging system of Roche
JC et al., Brain 2012;135:847-852). Items are ALSFRS-R item numbers, 4 = normal:
  region involved      bulbar: item 1, 2 or 3 < 4;  upper limb: item 4 or 5 < 4;  lower limb: item 8 < 4
  stages 1-3           the number of regions involved (a count of 0 is stage 1: every subject with ALS
                       has reached stage 1, the first region, Roche et al. 2012)
  stage 4A             gastrostomy: item 5 answered on the 5b scale (patients with gastrostomy)
  stage 4B             non-invasive ventilation: item 10 (dyspnoea) = 0 or item 12 (respiratory
                       insufficiency) <= 3 (3 = intermittent use of BiPAP)
  stage 4              4A or 4B, whatever the regions (both are flagged: CRIT1FL = 4A, CRIT2FL = 4B)
  stage 5              death

MiToS functional stage (Chio A et al., J Neurol Neurosurg Psychiatry 2015;86:38-44, Table 1): the
number of domains in which independence is lost:
  movement (walking/self-care)  item 8 (walking) <= 1 OR item 6 (dressing and hygiene) <= 1
  swallowing                    item 3 <= 1
  communicating                 item 1 (speech) <= 1 AND item 4 (handwriting) <= 1
  breathing                     item 10 (dyspnoea) <= 1 OR item 12 (respiratory insufficiency) <= 2
  stage 0-4                     the number of domains lost;  stage 5: death

Missing items (neither paper states a rule; ours): an item that is missing makes a criterion unknown
(three-valued logic: 'any of' is met when one known item meets it, 'all of' fails when one known item
fails it), and the stage is derived only when the known items determine it: King's stage 3 needs no
more items once three regions are involved, King's stage 4 none once 4A or 4B is met; otherwise the
administration has no stage record. Item 5 answered on neither scale leaves 4A unknown. The ALSFRS-R
total's missing-item rule (study.yaml analysis.alsfrs_missing_item_rule) does not apply: it imputes a
score, not a threshold.

Death (ADSL.DTHDT, on or before the data cut-off): stage 5 at every scheduled visit after the baseline
visit whose target date (study.yaml visit month x month length from day 1) is on or after the death
date and that has no stage record; these records have DTYPE = PHANTOM, ADT = the death date.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc_als.adam.bds import ALSFRS_ITEMS, alsfrs_items
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.study import Study

STAGE = re.compile(r"\s*stage\(\s*(KINGS|MITOS)\s*\)\s*")
DEATH_STAGE = 5.0
KINGS_4A = "King's stage 4A: gastrostomy (ALSFRS-R item 5b used)"
KINGS_4B = "King's stage 4B: NIV (ALSFRS-R item 10 = 0 or item 12 <= 3)"
ADMIN_KEYS = ["USUBJID", "VISITNUM"]


def stage_specs(parameters: dict[str, Parameter]) -> dict[str, str]:
    """PARAMCD -> 'KINGS' or 'MITOS' for the parameters whose source is `stage(...)`."""
    out = {}
    for code, parameter in parameters.items():
        match = STAGE.fullmatch(parameter.source)
        if match:
            out[code] = match.group(1)
    return out


def item_table(qs: pd.DataFrame, items: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per ALSFRS-R administration (USUBJID, VISITNUM): the 12 item scores (item 5 = 5b when
    answered, else 5a; pandas Float64 with <NA> for a missing item), GASTRO (nullable boolean: True
    when item 5 was answered on the 5b scale, False on the 5a scale, <NA> when on neither) and DTC,
    the date of the administration (its first item's QSDTC). `items`: bds.alsfrs_items(qs) when the
    caller has it already."""
    missing = [c for c in ("USUBJID", "VISITNUM", "QSCAT", "QSTESTCD", "QSSTRESN", "QSDTC") if c not in qs.columns]
    if missing:
        raise KeyError(f"item_table: QS lacks required column(s) {missing}")
    items = alsfrs_items(qs) if items is None else items
    unique = items.drop_duplicates([*ADMIN_KEYS, "PARAMCD"]).set_index([*ADMIN_KEYS, "PARAMCD"])["AVAL"]
    wide = unique.unstack("PARAMCD").reindex(columns=ALSFRS_ITEMS).astype("Float64")
    scale = qs.loc[(qs["QSCAT"] == "ALSFRS-R") & qs["QSTESTCD"].isin(["ALSR105A", "ALSR105B"]),
                   [*ADMIN_KEYS, "QSTESTCD"]]
    gastro = (scale["QSTESTCD"] == "ALSR105B").groupby([scale["USUBJID"], scale["VISITNUM"]]).any()
    wide["GASTRO"] = pd.array(gastro.reindex(wide.index).to_numpy(), dtype="boolean")
    wide["DTC"] = items.groupby(ADMIN_KEYS)["QSDTC"].first().reindex(wide.index)
    return wide.reset_index()


def _item(items: pd.DataFrame, number: int) -> pd.Series:
    return items[f"ALSR1{number:02d}"].astype("Float64")


def _count_determined(criteria: list[pd.Series], low: int = 0) -> tuple[pd.Series, pd.Series]:
    """(number of criteria met, whether that number is determined) under three-valued logic; counts
    below `low` count as `low` (so an unknown criterion cannot matter when the floor absorbs it)."""
    frame = pd.concat(criteria, axis=1)
    met = frame.fillna(False).astype(bool).sum(axis=1)
    unknown = frame.isna().sum(axis=1)
    least = met.clip(lower=low)
    most = (met + unknown).clip(lower=low)
    return least.astype(float), least == most


def derive_kings_stage(items: pd.DataFrame) -> pd.DataFrame:
    """KINGS (stage 1-4 estimated from the ALSFRS-R, NaN when the items do not determine it), KINGS4A and
    KINGS4B ('Y'/'N', '' when unknown) for every administration of `items` (the frame of item_table)."""
    missing = [c for c in [*ALSFRS_ITEMS, "GASTRO"] if c not in items.columns]
    if missing:
        raise KeyError(f"derive_kings_stage: items lack required column(s) {missing}")
    out = items.copy()
    bulbar = (_item(out, 1) < 4) | (_item(out, 2) < 4) | (_item(out, 3) < 4)
    upper = (_item(out, 4) < 4) | (_item(out, 5) < 4)
    lower = _item(out, 8) < 4
    regions, regions_known = _count_determined([bulbar, upper, lower], low=1)
    stage_4a = out["GASTRO"].astype("boolean")
    stage_4b = (_item(out, 10) == 0) | (_item(out, 12) <= 3)
    stage_4 = stage_4a | stage_4b
    not_4 = (~stage_4).fillna(False).to_numpy(bool)
    stage = np.where(stage_4.fillna(False).to_numpy(bool), 4.0,
                     np.where(not_4 & regions_known.to_numpy(bool), regions.to_numpy(float), np.nan))
    out["KINGS"] = stage
    out["KINGS4A"] = _flag(stage_4a)
    out["KINGS4B"] = _flag(stage_4b)
    return out


def derive_mitos_stage(items: pd.DataFrame) -> pd.DataFrame:
    """MITOS (stage 0-4: the domains of independence lost, NaN when the items do not determine it) for
    every administration of `items` (the frame of item_table)."""
    missing = [c for c in ALSFRS_ITEMS if c not in items.columns]
    if missing:
        raise KeyError(f"derive_mitos_stage: items lack required column(s) {missing}")
    out = items.copy()
    movement = (_item(out, 8) <= 1) | (_item(out, 6) <= 1)
    swallowing = _item(out, 3) <= 1
    communicating = (_item(out, 1) <= 1) & (_item(out, 4) <= 1)
    breathing = (_item(out, 10) <= 1) | (_item(out, 12) <= 2)
    lost, known = _count_determined([movement, swallowing, communicating, breathing])
    out["MITOS"] = lost.where(known)
    return out


def _flag(criterion: pd.Series) -> np.ndarray:
    values = criterion.astype("boolean")
    return np.where(values.isna(), "", np.where(values.fillna(False), "Y", "N"))


def derive_stage_records(qs: pd.DataFrame, parameters: dict[str, Parameter],
                         items: pd.DataFrame | None = None) -> pd.DataFrame:
    """The records of every `stage(KINGS)` / `stage(MITOS)` parameter: one per ALSFRS-R administration
    whose items determine the stage (USUBJID, VISITNUM, DTC, PARAMCD, AVAL; King's records also CRIT1/
    CRIT1FL = stage 4A and CRIT2/CRIT2FL = stage 4B). `items`: bds.alsfrs_items(qs), if at hand."""
    specs = stage_specs(parameters)
    columns = ["USUBJID", "VISITNUM", "DTC", "PARAMCD", "AVAL", "CRIT1", "CRIT1FL", "CRIT2", "CRIT2FL"]
    if not specs:
        return pd.DataFrame(columns=columns)
    staged = derive_mitos_stage(derive_kings_stage(item_table(qs, items)))
    parts = []
    for code, system in specs.items():
        part = pd.DataFrame({"USUBJID": staged["USUBJID"], "VISITNUM": staged["VISITNUM"], "DTC": staged["DTC"],
                             "PARAMCD": code, "AVAL": staged[system].astype(float)})
        if system == "KINGS":
            part["CRIT1"], part["CRIT1FL"] = KINGS_4A, staged["KINGS4A"]
            part["CRIT2"], part["CRIT2FL"] = KINGS_4B, staged["KINGS4B"]
            for k in (1, 2):
                part[f"CRIT{k}"] = part[f"CRIT{k}"].where(part[f"CRIT{k}FL"] != "", "")
        parts.append(part[part["AVAL"].notna()])
    return pd.concat(parts, ignore_index=True).reindex(columns=columns)


def attach_stage_criteria(visits: pd.DataFrame, stage_records: pd.DataFrame) -> pd.DataFrame:
    """CRIT1/CRIT1FL and CRIT2/CRIT2FL (King's stage 4A and 4B) of `stage_records` (derive_stage_records)
    set on the matching records of `visits` (same USUBJID, VISITNUM and PARAMCD); other records keep
    what they have (blank when the columns are new)."""
    criteria = [c for c in ("CRIT1", "CRIT1FL", "CRIT2", "CRIT2FL") if c in stage_records.columns]
    keys = ["USUBJID", "VISITNUM", "PARAMCD"]
    flagged = stage_records[stage_records[criteria].fillna("").ne("").any(axis=1)] if criteria else stage_records
    if flagged.empty:
        return visits
    out = visits.copy(deep=False)           # the criteria columns below are new arrays: the input is never written
    stage_rows = np.flatnonzero(out["PARAMCD"].isin(set(flagged["PARAMCD"])).to_numpy())
    target = out[keys].take(stage_rows).assign(_ROW=stage_rows)
    found = target.merge(flagged[[*keys, *criteria]].drop_duplicates(keys), on=keys, how="inner")
    rows = found["_ROW"].to_numpy()
    for column in criteria:
        values = out[column].to_numpy(copy=True) if column in out.columns else np.full(len(out), "", dtype=object)
        if values.dtype != object:
            values = values.astype(object)
        values[rows] = found[column].fillna("").to_numpy()
        out[column] = values
    return out


def derive_death_stages(visits: pd.DataFrame, adsl: pd.DataFrame, anchor: pd.Series, study: Study,
                        parameters: dict[str, Parameter]) -> pd.DataFrame:
    """Stage 5 (death) records of every stage parameter: for each subject who died on or before the data
    cut-off (ADSL.DTHDT <= DCUTDT), one record per scheduled visit after the baseline visit whose target
    date (anchor + target day - 1) is on or after the death date and that has no analysis record
    (ANL01FL = 'Y') of the parameter; AVISIT/AVISITN of that visit, ADT = DTHDT, DTYPE = 'PHANTOM',
    ANL01FL = 'Y', SRCDOM/SRCVAR = ADSL/DTHDT. `visits` holds the analysis records (USUBJID, PARAMCD,
    AVISITN, ANL01FL); `anchor` is USUBJID -> day 1 of the visit schedule (bds.visit_anchor)."""
    missing = [c for c in ("USUBJID", "PARAMCD", "AVISITN", "ANL01FL") if c not in visits.columns]
    missing += [f"ADSL.{c}" for c in ("USUBJID", "DTHDT", "DCUTDT") if c not in adsl.columns]
    if missing:
        raise KeyError(f"derive_death_stages: missing required column(s) {missing}")
    codes = list(stage_specs(parameters))
    visits = visits.loc[visits["PARAMCD"].isin(codes) & (visits["ANL01FL"] == "Y"), ["USUBJID", "PARAMCD", "AVISITN"]]
    dead = adsl.loc[adsl["DTHDT"].notna() & (adsl["DTHDT"] <= adsl["DCUTDT"]), ["USUBJID", "DTHDT"]]
    dead = dead[dead["USUBJID"].isin(anchor.index)]
    base = study.baseline_visit.month
    rows = []
    for visit in (v for v in study.visits if v.month > base):
        target = dead["USUBJID"].map(anchor) + pd.Timedelta(days=study.target_day(visit) - 1)
        reached = dead[target >= dead["DTHDT"]]
        for code in codes:
            done = visits[(visits["PARAMCD"] == code) & (visits["AVISITN"] == visit.month)]
            todo = reached[~reached["USUBJID"].isin(done["USUBJID"])]
            rows.append(pd.DataFrame({"USUBJID": todo["USUBJID"], "PARAMCD": code, "AVAL": DEATH_STAGE,
                                      "AVISIT": visit.visit, "AVISITN": visit.month, "ADT": todo["DTHDT"]}))
    columns = ["USUBJID", "PARAMCD", "AVAL", "AVISIT", "AVISITN", "ADT"]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    out = out.reindex(columns=columns)
    out["DTYPE"], out["ANL01FL"], out["SRCDOM"], out["SRCVAR"] = "PHANTOM", "Y", "ADSL", "DTHDT"
    out["ADT"] = pd.to_datetime(out["ADT"])
    return out
