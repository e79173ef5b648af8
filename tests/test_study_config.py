"""study.yaml -> one typed, immutable Study; every invalid spec is refused with every problem named by its
key path, the value and what is allowed, and the CLI exits 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pydantic
import pytest
import yaml

from cdisc_als.cli import main
from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.study import MissingItemRule, StudyConfigError, load_study, parse_study


def _doc() -> dict:
    return yaml.safe_load((MAPPINGS_DIR / "study.yaml").read_text())


def test_sample_study_config():
    study = load_study()
    assert study.study_id and study.registry_id == "NCT01363401"
    assert [a.armcd for a in study.arms] == ["MSC", "CONTROL"]
    assert [a.raw for a in study.arms] == ["MSC", "CONTROL"], "raw_value defaults to armcd"
    assert [v.visitnum for v in study.visits] == [float(i) for i in range(1, 11)]
    assert study.baseline_visit.visit == "VISIT 5" and study.first_visit.visit == "VISIT 1"
    assert study.survival_cutoff == dt.date(2018, 2, 28)
    assert study.survival_origin.visit == "VISIT 1"
    assert study.visit("VISIT 9").month == 4
    assert study.month_length_days == 30.4375
    assert study.analysis.alsfrs_missing_item_rule is MissingItemRule.ANY_MISSING_TOTAL_MISSING
    assert study.analysis.responder_thresholds == (50, 75, 100)
    assert [g.variable for g in study.analysis.subgroups] == ["AGEGR1", "DFSGR1"]
    assert study.analysis.subgroups[0].levels() == ["<54", ">=54"]
    assert study.analysis.subgroups[1].levels() == ["<0.5", ">=0.5"]
    assert study.survival.permanent_ventilation.min_hours_per_day == 22
    assert study.usubjid("01", "007") == f"{study.study_id}-01-007"


def test_study_is_immutable():
    study = load_study()
    with pytest.raises(pydantic.ValidationError):
        study.month_length_days = 30.0
    assert isinstance(study.arms, tuple) and isinstance(study.analysis.slope_months, tuple)


def test_target_days_round_half_up_from_the_month_length():
    study = load_study()
    # VISIT 9: 4 x 30.4375 = 121.75 -> 122, day 1 is the baseline day -> 123; VISIT 1: -3 x 30.4375 = -91.3125 -> -91
    assert study.target_day(study.visit("VISIT 9")) == 123
    assert study.target_day(study.visit("VISIT 1")) == -91
    doc = _doc()
    doc["month_length_days"] = 30
    assert parse_study(doc).target_day(parse_study(doc).visit("VISIT 9")) == 121


def test_subgroup_levels_with_several_cut_points():
    doc = _doc()
    doc["analysis"]["subgroups"] = [{"variable": "AGEGR2", "source": "AGE", "cuts": [50, 65]}]
    assert parse_study(doc).analysis.subgroups[0].levels() == ["<50", ">=50 to <65", ">=65"]


def _problems(mutate) -> list[str]:
    doc = _doc()
    mutate(doc)
    with pytest.raises(StudyConfigError) as info:
        parse_study(doc)
    return info.value.problems


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.pop("study_id"), "study_id: missing key"),
    (lambda d: d["analysis"].update(age_cutt=60), "analysis.age_cutt: unknown key"),
    (lambda d: d.update(age_cut=60), "age_cut: unknown key"),
    (lambda d: d.update(month_length_days=0), "month_length_days: Input should be greater than or equal to 28 (got 0)"),
    (lambda d: d["visits"][2].update(window_days=-30), "visits[2].window_days: Input should be greater than or equal to 0"),
    (lambda d: d.update(arms=[]), "arms: Tuple should have at least 1 item"),
    (lambda d: d["arms"][0].pop("armcd"), "arms[0].armcd: missing key"),
    (lambda d: d["arms"][1].update(armcd="control arm"), "arms[1].armcd: must be a code of up to 20 upper-case"),
    (lambda d: d["visits"][2].update(month="soon"), "visits[2].month: Input should be a valid number"),
    (lambda d: d["survival"].update(cutoff_date="28/02/2018"), "survival.cutoff_date: Input should be a valid date"),
    (lambda d: d["analysis"].update(alsfrs_missing_item_rule="prorate"),
     "analysis.alsfrs_missing_item_rule: must be one of 'any_missing_total_missing' or 'prorate_one' (got 'prorate')"),
    (lambda d: d.update(title="ALS\x01 study"), "title: must not contain control characters"),
    (lambda d: d["analysis"]["subgroups"][0].update(cuts=[60, 50]), "analysis.subgroups[0]: cuts must increase"),
    (lambda d: d["analysis"]["subgroups"][0].update(variable="AGEGROUP"), "must have at most 7 characters"),
    (lambda d: d["analysis"].update(responder_thresholds=[75, 50]), "responder_thresholds must increase strictly"),
    (lambda d: d["plausible_dates"].update(latest="1999-01-01"), "latest (1999-01-01) must be after earliest"),
])
def test_invalid_field_names_the_key_path(mutate, expected):
    problems = _problems(mutate)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["visits"][4].update(baseline=False), "exactly one visit must have 'baseline: true', found 0"),
    (lambda d: d["visits"][1].update(epoch="LEAD-IN"), "visits[1].epoch: 'LEAD-IN' of VISIT 2 is not listed"),
    (lambda d: d["survival"].update(origin_visit="VISIT 0"), "survival.origin_visit: 'VISIT 0' is not a visit"),
    (lambda d: d["arms"].append(dict(d["arms"][0])), "arms: armcd: duplicate value(s) ['MSC']"),
    (lambda d: d["visits"][5].update(window_days=40),
     "the windows of VISIT 6 (days -9 to 71) and VISIT 7 (from day 48) overlap"),
    (lambda d: d["analysis"]["ae_windows"][0].update(visit="VISIT 99"), "analysis.ae_windows[0].visit: 'VISIT 99'"),
    (lambda d: d["analysis"].update(slope_months=[5]), "analysis.slope_months: no visit has month 5"),
    (lambda d: d["survival"].update(cutoff_date="2019-01-01"), "survival.cutoff_date: 2019-01-01 must lie in the "
                                                               "plausible date range"),
])
def test_invalid_combination_is_explained(mutate, expected):
    problems = _problems(mutate)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once():
    def mutate(d):
        d["analysis"]["age_cutt"] = 3
        d["month_length_days"] = 0
        d["visits"][2]["window_days"] = -30
        d["arms"] = []
    problems = _problems(mutate)
    assert len(problems) == 4, problems


def test_not_yaml_and_not_a_mapping(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("study_id: [unclosed")
    with pytest.raises(StudyConfigError, match="not valid YAML"):
        load_study(path)
    path.write_text("- a list\n")
    with pytest.raises(StudyConfigError, match="must be a mapping"):
        load_study(path)


def test_yaml_tags_are_not_executed(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(StudyConfigError):
        load_study(path)


def test_cli_exits_2_naming_every_key_path(tmp_path, capsys):
    doc = _doc()
    doc["analysis"]["age_cutt"] = 60
    doc["month_length_days"] = 0
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(doc))
    for argv in (["run", "--study", str(path), "--out", str(tmp_path / "out")],
                 ["adam", "--study", str(path), "--sdtm", str(tmp_path), "--out", str(tmp_path / "a")],
                 ["check-raw", str(tmp_path), "--study", str(path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "analysis.age_cutt: unknown key" in err and "month_length_days:" in err
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists(), "nothing is written for an invalid spec"


def test_proact_study_spec_loads(tmp_path):
    study = load_study(Path(MAPPINGS_DIR) / "proact" / "study.yaml")
    assert study.analysis.slope_months == () and study.baseline_visit.visit == "TRIAL DAY 0"
