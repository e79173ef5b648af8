"""Statistics that never mislead: undefined results are NaN (printed NE) with a reason, hand-worked."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cdisc_als.stats.descriptive import decimals_of, quantile_sas5, summarise
from cdisc_als.stats.exact import freeman_halton_p
from cdisc_als.stats.km import km_curve, km_quantile, logrank_k
from cdisc_als.stats.tests import chi2_or_fisher, one_way_anova, student_pooled_samples
from cdisc_als.tlf.ard import format_stat


def test_zero_variance_gives_ne_not_p_zero():
    res = student_pooled_samples([5, 5, 5], [3, 3, 3])          # difference 2 with no variance at all
    assert res.diff == 2 and math.isnan(res.p) and res.undefined == "no variance within the groups"
    assert format_stat(res.p, "p.xxx") == "NE"


def test_one_value_per_group_gives_ne():
    res = student_pooled_samples([5], [3])                        # n1 + n2 - 2 = 0 df
    assert math.isnan(res.p) and "fewer than 3" in res.undefined
    summary = summarise([7.0])
    assert summary["n"] == 1 and math.isnan(summary["sd"]) and summary.undefined["sd"] == "needs at least 2 values"


def test_anova_without_variance_is_ne():
    assert math.isnan(one_way_anova([[1, 1], [2, 2], [3, 3]]).p)


def test_sas_quantiles_and_precision_by_hand():
    assert (quantile_sas5(np.array([1, 2, 3, 4.0]), 0.25), quantile_sas5(np.array([1, 2, 3, 4.0]), 0.5)) == (1.5, 2.5)
    assert quantile_sas5(np.array([1, 2, 3, 4, 5.0]), 0.25) == 2.0      # n p = 1.25 -> x(2)
    assert decimals_of([25.1, 30.25]) == 2 and decimals_of([64, 71]) == 0


def test_freeman_halton_hand_example_and_fisher_agreement():
    # rows (3, 3), columns (3, 2, 1): tables with probability 1, 6, 3, 3, 6, 1 in 20; p = (1 + 1) / 20
    assert freeman_halton_p([[3, 0, 0], [0, 2, 1]]) == pytest.approx(0.1)
    assert freeman_halton_p([[8, 1], [24, 26]]) == pytest.approx(stats.fisher_exact([[8, 1], [24, 26]]).pvalue)
    res = chi2_or_fisher([[3, 0, 0], [0, 2, 1]])
    assert res.method == "freeman-halton" and res.p == pytest.approx(0.1)


def test_large_sparse_table_states_its_approximation():
    res = chi2_or_fisher([[1, 3, 10, 6], [2, 3, 10, 7], [1, 6, 14, 12], [0, 1, 9, 11]])
    assert res.method == "pearson-approximate" and "approximation" in res.note


def test_km_median_by_hand():
    # four events at 1, 2, 3, 4: S = 0.75, 0.5, 0.25, 0; S is exactly 0.5 from 2 to 3 -> median (2 + 3) / 2
    curve = km_curve(np.array([1, 2, 3, 4.0]), np.ones(4, bool))
    assert km_quantile(curve, 0.5) == 2.5 and km_quantile(curve, 0.25) == 1.5
    curve = km_curve(np.array([1, 2, 3.0]), np.array([True, False, False]))    # S stays at 2/3
    assert math.isnan(km_quantile(curve, 0.5)), "not reached"


def test_logrank_k_matches_lifelines_and_handles_empty_groups():
    from lifelines.statistics import multivariate_logrank_test

    rng = np.random.default_rng(5)
    t, e, g = rng.exponential(10, 45).round(1) + 0.1, rng.random(45) < 0.7, np.repeat(["a", "b", "c"], 15)
    assert logrank_k(t, e, g).p == pytest.approx(multivariate_logrank_test(t, g, e).p_value, rel=1e-9)
    assert math.isnan(logrank_k(t[:15], e[:15], g[:15]).p), "one group: no test"


def test_nan_times_are_findings_and_empty_arms_give_zero_rows(tmp_path):
    from cdisc_als.study import Arm
    from cdisc_als.tlf.catalogue import check_form
    from cdisc_als.tlf.context import StudyData
    from cdisc_als.tlf.engine import compute_table

    adsl = pd.DataFrame({"USUBJID": list("ABCD"), "TRT01P": ["X", "X", "X", "X"], "SAFFL": ["Y"] * 4})
    adtte = pd.DataFrame({"USUBJID": list("ABCD"), "PARAMCD": ["T"] * 4, "AVAL": [1.0, np.nan, 3.0, 4.0],
                          "CNSR": [0, 0, 1, 0], "TRT01P": ["X"] * 4})
    (output,), problems = check_form({"outputs": [{
        "id": "K", "title": "t", "dataset": "ADTTE", "population": {"SAFFL": "Y"}, "treatment": "TRT01P",
        "rows": [{"id": "R", "type": "time_to_event", "where": {"PARAMCD": "T"}}]}]}, "x")
    assert problems == []

    class Spec:
        arms = (Arm(armcd="A", arm="X", trt_code=1, treated=True),
                Arm(armcd="B", arm="Empty arm", trt_code=2, treated=True))

    data = StudyData({"ADSL": adsl, "ADTTE": adtte}, Spec())
    ard = compute_table(output, data)
    empty = ard[(ard["group1_level"] == "Empty arm") & (ard["row_id"] == "R")].set_index("stat_name")
    assert empty.loc["n", "stat_fmt"] == "0" and empty.loc["median", "stat_fmt"] == "NE"
    assert ard.loc[(ard["group1_level"] == "X") & (ard["stat_name"] == "n") & (ard["row_id"] == "R"), "stat"].iloc[0] == 3
    (finding,) = [f for f in data.findings if f.rule == "TLF-TTE-MISSING"]
    assert "1 record(s) without AVAL or CNSR" in finding.message


def test_mixed_model_non_convergence_is_reported():
    from cdisc_als.stats.models import _best_reml_fit

    class NeverConverges:
        def fit(self, **_):
            raise np.linalg.LinAlgError("singular matrix")

    fit, method, note = _best_reml_fit(NeverConverges(), None)
    assert fit is None and note.startswith("no optimiser converged")
