"""Statistics on hand-worked and published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cdisc_als.rounding import format_number, format_pvalue
from cdisc_als.stats.models import (
    describe,
    linear_regression,
    piecewise_mixed_model,
    roc_auc,
    slope_difference,
)
from cdisc_als.stats.tests import chi2_or_fisher, paired_t, student_pooled, student_pooled_samples


def test_student_reproduces_table3_rows_from_printed_summaries():
    # SF-36 change: 32, -9.06 (12.83) vs 25, -11.83 (11.28): SE 3.25 (the paper's "12.18" is the pooled SD)
    res = student_pooled(32, -9.06, 12.83, 25, -11.83, 11.28)
    assert format_number(res.sd_pooled, 2) == "12.18" and format_number(res.se, 2) == "3.25"
    assert (format_number(res.lcl, 2), format_number(res.ucl, 2)) == ("-3.74", "9.28")
    # AALS slope change at 32/25: -1.80 (1.14, -4.08 to 0.48), p 0.119 (statistics.md 1.3)
    res = student_pooled(32, -1.51, 3.52, 25, 0.29, 5.06)
    assert (format_number(res.diff, 2), format_number(res.se, 2), format_number(res.lcl, 2),
            format_number(res.ucl, 2), format_pvalue(res.p)) == ("-1.80", "1.14", "-4.08", "0.48", "0.119")


def test_student_samples_match_scipy_and_sas_df():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 20), rng.normal(0.5, 1.3, 17)
    res = student_pooled_samples(a, b)
    ref = stats.ttest_ind(a, b, equal_var=True)
    assert res.p == pytest.approx(ref.pvalue, rel=1e-12) and res.df == 35


def test_chi_square_and_fisher_switch_reproduce_published_p():
    sex = chi2_or_fisher([[18, 11], [14, 16]])
    assert sex.method == "pearson" and format_pvalue(sex.p) == "0.235"
    onset = chi2_or_fisher([[23, 21], [9, 6]])
    assert format_pvalue(onset.p) == "0.604"
    ge100 = chi2_or_fisher([[8, 1], [24, 26]])       # 6-month >= 100 %: smallest expected 4.1
    assert ge100.method == "fisher" and format_pvalue(ge100.p) == "0.031"
    ae6 = chi2_or_fisher([[21, 23], [12, 8]])       # any AE to 6 months: 0.362498 -> 0.3625 -> 0.363
    assert ae6.method == "pearson" and format_pvalue(ae6.p) == "0.363"


def test_categorical_test_with_an_empty_margin_is_not_computed():
    res = chi2_or_fisher([[0, 0], [10, 12]])
    assert res.method == "none" and np.isnan(res.p) and format_pvalue(res.p) == ""


def test_paired_t_hand_example():
    res = paired_t([10, 12, 9, 11], [12, 15, 10, 14])   # differences 2, 3, 1, 3: mean 2.25, SD 0.9574
    assert res.diff == pytest.approx(2.25) and res.se == pytest.approx(0.957427 / 2, rel=1e-5)
    assert res.df == 3 and res.p == pytest.approx(stats.ttest_rel([12, 15, 10, 14], [10, 12, 9, 11]).pvalue)


def test_roc_auc_hand_example():
    # positives 3, 4, 5 vs negatives 1, 2, 3: 8 of 9 pairs ordered, one tie counts 1/2 -> 8.5/9
    assert roc_auc([1, 2, 3], [3, 4, 5]) == pytest.approx(8.5 / 9)


def test_linear_regression_hand_example():
    # Sxx = 5, Sxy = 3.5, Syy = 4.75: slope 0.7, intercept 3.75 - 0.7 * 2.5 = 2.0, R2 = 3.5^2 / (5 * 4.75)
    fit = linear_regression([1, 2, 3, 4], [2, 4, 5, 4])
    assert fit.slope == pytest.approx(0.7) and fit.intercept == pytest.approx(2.0)
    assert fit.r2 == pytest.approx(12.25 / 23.75) and fit.n == 4


def test_describe():
    d = describe([1.0, 2.0, np.nan, 4.0])
    assert d["n"] == 3 and d["mean"] == pytest.approx(7 / 3) and d["median"] == 2.0 and d["max"] == 4.0


def test_piecewise_mixed_model_recovers_slopes():
    rng = np.random.default_rng(3)
    rows = []
    for arm, post in (("A", -0.5), ("B", -1.2)):
        for s in range(40):
            b0, b1, b2 = rng.normal(38, 3), rng.normal(-1.3, 0.4), rng.normal(post, 0.3)
            for t in (-3, 0, 1, 2, 3, 4, 6):
                value = b0 + b1 * min(t, 0) + b2 * max(t, 0) + rng.normal(0, 0.6)
                rows.append({"USUBJID": f"{arm}{s}", "ARM": arm, "MONTH": float(t), "AVAL": value})
    fits = piecewise_mixed_model(pd.DataFrame(rows), "ARM")
    a, b = fits
    assert a.post == pytest.approx(-0.5, abs=0.15) and b.post == pytest.approx(-1.2, abs=0.15)
    diff = slope_difference(a, b)
    assert diff["df"] == 78 and diff["p"] < 0.001
