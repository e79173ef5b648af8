"""Catalogue mistakes: every kind is reported with the output id and row, all at once, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cdisc_als.cli import main
from cdisc_als.tlf.catalogue import CatalogueError, check_against_data, load_catalogue
from cdisc_als.tlf.context import StudyData

ADSL = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4"], "TRT01P": ["Drug", "Drug", "Placebo", "Placebo"],
                     "TRT01PN": [1.0, 1.0, 0.0, 0.0], "ITTFL": ["Y"] * 4, "AGE": [60.0, 70.0, 65.0, 75.0],
                     "SEX": ["F", "M", "F", "F"]})


def _table(**row) -> dict:
    return {"id": "T1", "title": "Demographics", "dataset": "ADSL", "population": {"ITTFL": "Y"}, "treatment": "TRT01P",
            "rows": [{"id": "AGE", "type": "continuous", "variable": "AGE", **row}]}


def _problems(tmp_path: Path, outputs: list[dict], data: bool = True) -> list[str]:
    path = tmp_path / "outputs.yaml"
    path.write_text(yaml.safe_dump({"outputs": outputs}))
    try:
        catalogue = load_catalogue(path)
        if data:
            check_against_data(catalogue, StudyData({"ADSL": ADSL}))
    except CatalogueError as exc:
        return exc.problems
    return []


def test_unknown_output_key(tmp_path):
    assert _problems(tmp_path, [dict(_table(), colums=["x"])]) == [
        "output T1: unknown key 'colums' (allowed: " + ", ".join(sorted(__import__("cdisc_als.tlf.catalogue",
                                                                                   fromlist=["x"]).TABLE_KEYS)) + ")"]


def test_unknown_row_key(tmp_path):
    (problem,) = _problems(tmp_path, [_table(stat=["mean"])])
    assert problem.startswith("output T1, row AGE: unknown key 'stat'")


def test_unknown_row_type(tmp_path):
    outputs = [_table()]
    outputs[0]["rows"][0]["type"] = "categorial"
    (problem,) = _problems(tmp_path, outputs)
    assert problem.startswith("output T1, row AGE: unknown row type 'categorial'") and "categorical" in problem


def test_unknown_statistic(tmp_path):
    (problem,) = _problems(tmp_path, [_table(stats=["n", "mean", "mode"])])
    assert problem.startswith("output T1, row AGE: unknown statistic 'mode' for a continuous row")


def test_variable_missing_from_the_dataset(tmp_path):
    (problem,) = _problems(tmp_path, [_table(variable="WEIGHT")])
    assert problem == "output T1, row AGE: variable 'WEIGHT' is not in ADSL"


def test_unknown_arm_code_is_an_error(tmp_path):
    (problem,) = _problems(tmp_path, [dict(_table(), arms=[1, 7])])
    assert problem.startswith("output T1: arm code '7' is not an arm of the study (0, 1)")


def test_level_absent_from_the_data_is_a_warning(tmp_path):
    path = tmp_path / "outputs.yaml"
    table = _table()
    table["rows"] = [{"id": "SEX", "type": "categorical", "variable": "SEX", "levels": ["F", "M", "U"]}]
    path.write_text(yaml.safe_dump({"outputs": [table]}))
    catalogue = load_catalogue(path)
    check_against_data(catalogue, StudyData({"ADSL": ADSL}))
    assert catalogue.warnings == ["output T1, row SEX: level 'U' of SEX is not in the data (its counts are 0)"]


def test_dataset_names_in_any_case(tmp_path):
    assert _problems(tmp_path, [dict(_table(), dataset="adsl")]) == []
    (problem,) = _problems(tmp_path, [dict(_table(), dataset="adslx")])
    assert problem.startswith("output T1: dataset(s) ADSLX not in the ADaM folder (ADSL)")


def test_malformed_filter(tmp_path):
    (problem,) = _problems(tmp_path, [dict(_table(), population={"column": "ITTFL", "equal": "Y"})], data=False)
    assert problem.startswith("output T1: population: needs 'column' and exactly one of")


def test_every_problem_is_reported_at_once(tmp_path):
    outputs = [_table(stat=["mean"]), dict(_table(variable="HEIGHT"), id="T2")]
    outputs[1]["rows"][0]["type"] = "contnuous"
    assert len(_problems(tmp_path, outputs)) == 2


def test_cli_exits_2_with_the_problems_and_no_traceback(tmp_path, capsys):
    import pyreadstat

    adam = tmp_path / "adam"
    adam.mkdir()
    pyreadstat.write_xport(ADSL, str(adam / "adsl.xpt"), table_name="ADSL")
    path = tmp_path / "outputs.yaml"
    path.write_text(yaml.safe_dump({"outputs": [_table(variable="WEIGHT")]}))
    assert main(["tlf", "--adam", str(adam), "--catalogue", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "output T1, row AGE: variable 'WEIGHT' is not in ADSL" in err and "Traceback" not in err


@pytest.mark.parametrize("catalogue", ["outputs.yaml", "pilot/outputs.yaml"])
def test_the_project_catalogues_are_valid(catalogue):
    from cdisc_als.resources import MAPPINGS_DIR

    assert load_catalogue(MAPPINGS_DIR / "tlf" / catalogue).outputs
