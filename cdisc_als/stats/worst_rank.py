"""Worst-rank analysis of an endpoint that death leaves missing (Lachin JM, Control Clin Trials
1999;20:408-422): subjects who died before the endpoint could be assessed get the worst ranks, ordered
by the time of death (an earlier death is worse, equal times share a rank), below every subject with
an observed value; observed values are ranked among themselves (ties share the mean rank). Subjects
with neither a value nor a death stay missing (NaN) and are left out of the test. The groups are then
compared with the Wilcoxon rank-sum test (stats/ranks.py).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from cdisc_als.stats.ranks import RankSumTest, wilcoxon_rank_sum


def worst_rank_scores(values, death_times, higher_is_better: bool = True) -> np.ndarray:
    """Ranks 1..n (1 = worst) with deaths ranked worst; NaN for subjects with neither a value nor a
    death time. `values`: the endpoint (NaN when missing); `death_times`: time of death of the subjects
    who died before the assessment (NaN otherwise; ignored when the value is present)."""
    x = np.asarray(values, dtype=float)
    death = np.asarray(death_times, dtype=float)
    if x.shape != death.shape:
        raise ValueError(f"worst_rank_scores: {x.size} values but {death.size} death times")
    observed = ~np.isnan(x)
    died = ~observed & ~np.isnan(death)
    out = np.full(x.shape, np.nan)
    out[died] = rankdata(death[died], method="average")
    better = x[observed] if higher_is_better else -x[observed]
    out[observed] = died.sum() + rankdata(better, method="average")
    return out


def worst_rank_test(values, death_times, groups, first, second, higher_is_better: bool = True,
                    continuity: bool = True) -> RankSumTest:
    """Wilcoxon rank-sum test of the worst-rank scores of group `first` against group `second`."""
    scores = worst_rank_scores(values, death_times, higher_is_better)
    return wilcoxon_rank_sum(scores, groups, first, second, continuity)
