"""Descriptive statistics, ROC AUC, simple linear regression and the piecewise linear mixed model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats


def describe(values) -> dict[str, float]:
    """n, mean, SD, SE, median, min, max of the non-missing values (SD with n - 1)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "se": math.nan, "median": math.nan,
                "min": math.nan, "max": math.nan}
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    return {"n": n, "mean": float(x.mean()), "sd": sd, "se": sd / math.sqrt(n) if n > 1 else math.nan,
            "median": float(np.median(x)), "min": float(x.min()), "max": float(x.max())}


def roc_auc(negative, positive) -> float:
    """Area under the ROC curve of positive vs negative values (Mann-Whitney U / n1 n2; ties count 1/2)."""
    neg = np.asarray(negative, dtype=float)
    pos = np.asarray(positive, dtype=float)
    neg, pos = neg[~np.isnan(neg)], pos[~np.isnan(pos)]
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    return float(u / (pos.size * neg.size))


@dataclass(frozen=True)
class Regression:
    slope: float
    intercept: float
    r2: float
    p: float
    n: int


def linear_regression(x, y) -> Regression:
    """Least-squares y = a + b x; R squared and the two-sided p of b (t on n - 2 df)."""
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    keep = ~np.isnan(a) & ~np.isnan(b)
    n = int(keep.sum())
    if n < 3 or np.ptp(a[keep]) == 0:
        nan = math.nan
        return Regression(nan, nan, nan, nan, n)
    fit = stats.linregress(a[keep], b[keep])
    p = float(fit.pvalue) if n > 2 and np.ptp(b[keep]) > 0 else math.nan
    return Regression(float(fit.slope), float(fit.intercept), float(fit.rvalue ** 2), p, n)


@dataclass(frozen=True)
class SlopeEstimate:
    group: str
    lead: float
    lead_se: float
    post: float
    post_se: float
    n_subjects: int
    converged: bool = True
    method: str = ""          # optimiser of the kept fit
    llf: float = math.nan     # REML log-likelihood of the kept fit
    note: str = ""            # what went wrong, when something did


def piecewise_mixed_model(data: pd.DataFrame, group: str, subject: str = "USUBJID", time: str = "MONTH",
                          value: str = "AVAL", knot: float = 0.0, max_iter: int = 20_000) -> list[SlopeEstimate]:
    """Piecewise linear mixed model per group (arm-specific covariance, REML): fixed intercept,
    slope before the knot (lead) and after it (post), random intercept and both slopes per subject
    (unstructured). Fitting each arm alone equals SAS RANDOM ... GROUP=arm with all fixed effects
    arm-specific. Fitted by cdisc_als.stats.reml (REML by EM in plain IEEE arithmetic, from moment-based
    starting values; every EM step increases the REML likelihood), so the same data print the same slopes
    and SEs on every machine. Convergence is checked: a group whose EM did not settle within max_iter
    steps, or whose design cannot be fitted, is returned with converged=False and the reason (NaN
    estimates when there is no fit at all)."""
    from cdisc_als.stats.reml import fit_random_coefficients

    out = []
    frame = data.dropna(subset=[value, time])
    for level, subjects in _subject_designs(frame, group, subject, time, value, knot):
        try:
            fit = fit_random_coefficients(subjects, max_iter=max_iter)
        except ValueError as exc:
            nan = math.nan
            out.append(SlopeEstimate(str(level), nan, nan, nan, nan, len(subjects), False, "", nan, str(exc)))
            continue
        note = "" if fit.converged else f"REML EM did not converge in {fit.iterations} iterations"
        out.append(SlopeEstimate(str(level), fit.beta[1], fit.se[1], fit.beta[2], fit.se[2], len(subjects),
                                 fit.converged, "REML EM", math.nan, note))
    return out


def _subject_designs(frame: pd.DataFrame, group: str, subject: str, time: str, value: str,
                     knot: float) -> list[tuple[object, list[tuple[list[tuple[float, float, float]], list[float]]]]]:
    """Per level of `group` (sorted), its subjects (sorted) as (X rows (1, min(t, 0), max(t, 0)) with t =
    time - knot, y) in record order: one sort of the whole frame, no per-subject frames."""
    group_codes, levels = pd.factorize(frame[group], sort=True)
    subject_codes, _ = pd.factorize(frame[subject], sort=True)
    keep = (group_codes >= 0) & (subject_codes >= 0)             # as groupby: records without a key are left out
    order = np.flatnonzero(keep)[np.lexsort((subject_codes[keep], group_codes[keep]))]
    months = (frame[time].to_numpy(float) - knot)[order]
    lead = np.where(0.0 < months, 0.0, months).tolist()           # min(t, 0.0) and max(t, 0.0) as Python picks
    post = np.where(0.0 > months, 0.0, months).tolist()
    values = frame[value].to_numpy(float)[order].tolist()
    groups, subjects = group_codes[order], subject_codes[order]
    starts = np.flatnonzero(np.r_[True, (groups[1:] != groups[:-1]) | (subjects[1:] != subjects[:-1])]).tolist()
    out: list = []
    current = -1
    for start, end in zip(starts, [*starts[1:], len(order)], strict=True):
        if groups[start] != current:
            current = groups[start]
            out.append((levels[current], []))
        out[-1][1].append(([(1.0, lead[k], post[k]) for k in range(start, end)], values[start:end]))
    return out


def slope_difference(first: SlopeEstimate, second: SlopeEstimate) -> dict[str, float]:
    """Difference of the post-treatment slopes, its SE and the t test on n1 + n2 - 2 df (the paper's 57)."""
    diff = first.post - second.post
    se = math.sqrt(first.post_se ** 2 + second.post_se ** 2)
    df = first.n_subjects + second.n_subjects - 2
    if not (se > 0 and df > 0):
        return {"diff": diff, "se": se, "t": math.nan, "df": df, "p": math.nan}
    t = diff / se
    return {"diff": diff, "se": se, "t": t, "df": df, "p": float(2 * special.stdtr(df, -abs(t)))}
