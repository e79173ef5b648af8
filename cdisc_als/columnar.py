"""Column operations that run once per distinct value instead of once per record.

Clinical columns repeat a few values over many records (a parameter code, a visit, a flag, a
subject id): a function of the value is computed for each distinct value and spread back to the
records by their codes, so its cost follows the number of distinct values, not of records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals


def factorized(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) with missing values (None, NaN, NaT, pd.NA) coded -1; -0.0 stays apart
    from 0.0 (pandas' hashing would merge them). A categorical column gives its own codes and categories
    (every category, in its order, whether a record has it or not)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return (np.asarray(values.cat.codes, dtype=np.intp),
                np.asarray(values.cat.categories.to_numpy(dtype=object), dtype=object))
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    negative_zero = None
    if array.dtype.kind == "f":
        negative_zero = (array == 0) & np.signbit(array)
        if negative_zero.any():
            array = np.where(negative_zero, 0.0, array)
        else:
            negative_zero = None
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    codes, uniques = np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)
    if negative_zero is not None:
        codes = np.where(negative_zero, len(uniques), codes)
        uniques = np.append(uniques, np.array([-0.0], dtype=object))
    return codes, uniques


def map_distinct(values: pd.Series | np.ndarray, func: Callable[[Any], Any]) -> np.ndarray:
    """[func(v) for v in values] as an object array, func called once per distinct value (and once per
    kind of missing value, so None and NaN keep their own results)."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    codes, uniques = factorized(array)
    mapped = np.empty(len(uniques), dtype=object)
    for k, value in enumerate(uniques):
        mapped[k] = func(value)
    out = mapped[codes] if len(uniques) else np.empty(len(array), dtype=object)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        values = array[missing]
        kinds = [type(v) for v in values] if values.dtype == object else [values.dtype.type] * len(values)
        kind_codes, distinct_kinds = pd.factorize(pd.Series(kinds, dtype=object))   # in order of appearance
        for k in range(len(distinct_kinds)):                   # func once per kind of missing value
            mine = np.flatnonzero(kind_codes == k)
            result = np.empty(len(mine), dtype=object)
            result.fill(func(values[mine[0]]))
            out[missing[mine]] = result
    return out


def representatives(values: pd.Series | np.ndarray) -> list[Any]:
    """One value of each distinct value, and of each kind of missing value (None, NaN, ...): a function's
    set of results over the column is its set of results over these."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    codes, uniques = factorized(array)
    missing = {type(v): v for v in array[codes < 0]} if (codes < 0).any() else {}
    return [*uniques, *missing.values()]


def text_codes(values: pd.Series | np.ndarray, normalise: Callable[[Any], str],
               missing: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(codes, texts) with texts[codes] = normalise(value) for every record and `missing` for a missing one;
    normalise runs once per distinct value."""
    codes, uniques = factorized(values)
    texts = np.empty(len(uniques) + 1, dtype=object)
    for k, value in enumerate(uniques):
        texts[k] = normalise(value)
    texts[len(uniques)] = missing
    return np.where(codes < 0, len(uniques), codes), texts


def frame_of(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame of equally long arrays, one block per column: no type inference on text columns and no
    merging of the columns into 2-D blocks (both cost more than the data's own copy at millions of records)."""
    n = len(next(iter(columns.values()))) if columns else 0
    index = pd.RangeIndex(n)
    return pd.DataFrame({name: pd.Series(values, index=index, dtype=values.dtype, copy=False)
                         for name, values in columns.items()}, index=index, copy=False)


def categorical_of(values: np.ndarray) -> pd.Categorical:
    """Text values as a categorical whose categories are the distinct values in order of first appearance
    (missing values coded -1)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))


def as_categoricals(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text (object) columns as categoricals (categorical_of): a code of one to four bytes
    per record instead of a pointer, and the distinct values that the XPT writer and the lengths read
    without hashing every cell again. Each column stays its own block (no copy of the numbers)."""
    columns = {name: (pd.Series(categorical_of(values.to_numpy()), index=frame.index, name=name)
                      if values.dtype == object else values) for name, values in frame.items()}
    # copy=False: each column stays its own block (pandas would otherwise copy the numbers into 2-D blocks)
    return pd.DataFrame(columns, index=frame.index, columns=frame.columns, copy=False) if columns else frame


_MISSING = {"f": np.nan, "M": np.datetime64("NaT"), "O": np.nan}
CATEGORICAL = object()      # the type of a column whose parts are all categoricals (united, not concatenated)


def stacked_columns(parts: list[pd.DataFrame], consume: bool = False) -> dict[str, np.ndarray | pd.Categorical] | None:
    """Every column of the parts stacked (union of the columns in order of appearance; a part without the
    column contributes missing values: NaN, NaT); None when a column's parts differ in type or cannot hold
    a missing value (the caller uses pd.concat). Categorical columns (text held as codes) are united, the
    categories in order of first appearance over the parts, where pd.concat would make text objects of them;
    every part must have them. Every column is checked before any is stacked. `consume`:
    each part's column is dropped once copied, so that at most one column is held twice (parts whose columns
    are one block each, columnar.frame_of, then free their records as they go)."""
    names = list(dict.fromkeys(name for part in parts for name in part.columns))
    types = {}
    for name in names:
        dtypes = {part[name].dtype for part in parts if name in part.columns}
        if all(isinstance(dtype, pd.CategoricalDtype) for dtype in dtypes):
            if any(name not in part.columns for part in parts):
                return None
            types[name] = CATEGORICAL
            continue
        if len(dtypes) != 1:
            return None
        types[name] = dtypes.pop()
        if types[name].kind not in _MISSING and any(name not in part.columns for part in parts):
            return None
    lengths = [len(part) for part in parts]
    out = {}
    for name, dtype in types.items():
        if dtype is CATEGORICAL:
            coded = [(part.pop(name) if consume else part[name]).array for part in parts]
            out[name] = union_categoricals(coded) if len(coded) > 1 else coded[0]
            continue
        pieces = [(part.pop(name) if consume else part[name]).to_numpy() if name in part.columns
                  else np.full(n, _MISSING[dtype.kind], dtype=dtype) for part, n in zip(parts, lengths, strict=True)]
        out[name] = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        del pieces
    return out


def stack_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat(parts, ignore_index=True), built a column at a time while each part's column is dropped
    (stacked_columns(consume=True)): the parts are emptied; pd.concat when their columns cannot be stacked."""
    columns = stacked_columns(parts, consume=True)
    return frame_of(columns) if columns is not None else pd.concat(parts, ignore_index=True)
