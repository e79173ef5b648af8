"""Benchmark: validation of the public pilot SDTM and of a 10,000-subject simulated study (SDTM + ADaM).

Goal: pilot SDTM under 6 s. Prints seconds and records/s for each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cdisc_als.adam.pipeline import run_adam
from cdisc_als.sdtm.pipeline import run_sdtm
from cdisc_als.simulate.run import simulate
from cdisc_als.study import load_study
from cdisc_als.validate.engine import validate_folder

PILOT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cdiscpilot01" / "sdtm"


def timed(folder: Path, label: str) -> None:
    start = time.perf_counter()
    result = validate_folder(folder)
    seconds = time.perf_counter() - start
    records = sum(len(d.frame) for d in result.datasets)
    print(f"{label}: {len(result.datasets)} datasets, {records:,} records, {len(result.findings):,} findings")
    print(f"  seconds: {seconds:.2f}; records/s: {records / seconds:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--pilot", type=Path, default=PILOT)
    args = parser.parse_args()
    if args.pilot.is_dir():
        timed(args.pilot, "pilot SDTM (goal < 6 s)")
    study = load_study()
    with tempfile.TemporaryDirectory() as tmp:
        raw, sdtm, adam = Path(tmp) / "raw", Path(tmp) / "sdtm", Path(tmp) / "adam"
        simulate(raw, seed=1, subjects=args.subjects)
        run_sdtm(raw, sdtm, study)
        timed(sdtm, f"simulated SDTM, {args.subjects} subjects")
        run_adam(sdtm, adam, study)
        timed(adam, f"simulated ADaM, {args.subjects} subjects")


if __name__ == "__main__":
    main()
