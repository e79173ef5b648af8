"""Hypothesis tests as SAS and the paper compute them.

* Two-sample Student t with pooled variance (PROC TTEST "Pooled"): difference, SE, 95 % CI on
  n1 + n2 - 2 df, two-sided p.
* Paired t (PROC TTEST PAIRED): mean difference, SE, CI, p on n - 1 df.
* 2 x k categorical: Pearson chi-square without continuity correction; Fisher's exact test
  (two-sided) instead when an expected count is below 5 (the paper's rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class TTest:
    diff: float
    se: float
    lcl: float
    ucl: float
    t: float
    df: float
    p: float
    sd_pooled: float = math.nan


def student_pooled(n1: int, m1: float, s1: float, n2: int, m2: float, s2: float, alpha: float = 0.05) -> TTest:
    """Pooled-variance two-sample t of group 1 minus group 2 from n, mean and SD."""
    df = n1 + n2 - 2
    pooled = math.sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df)
    se = pooled * math.sqrt(1.0 / n1 + 1.0 / n2)
    diff = m1 - m2
    q = float(special.stdtrit(df, 1 - alpha / 2))
    t = diff / se if se > 0 else math.copysign(math.inf, diff)
    p = float(2.0 * special.stdtr(df, -abs(t)))
    return TTest(diff, se, diff - q * se, diff + q * se, t, df, p, pooled)


def student_pooled_samples(x, y, alpha: float = 0.05) -> TTest:
    """student_pooled from two samples (missing values dropped)."""
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    return student_pooled(a.size, a.mean(), a.std(ddof=1), b.size, b.mean(), b.std(ddof=1), alpha)


def paired_t(before, after, alpha: float = 0.05) -> TTest:
    """Paired t of after - before over pairs where both are present."""
    a = np.asarray(before, dtype=float)
    b = np.asarray(after, dtype=float)
    keep = ~np.isnan(a) & ~np.isnan(b)
    d = b[keep] - a[keep]
    n = d.size
    se = d.std(ddof=1) / math.sqrt(n)
    q = float(special.stdtrit(n - 1, 1 - alpha / 2))
    t = d.mean() / se if se > 0 else math.inf
    return TTest(float(d.mean()), se, d.mean() - q * se, d.mean() + q * se, t, n - 1,
                 float(2.0 * special.stdtr(n - 1, -abs(t))))


@dataclass(frozen=True)
class CategoricalTest:
    method: str            # "pearson" or "fisher"
    statistic: float
    p: float
    min_expected: float


def chi2_or_fisher(table) -> CategoricalTest:
    """Pearson chi-square without continuity correction; Fisher exact when an expected count < 5.

    table: counts, rows = categories, columns = groups (2 x 2 for Fisher). Rows or columns without
    any count are dropped; when fewer than two of either remain no test is possible (p is NaN).
    """
    counts = np.asarray(table, dtype=float)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.ndim != 2 or min(counts.shape) < 2:
        return CategoricalTest("none", math.nan, math.nan, 0.0)   # an empty margin: no test
    chi2, p, _, expected = stats.chi2_contingency(counts, correction=False)
    min_expected = float(expected.min())
    if min_expected < 5 and counts.shape == (2, 2):
        result = stats.fisher_exact(counts.astype(int))
        return CategoricalTest("fisher", float(result.statistic), float(result.pvalue), min_expected)
    return CategoricalTest("pearson", float(chi2), float(p), min_expected)
