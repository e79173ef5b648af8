"""CAFS and ALS/SURV on small examples computed by hand (with ties and deaths), their group tests, the
worst-rank analysis and stage-shift counts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cdisc_als.adam.cafs import COMPLETED, DIED, LEFT, als_surv_ranks, cafs_scores, derive_cafs_outcomes
from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.stats.cafs import cafs_comparison, mean_ranks
from cdisc_als.stats.ranks import finkelstein_schoenfeld, wilcoxon_rank_sum
from cdisc_als.stats.stages import stage_shift
from cdisc_als.stats.worst_rank import worst_rank_scores, worst_rank_test
from cdisc_als.study import load_study

T = pd.Timestamp

# A and F die at month 2 (a tie), B at 3.5; C and E lose 2 points (a tie), D 5 points
SIX = pd.DataFrame({"USUBJID": list("ABCDEF"), "STATUS": [DIED, DIED, COMPLETED, COMPLETED, COMPLETED, DIED],
                    "TIME": [2.0, 3.5, 4.0, 4.0, 4.0, 2.0], "CHANGE": [np.nan, np.nan, -2.0, -5.0, -2.0, np.nan]})


def test_cafs_pairwise_scores_by_hand():
    # A: loses to B (earlier death) and to C, D, E (survivors), ties F         -> -4
    # B: beats A and F, loses to the three survivors                           -> -1
    # C: beats the 3 deaths and D (-2 > -5), ties E                            -> +4
    # D: beats the 3 deaths, loses to C and E                                  -> +1
    scores = cafs_scores(SIX)
    assert scores.tolist() == [-4.0, -1.0, 4.0, 1.0, 4.0, -4.0]
    assert scores.sum() == 0


def test_cafs_group_comparison_by_hand():
    scores = cafs_scores(SIX)
    ranks = [1.5, 3.0, 5.5, 4.0, 5.5, 1.5]             # A, F share ranks 1-2; C, E share 5-6
    arm = ["Y", "Y", "X", "X", "X", "Y"]
    result = cafs_comparison(ranks, arm, "X", "Y", scores=scores)
    assert [(g.group, g.n, g.mean_rank) for g in result.groups] == [("Y", 3, 2.0), ("X", 3, 5.0)]
    # W = 15, E(W) = 3 x 7 / 2 = 10.5, Var = 9/12 x (7 - (6 + 6) / 30) = 4.95 (two tie groups of 2)
    test = result.rank_sum
    assert (test.rank_sum1, test.expected1) == (15.0, 10.5) and test.variance == pytest.approx(4.95)
    assert test.z == pytest.approx(4.0 / math.sqrt(4.95))      # continuity correction 0.5
    assert test.p == pytest.approx(0.0721982, abs=1e-7)
    plain = wilcoxon_rank_sum(ranks, arm, "X", "Y", continuity=False)
    assert plain.z == pytest.approx(4.5 / math.sqrt(4.95)) and plain.p == pytest.approx(0.0431144, abs=1e-7)
    # Finkelstein-Schoenfeld: T = 4 + 1 + 4 = 9, Var = 9 / 30 x (16 + 1 + 16 + 1 + 16 + 16) = 19.8
    fs = result.score_test
    assert (fs.sum1, fs.variance) == (9.0, pytest.approx(19.8)) and fs.z == pytest.approx(9 / math.sqrt(19.8))


def test_rank_tests_report_undefined_results_as_nan():
    empty = wilcoxon_rank_sum([1.0, 2.0], ["X", "X"], "X", "Y")
    assert empty.n2 == 0 and math.isnan(empty.z) and math.isnan(empty.p)
    flat = finkelstein_schoenfeld([0.0, 0.0], ["X", "Y"], "X", "Y")
    assert math.isnan(flat.z) and math.isnan(flat.p)
    assert math.isnan(mean_ranks([1.0, np.nan], ["X", "Z"])[1].mean_rank)


# Seven subjects for ALS/SURV: A dies at month 2, B at 3; C, D, E complete month 4 with changes -2, -6,
# -4; W1 leaves after month 2 (change -2), W2 after month 1 (change -1).
SEVEN = pd.DataFrame({"USUBJID": ["A", "B", "C", "D", "E", "W1", "W2"],
                      "STATUS": [DIED, DIED, COMPLETED, COMPLETED, COMPLETED, LEFT, LEFT],
                      "TIME": [2.0, 3.0, 4.0, 4.0, 4.0, 2.0, 1.0],
                      "CHANGE": [np.nan, np.nan, -2.0, -6.0, -4.0, -2.0, -1.0]})
TRAJECTORY = pd.DataFrame([("A", 1.0, -4.0), ("B", 1.0, -3.0), ("B", 2.0, -5.0),
                           ("C", 1.0, -1.0), ("C", 2.0, -1.0), ("C", 4.0, -2.0),
                           ("D", 1.0, 0.0), ("D", 2.0, -3.0), ("D", 4.0, -6.0),
                           ("E", 1.0, -1.0), ("E", 2.0, -2.0), ("E", 4.0, -4.0),
                           ("W1", 1.0, -1.0), ("W1", 2.0, -2.0), ("W2", 1.0, -1.0)],
                          columns=["USUBJID", "MONTH", "CHANGE"])


def test_als_surv_places_subjects_who_left_by_their_function_when_they_left():
    # end point reached, worst first: A (death 2), B (death 3), D (-6), E (-4), C (-2): positions 1-5
    # W1 at month 2 (A died by then, below it): still followed B -5, D -3, E -2, C -1 at month 2; W1 (-2)
    #   beats B and D, ties E: q = 2.5 -> level with the third of them, E (position 4)
    # W2 at month 1: A -4, B -3, D 0, E -1, W1 -1, C -1; W2 (-1) beats A and B, ties E, W1, C: q = 3.5 ->
    #   level with the fourth in order (A, B, D, E, W1, C), E (position 4)
    # final: A 1, B 2, D 3, E/W1/W2 share 4-6 -> 5, C 7
    ranks = als_surv_ranks(SEVEN, TRAJECTORY)
    assert ranks.tolist() == [1.0, 2.0, 7.0, 3.0, 5.0, 5.0, 5.0]


def test_cafs_ranks_subjects_who_left_by_their_last_change():
    # W2 (last change -1, at month 1) beats everyone but nobody beats it: CAFS puts the early leaver on top
    scores = cafs_scores(SEVEN)
    assert scores.tolist() == [-6.0, -4.0, 3.0, -2.0, 0.0, 3.0, 6.0]


def test_cafs_outcomes_from_adsl_and_adqs():
    study = load_study(MAPPINGS_DIR / "study.yaml")
    adsl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4", "S5"], "RFSTDT": [T("2012-01-01")] * 5,
                         "DTHDT": [pd.NaT, T("2012-03-01"), pd.NaT, T("2013-01-01"), pd.NaT]})
    rows = [("S1", 0.0, "Y", np.nan, "2012-01-01"), ("S1", 2.0, "", -2.0, "2012-03-02"),
            ("S1", 4.0, "", -3.0, "2012-05-02"),
            ("S2", 0.0, "Y", np.nan, "2012-01-01"), ("S2", 1.0, "", -4.0, "2012-02-01"),
            ("S3", 0.0, "Y", np.nan, "2012-01-01"), ("S3", 2.0, "", -1.0, "2012-03-02"),
            ("S4", 0.0, "Y", np.nan, "2012-01-01"), ("S4", 4.0, "", -8.0, "2012-05-02"),
            ("S5", 2.0, "", -1.0, "2012-03-02")]                 # no baseline: not in the population
    adqs = pd.DataFrame([{"USUBJID": u, "PARAMCD": "ALSR1TOT", "AVISITN": m, "ANL01FL": "Y", "ABLFL": b,
                          "CHG": c, "ADT": T(dt)} for u, m, b, c, dt in rows])
    outcomes, trajectory = derive_cafs_outcomes(adsl, adqs, "ALSR1TOT", 4.0, study)
    got = outcomes.set_index("USUBJID")
    assert got["STATUS"].to_dict() == {"S1": COMPLETED, "S2": DIED, "S3": LEFT, "S4": COMPLETED}
    assert got.loc["S2", "TIME"] == pytest.approx(60 / 30.4375)     # 2012-01-01 .. 2012-03-01: 60 days
    assert (got.loc["S3", "TIME"], got.loc["S3", "CHANGE"]) == (2.0, -1.0)
    assert (got.loc["S4", "CHANGE"], got.loc["S4", "ADT"]) == (-8.0, T("2012-05-02"))   # died after month 4
    assert len(trajectory) == 5


def test_worst_rank_puts_deaths_below_every_observed_value():
    values = [-1.0, np.nan, -0.5, np.nan, -2.0, np.nan, -1.0]
    deaths = [np.nan, 3.0, np.nan, 1.0, np.nan, np.nan, 5.0]      # the last subject has a value: ignored
    scores = worst_rank_scores(values, deaths)
    # deaths: month 1 -> 1, month 3 -> 2; values -2 -> 3, -1 and -1 -> 4.5, -0.5 -> 6; no value no death: NaN
    assert scores[[0, 1, 2, 3, 4, 6]].tolist() == [4.5, 2.0, 6.0, 1.0, 3.0, 4.5] and np.isnan(scores[5])
    lower = worst_rank_scores([1.0, 3.0, np.nan], [np.nan, np.nan, 2.0], higher_is_better=False)
    assert lower.tolist() == [3.0, 2.0, 1.0]
    test = worst_rank_test(values, deaths, ["X", "Y", "X", "Y", "Y", "X", "X"], "X", "Y")
    # X ranks 4.5, 6, 4.5 (the subject without value or death left out): W = 15, E = 3 x 7 / 2 = 10.5
    assert (test.n1, test.n2, test.rank_sum1, test.expected1) == (3, 3, 15.0, 10.5)


def test_stage_shift_counts_with_missing_and_zero_cells():
    frame = pd.DataFrame({"USUBJID": ["1", "2", "3", "4", "5"], "TRTP": ["X", "X", "X", "Y", "Y"],
                          "BASE": [1.0, 1.0, 2.0, 2.0, np.nan], "AVAL": [1.0, 5.0, 5.0, np.nan, 3.0]})
    out = stage_shift(frame, levels=[1.0, 2.0, 3.0, 4.0, 5.0]).set_index(["TRTP", "BASE", "AVAL"])
    assert len(out) == 2 * 6 * 6
    assert out.loc[("X", 1.0, 5.0), "N"] == 1 and out.loc[("X", 1.0, 1.0), "N"] == 1
    assert out.loc[("X", 1.0, 5.0), "PCT"] == 50.0 and out.loc[("X", 2.0, 5.0), "PCT"] == 100.0
    assert out.loc[("Y", 2.0, "Missing"), "N"] == 1 and out.loc[("Y", "Missing", 3.0), "N"] == 1
    assert np.isnan(out.loc[("X", 3.0, 3.0), "PCT"])
    with pytest.raises(ValueError, match="more than one record"):
        stage_shift(pd.concat([frame, frame.iloc[:1]]))
