"""SAS-style display rounding, the pooled t test and the Kaplan-Meier restricted mean with its SE."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cdisc_als.rounding import format_number, format_percent, format_pvalue, sas_round
from cdisc_als.simulate.annealer import student_pooled
from cdisc_als.stats.km import km_restricted_mean, logrank_p


@pytest.mark.parametrize("value, dp, expected", [
    (0.125, 2, 0.13), (-0.125, 2, -0.13), (2.5, 0, 3.0), (-2.5, 0, -3.0), (62.5, 0, 63.0),
    (0.3625, 3, 0.363), (1.0049999, 2, 1.0), (4.4800, 2, 4.48),
])
def test_sas_round_half_away_from_zero(value, dp, expected):
    assert sas_round(value, dp) == expected


def test_python_round_would_differ():
    assert round(62.5) == 62 and format_percent(20, 32) == "63"
    assert format_percent(12, 32) == "38" and format_percent(22, 27) == "81"


@pytest.mark.parametrize("p, text", [
    (0.362498, "0.363"),     # 4 dp -> 0.3625 -> 0.363 (the 6-month AE incidence p)
    (0.00247, "0.003"),      # 0.0025 -> 0.003 (slope change at 4 months)
    (0.00044, "<0.001"), (0.00049, "0.001"), (0.0009, "0.001"), (0.0007, "0.001"), (0.5, "0.500"),
])
def test_pvalue_double_rounding(p, text):
    assert format_pvalue(p) == text


def test_format_number_no_negative_zero():
    assert format_number(-0.001, 2) == "0.00"
    assert format_number(-1.555, 2) == "-1.56"


def test_student_pooled_matches_scipy_and_table3_row():
    # ALSFRS-R change to 4 months (statistics.md 5.2): integer data pinned by the printed n/mean/SD
    msc = np.array([-7, -6, -5, -5, -4, -4, -4, -4, -3, -3, -3, -3, -3, -2, -2, -2, -1, -1, -1, -1, -1,
                    0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 3])
    ctl = np.array([-11, -10, -8, -8, -8, -7, -7, -6, -6, -6, -6, -6, -5, -5, -5, -4, -4, -4, -4, -3, -2,
                    -2, -2, -1, 0, 1, 3])
    res = student_pooled(len(msc), msc.mean(), msc.std(ddof=1), len(ctl), ctl.mean(), ctl.std(ddof=1))
    assert res["p"] == pytest.approx(stats.ttest_ind(msc, ctl).pvalue, rel=1e-10)
    assert (format_number(res["diff"], 2), format_number(res["se"], 2), format_number(res["lcl"], 2),
            format_number(res["ucl"], 2), format_pvalue(res["p"])) == ("2.98", "0.75", "1.48", "4.48", "<0.001")


def test_km_restricted_mean_classic_example():
    t = np.array([10, 15, 23, 30, 35, 52, 100.0])
    e = np.array([1, 1, 1, 1, 1, 1, 0], dtype=bool)
    km = km_restricted_mean(t, e)
    assert km.mean == pytest.approx(37.857, abs=5e-4)
    assert km.se == pytest.approx(10.739, abs=5e-4)
    assert km_restricted_mean(t, e, sas_correction=True).se == pytest.approx(11.764, abs=5e-4)


def test_km_restricted_mean_and_logrank_match_lifelines():
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test
    from lifelines.utils import restricted_mean_survival_time

    rng = np.random.default_rng(4)
    t1, t2 = np.round(rng.exponential(30, 40), 1), np.round(rng.exponential(40, 35), 1)
    e1, e2 = rng.random(40) < 0.7, rng.random(35) < 0.6
    km = KaplanMeierFitter().fit(t1, e1)
    assert km_restricted_mean(t1, e1).mean == pytest.approx(restricted_mean_survival_time(km, t=t1.max()), rel=1e-9)
    assert logrank_p(t1, e1, t2, e2) == pytest.approx(logrank_test(t1, t2, e1, e2).p_value, rel=1e-9)
