"""Populations and filters of the catalogue, evaluated with the safe condition grammar
(cdisc_als.sdtm.conditions: parsed and evaluated as data, never eval).

Two spellings are accepted:
  shorthand   {FASFL: "Y", AVISITN: 4, PARAMCD: [ALSR1TOT, AALS106]}   every variable equals its
              value, or is one of the listed values
  grammar     {all: [{column: AGE, not_blank: true}, {not: {column: DTHFL, equals: "Y"}}]}
Numbers compare as numbers written without a trailing '.0' (AVISITN 4 matches 4 and 4.0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cdisc_als.columnar import map_distinct, representatives, text_codes
from cdisc_als.sdtm.conditions import ColumnTexts, ConditionError, check_condition, condition_mask

GRAMMAR_KEYS = {"column", "all", "any", "not"}


def number_text(value: Any) -> str:
    """4 -> '4', 4.0 -> '4', 4.5 -> '4.5', True -> 'True', text unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    if isinstance(value, float) and np.isnan(value):
        return ""
    return f"{value:g}" if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def number_texts(values: pd.Series) -> pd.Series:
    """values.map(number_text), number_text called once per distinct value."""
    return pd.Series(map_distinct(values, number_text), index=values.index, dtype=object, name=values.name)


def distinct_number_texts(values: pd.Series) -> set[str]:
    """{number_text(v) for v in values}, number_text called once per distinct value."""
    return {number_text(v) for v in representatives(values)}


def _canonical(cond: Any) -> Any:
    if isinstance(cond, dict):
        return {k: (_canonical(v) if k in ("all", "any", "not") else
                    [number_text(x) for x in v] if isinstance(v, list) else
                    number_text(v) if k not in ("column", "blank", "not_blank") else v)
                for k, v in cond.items()}
    if isinstance(cond, list):
        return [_canonical(c) for c in cond]
    return cond


def to_condition(spec: Any, where: str) -> dict[str, Any] | None:
    """The grammar form of a population/where spec (None for no filter); ConditionError when malformed."""
    if spec in (None, {}):
        return None
    if not isinstance(spec, dict):
        raise ConditionError(f"{where}: a filter must be a mapping of variable: value, or a condition")
    if GRAMMAR_KEYS & set(spec):
        cond = _canonical(spec)
    else:
        tests = []
        for variable, value in spec.items():
            if isinstance(value, list):
                tests.append({"column": str(variable), "in": [number_text(v) for v in value]})
            elif isinstance(value, dict):
                raise ConditionError(f"{where}: {variable}: a value must be text, a number or a list")
            else:
                tests.append({"column": str(variable), "equals": number_text(value)})
        cond = tests[0] if len(tests) == 1 else {"all": tests}
    check_condition(cond, where)
    return cond


def condition_columns(cond: dict[str, Any] | None) -> set[str]:
    """Every variable a condition reads."""
    if not cond:
        return set()
    if "column" in cond:
        return {cond["column"]}
    out: set[str] = set()
    for key in ("all", "any"):
        for sub in cond.get(key, []):
            out |= condition_columns(sub)
    if "not" in cond:
        out |= condition_columns(cond["not"])
    return out


def filter_texts(frame: pd.DataFrame) -> ColumnTexts:
    """The texts a catalogue filter compares for the columns of frame: numbers through number_text (4.0 ->
    '4'), text as is; trimmed, missing as '' (codes and distinct texts, once per distinct value)."""
    def texts(column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in frame.columns:
            raise KeyError(f"filter variable {column!r} is not in the data")
        return value_texts(frame[column])

    return texts


def value_texts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct texts) of a column as filters compare it: number_text for numbers, trimmed."""
    if values.dtype.kind in "fiu":
        return text_codes(values, lambda v: number_text(v).strip())
    return text_codes(values, lambda v: str(v).strip())


def apply_filter(frame: pd.DataFrame, cond: dict[str, Any] | None) -> pd.DataFrame:
    """Rows of frame where the condition holds (numeric columns compared through number_text)."""
    if not cond:
        return frame
    return frame[condition_mask(cond, filter_texts(frame))]
