"""Benchmark: scale-mode simulation of 10,000 subjects (goal: under 30 s). Prints seconds and rows."""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from cdisc_als.simulate.run import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        counts = simulate(out, seed=args.seed, subjects=args.subjects)
        seconds = time.perf_counter() - start
    rows = sum(counts.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"subjects: {args.subjects}")
    for name, n in counts.items():
        print(f"  {name:12s} {n:>10d} rows")
    print(f"rows written: {rows}")
    print(f"seconds: {seconds:.2f}")
    print(f"rows/s: {rows / seconds:,.0f}")
    print(f"peak memory: {peak_mb:.0f} MB")
    print(f"goal (< 30 s): {'met' if seconds < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
