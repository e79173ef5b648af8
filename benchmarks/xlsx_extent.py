"""Benchmark: reading a small XLSX whose declared used range reaches XFD1048576 (issue 14, bounded work).

The workbook holds a header and `--rows` data rows plus one formatted empty cell at XFD1048576, so
its dimension says A1:XFD1048576 while the file is a few KB. The baseline is openpyxl's read-only
iteration trusting the declared dimension (what the raw reader did before): every row padded to
16,384 columns, 1,048,576 rows. The baseline is timed on its first `--sample` rows and extrapolated
(the full run takes hours); `cdisc_als.raw.readers.read_table` is timed on the whole file. Prints
seconds, rows/s, peak memory and the ratio.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from cdisc_als.raw.readers import read_table

DECLARED_ROWS = 1_048_576


def build(path: Path, rows: int) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["SUBJID", "VISIT", "FVCDT", "FVC_L", "FVC_PCT"])
    for k in range(rows):
        sheet.append([f"{k:03d}", "VISIT 1", "2012-01-01", "3.10", "80.5"])
    sheet.cell(row=DECLARED_ROWS, column=16_384).font = Font(bold=True)
    book.save(path)


def baseline_seconds(path: Path, sample: int) -> float:
    """Seconds the declared-dimension read would take, extrapolated from its first `sample` rows."""
    book = load_workbook(path, read_only=True)
    start = time.perf_counter()
    for k, _row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
        if k >= sample:
            break
    elapsed = time.perf_counter() - start
    book.close()
    return elapsed / sample * DECLARED_ROWS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fvc.xlsx"
        build(path, args.rows)
        size_kb = path.stat().st_size / 1024
        start = time.perf_counter()
        read = read_table(path)
        seconds = time.perf_counter() - start
        baseline = baseline_seconds(path, args.sample)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file: {size_kb:.1f} KB, declared range A1:XFD{DECLARED_ROWS}, {args.rows} data rows")
    print(f"rows read: {len(read.frame)} (+ {read.blank_lines:,} blank rows accounted for)")
    print(f"seconds: {seconds:.2f}")
    print(f"rows/s (sheet rows scanned): {(read.lines + 1) / seconds:,.0f}")
    print(f"peak memory: {peak_mb:.0f} MB")
    print(f"baseline (declared dimension, extrapolated from {args.sample} rows): {baseline:,.0f} s")
    print(f"ratio baseline / now: {baseline / seconds:,.0f}x")


if __name__ == "__main__":
    main()
