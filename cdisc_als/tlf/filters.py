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

from cdisc_als.sdtm.conditions import ConditionError, check_condition, evaluate

GRAMMAR_KEYS = {"column", "all", "any", "not"}


def number_text(value: Any) -> str:
    """4 -> '4', 4.0 -> '4', 4.5 -> '4.5', True -> 'True', text unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    if isinstance(value, float) and np.isnan(value):
        return ""
    return f"{value:g}" if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


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


def apply_filter(frame: pd.DataFrame, cond: dict[str, Any] | None) -> pd.DataFrame:
    """Rows of frame where the condition holds (numeric columns compared through number_text)."""
    if not cond:
        return frame
    columns = condition_columns(cond)
    view = pd.DataFrame(index=frame.index)
    for column in columns:
        if column not in frame.columns:
            raise KeyError(f"filter variable {column!r} is not in the data")
        values = frame[column]
        view[column] = values.map(number_text) if values.dtype.kind in "fiu" else values
    return frame[evaluate(cond, view).to_numpy()]
