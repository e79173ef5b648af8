"""ADaM derivation helpers: small pure functions, one thing each, the rule in the docstring.

Dates are pandas datetime64 Series; "months" are days / the study's month length
(study.yaml month_length_days), passed in as `month_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def impute_date(dtc: pd.Series, mode: str = "first", min_date: pd.Series | None = None,
                max_date: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 (partial) date -> (date, *DTF flag).

    Rule: a missing day is imputed as the first, 15th ('mid') or last day of the month and flagged
    'D'; a missing month as January/July 1st/December ('first'/'mid'/'last'; 'mid' gives July 1st)
    and flagged 'M'. An imputed date is moved up to min_date or down to max_date when given
    (never for a complete date). A blank or year-less value stays missing with no flag.
    """
    codes, uniques = pd.factorize(dtc.fillna("").astype(str).str.slice(0, 10))      # parsed once per distinct value
    date, flag = _impute_distinct(pd.Series(uniques, dtype=object), mode)
    date = pd.Series(date.to_numpy()[codes] if len(uniques) else np.array([], dtype="datetime64[ns]"),
                     index=dtc.index, name=dtc.name)
    flag = pd.Series(flag[codes] if len(uniques) else np.array([], dtype=object), index=dtc.index)
    imputed = flag != ""
    if min_date is not None:
        date = date.where(~(imputed & (date < min_date)), min_date)
    if max_date is not None:
        date = date.where(~(imputed & (date > max_date)), max_date)
    return date, flag


def _impute_distinct(text: pd.Series, mode: str) -> tuple[pd.Series, np.ndarray]:
    """impute_date's date and flag of distinct ISO 8601 texts (at most 10 characters, never missing)."""
    year = text.str.slice(0, 4)
    month = text.str.slice(5, 7)
    day = text.str.slice(8, 10)
    has_year = year.str.fullmatch(r"\d{4}")
    has_month = has_year & month.str.fullmatch(r"\d{2}")
    has_day = has_month & day.str.fullmatch(r"\d{2}")
    first_of_month = pd.to_datetime((year + "-" + month.where(has_month, "01") + "-01").where(has_year, None),
                                    format="%Y-%m-%d", errors="coerce")
    if mode == "first":
        month_fill, day_fill = "01", first_of_month
    elif mode == "mid":
        month_fill, day_fill = "07", first_of_month + pd.Timedelta(days=14)
    elif mode == "last":
        month_fill, day_fill = "12", first_of_month + pd.offsets.MonthEnd(0)
    else:
        raise ValueError(f"mode must be first, mid or last, not {mode!r}")
    full = pd.to_datetime(text.where(has_day, None), format="%Y-%m-%d", errors="coerce")
    year_only = pd.to_datetime((year + "-" + month_fill + "-01").where(has_year & ~has_month, None),
                               format="%Y-%m-%d", errors="coerce")
    if mode == "last":
        year_only = year_only + pd.offsets.MonthEnd(0)
    date = full.where(has_day, day_fill.where(has_month & ~has_day, year_only))
    return date, np.where(has_day, "", np.where(has_month, "D", np.where(has_year, "M", ""))).astype(object)


def study_day(date: pd.Series, reference: pd.Series) -> pd.Series:
    """ADY: date - reference + 1 on or after the reference, date - reference before it (no day 0)."""
    days = (pd.to_datetime(date, errors="coerce") - pd.to_datetime(reference, errors="coerce")).dt.days
    return pd.Series(np.where(days >= 0, days + 1, days), index=date.index, dtype="float64")


def months_between(start: pd.Series, end: pd.Series, month_days: float, add_one: bool = True) -> pd.Series:
    """(end - start (+ 1)) / month_days: durations in months as the trial reports them."""
    days = (end - start).dt.days + (1 if add_one else 0)
    return days.astype("float64") / month_days


def first_or_last(records: pd.DataFrame, by: str, order: list[str], keep: str = "first") -> pd.DataFrame:
    """The first (or last) record per `by` after sorting by `order` (admiral's filter_extreme)."""
    ordered = records.sort_values([by, *order], kind="stable")
    return ordered.groupby(by, sort=False).head(1) if keep == "first" else ordered.groupby(by, sort=False).tail(1)


