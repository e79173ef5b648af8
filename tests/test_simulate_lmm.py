"""Tuning of the free follow-up visits towards the paper's mixed-model slopes."""

import numpy as np
import pandas as pd
import pytest

from cdisc_als.simulate.lmm import (
    MONTH_OF_VISIT,
    SlopeTarget,
    derive_post_slopes,
    post_slope_weights,
    tune_followup_visits,
    tune_post_slopes,
)

MONTHS = np.array(list(MONTH_OF_VISIT.values()), dtype=float)


def test_post_slope_of_an_exact_piecewise_line():
    # y = 30 + 1.0 * min(t, 0) - 0.5 * max(t, 0) at t = -3, 0, 1, 2, 3, 4, 6
    line = 30 + np.minimum(MONTHS, 0) - 0.5 * np.maximum(MONTHS, 0)
    assert np.allclose(derive_post_slopes(line[None, :]), [-0.5])
    # a missing V10 (death) keeps the line's slope: weights are recomputed from the visits present
    short = line.copy()
    short[-1] = np.nan
    assert np.allclose(derive_post_slopes(short[None, :]), [-0.5])


def test_post_slope_by_hand():
    # post points (t, y) = (0, 30) (1, 30) (2, 29) (3, 29) (4, 28) (6, 27); the lead-in point only fixes the
    # lead slope, so the post slope is the ordinary LS slope of these six:
    # Sxx = 66 - 6 (8/3)^2 = 70/3, Sxy = 449 - 6 (8/3)(173/6) = -37/3, slope = -37/70
    y = np.array([33, 30, 30, 29, 29, 28, 27], dtype=float)
    assert derive_post_slopes(y[None, :])[0] == -37 / 70          # exact fractions, one final rounding
    assert sum(post_slope_weights((-3, 0, 1, 2, 3, 4, 6))) == 0    # a constant has no slope


def test_tuning_refuses_fractional_scores():
    with pytest.raises(ValueError, match="whole-number scores"):
        tune_post_slopes(np.full((3, 7), 30.5), SlopeTarget(-0.5, 0.1))


def _cohort(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v5 = rng.integers(28, 44, n).astype(float)
    slope = rng.normal(-0.8, 0.6, n)
    rows = [b - 1.3 * np.minimum(MONTHS, 0) + s * np.maximum(MONTHS, 0) + rng.normal(0, 0.7, MONTHS.size)
            for b, s in zip(v5, slope, strict=True)]
    return np.clip(np.rint(np.array(rows)), 0, 48)


def test_greedy_tuning_hits_mean_and_se_and_only_moves_v6_to_v8():
    scores = _cohort(30, 1)
    tuned = tune_post_slopes(scores, SlopeTarget(-0.9, 0.14))
    slopes = derive_post_slopes(tuned)
    assert abs(slopes.mean() + 0.9) < 1e-3 and abs(slopes.std(ddof=1) / np.sqrt(30) - 0.14) < 1e-3
    fixed = [i for i, v in enumerate(MONTH_OF_VISIT) if v not in (6, 7, 8)]
    assert np.array_equal(tuned[:, fixed], scores[:, fixed])
    assert (tuned >= 0).all() and (tuned <= 48).all()


def test_tuning_the_plan_reaches_the_mixed_model_targets():
    scores = _cohort(60, 2)
    plan = pd.DataFrame(scores, columns=[f"ALS_{v}" for v in MONTH_OF_VISIT])
    arms = np.array(["A"] * 30 + ["B"] * 30)
    report = tune_followup_visits(plan, plan.index.to_numpy(), arms,
                                  {"A": SlopeTarget(-0.55, 0.12), "B": SlopeTarget(-0.95, 0.13)})
    assert abs(report["A"]["slope"] + 0.55) < 0.0015 and abs(report["A"]["se"] - 0.12) < 0.0015
    assert abs(report["B"]["slope"] + 0.95) < 0.0015 and abs(report["B"]["se"] - 0.13) < 0.0015
