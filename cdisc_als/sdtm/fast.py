"""Work on distinct values: columns of SDTM data repeat a few values millions of times."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def on_unique(series: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """func applied to the distinct values of series, broadcast back (missing stays missing)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return func(series)
    result = func(pd.Series(uniques)).to_numpy()
    if result.dtype.kind in "Mm":                   # dates and durations: missing is NaT
        missing = np.array(["NaT"], dtype=result.dtype)
    else:
        missing = np.array([np.nan], dtype=result.dtype if result.dtype != object else object)
    out = np.concatenate([result, missing])[codes]
    return pd.Series(out, index=series.index)


def map_values(series: pd.Series, mapping: dict | pd.Series) -> pd.Series:
    """series.map(mapping), computed once per distinct value."""
    return on_unique(series, lambda s: s.map(mapping))


def filled(n: int, value: object) -> np.ndarray:
    """n cells holding the one object value (np.full would make a new str per cell; a list stays one
    value per cell)."""
    cells = np.empty(n, dtype=object)
    cells.fill(value)
    return cells
