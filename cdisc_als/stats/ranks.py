"""Two-group rank statistics for composite and rank-based endpoints (CAFS, ALS/SURV, worst-rank).

* Wilcoxon rank-sum test as SAS PROC NPAR1WAY WILCOXON computes it: mid-ranks over both groups, the
  rank sum W of the first group, E(W) = n1 (N + 1) / 2, Var(W) = n1 n2 / 12 x [(N + 1) - sum(t^3 - t) /
  (N (N - 1))] (t: the sizes of the tie groups), Z = (W - E(W) -+ 0.5) / sqrt(Var(W)) with the
  continuity correction of 0.5 towards E(W) (NPAR1WAY's default; `continuity=False` drops it), two-sided
  p = 2 (1 - Phi(|Z|)). Mean ranks per group are reported with it.
* Finkelstein-Schoenfeld test (Finkelstein DM, Schoenfeld DA, Stat Med 1999;18:1341-1354), the
  permutation test of summed pairwise scores U_i (the CAFS scores): T = sum of U over the first group,
  Var(T) = n1 n2 / (N (N - 1)) x sum of U^2 over all subjects, Z = T / sqrt(Var(T)), two-sided p.
Undefined results (a group without subjects, no variance) are NaN, never a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr
from scipy.stats import rankdata


@dataclass(frozen=True)
class RankSumTest:
    n1: int
    n2: int
    mean_rank1: float
    mean_rank2: float
    rank_sum1: float
    expected1: float
    variance: float
    z: float
    p: float


@dataclass(frozen=True)
class ScoreTest:
    n1: int
    n2: int
    sum1: float
    variance: float
    z: float
    p: float


def _two_groups(values, groups, first, second) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=float)
    g = np.asarray(groups, dtype=object)
    keep = ~np.isnan(x) & ((g == first) | (g == second))
    return x[keep], g[keep] == first


def _two_sided(z: float) -> float:
    return float(2.0 * ndtr(-abs(z))) if not math.isnan(z) else math.nan


def wilcoxon_rank_sum(values, groups, first, second, continuity: bool = True) -> RankSumTest:
    """Wilcoxon rank-sum test of `values` between the subjects of group `first` and group `second`
    (other groups and missing values left out); mid-ranks are taken over the two groups."""
    x, in_first = _two_groups(values, groups, first, second)
    n1, n2 = int(in_first.sum()), int((~in_first).sum())
    n = n1 + n2
    if n1 == 0 or n2 == 0:
        return RankSumTest(n1, n2, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
    ranks = rankdata(x, method="average")
    w = float(ranks[in_first].sum())
    expected = n1 * (n + 1) / 2
    _, counts = np.unique(x, return_counts=True)
    ties = float(np.sum(counts.astype(float) ** 3 - counts))
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if variance <= 0:
        z = math.nan
    else:
        gap = w - expected
        shift = math.copysign(min(0.5, abs(gap)), gap) if continuity else 0.0
        z = (gap - shift) / math.sqrt(variance)
    return RankSumTest(n1, n2, float(ranks[in_first].mean()), float(ranks[~in_first].mean()), w, expected, variance,
                       z, _two_sided(z))


def finkelstein_schoenfeld(scores, groups, first, second) -> ScoreTest:
    """Finkelstein-Schoenfeld test of summed pairwise scores between group `first` and group `second`.
    The scores must be those of the pairwise comparisons among the subjects of the two groups."""
    u, in_first = _two_groups(scores, groups, first, second)
    n1, n2 = int(in_first.sum()), int((~in_first).sum())
    n = n1 + n2
    if n1 == 0 or n2 == 0:
        return ScoreTest(n1, n2, math.nan, math.nan, math.nan, math.nan)
    total = float(u[in_first].sum())
    variance = n1 * n2 / (n * (n - 1)) * float(np.sum(u ** 2))
    z = total / math.sqrt(variance) if variance > 0 else math.nan
    return ScoreTest(n1, n2, total, variance, z, _two_sided(z))
