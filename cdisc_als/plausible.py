"""The span of days a (partial) date may stand for, and whether it lies outside a plausible range.

Shared by the raw checks (warnings on collected dates) and ADaM (implausible dates kept out of the
analysis windows). A partial date stands for every day it may mean (2012-03 = 1 to 31 March 2012,
2012 = the whole year) and is implausible only when all of them are outside the range.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd


def date_bounds(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Earliest and latest day of YYYY-MM-DD, YYYY-MM or YYYY values (UN/UNK parts allowed, a time
    part ignored); NaT when blank or not a date. Computed once per distinct value."""
    codes, uniques = pd.factorize(values.fillna("").astype(str))
    low, high = _bounds(pd.Series(uniques, dtype=object))
    return (pd.Series(low.to_numpy()[codes], index=values.index, dtype="datetime64[ns]"),
            pd.Series(high.to_numpy()[codes], index=values.index, dtype="datetime64[ns]"))


def _bounds(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.str.replace(r"-UNK?(?=-|$|T)", "", regex=True).str.slice(0, 10)
    full = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}"), None), format="%Y-%m-%d",
                          errors="coerce")
    month = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}"), None), format="%Y-%m", errors="coerce")
    year = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}"), None), format="%Y", errors="coerce")
    low = full.fillna(month).fillna(year)
    high = full.fillna(month + pd.offsets.MonthEnd(0)).fillna(year + pd.offsets.YearEnd(0))
    return low, high


def outside(values: pd.Series, earliest: dt.date, latest: dt.date) -> pd.Series:
    """True where every day a value may stand for lies before `earliest` or after `latest`."""
    low, high = date_bounds(values)
    return ((high < pd.Timestamp(earliest)) | (low > pd.Timestamp(latest))).fillna(False).astype(bool)
