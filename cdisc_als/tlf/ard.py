"""Analysis Results Data (ARD): one row per statistic, the one structure behind tables, shells and QC.

Columns (pharmaverse cards names where cards has them; docs/tlf.md maps every name):
  output_id, row_id        the catalogue output and row the statistic belongs to
  group1, group1_level     treatment variable and arm label ('' for between-arm statistics,
                           'Total' for the total column)
  group2, group2_level     a second grouping (subgroup, severity, responder group, SOC above a PT)
  group3, group3_level     a third (the SOC above a PT when group2 holds the severity)
  variable, variable_level analysed variable (or PARAMCD) and its level (category, visit, term)
  context                  the analysis (continuous, categorical, hierarchical, survival, ...)
  stat_name, stat_label    statistic name and its printed label
  stat                     unrounded value (integers stay integers; empty when undefined)
  stat_fmt                 as printed: SAS half-up rounding; 'NE' when the value is undefined
  fmt                      the display format ('xx', 'xx.x', 'xx.x%', 'p.xxx', 'text'), which a shell prints
  warning, error           why a value is undefined or what the reader must know; what failed
The key (output_id, row_id, group1, group1_level, group2, group2_level, variable, variable_level,
stat_name) is unique in every output.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from cdisc_als.rounding import format_number, format_pvalue

GROUPS = ["group1", "group1_level", "group2", "group2_level", "group3", "group3_level"]
COLUMNS = ["output_id", "row_id", *GROUPS, "variable", "variable_level", "context", "stat_name", "stat_label", "stat",
           "stat_fmt", "fmt", "warning", "error"]
KEY = ["output_id", "row_id", *GROUPS, "variable", "variable_level", "stat_name"]
NOT_ESTIMABLE = "NE"
TOTAL = "Total"

STAT_LABELS = {
    "n": "n", "N": "N", "pct": "%", "nmiss": "n missing", "mean": "Mean", "sd": "SD", "se": "SE", "median": "Median",
    "q1": "Q1", "q3": "Q3", "min": "Min", "max": "Max", "geom_mean": "Geometric mean", "cv": "CV (%)",
    "mean_lcl": "Mean lower 95% CL", "mean_ucl": "Mean upper 95% CL", "diff": "Difference",
    "diff_se": "SE of difference", "lcl": "Lower 95% CL", "ucl": "Upper 95% CL", "pvalue": "p-value",
    "method": "Test", "statistic": "Test statistic", "df": "Degrees of freedom", "events": "Events",
    "censored": "Censored", "median_lcl": "Median lower 95% CL", "median_ucl": "Median upper 95% CL",
    "rate": "Event-free rate", "rate_lcl": "Rate lower 95% CL", "rate_ucl": "Rate upper 95% CL",
    "rmst": "Restricted mean", "rmst_se": "SE of restricted mean", "tau": "Restriction time", "hr": "Hazard ratio",
    "hr_lcl": "Hazard ratio lower 95% CL", "hr_ucl": "Hazard ratio upper 95% CL", "estimate": "Estimate",
    "lead_estimate": "Slope before the knot", "lead_se": "SE of slope before the knot", "intercept": "Intercept",
    "r2": "R squared", "auc": "ROC AUC", "converged": "Converged",
}


def decimals_fmt(decimals: int) -> str:
    """'xx' for 0 decimals, 'xx.x' for 1, ..."""
    return "xx" + ("." + "x" * decimals if decimals > 0 else "")


def format_stat(value: Any, fmt: str) -> str:
    """The printed text of a statistic under its display format; 'NE' when the value is undefined."""
    if fmt == "text":
        return "" if value is None else str(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_ESTIMABLE
    if fmt == "p.xxx":
        return format_pvalue(float(value))
    decimals = len(fmt.rstrip("%").partition(".")[2])
    if fmt.rstrip("%") == "xx" and float(value).is_integer():
        return str(int(value))
    return format_number(float(value), decimals)


def placeholder(fmt: str) -> str:
    """What a mock shell prints for a statistic of this format."""
    return {"p.xxx": "x.xxx", "text": "xxxxx"}.get(fmt, fmt.rstrip("%"))


def _plain(value: Any) -> Any:
    """Integers as int, undefined values as None (written empty), other numbers as float."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int,)) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return int(value)
    if isinstance(value, str):
        return value
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number    # an infinite limit is not estimable


class ArdBuilder:
    """Collects the statistics of one output row; `add` formats each one as it is recorded."""

    def __init__(self, output_id: str, row_id: str, context: str, group1: str):
        self.output_id, self.row_id, self.context, self.group1 = output_id, row_id, context, group1
        self.rows: list[dict[str, Any]] = []

    def add(self, stat_name: str, value: Any, fmt: str, *, arm: str = "", variable: str = "", level: str = "",
            group2: str = "", group2_level: str = "", group3: str = "", group3_level: str = "",
            warning: str = "", error: str = "", label: str | None = None) -> None:
        plain = _plain(value)
        if plain is None and not warning and not error and fmt != "text":
            warning = "not estimable"
        self.rows.append({
            "output_id": self.output_id, "row_id": self.row_id, "group1": self.group1, "group1_level": arm,
            "group2": group2, "group2_level": group2_level, "group3": group3, "group3_level": group3_level,
            "variable": variable, "variable_level": level,
            "context": self.context, "stat_name": stat_name, "stat_label": label or STAT_LABELS.get(stat_name, stat_name),
            "stat": plain, "stat_fmt": format_stat(plain, fmt), "fmt": fmt, "warning": warning, "error": error})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=COLUMNS)


def duplicate_keys(ard: pd.DataFrame) -> pd.DataFrame:
    """ARD rows whose key repeats (must be empty)."""
    return ard[ard.duplicated(KEY, keep=False)]


def as_shell(ard: pd.DataFrame) -> pd.DataFrame:
    """The ARD of a mock shell: every printed value replaced by its format's placeholder."""
    shell = ard.copy()
    shell["stat_fmt"] = [placeholder(f) if f != "text" else v for f, v in zip(shell["fmt"], shell["stat_fmt"],
                                                                            strict=True)]
    shell["stat"] = None
    return shell


