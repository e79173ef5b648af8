"""Tune the free follow-up visits (V6-V8) so that the piecewise mixed model gives the paper's slopes.

V6-V8 appear in no published table, so they are free. The post hoc mixed model (random intercept,
lead-in and post-treatment slopes, per arm) reported -0.55 (0.11) vs -1.13 (0.15) points/month.

With the same visit design for every subject, the REML fixed post-treatment slope of a
random-coefficients model equals the mean of the per-subject least-squares post slopes, and its SE
equals their standard deviation / sqrt(n). Each per-subject slope is a fixed linear combination
w . y of the subject's scores, so a +-1 change of one visit moves it by one weight: a greedy search
over such moves matches the mean and SE in milliseconds. A few subjects miss V10 (deaths), which
makes the design slightly unbalanced; the caller closes that small gap by refitting the real model
and shifting the targets (see `tune_followup_visits`).

Every decision is the same on every machine: the weights are exact fractions, the greedy search
works on integer sums (scores times the common denominator of the weights) and turns them into
floats only by correctly rounded divisions and square roots, and the refit is the plain-arithmetic
REML EM of cdisc_als.stats.reml (no BLAS, no optimiser). Nothing here depends on numpy's or the
BLAS library's summation order, so the shipped sample regenerates byte for byte anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
import pandas as pd

from cdisc_als.stats.reml import fit_random_coefficients

MONTH_OF_VISIT = {1: -3, 5: 0, 6: 1, 7: 2, 8: 3, 9: 4, 10: 6}
FREE_VISITS = (6, 7, 8)
BAND = 3                       # a free visit stays within this many points of the V5-V9 line


@dataclass(frozen=True)
class SlopeTarget:
    """Post-treatment slope and its SE for one arm."""

    slope: float
    se: float


def _design_row(month: int) -> tuple[int, int, int]:
    """Intercept, lead-in time min(t, 0) and post-treatment time max(t, 0)."""
    return (1, min(month, 0), max(month, 0))


@cache
def post_slope_weights(months: tuple[int, ...]) -> tuple[Fraction, ...]:
    """Exact weights w with w . y = least-squares post-treatment slope of y on (1, min(t, 0), max(t, 0)).

    w is the last row of (X'X)^-1 X' for the visits present (the months must span both slopes).
    """
    x = [_design_row(m) for m in months]
    xtx = [[Fraction(sum(r[a] * r[b] for r in x)) for b in range(3)] for a in range(3)]
    det = (xtx[0][0] * (xtx[1][1] * xtx[2][2] - xtx[1][2] * xtx[2][1])
           - xtx[0][1] * (xtx[1][0] * xtx[2][2] - xtx[1][2] * xtx[2][0])
           + xtx[0][2] * (xtx[1][0] * xtx[2][1] - xtx[1][1] * xtx[2][0]))
    if det == 0:
        raise ValueError(f"months {months} do not identify a post-treatment slope")
    # last row of the inverse: cofactors of the last column of X'X, over the determinant
    last = (xtx[1][0] * xtx[2][1] - xtx[1][1] * xtx[2][0], -(xtx[0][0] * xtx[2][1] - xtx[0][1] * xtx[2][0]),
            xtx[0][0] * xtx[1][1] - xtx[0][1] * xtx[1][0])
    return tuple(sum(last[a] * r[a] for a in range(3)) / det for r in x)


def _subject_weights(scores: np.ndarray) -> list[dict[int, Fraction]]:
    """Per subject: column -> exact post-slope weight of that visit (missing visits have none)."""
    months = list(MONTH_OF_VISIT.values())
    out = []
    for row in scores:
        cols = [j for j in range(len(months)) if not np.isnan(row[j])]
        weights = post_slope_weights(tuple(months[j] for j in cols))
        out.append(dict(zip(cols, weights, strict=True)))
    return out


def derive_post_slopes(scores: np.ndarray) -> np.ndarray:
    """Per-subject least-squares post slopes; scores is subjects x visits (MONTH_OF_VISIT order), NaN = missing."""
    return np.array([float(sum(w * Fraction(float(row[j])) for j, w in weights.items()))
                     for row, weights in zip(scores, _subject_weights(scores), strict=True)])


def tune_post_slopes(scores: np.ndarray, target: SlopeTarget, max_moves: int = 5000) -> np.ndarray:
    """Greedy +-1 moves on V6-V8 until mean and SD/sqrt(n) of the per-subject post slopes hit the target.

    Moves keep each free visit within 0-48 and within BAND points of the straight V5-V9 line. The
    scores must be whole numbers. Ties between moves go to the first in (visit, -1 before +1,
    subject) order. Returns a new score matrix; the input is not changed.
    """
    scores = scores.copy()
    present = ~np.isnan(scores)
    if not np.array_equal(scores[present], np.rint(scores[present])):
        raise ValueError("the follow-up tuning needs whole-number scores")
    visits = list(MONTH_OF_VISIT)
    free_cols = [visits.index(v) for v in FREE_VISITS]
    n = len(scores)
    weights = _subject_weights(scores)
    scale = math.lcm(*(w.denominator for row in weights for w in row.values()))
    # integer weights and slopes: slope_i = slopes[i] / scale exactly
    iweights = [{j: int(w * scale) for j, w in row.items()} for row in weights]
    slopes = [sum(w * int(scores[i, j]) for j, w in row.items()) for i, row in enumerate(iweights)]
    total, squares = sum(slopes), sum(s * s for s in slopes)
    v5, v9 = scores[:, visits.index(5)], scores[:, visits.index(9)]
    line = np.column_stack([v5 + (v9 - v5) * MONTH_OF_VISIT[v] / 4 for v in FREE_VISITS])

    def loss(s: int, q: int) -> float:
        """Squared distance of (mean, SE) from the target; both from exact integers by one rounding."""
        mean = s / (n * scale)
        se = math.sqrt((n * q - s * s) / (n * n * (n - 1) * scale * scale))
        return (mean - target.slope) * (mean - target.slope) + (se - target.se) * (se - target.se)

    current = loss(total, squares)
    for _ in range(max_moves):
        if current < 1e-8:
            break
        best: tuple[float, tuple[int, int, int] | None] = (current, None)
        for k, col in enumerate(free_cols):
            for step in (-1, 1):
                new_val = scores[:, col] + step
                allowed = present[:, col] & (new_val >= 0) & (new_val <= 48) & (np.abs(new_val - line[:, k]) <= BAND)
                for i in np.flatnonzero(allowed):
                    delta = iweights[i][col] * step
                    value = loss(total + delta, squares + (slopes[i] + delta) ** 2 - slopes[i] ** 2)
                    if value < best[0]:
                        best = (value, (int(i), col, step))
        if best[1] is None:
            break
        i, col, step = best[1]
        delta = iweights[i][col] * step
        squares += (slopes[i] + delta) ** 2 - slopes[i] ** 2
        total += delta
        slopes[i] += delta
        scores[i, col] += step
        current = best[0]
    return scores


def fit_post_slope(scores: np.ndarray) -> SlopeTarget:
    """REML post-treatment slope and SE of the per-arm piecewise mixed model (cdisc_als.stats.reml)."""
    months = list(MONTH_OF_VISIT.values())
    subjects = [([_design_row(m) for m, v in zip(months, row, strict=True) if not math.isnan(v)],
                 [float(v) for v in row if not math.isnan(v)]) for row in scores]
    fit = fit_random_coefficients(subjects)
    return SlopeTarget(fit.beta[2], fit.se[2])


def tune_followup_visits(plan: pd.DataFrame, rows: np.ndarray, arm_of_row: np.ndarray,
                         published: dict[str, SlopeTarget], rounds: int = 6,
                         tolerance: float = 0.0015) -> dict[str, dict[str, float]]:
    """Tune the ALSFRS-R V6-V8 totals of the FAS rows of `plan` in place, arm by arm, so that the
    per-arm mixed model gives the published post slope and SE within `tolerance`. The published
    values are the centres of their printed intervals, and together they give the published slope
    difference p (0.003), so aiming at them keeps every printed number. After each greedy pass the
    model is refitted (REML) and the aim is shifted by the remaining gap.
    Returns per arm the fitted slope and SE of the closest round, which is the one kept."""
    columns = [f"ALS_{v}" for v in MONTH_OF_VISIT]
    report: dict[str, dict[str, float]] = {}
    for arm, goal in published.items():
        arm_rows = rows[arm_of_row == arm]
        base = plan.loc[arm_rows, columns].to_numpy(float)
        aim = goal
        best: tuple[float, np.ndarray, dict[str, float]] | None = None
        for _ in range(rounds):
            tuned = tune_post_slopes(base, aim)
            fit = fit_post_slope(tuned)
            gap = max(abs(fit.slope - goal.slope), abs(fit.se - goal.se))
            if best is None or gap < best[0]:
                best = (gap, tuned, {"slope": fit.slope, "se": fit.se})
            if gap < tolerance:
                break
            aim = SlopeTarget(aim.slope + goal.slope - fit.slope, aim.se + goal.se - fit.se)
        assert best is not None
        plan.loc[arm_rows, columns] = best[1]
        report[arm] = best[2]
    return report
