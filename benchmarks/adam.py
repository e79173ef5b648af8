"""Benchmark: 10,000 simulated subjects, SDTM XPT -> ADaM XPT (goal: under 60 s). Prints seconds, records, peak memory."""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from cdisc_als.adam.pipeline import run_adam
from cdisc_als.sdtm.pipeline import run_sdtm
from cdisc_als.simulate.run import simulate
from cdisc_als.study import load_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    args = parser.parse_args()
    study = load_study()
    with tempfile.TemporaryDirectory() as tmp:
        raw, sdtm, adam = Path(tmp) / "raw", Path(tmp) / "sdtm", Path(tmp) / "adam"
        simulate(raw, seed=1, subjects=args.subjects)
        run_sdtm(raw, sdtm, study)
        start = time.perf_counter()
        result = run_adam(sdtm, adam, study)
        seconds = time.perf_counter() - start
    records = sum(result.values())
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    for name, count in result.items():
        print(f"  {name:6s} {count:>10,d} records")
    print(f"ADaM records: {records:,}")
    print(f"seconds (SDTM XPT -> ADaM XPT): {seconds:.1f}")
    print(f"records/s: {records / seconds:,.0f}")
    print(f"peak memory (whole run incl. simulation and SDTM): {peak_gb:.2f} GB")
    print(f"goal (< 60 s): {'met' if seconds < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
