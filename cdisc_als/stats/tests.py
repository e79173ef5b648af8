"""Hypothesis tests as SAS and the paper compute them; undefined results are NaN with a reason.

* Two-sample Student t with pooled variance (PROC TTEST "Pooled"): difference, SE, 95 % CI on
  n1 + n2 - 2 df, two-sided p. Undefined when a group has no value, when n1 + n2 < 3, or when the
  pooled SD is zero (a p of 0 would claim certainty the data cannot give).
* Paired t (PROC TTEST PAIRED): mean difference, SE, CI, p on n - 1 df (undefined for n < 2 or
  differences without variance).
* One-way ANOVA (PROC GLM) for more than two groups.
* r x c categorical: Pearson chi-square without continuity correction; when an expected count is
  below 5 an exact test instead: Fisher's for 2 x 2, the Freeman-Halton extension (exact
  enumeration of every table with the observed margins, cdisc_als.stats.exact) for larger tables
  while the enumeration stays small, else the chi-square approximation with that stated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from cdisc_als.stats.exact import TooManyTables, freeman_halton_p


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
    undefined: str = ""          # why the test could not be computed ("" when it could)


def _undefined_t(reason: str, diff: float = math.nan, df: float = math.nan) -> TTest:
    nan = math.nan
    return TTest(diff, nan, nan, nan, nan, df, nan, nan, reason)


def student_pooled(n1: int, m1: float, s1: float, n2: int, m2: float, s2: float, alpha: float = 0.05) -> TTest:
    """Pooled-variance two-sample t of group 1 minus group 2 from n, mean and SD."""
    if n1 < 1 or n2 < 1:
        return _undefined_t("a group has no value")
    df = n1 + n2 - 2
    diff = m1 - m2
    if df < 1:
        return _undefined_t("fewer than 3 values in the two groups", diff)
    s1 = 0.0 if n1 == 1 else s1
    s2 = 0.0 if n2 == 1 else s2
    pooled = math.sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df)
    if not pooled > 0:
        return _undefined_t("no variance within the groups", diff, df)
    se = pooled * math.sqrt(1.0 / n1 + 1.0 / n2)
    q = float(special.stdtrit(df, 1 - alpha / 2))
    t = diff / se
    p = float(2.0 * special.stdtr(df, -abs(t)))
    return TTest(diff, se, diff - q * se, diff + q * se, t, df, p, pooled)


def _clean(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def student_pooled_samples(x, y, alpha: float = 0.05) -> TTest:
    """student_pooled from two samples (missing values dropped)."""
    a, b = _clean(x), _clean(y)
    sd = lambda v: float(v.std(ddof=1)) if v.size > 1 else 0.0  # noqa: E731
    return student_pooled(a.size, float(a.mean()) if a.size else math.nan, sd(a), b.size,
                          float(b.mean()) if b.size else math.nan, sd(b), alpha)


def paired_t(before, after, alpha: float = 0.05) -> TTest:
    """Paired t of after - before over pairs where both are present."""
    a = np.asarray(before, dtype=float)
    b = np.asarray(after, dtype=float)
    keep = ~np.isnan(a) & ~np.isnan(b)
    d = b[keep] - a[keep]
    n = d.size
    if n < 2:
        return _undefined_t("fewer than 2 pairs", float(d.mean()) if n else math.nan)
    se = float(d.std(ddof=1)) / math.sqrt(n)
    if not se > 0:
        return _undefined_t("the differences have no variance", float(d.mean()), n - 1)
    q = float(special.stdtrit(n - 1, 1 - alpha / 2))
    t = float(d.mean()) / se
    return TTest(float(d.mean()), se, d.mean() - q * se, d.mean() + q * se, t, n - 1,
                 float(2.0 * special.stdtr(n - 1, -abs(t))))


@dataclass(frozen=True)
class Anova:
    f: float
    df1: int
    df2: int
    p: float
    undefined: str = ""


def one_way_anova(samples) -> Anova:
    """One-way ANOVA F test of equal means (missing values dropped; empty groups left out)."""
    groups = [g for g in (_clean(s) for s in samples) if g.size]
    n = sum(g.size for g in groups)
    k = len(groups)
    if k < 2 or n - k < 1:
        return Anova(math.nan, k - 1, n - k, math.nan, "fewer than two groups with values, or no residual df")
    grand = np.concatenate(groups).mean()
    between = sum(g.size * (g.mean() - grand) ** 2 for g in groups)
    within = sum(((g - g.mean()) ** 2).sum() for g in groups)
    if not within > 0:
        return Anova(math.nan, k - 1, n - k, math.nan, "no variance within the groups")
    f = (between / (k - 1)) / (within / (n - k))
    return Anova(float(f), k - 1, n - k, float(special.fdtrc(k - 1, n - k, f)))


@dataclass(frozen=True)
class CategoricalTest:
    method: str            # "pearson", "fisher", "freeman-halton", "pearson-approximate" or "none"
    statistic: float
    p: float
    min_expected: float
    note: str = ""         # what the reader must know (approximation used, why no test)


def chi2_or_fisher(table, max_tables: int = 200_000) -> CategoricalTest:
    """Pearson chi-square without continuity correction, or an exact test when an expected count is
    below 5 (Fisher 2 x 2; Freeman-Halton r x c while at most `max_tables` tables share the margins).

    table: counts, rows = categories, columns = groups. Rows or columns without any count are
    dropped; when fewer than two of either remain no test is possible (p is NaN, method "none").
    """
    counts = np.asarray(table, dtype=float)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.ndim != 2 or min(counts.shape) < 2:
        return CategoricalTest("none", math.nan, math.nan, 0.0, "a margin has fewer than two non-empty categories")
    chi2, p, _, expected = stats.chi2_contingency(counts, correction=False)
    min_expected = float(expected.min())
    if min_expected >= 5:
        return CategoricalTest("pearson", float(chi2), float(p), min_expected)
    if counts.shape == (2, 2):
        result = stats.fisher_exact(counts.astype(int))
        return CategoricalTest("fisher", float(result.statistic), float(result.pvalue), min_expected)
    try:
        return CategoricalTest("freeman-halton", float(chi2), freeman_halton_p(counts.astype(int), max_tables),
                               min_expected)
    except TooManyTables as exc:
        return CategoricalTest("pearson-approximate", float(chi2), float(p), min_expected,
                               f"chi-square approximation although an expected count is {min_expected:.1f} (< 5): "
                               f"the exact test would enumerate {exc.count} tables")
