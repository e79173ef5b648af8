"""`cdisc-als compare`: files or folders, text and XLSX reports, SYSINFO code and exit status."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_als.compare.ard import compare_ard
from cdisc_als.compare.core import BITS, CompareError, CompareResult, compare_datasets
from cdisc_als.compare.report import write_workbook
from cdisc_als.compare.sources import load
from cdisc_als.io import atomic_write_text, safe_child, write_csv

SUFFIXES = (".xpt", ".json")


def _metadata_keys(name: str) -> list[str]:
    try:
        from cdisc_als.metadata import load_metadata

        return list(load_metadata().dataset(name).keys)
    except (KeyError, ValueError, OSError):
        return []


def choose_keys(requested: list[str], base_cols: list[str], comp_cols: list[str], name: str) -> list[str]:
    """The requested keys present in both datasets; else the metadata keys; else [] (by position)."""
    present = [k for k in requested if k in base_cols and k in comp_cols]
    if present:
        return present
    if requested:
        return []
    return [k for k in _metadata_keys(name) if k in base_cols and k in comp_cols]


def pair_files(base: Path, compare: Path) -> tuple[list[tuple[str, Path, Path]], list[str], list[str]]:
    """Files of two folders paired by lower-case name; and the names found in only one folder."""
    def index(folder: Path) -> dict[str, Path]:
        return {p.name.lower(): p for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES}

    b, c = index(base), index(compare)
    pairs = [(name, b[name], c[name]) for name in sorted(set(b) & set(c))]
    return pairs, sorted(set(b) - set(c)), sorted(set(c) - set(b))


def _one(base: Path, compare: Path, keys: list[str], tolerance: float | None, method: str | None,
         ard: bool) -> CompareResult:
    if ard:
        return compare_ard(base, compare, tolerance=tolerance if tolerance is not None else 1e-8,
                           method=method or "absolute")
    b, c = load(base), load(compare)
    chosen = choose_keys(keys, list(b.frame.columns), list(c.frame.columns), b.name or base.stem)
    return compare_datasets(b, c, keys=chosen, tolerance=tolerance, method=method,
                            base_name=f"BASE.{base.stem.upper()}", compare_name=f"COMPARE.{compare.stem.upper()}")


def run_compare(base: Path, compare: Path, keys: list[str], tolerance: float | None, method: str | None,
                report_dir: Path | None, max_values: int = 50, ard: bool = False) -> int:
    if base.is_dir() != compare.is_dir():
        raise ValueError("BASE and COMPARE must both be files or both be folders")
    if base.is_dir():
        pairs, only_base, only_comp = pair_files(base, compare)
    else:
        pairs, only_base, only_comp = [(base.name.lower(), base, compare)], [], []
    rows, worst = [], 0
    for name, b, c in pairs:
        try:
            result = _one(b, c, keys, tolerance, method, ard)
        except (CompareError, ValueError, OSError) as exc:
            print(f"{name}: comparison not done: {exc}")
            rows.append({"file": name, "sysinfo": BITS["ERROR"], "differences": f"ERROR: {exc}"})
            worst = 2
            continue
        text = result.report(max_values)
        print(text)
        rows.append({"file": name, "sysinfo": result.sysinfo, "differences": " ".join(result.bits)})
        if report_dir is not None:
            stem = Path(name).stem
            atomic_write_text(safe_child(report_dir, f"{stem}.txt"), text)
            write_workbook(result, safe_child(report_dir, f"{stem}.xlsx"))
        worst = max(worst, 1 if result.has_differences else 0)
    for name in only_base:
        rows.append({"file": name, "sysinfo": "", "differences": "only in BASE folder"})
    for name in only_comp:
        rows.append({"file": name, "sysinfo": "", "differences": "only in COMPARE folder"})
    if only_base or only_comp:
        worst = max(worst, 1)
        print(f"files only in BASE: {only_base}; only in COMPARE: {only_comp}")
    if report_dir is not None:
        write_csv(pd.DataFrame(rows, columns=["file", "sysinfo", "differences"]), safe_child(report_dir, "summary.csv"))
    codes = [int(r["sysinfo"]) for r in rows if str(r["sysinfo"]).isdigit()]
    combined = 0
    for code in codes:
        combined |= code
    print(f"SYSINFO={combined}")
    return worst
