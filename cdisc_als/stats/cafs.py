"""CAFS and ALS/SURV group comparison (the ranks themselves are ADCAFS, cdisc_als/adam/cafs.py).

Berry et al. (2013) summarise CAFS by the mean rank of each treatment group (a higher mean rank is a
better group outcome) and compare the groups' ranks with a two-sample rank test; `cafs_comparison`
reports, per group, n and the mean rank, the Wilcoxon rank-sum test of the ranks (stats/ranks.py) and
the Finkelstein-Schoenfeld test of the summed pairwise scores (the method CAFS builds on). ALS/SURV
ranks (Goutman et al. 2019) are compared the same way (no scores: `scores=None`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cdisc_als.stats.ranks import RankSumTest, ScoreTest, finkelstein_schoenfeld, wilcoxon_rank_sum


@dataclass(frozen=True)
class GroupRanks:
    group: object
    n: int
    mean_rank: float


@dataclass(frozen=True)
class CafsComparison:
    groups: tuple[GroupRanks, ...]
    rank_sum: RankSumTest
    score_test: ScoreTest | None


def mean_ranks(ranks, groups) -> tuple[GroupRanks, ...]:
    """n and mean rank of every group (in order of first appearance), missing ranks left out; a group
    without ranks has mean NaN."""
    r = np.asarray(ranks, dtype=float)
    g = np.asarray(groups, dtype=object)
    out = []
    for group in dict.fromkeys(g.tolist()):
        mine = r[(g == group) & ~np.isnan(r)]
        out.append(GroupRanks(group, int(mine.size), float(mine.mean()) if mine.size else math.nan))
    return tuple(out)


def cafs_comparison(ranks, groups, first, second, scores=None, continuity: bool = True) -> CafsComparison:
    """Mean rank per group and the tests of group `first` against group `second`: Wilcoxon rank-sum of
    the ranks and, when the summed pairwise scores are given, the Finkelstein-Schoenfeld test."""
    rank_sum = wilcoxon_rank_sum(ranks, groups, first, second, continuity)
    score_test = finkelstein_schoenfeld(scores, groups, first, second) if scores is not None else None
    return CafsComparison(mean_ranks(ranks, groups), rank_sum, score_test)
