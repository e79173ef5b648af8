"""BDS records stacked from several parts and put in order column by column.

pd.concat followed by a sort copies every column of every record twice and first merges the columns
into 2-D blocks, which for millions of records with many text columns costs more than the derivations.
Here each column is concatenated and taken in the final order once (numpy), and the frame is built from
those arrays; the result equals pd.concat(parts, ignore_index=True) sorted stably by the keys. Columns
whose parts differ in type fall back to pd.concat, so its type rules hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.columnar import frame_of

_MISSING = {"f": np.nan, "M": np.datetime64("NaT"), "O": np.nan}


def stacked_columns(parts: list[pd.DataFrame], consume: bool = False) -> dict[str, np.ndarray] | None:
    """Every column of the parts stacked (union of the columns in order of appearance; a part without the
    column contributes missing values: NaN, NaT); None when a column's parts differ in type or cannot hold
    a missing value (the caller uses pd.concat). Every column is checked before any is stacked. `consume`:
    each part's column is dropped once copied, so that at most one column is held twice (parts whose columns
    are one block each, columnar.frame_of, then free their records as they go)."""
    names = list(dict.fromkeys(name for part in parts for name in part.columns))
    types = {}
    for name in names:
        dtypes = {part[name].dtype for part in parts if name in part.columns}
        if len(dtypes) != 1:
            return None
        types[name] = dtypes.pop()
        if types[name].kind not in _MISSING and any(name not in part.columns for part in parts):
            return None
    lengths = [len(part) for part in parts]
    out = {}
    for name, dtype in types.items():
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


def subject_key_order(codes: np.ndarray, subjects: np.ndarray, keys: list[np.ndarray]) -> np.ndarray | None:
    """The stable order of sort_values([USUBJID, *keys]) (missing values last), from the subject codes of
    pd.factorize and numeric or datetime keys, without sorting the subject texts of every record; None when
    a key is of another kind or a subject is not text (the caller sorts the frame)."""
    sortable = []
    for values in keys:
        if values.dtype.kind == "M":
            values = values.view(np.int64)
            values = np.where(values == np.iinfo(np.int64).min, np.iinfo(np.int64).max, values)   # NaT last
        elif values.dtype.kind not in "fiub":
            return None
        sortable.append(values)
    if not all(isinstance(s, str) for s in subjects):
        return None
    rank = np.argsort(np.argsort(np.asarray(subjects, dtype=str), kind="stable"), kind="stable")
    subject_rank = np.where(codes < 0, len(subjects), rank[np.maximum(codes, 0)] if len(subjects) else 0)
    return np.lexsort([*reversed(sortable), subject_rank])


def sequence_in_subject(sorted_codes: np.ndarray) -> np.ndarray:
    """1, 2, ... within each run of equal subject codes (records sorted by subject); NaN without a subject
    (code -1), as groupby(...).cumcount() + 1."""
    n = len(sorted_codes)
    if not n:
        return np.zeros(0)
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    return np.where(sorted_codes < 0, np.nan, (np.arange(n) - first + 1).astype(float))
