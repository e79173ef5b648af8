"""BDS records put in order column by column.

pd.concat followed by a sort copies every column of every record twice and first merges the columns
into 2-D blocks, which for millions of records with many text columns costs more than the derivations.
Here each column is stacked (columnar.stacked_columns) and taken in the final order once (numpy), and the
frame is built from those arrays; the result equals pd.concat(parts, ignore_index=True) sorted stably by
the keys.
"""

from __future__ import annotations

import numpy as np


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
