"""Benchmark: 10,000 simulated subjects, raw CSV -> SDTM XPT (goal: under 60 s and 4 GB).

Prints seconds for the SDTM step alone (reading, checking, mapping, writing), records written,
records/s and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from cdisc_als.sdtm.pipeline import run_sdtm
from cdisc_als.simulate.run import simulate
from cdisc_als.study import load_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "sdtm"
        rows = sum(simulate(raw, seed=1, subjects=args.subjects).values())
        start = time.perf_counter()
        result = run_sdtm(raw, out, load_study())
        seconds = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in out.glob("*.xpt")) / 1e6
    records = sum(len(d) for d in result.datasets.values())
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"subjects: {args.subjects}; raw rows: {rows:,}")
    for name, frame in result.datasets.items():
        print(f"  {name:8s} {len(frame):>10,d} records")
    print(f"SDTM records: {records:,}; XPT size: {size_mb:.0f} MB")
    print(f"seconds (raw -> SDTM XPT): {seconds:.1f}")
    print(f"records/s: {records / seconds:,.0f}")
    print(f"peak memory: {peak_gb:.2f} GB")
    print(f"goal (< 60 s, < 4 GB): {'met' if seconds < 60 and peak_gb < 4 else 'NOT met'}")


if __name__ == "__main__":
    main()