def merge_first_last(target: pd.DataFrame, source: pd.DataFrame, by: str, order: list[str], columns: dict[str, str],
                     keep: str = "first") -> pd.DataFrame:
    """Add columns {new: source column} from the first/last source record of each `by` value."""
    picked = first_or_last(source, by, order, keep)[[by, *columns.values()]]
    picked = picked.rename(columns={v: k for k, v in columns.items()})
    return target.merge(picked, on=by, how="left")


def derive_baseline(frame: pd.DataFrame, by: list[str], baseline_mask: pd.Series, value: str = "AVAL") -> pd.DataFrame:
    """ABLFL = 'Y' on the baseline record (the last masked record with a value per `by`),
    BASE = its value on every record of the group, CHG = AVAL - BASE and PCHG = 100 CHG / BASE
    on records after it (blank on and before the baseline; PCHG blank when BASE is 0). Records with a
    missing `by` value have no baseline."""
    missing = [c for c in (*by, value) if c not in frame.columns]
    if missing:
        raise KeyError(f"derive_baseline: required column(s) {', '.join(missing)} not in the data")
    out = frame.copy(deep=False)          # every column below is a new array: the input is never written
    eligible = np.asarray(baseline_mask, dtype=bool) & out[value].notna().to_numpy()
    key = group_codes(out, by)
    candidates = np.flatnonzero(eligible & (key >= 0))
    last = pd.Series(candidates).groupby(key[candidates], sort=False).last().to_numpy()   # per group, in order
    flag = np.full(len(out), "", dtype=object)
    flag[last] = "Y"
    out["ABLFL"] = flag
    base_of_group = np.full(int(key.max()) + 1 if len(key) else 0, np.nan)
    base_of_group[key[last]] = out[value].to_numpy(dtype=float)[last]
    out["BASE"] = np.where(key >= 0, base_of_group[np.maximum(key, 0)], np.nan) if len(out) else np.nan
    if len(last):
        out.index = pd.RangeIndex(len(out))           # as the left join that attached BASE numbered them
    after = out.get("_POST", pd.Series(True, index=out.index)).astype(bool)
    out["CHG"] = np.where(after & (out["ABLFL"] != "Y"), out[value] - out["BASE"], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["PCHG"] = np.where(out["CHG"].notna() & (out["BASE"] != 0), 100 * out["CHG"] / out["BASE"], np.nan)
    return out


def group_codes(frame: pd.DataFrame, by: list[str]) -> np.ndarray:
    """One integer per record, equal for records with equal `by` values; -1 when one of them is missing."""
    key = np.zeros(len(frame), dtype=np.int64)
    absent = np.zeros(len(frame), dtype=bool)
    for column in by:
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        absent |= codes < 0
        key = pd.factorize(key * (len(uniques) + 1) + codes)[0].astype(np.int64)
    return np.where(absent, -1, key)


def two_point_slope(start_value: pd.Series, end_value: pd.Series, months: float | pd.Series) -> pd.Series:
    """Slope in points per month between two assessments: (end - start) / months.

    This trial uses nominal months of the visit schedule (V1 -> V5: 3, V5 -> V9: 4, V5 -> V10: 6).
    """
    return (end_value - start_value) / months


def slope_change(follow_up: pd.Series, lead_in: pd.Series) -> pd.Series:
    """Change in slope = follow-up slope - lead-in slope (positive when decline slows)."""
    return follow_up - lead_in


def slope_improvement(follow_up: pd.Series, lead_in: pd.Series) -> pd.Series:
    """% improvement in slope = 100 (follow-up - lead-in) / |lead-in|; missing when the lead-in slope
    is >= 0 (no decline to improve on). Not PCHG: lead-in slopes are negative."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100 * (follow_up - lead_in) / lead_in.abs()
    return value.where(lead_in < 0)


def criterion_flags(value: pd.Series, thresholds: list[float], tolerance: float = 1e-9,
                    force_no: pd.Series | None = None) -> list[pd.Series]:
    """CRITyFL for value >= threshold y: 'Y'/'N', '' when the value is missing.

    A tolerance of 1e-9 keeps exact thresholds exact under floating point (50 % is 50 %).
    force_no marks subjects that fail every criterion whatever the value (e.g. deaths count as
    poor responders).
    """
    flags = []
    for threshold in thresholds:
        flag = np.where(value.isna(), "", np.where(value >= threshold - tolerance, "Y", "N"))
        if force_no is not None:
            flag = np.where(force_no.to_numpy(bool), "N", flag)
        flags.append(pd.Series(flag, index=value.index))
    return flags


@dataclass(frozen=True)
class EventSource:
    """A dated record that ends time-to-event follow-up: events (CNSR 0) or censorings (CNSR > 0)."""

    name: str
    data: pd.DataFrame          # USUBJID, DATE (datetime), optional SRCSEQ
    cnsr: int
    description: str
    srcdom: str
    srcvar: str


@dataclass(frozen=True)
class DataCutoff:
    """The data cut-off of a time-to-event analysis: nothing after `date` is known to the analysis."""

    date: pd.Timestamp
    cnsr: int = 2
    description: str = "DATA CUT-OFF DATE"
    srcdom: str = "ADSL"
    srcvar: str = "DCUTDT"


TTE_COLUMNS = ["USUBJID", "DATE", "_RANK", "CNSR", "DESC", "SRCDOM", "SRCVAR", "SRCSEQ"]


def _stack_sources(sources: list[EventSource]) -> pd.DataFrame:
    parts = []
    for rank, src in enumerate(sources):
        data = src.data.dropna(subset=["DATE"]).copy()
        data["_RANK"] = rank
        data["CNSR"], data["DESC"] = src.cnsr, src.description
        data["SRCDOM"], data["SRCVAR"] = src.srcdom, src.srcvar
        if "SRCSEQ" not in data:
            data["SRCSEQ"] = np.nan
        parts.append(data[TTE_COLUMNS])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TTE_COLUMNS)


def derive_tte(subjects: pd.DataFrame, events: list[EventSource], censors: list[EventSource], month_days: float,
               cutoff: DataCutoff | None = None) -> pd.DataFrame:
    """One record per subject (columns USUBJID, STARTDT required): the earliest event (ties: the first
    source in the list), else the latest censoring date (ties: the first source). Sources dated before
    STARTDT are ignored.

    Data cut-off: an event after the cut-off date is not an event; a censoring dated on or after the
    cut-off becomes a censoring at the cut-off with the cut-off's CNSR and description (so a subject
    who died after the cut-off is censored at it, as one alive at it).

    AVAL = (ADT - STARTDT + 1) / month_days months; EVNTDESC on events only, CNSDTDSC on censorings.
    """
    missing = [c for c in ("USUBJID", "STARTDT") if c not in subjects.columns]
    if missing:
        raise KeyError(f"derive_tte: subjects frame lacks required column(s) {missing}")

    def pick(records: pd.DataFrame, latest: bool) -> pd.DataFrame:
        records = records[records["USUBJID"].isin(subjects["USUBJID"])]
        records = records.merge(subjects[["USUBJID", "STARTDT"]], on="USUBJID")
        records = records[records["DATE"] >= records["STARTDT"]]
        order = records.sort_values(["USUBJID", "DATE", "_RANK"], ascending=[True, not latest, True], kind="stable")
        return order.groupby("USUBJID", sort=False).head(1)

    event_records = _stack_sources(events)
    censor_records = _stack_sources(censors)
    if cutoff is not None:
        event_records = event_records[event_records["DATE"] <= cutoff.date]
        late = censor_records["DATE"] >= cutoff.date
        censor_records.loc[late, ["DATE", "CNSR", "DESC", "SRCDOM", "SRCVAR", "SRCSEQ"]] = (
            cutoff.date, cutoff.cnsr, cutoff.description, cutoff.srcdom, cutoff.srcvar, np.nan)
        censor_records.loc[late, "_RANK"] = -1
    event = pick(event_records, latest=False)
    censor = pick(censor_records, latest=True)
    censor = censor[~censor["USUBJID"].isin(event["USUBJID"])]
    chosen = pd.concat([event, censor], ignore_index=True)
    out = subjects[["USUBJID", "STARTDT"]].merge(chosen.drop(columns=["STARTDT"], errors="ignore"), on="USUBJID",
                                                 how="left")
    out["ADT"] = pd.to_datetime(out["DATE"])
    out["AVAL"] = ((out["ADT"] - out["STARTDT"]).dt.days + 1) / month_days
    out["CNSR"] = out["CNSR"].astype("float64")
    out["SRCSEQ"] = out["SRCSEQ"].astype("float64")
    out["EVNTDESC"] = np.where(out["CNSR"] == 0, out["DESC"], "")
    out["CNSDTDSC"] = np.where(out["CNSR"] > 0, out["DESC"], "")
    return out.drop(columns=["DATE", "DESC", "_RANK"])
