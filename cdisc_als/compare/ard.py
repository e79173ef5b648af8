"""Compare two Analysis Results Data tables (QC of tables as data, not as rendered text)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_als.compare.core import CompareResult, compare_datasets

# The key of an ARD row (cdisc_als.tlf.ard.KEY); the optional parts are used when both ARDs have them,
# so ARDs written before row_id and group2/group3 existed still compare.
ARD_KEYS = ["output_id", "row_id", "group1", "group1_level", "group2", "group2_level", "group3", "group3_level",
            "variable", "variable_level", "stat_name"]
REQUIRED_KEYS = ["output_id", "group1", "group1_level", "variable", "variable_level", "stat_name"]
ARD_COLUMNS = [*REQUIRED_KEYS, "stat", "stat_fmt"]


def _prepare(ard: pd.DataFrame | str | Path, which: str) -> pd.DataFrame:
    frame = pd.read_csv(ard, dtype=str, keep_default_na=False) if not isinstance(ard, pd.DataFrame) else ard.copy()
    missing = [c for c in ARD_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{which}: not an ARD, missing column(s) {missing}")
    for key in [k for k in ARD_KEYS if k in frame.columns]:
        frame[key] = frame[key].fillna("").astype(str)
    frame["stat_fmt"] = frame["stat_fmt"].fillna("").astype(str)
    text = frame["stat"].astype(str) if "stat" in frame else pd.Series(dtype=str)
    numeric = pd.to_numeric(frame["stat"], errors="coerce")
    # text statistics (a test's name, a time unit) are compared through stat_fmt; stat holds numbers only
    frame["stat"] = numeric.where(numeric.notna() | (text.str.strip() == ""), None)
    first = [k for k in ARD_KEYS if k in frame.columns] + ["stat", "stat_fmt"]
    return frame[first + [c for c in frame.columns if c not in first]]


def compare_ard(base: pd.DataFrame | str | Path, compare: pd.DataFrame | str | Path,
                tolerance: float = 1e-8, method: str = "absolute") -> CompareResult:
    """Match ARD rows on their key (output, row, groups, variable and level, statistic; the parts both ARDs
    have) and compare stat (numeric) and stat_fmt (text) and the other columns."""
    left, right = _prepare(base, "base ARD"), _prepare(compare, "compare ARD")
    keys = [k for k in ARD_KEYS if k in left.columns and k in right.columns]
    return compare_datasets(left, right, keys=keys,
                            tolerance=tolerance, method=method, base_name="BASE ARD", compare_name="COMPARE ARD")
