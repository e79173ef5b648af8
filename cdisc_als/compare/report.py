"""PROC COMPARE-style text report and an XLSX workbook with one sheet per kind of difference."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.compare.core import OBS, CompareResult
from cdisc_als.io import atomic_write_bytes
from cdisc_als.reproducible import fixed_zip, stamp_workbook

EXCEL_MAX_ROWS = 1_048_575


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "."
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "  (none)\n"
    cells = frame.map(_fmt) if hasattr(frame, "map") else frame.applymap(_fmt)
    widths = {c: max(len(str(c)), *(len(v) for v in cells[c])) for c in cells.columns}
    lines = ["  " + "  ".join(str(c).ljust(widths[c]) for c in cells.columns),
             "  " + "  ".join("-" * widths[c] for c in cells.columns)]
    lines += ["  " + "  ".join(row[c].ljust(widths[c]) for c in cells.columns) for _, row in cells.iterrows()]
    return "\n".join(lines) + "\n"


def text_report(result: CompareResult, max_values: int = 50) -> str:
    """The fixed sections of a PROC COMPARE listing, from the result's tables."""
    ident = "position" if not result.keys else " ".join(result.keys)
    method = result.method.upper() + (f", criterion {result.criterion:g}" if result.method != "exact" else "")
    out = [f"The COMPARE Procedure\nComparison of {result.base_name} with {result.compare_name}\n(Method={method}; ID: {ident})\n",
           "Data Set Summary\n", _table(result.dataset)]
    n_common = int(result.dataset.iloc[0]["variables"]) - len(result.vars_only_in_base)
    conflicts = result.attributes[result.attributes["attribute"] == "type"]["variable"].tolist()
    differing = sorted(set(result.attributes["variable"]) - set(conflicts))
    out.append("Variables Summary\n")
    out.append(f"  Number of Variables in Common: {n_common}.\n")
    if result.vars_only_in_base:
        out.append(f"  Number of Variables in {result.base_name} but not in {result.compare_name}: "
                   f"{len(result.vars_only_in_base)} ({', '.join(result.vars_only_in_base)}).\n")
    if result.vars_only_in_compare:
        out.append(f"  Number of Variables in {result.compare_name} but not in {result.base_name}: "
                   f"{len(result.vars_only_in_compare)} ({', '.join(result.vars_only_in_compare)}).\n")
    if conflicts:
        out.append(f"  Number of Variables with Conflicting Types: {len(conflicts)} ({', '.join(conflicts)}).\n")
    if differing:
        out.append(f"  Number of Variables with Differing Attributes: {len(differing)}.\n")
    if not result.attributes.empty:
        out += ["\nListing of Common Variables with Differing Attributes\n", _table(result.attributes)]
    n_base = int(result.dataset.iloc[0]["observations"])
    n_comp = int(result.dataset.iloc[1]["observations"])
    out.append("\nObservation Summary\n")
    out.append(f"  Number of Observations in Common: {result.n_obs_common}.\n")
    out.append(f"  Number of Observations in {result.base_name} but not in {result.compare_name}: "
               f"{len(result.obs_only_in_base)}.\n")
    out.append(f"  Number of Observations in {result.compare_name} but not in {result.base_name}: "
               f"{len(result.obs_only_in_compare)}.\n")
    out.append(f"  Total Number of Observations Read from {result.base_name}: {n_base}.\n")
    out.append(f"  Total Number of Observations Read from {result.compare_name}: {n_comp}.\n")
    out.append(f"  Number of Observations with Some Compared Variables Unequal: {result.n_obs_unequal}.\n")
    out.append(f"  Number of Observations with All Compared Variables Equal: "
               f"{result.n_obs_common - result.n_obs_unequal}.\n")
    for title, frame in ((f"in {result.base_name} only", result.obs_only_in_base),
                         (f"in {result.compare_name} only", result.obs_only_in_compare)):
        if not frame.empty:
            out += [f"\nObservations {title} (first {max_values})\n", _table(frame.head(max_values))]
    summary = result.value_summary
    unequal = summary[summary["unequal"] > 0]
    out.append("\nValues Comparison Summary\n")
    out.append(f"  Number of Variables Compared with All Observations Equal: {int((summary['unequal'] == 0).sum())}.\n")
    out.append(f"  Number of Variables Compared with Some Observations Unequal: {len(unequal)}.\n")
    out.append(f"  Total Number of Values which Compare Unequal: {int(summary['unequal'].sum())}.\n")
    if len(unequal) and unequal["max_abs_diff"].notna().any():
        out.append(f"  Maximum Difference: {unequal['max_abs_diff'].max():.6g}.\n")
    if len(unequal):
        out += ["\nVariables with Unequal Values\n", _table(unequal)]
        out.append("\nValue Comparison Results for Variables\n")
        for var in unequal["variable"]:
            rows = result.values[result.values["variable"] == var].head(max_values)
            cols = [c for c in rows.columns if c not in ("variable",) and not (c == "diff" and rows[c].isna().all())]
            out += [f"\n  {var}\n", _table(rows[cols])]
    out.append(f"\nSYSINFO={result.sysinfo}" + (f" ({' '.join(result.bits)})" if result.bits else " (no differences)")
               + "\n")
    return "".join(out)


def write_workbook(result: CompareResult, path: str | Path) -> None:
    """One sheet per kind of difference plus a summary sheet; written atomically."""
    sheets = {"summary": pd.DataFrame({
        "item": ["base", "compare", "id", "method", "criterion", "sysinfo", "bits"],
        "value": [result.base_name, result.compare_name, " ".join(result.keys) or "position", result.method,
                  result.criterion, result.sysinfo, " ".join(result.bits)]})}
    sheets.update(result.issues())
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = frame.drop(columns=[OBS], errors="ignore") if name == "summary" else frame
            frame.head(EXCEL_MAX_ROWS).to_excel(writer, sheet_name=name[:31], index=False)
        stamp_workbook(writer.book)
    atomic_write_bytes(path, fixed_zip(buffer.getvalue()))
