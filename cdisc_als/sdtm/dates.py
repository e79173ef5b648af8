"""Raw dates to ISO 8601 (partial dates kept partial) and SDTM study days.

Accepted raw forms: YYYY-MM-DD, YYYY-MM, YYYY, and unknown parts written UN/UNK
(YYYY-MM-UN, YYYY-UN-UN, YYYY-UNK-UNK), optionally with a time THH:MM or THH:MM:SS.
ISO 8601 drops unknown parts from the right: 2012-03-UN -> 2012-03, 2012-UN-UN -> 2012. A known
day with an unknown month cannot be written in SDTM and is a finding, as is anything that is not
a real calendar date. Blank stays blank.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

RAW_DATE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2}|UNK?|unk?)(?:-(?P<d>\d{2}|UNK?|unk?))?)?"
    r"(?:T(?P<hh>\d{2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?)?"
)


def to_iso8601(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(ISO 8601 text, error message) per value; error is '' when the value converted (or was blank)."""
    text = values.fillna("").astype(str).str.strip()
    parts = text.str.extract(RAW_DATE.pattern, expand=True)
    shaped = text.str.fullmatch(RAW_DATE.pattern)
    year = parts["y"].fillna("")
    month = parts["m"].fillna("").str.upper()
    day = parts["d"].fillna("").str.upper()
    month_known = month.str.fullmatch(r"\d{2}")
    day_known = day.str.fullmatch(r"\d{2}")
    iso = year.where(shaped, "")
    iso = iso.where(~month_known, iso + "-" + month)
    iso = iso.where(~(month_known & day_known), iso + "-" + day)
    has_time = parts["hh"].notna() & month_known & day_known
    time = "T" + parts["hh"].fillna("") + ":" + parts["mi"].fillna("")
    time = time.where(parts["ss"].isna(), time + ":" + parts["ss"].fillna(""))
    iso = iso.where(~has_time, iso + time)
    error = pd.Series("", index=text.index)
    error = error.where(shaped | (text == ""), "not a date (expected YYYY-MM-DD, YYYY-MM, YYYY or UN parts)")
    bad_month = shaped & month_known & ~month.isin([f"{m:02d}" for m in range(1, 13)])
    error = error.where(~bad_month, "month is not 01-12")
    day_without_month = shaped & day_known & ~month_known
    error = error.where(~day_without_month, "a known day needs a known month")
    full = shaped & month_known & day_known & ~bad_month
    valid = pd.to_datetime((year + "-" + month + "-" + day).where(full, None), format="%Y-%m-%d", errors="coerce")
    error = error.where(~(full & valid.isna()), "not a calendar date")
    bad_time = has_time & ((parts["hh"].fillna("0").astype(int) > 23) | (parts["mi"].fillna("0").astype(int) > 59))
    error = error.where(~bad_time, "not a valid time")
    iso = iso.where(error == "", "")
    return iso, error


def date_part(iso: pd.Series) -> pd.Series:
    """The full-date part of ISO 8601 values as datetime64 (NaT when the date is partial or blank); the
    text work runs once per distinct value (missing values read as blank)."""
    if pd.api.types.infer_dtype(iso, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(iso, use_na_sentinel=True)     # text cells: missing = NaT
    else:
        codes, uniques = pd.factorize(iso.fillna("").astype(str))
    text = pd.Series(uniques, dtype=object).str.slice(0, 10)
    parsed = pd.to_datetime(text.where(text.str.len() == 10, None), format="%Y-%m-%d", errors="coerce")
    values = parsed.to_numpy(dtype="datetime64[ns]")
    out = np.concatenate([values, np.array(["NaT"], dtype="datetime64[ns]")])[codes]
    return pd.Series(out, index=iso.index)


def study_day(dtc: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTM --DY: date - reference + 1 on or after the reference, date - reference before; no day 0.

    Blank when either date is partial or missing.
    """
    return days_from(date_part(dtc), date_part(reference))


def days_from(dates: pd.Series, reference: pd.Series | np.ndarray) -> pd.Series:
    """study_day on dates already converted (date_part): no day 0, NaN when either is NaT."""
    days = (dates - reference).dt.days
    dy = np.where(days >= 0, days + 1, days)
    return pd.Series(dy, index=dates.index, dtype="float64")


def day_from_delta(delta: pd.Series) -> pd.Series:
    """--DY from a day offset relative to the reference day 0 (PRO-ACT *_Delta): delta+1 if >= 0, else delta."""
    d = pd.to_numeric(delta, errors="coerce")
    return pd.Series(np.where(d >= 0, d + 1, d), index=delta.index, dtype="float64")
