"""Conditions written as data, parsed and evaluated without eval.

A condition is a mapping with one test on one raw column, or a combination:
  {column: SERIOUS, equals: "Y"}        {column: PROC, in: [TRACHEOSTOMY, NIV]}
  {column: AEENDT, blank: true}         {column: X, not_equals: "N"}   {column: X, not_in: [...]}
  {column: RESULT, starts_with: "<"}
  {all: [cond, cond, ...]}              {any: [cond, ...]}              {not: cond}
Values are compared as text after trimming; comparisons are exact (case-sensitive).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

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


def evaluate(cond: dict[str, Any], frame: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows of frame where cond holds."""
    if "all" in cond:
        mask = pd.Series(True, index=frame.index)
        for sub in cond["all"]:
            mask &= evaluate(sub, frame)
        return mask
    if "any" in cond:
        mask = pd.Series(False, index=frame.index)
        for sub in cond["any"]:
            mask |= evaluate(sub, frame)
        return mask
    if "not" in cond:
        return ~evaluate(cond["not"], frame)
    column = cond["column"]
    if column not in frame.columns:
        raise KeyError(f"condition column {column!r} is not in the source table")
    values = frame[column].fillna("").astype(str).str.strip()
    if "equals" in cond:
        return values == str(cond["equals"])
    if "not_equals" in cond:
        return values != str(cond["not_equals"])
    if "in" in cond:
        return values.isin([str(v) for v in cond["in"]])
    if "not_in" in cond:
        return ~values.isin([str(v) for v in cond["not_in"]])
    if "starts_with" in cond:
        return values.str.startswith(str(cond["starts_with"]))
    if "blank" in cond:
        return (values == "") == bool(cond["blank"])
    return (values != "") == bool(cond["not_blank"])
