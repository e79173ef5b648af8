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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MONTH_OF_VISIT = {1: -3, 5: 0, 6: 1, 7: 2, 8: 3, 9: 4, 10: 6}
FREE_VISITS = (6, 7, 8)
BAND = 3                       # a free visit stays within this many points of the V5-V9 line


@dataclass(frozen=True)
class SlopeTarget:
    """Post-treatment slope and its SE for one arm."""

    slope: float
    se: float


def post_slope_weights(months: np.ndarray) -> np.ndarray:
    """Weights w with w . y = least-squares post-treatment slope of y on (1, min(t, 0), max(t, 0))."""
    design = np.column_stack([np.ones_like(months), np.minimum(months, 0), np.maximum(months, 0)])
    return np.linalg.pinv(design)[2]


def _subject_weights(scores: np.ndarray) -> np.ndarray:
    """Post-slope weights per subject and visit (0 where the visit is missing)."""
    months = np.array(list(MONTH_OF_VISIT.values()), dtype=float)
    weights = np.zeros_like(scores, dtype=float)
    for i, row in enumerate(scores):
        seen = ~np.isnan(row)
        weights[i, seen] = post_slope_weights(months[seen])
    return weights


def derive_post_slopes(scores: np.ndarray) -> np.ndarray:
    """Per-subject least-squares post slopes; scores is subjects x visits (MONTH_OF_VISIT order), NaN = missing."""
    return np.sum(_subject_weights(scores) * np.nan_to_num(scores), axis=1)


def tune_post_slopes(scores: np.ndarray, target: SlopeTarget, max_moves: int = 5000) -> np.ndarray:
    """Greedy +-1 moves on V6-V8 until mean and SD/sqrt(n) of the per-subject post slopes hit the target.

    Moves keep each free visit within 0-48 and within BAND points of the straight V5-V9 line.
    Returns a new score matrix; the input is not changed.
    """
    scores = scores.copy()
    visits = list(MONTH_OF_VISIT)
    free_cols = [visits.index(v) for v in FREE_VISITS]
    n = len(scores)
    weights = _subject_weights(scores)
    v5, v9 = scores[:, visits.index(5)], scores[:, visits.index(9)]
    line = np.column_stack([v5 + (v9 - v5) * MONTH_OF_VISIT[v] / 4 for v in FREE_VISITS])
    slopes = np.sum(weights * np.nan_to_num(scores), axis=1)
    total, squares = slopes.sum(), (slopes ** 2).sum()

    def loss(s: float, q: float) -> float:
        mean = s / n
        se = math.sqrt(max(q - s * s / n, 0.0) / (n - 1) / n)
        return (mean - target.slope) ** 2 + (se - target.se) ** 2

    current = loss(total, squares)
    for _ in range(max_moves):
        if current < 1e-8:
            break
        best = (current, None)
        for k, col in enumerate(free_cols):
            present = ~np.isnan(scores[:, col])
            for step in (-1.0, 1.0):
                new_val = scores[:, col] + step
                allowed = present & (new_val >= 0) & (new_val <= 48) & (np.abs(new_val - line[:, k]) <= BAND)
                delta = weights[:, col] * step
                new_s = total + delta
                new_q = squares + (slopes + delta) ** 2 - slopes ** 2
                for i in np.flatnonzero(allowed):
                    value = loss(new_s[i], new_q[i])
                    if value < best[0]:
                        best = (value, (i, col, step))
        if best[1] is None:
            break
        i, col, step = best[1]
        delta = weights[i, col] * step
        squares += (slopes[i] + delta) ** 2 - slopes[i] ** 2
        total += delta
        slopes[i] += delta
        scores[i, col] += step
        current = best[0]
    return scores


def tune_followup_visits(plan: pd.DataFrame, rows: np.ndarray, arm_of_row: np.ndarray,
                         published: dict[str, SlopeTarget], rounds: int = 6,
                         tolerance: float = 0.0015) -> dict[str, dict[str, float]]:
    """Tune the ALSFRS-R V6-V8 totals of the FAS rows of `plan` in place, arm by arm, so that the
    per-arm mixed model gives the published post slope and SE within `tolerance`. The published
    values are the centres of their printed intervals, and together they give the published slope
    difference p (0.003), so aiming at them keeps every printed number. After each greedy pass the
    real model is refitted and the aim is shifted by the remaining gap.
    Returns per arm the fitted slope and SE of the closest round, which is the one kept."""
    from cdisc_als.stats.models import piecewise_mixed_model

    columns = [f"ALS_{v}" for v in MONTH_OF_VISIT]
    report: dict[str, dict[str, float]] = {}
    for arm, goal in published.items():
        arm_rows = rows[arm_of_row == arm]
        base = plan.loc[arm_rows, columns].to_numpy(float)
        aim = goal
        best: tuple[float, np.ndarray, dict[str, float]] | None = None
        for _ in range(rounds):
            tuned = tune_post_slopes(base, aim)
            fit = piecewise_mixed_model(_long(tuned, arm), "ARM")[0]
            gap = max(abs(fit.post - goal.slope), abs(fit.post_se - goal.se))
            if best is None or gap < best[0]:
                best = (gap, tuned, {"slope": fit.post, "se": fit.post_se})
            if gap < tolerance:
                break
            aim = SlopeTarget(aim.slope + goal.slope - fit.post, aim.se + goal.se - fit.post_se)
        assert best is not None
        plan.loc[arm_rows, columns] = best[1]
        report[arm] = best[2]
    return report


def _long(scores: np.ndarray, arm: str) -> pd.DataFrame:
    """Scores matrix -> long frame USUBJID, ARM, MONTH, AVAL (missing visits dropped)."""
    months = list(MONTH_OF_VISIT.values())
    subject, visit = np.nonzero(~np.isnan(scores))
    return pd.DataFrame({"USUBJID": subject, "ARM": arm, "MONTH": np.array(months, dtype=float)[visit],
                         "AVAL": scores[subject, visit]})
