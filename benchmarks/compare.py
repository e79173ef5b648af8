"""Benchmark: compare two 1,000,000-row BDS-shaped frames with 0.1 % changed values (goal: under 5 s)."""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from cdisc_als.compare import compare_datasets


def make_frames(rows: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    rng = np.random.default_rng(seed)
    n_subj, n_param, n_visit = rows // 100, 20, 5
    subj = np.repeat([f"ALS-{i:06d}" for i in range(n_subj)], n_param * n_visit)
    param = np.tile(np.repeat([f"P{j:02d}" for j in range(n_param)], n_visit), n_subj)
    visit = np.tile(np.arange(n_visit, dtype=float), n_subj * n_param)
    aval = np.round(rng.normal(30, 8, len(subj)), 2)
    base = pd.DataFrame({"USUBJID": subj, "PARAMCD": param, "AVISITN": visit, "AVAL": aval,
                         "BASE": np.round(aval + rng.normal(0, 2, len(subj)), 2),
                         "AVALC": np.where(aval > 30, "HIGH", "LOW"), "ABLFL": np.where(visit == 0, "Y", "")})
    comp = base.sample(frac=1.0, random_state=seed).reset_index(drop=True)   # other order, same keys
    changed = rng.choice(len(comp), size=len(comp) // 1000, replace=False)
    comp.loc[changed, "AVAL"] = comp.loc[changed, "AVAL"] + 0.5
    return base, comp, len(changed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    base, comp, n_changed = make_frames(args.rows)
    start = time.perf_counter()
    result = compare_datasets(base, comp, keys=["USUBJID", "PARAMCD", "AVISITN"])
    seconds = time.perf_counter() - start
    assert len(result.values) == n_changed, (len(result.values), n_changed)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows per frame: {len(base):,}; changed values: {n_changed:,}; found: {len(result.values):,}")
    print(f"SYSINFO: {result.sysinfo}")
    print(f"seconds: {seconds:.2f}")
    print(f"rows/s: {len(base) / seconds:,.0f}")
    print(f"peak memory: {peak_mb:.0f} MB")
    print(f"goal (< 5 s): {'met' if seconds < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
