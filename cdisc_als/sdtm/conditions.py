"""Conditions written as data, parsed and evaluated without eval.

A condition is a mapping with one test on one raw column, or a combination:
  {column: SERIOUS, equals: "Y"}        {column: PROC, in: [TRACHEOSTOMY, NIV]}
  {column: AEENDT, blank: true}         {column: X, not_equals: "N"}   {column: X, not_in: [...]}
  {column: RESULT, starts_with: "<"}
  {all: [cond, cond, ...]}              {any: [cond, ...]}              {not: cond}
Values are compared as text after trimming; comparisons are exact (case-sensitive).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cdisc_als.columnar import text_codes

TESTS = ("equals", "not_equals", "in", "not_in", "blank", "not_blank", "starts_with")


class ConditionError(ValueError):
    """A condition in a mapping spec is not well formed."""


def check_condition(cond: Any, where: str) -> None:
    """Raise ConditionError naming `where` if cond is not a valid condition."""
    if not isinstance(cond, dict) or not cond:
        raise ConditionError(f"{where}: a condition must be a mapping")
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        if not isinstance(cond[key], list) or not cond[key]:
            raise ConditionError(f"{where}: '{key}' needs a non-empty list of conditions")
        for i, sub in enumerate(cond[key]):
            check_condition(sub, f"{where}.{key}[{i}]")
        return
    if "not" in cond:
        check_condition(cond["not"], f"{where}.not")
        return
    tests = [t for t in TESTS if t in cond]
    if "column" not in cond or len(tests) != 1 or set(cond) - {"column", *TESTS}:
        raise ConditionError(f"{where}: needs 'column' and exactly one of {', '.join(TESTS)} (got {sorted(cond)})")
    if tests[0] in ("in", "not_in") and not isinstance(cond[tests[0]], list):
        raise ConditionError(f"{where}: '{tests[0]}' needs a list")


ColumnTexts = Callable[[str], tuple[np.ndarray, np.ndarray]]


def column_texts(frame: pd.DataFrame) -> ColumnTexts:
    """The texts conditions compare for the columns of frame: each value as text, trimmed, missing as ''
    (codes and distinct texts, computed once per distinct value)."""
    def texts(column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in frame.columns:
            raise KeyError(f"condition column {column!r} is not in the source table")
        return text_codes(frame[column], lambda v: str(v).strip())

    return texts


def evaluate(cond: dict[str, Any], frame: pd.DataFrame, texts: ColumnTexts | None = None) -> pd.Series:
    """Boolean mask of the rows of frame where cond holds. `texts` gives a column's (codes, distinct texts)
    when the caller keeps them (default: column_texts(frame))."""
    return pd.Series(condition_mask(cond, texts or column_texts(frame)), index=frame.index)


def condition_mask(cond: dict[str, Any], texts: ColumnTexts) -> np.ndarray:
    """The boolean mask of cond over the records whose column texts `texts` gives; each test runs on the
    distinct texts of its column."""
    if "all" in cond or "any" in cond:
        parts = [condition_mask(sub, texts) for sub in cond["all" if "all" in cond else "any"]]
        return np.logical_and.reduce(parts) if "all" in cond else np.logical_or.reduce(parts)
    if "not" in cond:
        return ~condition_mask(cond["not"], texts)
    codes, distinct = texts(cond["column"])
    values = pd.Series(distinct, dtype=object)
    if "equals" in cond:
        hit = values == str(cond["equals"])
    elif "not_equals" in cond:
        hit = values != str(cond["not_equals"])
    elif "in" in cond:
        hit = values.isin([str(v) for v in cond["in"]])
    elif "not_in" in cond:
        hit = ~values.isin([str(v) for v in cond["not_in"]])
    elif "starts_with" in cond:
        hit = values.str.startswith(str(cond["starts_with"]))
    elif "blank" in cond:
        hit = (values == "") == bool(cond["blank"])
    else:
        hit = (values != "") == bool(cond["not_blank"])
    return hit.to_numpy(dtype=bool)[codes]
