"""study.yaml: loads into one Study; a malformed file names the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.study import StudyConfigError, load_study


def test_sample_study_config():
    study = load_study()
    assert study.study_id and study.registry_id == "NCT01363401"
    assert [a.armcd for a in study.arms] == ["MSC", "CONTROL"]
    assert [v.visitnum for v in study.visits] == [float(i) for i in range(1, 11)]
    assert study.baseline_visit.visit == "VISIT 5"
    assert study.survival_cutoff == dt.date(2018, 2, 28)
    assert study.visit("VISIT 9").month == 4
    assert study.month_length_days == 30.4375
    assert study.usubjid("01", "007") == f"{study.study_id}-01-007"


def _write(tmp_path: Path, mutate) -> Path:
    doc = yaml.safe_load((MAPPINGS_DIR / "study.yaml").read_text())
    mutate(doc)
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d.pop("study_id"), "missing key 'study_id'"),
    (lambda d: d["arms"][0].pop("armcd"), "arms[0]: missing key 'armcd'"),
    (lambda d: d["visits"][2].update(month="soon"), "visits[2]: key 'month' must be int/float"),
    (lambda d: d["survival"].update(cutoff_date="28/02/2018"), "survival.cutoff_date"),
    (lambda d: d["visits"][4].update(baseline=False), "exactly one visit must have 'baseline: true'"),
    (lambda d: d["visits"][1].update(epoch="LEAD-IN"), "epoch 'LEAD-IN' not listed"),
    (lambda d: d["survival"].update(origin_visit="VISIT 0"), "origin_visit 'VISIT 0'"),
    (lambda d: d["arms"].append(dict(d["arms"][0])), "duplicate armcd"),
])
def test_malformed_study_names_the_key(tmp_path, mutate, fragment):
    with pytest.raises(StudyConfigError, match=None) as info:
        load_study(_write(tmp_path, mutate))
    assert fragment in str(info.value)


def test_not_yaml(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("study_id: [unclosed")
    with pytest.raises(StudyConfigError, match="not valid YAML"):
        load_study(path)


def test_yaml_tags_are_not_executed(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(StudyConfigError):
        load_study(path)
