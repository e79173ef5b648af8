"""Compare two Analysis Results Data tables (QC of tables as data, not as rendered text)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_als.compare.core import CompareResult, compare_datasets

ARD_KEYS = ["output_id", "group1", "group1_level", "variable", "variable_level", "stat_name"]
ARD_COLUMNS = [*ARD_KEYS, "stat", "stat_fmt"]


def _prepare(ard: pd.DataFrame | str | Path, which: str) -> pd.DataFrame:
    frame = pd.read_csv(ard, dtype=str, keep_default_na=False) if not isinstance(ard, pd.DataFrame) else ard.copy()
    missing = [c for c in ARD_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{which}: not an ARD, missing column(s) {missing}")
    for key in ARD_KEYS:
        frame[key] = frame[key].fillna("").astype(str)
    frame["stat_fmt"] = frame["stat_fmt"].fillna("").astype(str)
    frame["stat"] = pd.to_numeric(frame["stat"], errors="coerce")
    return frame[ARD_COLUMNS + [c for c in frame.columns if c not in ARD_COLUMNS]]


def compare_ard(base: pd.DataFrame | str | Path, compare: pd.DataFrame | str | Path,
                tolerance: float = 1e-8, method: str = "absolute") -> CompareResult:
    """Match ARD rows on output/group/variable/statistic and compare stat (numeric) and stat_fmt (text)."""
    return compare_datasets(_prepare(base, "base ARD"), _prepare(compare, "compare ARD"), keys=ARD_KEYS,
                            tolerance=tolerance, method=method, base_name="BASE ARD", compare_name="COMPARE ARD")
