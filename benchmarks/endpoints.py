"""Benchmark: the ALS-endpoint derivations at trial-registry scale (default 10,000 subjects).

CAFS scores as ranks (O(n log n)) against the literal n x n pairwise comparison (the baseline, run on
a subset small enough to fit in memory and checked equal), ALS/SURV ranks with 15 % of subjects
leaving early, King's and MiToS stages of 10 administrations per subject, and permanent assisted
ventilation from simulated daily NIV records of a third of the subjects. Prints seconds, records/s,
peak memory and the speed-up of the rank formula over the pairwise baseline.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from cdisc_als.adam.bds import ALSFRS_ITEMS
from cdisc_als.adam.cafs import COMPLETED, DIED, LEFT, als_surv_ranks, cafs_scores
from cdisc_als.adam.staging import derive_kings_stage, derive_mitos_stage
from cdisc_als.adam.ventilation import derive_pav_onset
from cdisc_als.simulate.niv import simulate_niv_use
from cdisc_als.study import PermanentVentilation


def _outcomes(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    status = rng.choice([DIED, COMPLETED, LEFT], size=n, p=[0.15, 0.70, 0.15])
    months = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    left_at = rng.choice(months[:-1], size=n)
    time_ = np.where(status == DIED, rng.uniform(0.1, 6.0, n), np.where(status == LEFT, left_at, 6.0))
    slope = rng.normal(-1.0, 0.6, n)
    rows = [(f"S{i:05d}", m, float(np.round(slope[i] * m))) for i in range(n) for m in months if m <= time_[i]]
    trajectory = pd.DataFrame(rows, columns=["USUBJID", "MONTH", "CHANGE"])
    last = trajectory.groupby("USUBJID")["CHANGE"].last()
    ids = [f"S{i:05d}" for i in range(n)]
    change = np.where(status == DIED, np.nan, pd.Series(ids).map(last).fillna(0.0).to_numpy())
    return pd.DataFrame({"USUBJID": ids, "STATUS": status, "TIME": time_, "CHANGE": change}), trajectory


def _pairwise(outcomes: pd.DataFrame) -> np.ndarray:
    """The literal definition: every pair compared (the baseline)."""
    died = (outcomes["STATUS"] == DIED).to_numpy()
    t, c = outcomes["TIME"].to_numpy(float), outcomes["CHANGE"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        by_function = np.nan_to_num(np.sign(c[:, None] - c[None, :]))
    score = np.where(died[:, None] & died[None, :], np.sign(t[:, None] - t[None, :]),
                     np.where(died[:, None], -1.0, np.where(died[None, :], 1.0, by_function)))
    np.fill_diagonal(score, 0.0)
    return score.sum(axis=1)


def _timed(label: str, records: int, call):
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    print(f"{label:48s} {seconds:8.3f} s  {records / seconds:>14,.0f} records/s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--pairwise-subjects", type=int, default=4_000, help="size of the n x n baseline")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    outcomes, trajectory = _outcomes(args.subjects, rng)
    subset = outcomes.iloc[:args.pairwise_subjects].reset_index(drop=True)
    fast, fast_s = _timed(f"CAFS scores, rank formula (n = {len(subset):,})", len(subset), lambda: cafs_scores(subset))
    slow, slow_s = _timed(f"CAFS scores, n x n pairs (n = {len(subset):,})", len(subset), lambda: _pairwise(subset))
    assert np.array_equal(fast.to_numpy(), slow), "rank formula and pairwise definition disagree"
    print(f"speed-up of the rank formula over the pairwise baseline: {slow_s / fast_s:,.0f}x")
    _timed(f"CAFS scores, rank formula (n = {args.subjects:,})", args.subjects, lambda: cafs_scores(outcomes))
    _timed(f"ALS/SURV ranks (n = {args.subjects:,}, 15 % leave)", args.subjects,
           lambda: als_surv_ranks(outcomes, trajectory))
    admins = args.subjects * 10
    items = pd.DataFrame(rng.integers(0, 5, size=(admins, 12)).astype(float), columns=ALSFRS_ITEMS).astype("Float64")
    items["GASTRO"] = pd.array(rng.random(admins) < 0.1, dtype="boolean")
    _timed(f"King's and MiToS stages ({admins:,} administrations)", admins,
           lambda: derive_mitos_stage(derive_kings_stage(items)))
    n_niv = args.subjects // 3
    periods = pd.DataFrame({"SUBJID": [f"S{i:05d}" for i in range(n_niv)], "START": "2014-01-01",
                            "END": pd.Timestamp("2014-01-01") + pd.to_timedelta(rng.integers(30, 540, n_niv), "D"),
                            "END_REASON": rng.choice(["DEATH", "TRACHEOSTOMY", "ALIVE"], n_niv)})
    daily, _ = _timed(f"simulate daily NIV use ({n_niv:,} subjects)", n_niv,
                      lambda: simulate_niv_use(periods, np.random.default_rng(1)))
    frame = pd.DataFrame({"USUBJID": daily["SUBJID"], "DATE": pd.to_datetime(daily["NIVDT"]), "HOURS": daily["HOURS"]})
    onset, _ = _timed(f"PAV onset ({len(frame):,} daily records)", len(frame),
                      lambda: derive_pav_onset(frame, PermanentVentilation()))
    print(f"subjects reaching PAV: {len(onset):,} of {n_niv:,}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024:.2f} GB")


if __name__ == "__main__":
    main()
