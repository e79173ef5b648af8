"""The issue-16 row types and figure on hand-worked data of a made-up study (two arms named only by the
data, no study spec): shift counts with a missing baseline, a death stage, a value outside the levels
and a duplicate record; worst-rank and rank-comparison statistics worked out by hand; catalogue
mistakes; and empty data (no events, no records) giving n = 0 and NE rather than a failure."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cdisc_als.tlf.catalogue import CatalogueError, check_against_data, load_catalogue
from cdisc_als.tlf.context import StudyData
from cdisc_als.tlf.engine import compute_table
from cdisc_als.tlf.figures import render_figure
from cdisc_als.tlf.layout import build_layout

SUBJECTS = ["S1", "S2", "S3", "S4", "S5", "S6"]
ADSL = pd.DataFrame({"USUBJID": SUBJECTS, "TRT01P": ["Drug"] * 3 + ["Placebo"] * 3,
                     "TRT01PN": [1.0] * 3 + [0.0] * 3, "ITTFL": ["Y"] * 6,
                     "RFSTDT": [0.0] * 6,                                    # SAS dates: days
                     "DTHDT": [math.nan, math.nan, 100.0, math.nan, 50.0, 200.0]})
POPULATION = {"ITTFL": "Y"}


def _adqs() -> pd.DataFrame:
    rows = [  # USUBJID, PARAMCD, AVISITN, AVAL, BASE, ABLFL
        ("S1", "STG", 0, 1, 1, "Y"), ("S1", "STG", 1, 2, 1, ""),
        ("S2", "STG", 0, 1, 1, "Y"), ("S2", "STG", 1, 1, 1, ""), ("S2", "STG", 1, 3, 1, ""),   # duplicate
        ("S3", "STG", 0, 2, 2, "Y"),                                                            # no visit 1
        ("S4", "STG", 0, 2, 2, "Y"), ("S4", "STG", 1, 5, 2, ""),                                # death stage
        ("S5", "STG", 1, 3, math.nan, ""),                                                      # no baseline
        ("S6", "STG", 0, 2, 2, "Y"), ("S6", "STG", 1, 7, 2, ""),                                # not a level
        ("S1", "SLOPE", math.nan, 3.0, math.nan, ""), ("S2", "SLOPE", math.nan, 1.0, math.nan, ""),
        ("S4", "SLOPE", math.nan, 2.0, math.nan, ""),
    ]
    frame = pd.DataFrame(rows, columns=["USUBJID", "PARAMCD", "AVISITN", "AVAL", "BASE", "ABLFL"])
    frame["AVISIT"] = frame["AVISITN"].map(lambda v: "" if pd.isna(v) else f"WEEK {v:g}")
    frame["TRTP"] = frame["USUBJID"].map(ADSL.set_index("USUBJID")["TRT01P"])
    frame["ADT"] = frame["AVISITN"].fillna(0) * 30.0
    return frame


def _cafs() -> pd.DataFrame:
    """Ranks 1-5 without ties and their CAFS-like pairwise score sums 2 r - (N + 1); S6 has none."""
    ranks = {"S1": 5, "S2": 3, "S3": 2, "S4": 4, "S5": 1}
    rows = [(s, "RANK", float(r)) for s, r in ranks.items()] + [(s, "SCORE", 2.0 * r - 6) for s, r in ranks.items()]
    frame = pd.DataFrame(rows, columns=["USUBJID", "PARAMCD", "AVAL"])
    frame["TRTP"] = frame["USUBJID"].map(ADSL.set_index("USUBJID")["TRT01P"])
    return frame


def _adtte(events: bool = True) -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": SUBJECTS, "PARAMCD": "TTX", "PARAM": "Time to X (Months)",
                         "TRTP": ADSL["TRT01P"], "AVAL": [1.0, 2.0, 3.0, 1.5, 2.5, 3.5],
                         "CNSR": [0.0, 1.0, 0.0, 0.0, 1.0, 1.0] if events else [1.0] * 6,
                         "GRP": ["A", "", "B", "A", "B", "B"]})


def _data(**frames: pd.DataFrame) -> StudyData:
    return StudyData({"ADSL": ADSL, "ADQS": _adqs(), "ADCAFS": _cafs(), "ADTTE": _adtte(), **frames})


def _catalogue(tmp_path: Path, outputs: list[dict]):
    path = tmp_path / "outputs.yaml"
    path.write_text(yaml.safe_dump({"outputs": outputs}))
    return load_catalogue(path)


def _table(rows: list[dict], dataset: str = "ADQS", **extra) -> dict:
    return {"id": "T", "title": "t", "dataset": dataset, "population": POPULATION, "treatment": "TRTP", "rows": rows,
            **extra}


def _stat(ard: pd.DataFrame, stat: str, arm: str = "", level: str = "", **keys: str) -> str:
    sel = (ard["stat_name"] == stat) & (ard["group1_level"] == arm) & (ard["variable_level"] == level)
    for key, value in keys.items():
        sel &= ard[key] == value
    (value,) = ard.loc[sel, "stat_fmt"]
    return value


def test_shift_counts_by_hand(tmp_path):
    cat = _catalogue(tmp_path, [_table([{"id": "SH", "type": "shift", "where": {"PARAMCD": "STG"},
                                         "levels": [1, 2, 3, 4, {"value": 5, "label": "Dead"}]}])])
    data = _data()
    ard = compute_table(cat.outputs[0], data)
    visit = {"group2_level": "1"}
    # Drug: baseline 1 -> {2: S1, 1: S2 (its first record)}; baseline 2 -> S3 without a visit-1 record
    assert _stat(ard, "N", "Drug", **visit, group3="") == "3"
    assert _stat(ard, "n", "Drug", "1", **visit, group3_level="1") == "1"
    assert _stat(ard, "n", "Drug", "2", **visit, group3_level="1") == "1"
    assert _stat(ard, "pct", "Drug", "2", **visit, group3_level="1") == "50.0"
    assert _stat(ard, "n", "Drug", "3", **visit, group3_level="1") == "0"
    assert _stat(ard, "n", "Drug", "Missing", **visit, group3_level="2") == "1"
    assert _stat(ard, "N", "Drug", **visit, group3_level="2") == "1"
    # Placebo: baseline 2 -> 5 (S4) and 7 (S6, a value outside the levels); no baseline -> 3 (S5)
    assert _stat(ard, "n", "Placebo", "5", **visit, group3_level="2") == "1"
    assert _stat(ard, "n", "Placebo", "7", **visit, group3_level="2") == "1"
    assert _stat(ard, "n", "Placebo", "3", **visit, group3_level="Missing") == "1"
    assert _stat(ard, "pct", "Placebo", "1", **visit, group3_level="4") == "NE"
    assert set(ard.loc[ard["variable"] == "AVISITN", "variable_level"]) == {"1"}, "visits after the baseline visit"
    rules = {f.rule for f in data.findings}
    assert {"TLF-SHIFT-LEVEL", "TLF-SHIFT-DUPLICATE"} <= rules
    layout = build_layout(cat.outputs[0], ard, data)
    assert layout.columns == ["1", "2", "3", "4", "Dead", "7", "Missing", "Total"]
    assert layout.label_header == "Visit / arm / baseline"
    lines = {(line.label, line.indent): line.cells for line in layout.rows}
    assert lines[("WEEK 1", 1)] == [""] * 8
    assert lines[("Drug (N = 3)", 2)] == [""] * 8
    baselines = [line.label for line in layout.rows if line.indent == 3]
    assert baselines == ["1", "2", "Missing"] * 2, "the baseline rows with subjects in any arm, in each arm"
    drug = [line.label for line in layout.rows].index("Drug (N = 3)")
    assert layout.rows[drug + 1].cells == ["1 (50.0%)", "1 (50.0%)", "0", "0", "0", "0", "0", "2"]


def test_worst_rank_by_hand(tmp_path):
    """Deaths by month 4 (121.75 days) without a value rank worst: S5 (day 50) 1, S3 (day 100) 2; then the
    values 1 (S2) 3, 2 (S4) 4, 3 (S1) 5; S6 died on day 200 without a value: not ranked. Drug ranks
    5, 3, 2 (mean 3.33), Placebo 4, 1 (mean 2.5); W = 10, E(W) = 9, Var(W) = 3 x 2 / 12 x 6 = 3,
    Z = (10 - 9 - 0.5) / sqrt(3) = 0.2887, p = 0.7728."""
    cat = _catalogue(tmp_path, [_table([{"id": "WR", "type": "worst_rank", "where": {"PARAMCD": "SLOPE"},
                                         "deaths_by_month": 4}], test_column=False)])
    ard = compute_table(cat.outputs[0], _data())
    assert (_stat(ard, "mean", "Drug", variable="SLOPE"), _stat(ard, "mean", "Placebo", variable="SLOPE")) == ("3.3",
                                                                                                            "2.5")
    assert [_stat(ard, s, "Placebo", variable="SLOPE") for s in ("n", "n_value", "n_died", "n_missing")] == [
        "2", "1", "1", "1"]
    assert [_stat(ard, s, "Drug", variable="SLOPE") for s in ("n", "n_value", "n_died", "n_missing")] == [
        "3", "2", "1", "0"]
    assert _stat(ard, "statistic", "Drug", variable="SLOPE") == "0.29"
    assert _stat(ard, "pvalue", "Drug", variable="SLOPE") == "0.773"
    assert not ((ard["group1_level"] == "Placebo") & (ard["stat_name"] == "pvalue")).any(), "Placebo: reference"
    cells = {line.label: line.cells for line in build_layout(cat.outputs[0], ard, None).rows}
    assert cells["Wilcoxon rank-sum Z (p)"] == ["", "0.29 (0.773)"], "columns: Placebo (TRT01PN 0), Drug"


def test_rank_comparison_by_hand(tmp_path):
    """Ranks as in the worst-rank example; scores 2 r - 6: Drug 4, 0, -2 (T = 2), sum of U^2 = 40,
    Var(T) = 3 x 2 / (5 x 4) x 40 = 12, Z = 2 / sqrt(12) = 0.5774, p = 0.5637."""
    row = {"id": "CAFS", "type": "rank_comparison", "where": {"PARAMCD": "RANK"},
           "scores": {"where": {"PARAMCD": "SCORE"}, "variable": "AVAL"}}
    cat = _catalogue(tmp_path, [_table([row], dataset="ADCAFS", test_column=False)])
    ard = compute_table(cat.outputs[0], _data())
    assert [_stat(ard, s, "Drug", variable="RANK") for s in ("n", "mean", "statistic", "pvalue")] == [
        "3", "3.3", "0.29", "0.773"]
    assert [_stat(ard, s, "Placebo", variable="RANK") for s in ("n", "mean")] == ["2", "2.5"]
    assert [_stat(ard, s, "Drug", variable="SCORE") for s in ("statistic", "pvalue")] == ["0.58", "0.564"]
    lines = {line.label: line.cells for line in build_layout(cat.outputs[0], ard, None).rows}
    assert lines["Finkelstein-Schoenfeld Z (p)"] == ["", "0.58 (0.564)"]
    assert lines["Mean rank"] == ["2.5", "3.3"]


def test_no_records_and_no_events_give_n_0_and_ne(tmp_path):
    outputs = [
        _table([{"id": "SH", "type": "shift", "where": {"PARAMCD": "NONE"}, "levels": [1, 2], "visits": [1]}]),
        dict(_table([{"id": "WR", "type": "worst_rank", "where": {"PARAMCD": "NONE"}, "deaths_by_month": 4}]),
             id="W"),
        dict(_table([{"id": "R", "type": "rank_comparison", "where": {"PARAMCD": "NONE"},
                      "scores": {"where": {"PARAMCD": "NONE"}, "variable": "AVAL"}}], dataset="ADCAFS"), id="R"),
        dict(_table([{"id": "TTE", "type": "time_to_event", "where": {"PARAMCD": "TTX"},
                      "stats": ["n", "events", "median", "median_ci", "rate", "hr"], "rate_at": [2]},
                     {"id": "NONE", "type": "time_to_event", "where": {"PARAMCD": "NONE"},
                      "stats": ["n", "events", "median", "hr"]}], dataset="ADTTE"), id="E")]
    cat = _catalogue(tmp_path, outputs)
    data = _data(ADTTE=_adtte(events=False))
    check_against_data(cat, data)
    shift = compute_table(cat.outputs[0], data)
    assert _stat(shift, "n", "Drug", "Missing", group2_level="1", group3_level="Missing") == "3"
    worst = compute_table(cat.outputs[1], data)
    assert [_stat(worst, s, "Drug", variable="NONE") for s in ("n_value", "n_died", "n_missing")] == ["0", "1", "2"]
    ranks = compute_table(cat.outputs[2], data)
    assert (_stat(ranks, "n", "Drug", variable="NONE"), _stat(ranks, "mean", "Drug", variable="NONE")) == ("0", "NE")
    assert _stat(ranks, "statistic", "Drug", variable="NONE") == "NE", "the PARAMCD of the filter names the row"
    tte = compute_table(cat.outputs[3], data)
    assert _stat(tte[tte["row_id"] == "TTE"], "median", "Drug", variable="TTX") == "NE"
    assert _stat(tte[tte["row_id"] == "TTE"], "hr", "Drug", variable="TTX") == "NE"
    assert _stat(tte[tte["row_id"] == "NONE"], "n", "Drug", variable="AVAL") == "0"
    assert any(f.rule == "TLF-TTE-NO-EVENT" for f in data.findings)
    for output, ard in zip(cat.outputs, (shift, worst, ranks, tte), strict=True):
        assert build_layout(output, ard, data).rows


def test_stratified_test_leaves_out_records_without_a_stratum(tmp_path):
    row = {"id": "TTE", "type": "time_to_event", "where": {"PARAMCD": "TTX"}, "strata": ["GRP"], "stats": ["n", "hr"]}
    cat = _catalogue(tmp_path, [_table([row], dataset="ADTTE")])
    data = _data()
    ard = compute_table(cat.outputs[0], data)
    assert _stat(ard, "n", "Drug", variable="TTX") == "3"
    assert [f.value for f in data.findings if f.rule == "TLF-TTE-STRATUM"] == ["S2"]
    # the stratified log-rank of the 5 records with a stratum, by hand: stratum A (S1 Drug 1.0 event,
    # S4 Placebo 1.5 event): at 1.0 n = 2, n1 = 1, d = 1: O - E = 0.5, V = 0.25; at 1.5 only Placebo at
    # risk: O - E = 0, V = 0. Stratum B (S3 Drug 3.0 event, S5 Placebo 2.5 censored, S6 Placebo 3.5
    # censored): at 3.0 n = 2, n1 = 1: O - E = 0.5, V = 0.25. chi2 = 1 / 0.5 = 2, p = 0.1573.
    assert _stat(ard, "statistic", variable="TTX") == "2.00"
    assert _stat(ard, "pvalue", variable="TTX") == "0.157"


def test_trajectory_figure_on_a_second_study(tmp_path):
    entry = {"id": "F", "kind": "figure", "type": "trajectories", "title": "t", "dataset": "ADQS",
             "population": POPULATION, "treatment": "TRTP", "where": {"PARAMCD": "STG"}, "variable": "AVAL",
             "time_unit": "days", "max_time": 120}
    cat = _catalogue(tmp_path, [entry])
    data = _data()
    check_against_data(cat, data)
    png, ard = render_figure(cat.outputs[0], data, {}, cat)
    assert png[:4] == b"\x89PNG"
    drug = ard[ard["group1_level"] == "Drug"].set_index("stat_name")["stat"]
    placebo = ard[ard["group1_level"] == "Placebo"].set_index("stat_name")["stat"]
    assert (drug["n"], drug["points"], drug["deaths"], drug["deaths_drawn"]) == (3, 6, 1, 1)
    assert (placebo["n"], placebo["deaths"], placebo["deaths_drawn"], placebo["deaths_after_axis"]) == (3, 2, 1, 1)


@pytest.mark.parametrize(("change", "expected"), [
    ({"rows": [{"id": "SH", "type": "shift", "subgroup": "SEX"}]}, "a shift row cannot have a 'subgroup'"),
    ({"rows": [{"id": "SH", "type": "shift", "visits": []}]}, "'visits' must be a non-empty list"),
    ({"rows": [{"id": "A", "type": "shift", "levels": [1]}, {"id": "B", "type": "shift", "levels": [2]}]},
     "give them the same 'levels'"),
    ({"rows": [{"id": "SH", "type": "shift"}, {"id": "C", "type": "categorical", "variable": "AVAL"}]},
     "print their own columns"),
    ({"rows": [{"id": "W", "type": "worst_rank"}]}, "needs 'deaths_by_month'"),
    ({"rows": [{"id": "W", "type": "worst_rank", "deaths_by_month": 0}]}, "'deaths_by_month' must be a number"),
    ({"rows": [{"id": "R", "type": "rank_comparison", "scores": "SCORE"}]}, "'scores' must be"),
])
def test_catalogue_mistakes_of_the_new_row_types(tmp_path, change, expected):
    with pytest.raises(CatalogueError) as caught:
        _catalogue(tmp_path, [_table(**change)])
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_trajectory_figure_mistakes(tmp_path):
    entry = {"id": "F", "kind": "figure", "type": "trajectories", "title": "t", "dataset": "ADQS",
             "population": POPULATION, "treatment": "TRTP"}
    with pytest.raises(CatalogueError, match="a trajectories figure needs 'variable'"):
        _catalogue(tmp_path, [entry])
    cat = _catalogue(tmp_path, [dict(entry, variable="AVAL", death="DEATHDT")])
    with pytest.raises(CatalogueError, match="variable 'DEATHDT' is not in ADQS"):
        check_against_data(cat, _data())


def test_an_infinite_confidence_limit_is_not_estimable():
    from cdisc_als.tlf.ard import ArdBuilder

    builder = ArdBuilder("T", "R", "survival", "TRTP")
    builder.add("hr_ucl", float("inf"), "xx.xx")
    row = builder.frame().iloc[0]
    assert (row["stat"], row["stat_fmt"], row["warning"]) == (None, "NE", "not estimable")
