"""Permanent assisted ventilation (PAV) from daily records of non-invasive ventilation (NIV) use.

The daily NIV records are SDTM PR records (one per subject and day of use, PRSTDTC = the day, PRDUR =
the hours of use as an ISO 8601 duration, PROCCUR = N on a day without use). PAV starts on the first
day of the first run of at least `min_consecutive_days` consecutive calendar days each with at least
`min_hours_per_day` hours of NIV (study.yaml survival.permanent_ventilation). A calendar day without a
record breaks a run (an unrecorded day is not assumed to be a day of ventilation); several records of
one day are added up (at most 24 hours).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc_als.columnar import factorized
from cdisc_als.study import PermanentVentilation

DURATION = re.compile(r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?)?")


def duration_hours(duration: pd.Series) -> pd.Series:
    """ISO 8601 durations of days, hours and minutes (P1D, PT22H, PT7.5H, PT20H30M) -> hours; anything
    else (blank, weeks, years, malformed) -> NaN."""
    codes, uniques = factorized(duration)        # parsed once per distinct value
    distinct = pd.Series(uniques, dtype=object)
    text = distinct.where(distinct.map(lambda v: isinstance(v, str)), "").astype(str).str.strip()
    parts = text.str.extract(f"^{DURATION.pattern}$").astype(float)
    hours = 24 * parts[0].fillna(0) + parts[1].fillna(0) + parts[2].fillna(0) / 60
    hours = np.append(hours.where(parts.notna().any(axis=1)).to_numpy("float64"), np.nan)
    return pd.Series(hours[np.where(codes < 0, len(uniques), codes)], index=duration.index, dtype="float64")


def derive_pav_onset(daily: pd.DataFrame, setting: PermanentVentilation) -> pd.DataFrame:
    """First day of permanent assisted ventilation per subject.

    `daily` holds one row per NIV record: USUBJID, DATE (datetime), HOURS (NaN = unknown), optional
    SRCSEQ. Rule: hours are added up per subject and calendar day (capped at 24); a day qualifies when
    its hours are >= setting.min_hours_per_day; PAV starts on the first day of the first run of
    qualifying days on consecutive calendar dates that is at least setting.min_consecutive_days long.
    Returns USUBJID, DATE (the first day of that run) and SRCSEQ (of that day's first record) for the
    subjects who reach PAV.
    """
    missing = [c for c in ("USUBJID", "DATE", "HOURS") if c not in daily.columns]
    if missing:
        raise KeyError(f"derive_pav_onset: daily records lack required column(s) {missing}")
    columns = ["USUBJID", "DATE", "SRCSEQ"]
    data = daily.dropna(subset=["DATE"]).copy()
    if "SRCSEQ" not in data:
        data["SRCSEQ"] = np.nan
    if data.empty:
        return pd.DataFrame(columns=columns)
    data["DATE"] = pd.to_datetime(data["DATE"]).dt.normalize()
    days = data.sort_values(["USUBJID", "DATE", "SRCSEQ"], kind="stable").groupby(["USUBJID", "DATE"], sort=True)
    per_day = pd.DataFrame({"HOURS": days["HOURS"].sum(min_count=1).clip(upper=24.0),
                            "SRCSEQ": days["SRCSEQ"].first()}).reset_index()
    qualifying = per_day[per_day["HOURS"] >= setting.min_hours_per_day - 1e-9].copy()
    if qualifying.empty:
        return pd.DataFrame(columns=columns)
    gap = qualifying.groupby("USUBJID")["DATE"].diff().dt.days
    qualifying["_RUN"] = (gap != 1).cumsum()
    runs = qualifying.groupby(["USUBJID", "_RUN"], sort=False).agg(DATE=("DATE", "first"), SRCSEQ=("SRCSEQ", "first"),
                                                                   DAYS=("DATE", "size")).reset_index()
    long_enough = runs[runs["DAYS"] >= setting.min_consecutive_days]
    first = long_enough.sort_values(["USUBJID", "DATE"]).groupby("USUBJID", sort=True).head(1)
    return first[columns].reset_index(drop=True)
