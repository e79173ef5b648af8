"""Reconciliation of the ARD with a reference file: statuses, the reference file format, the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cdisc_als.cli import main
from cdisc_als.reference import ReferenceError, load_reference
from cdisc_als.resources import MAPPINGS_DIR, SAMPLE_SDTM_DIR
from cdisc_als.study import load_study
from cdisc_als.tlf.reconcile import cell_status, real_differences, reconcile
from tests.shared_data import pilot_dir

OH2018 = MAPPINGS_DIR / "reference" / "oh2018.yaml"
MSC, CONTROL = "BM-MSC + Riluzole", "Riluzole Alone"      # the sample study's arm labels (study.yaml)


def _write(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _ard(rows: list[tuple[str, str, str, str, str, str]]) -> pd.DataFrame:
    """ARD rows (output_id, row_id, group1_level, stat_name, variable_level, stat_fmt)."""
    frame = pd.DataFrame(rows, columns=["output_id", "row_id", "group1_level", "stat_name", "variable_level", "stat_fmt"])
    return frame.assign(group1="TRT01P", variable=frame["row_id"], stat="")


@pytest.fixture
def small_reference(tmp_path) -> Path:
    return _write(tmp_path / "ref.yaml", {"title": "hand-made", "outputs": {"T1": {"label": "Table 1", "cells": [
        {"row": "AGE", "arm": "MSC", "stat": "mean", "value": "53.7"},
        {"row": "AGE", "arm": "CONTROL", "stat": "mean", "value": "52.5"},
        {"row": "AGE", "stat": "pvalue", "value": "0.598"},
        {"row": "AGE", "stat": "diff", "value": "4.47", "note": "the paper's own arithmetic gives 4.48"},
        {"row": "RMST", "arm": "MSC", "stat": "rmst", "value": "65", "tolerance": 3},
        {"row": "RMST", "arm": "CONTROL", "stat": "rmst", "value": "48", "tolerance": 3},
        {"row": "SEX", "arm": "MSC", "stat": "n", "level": "F", "value": "14"},
        {"row": "WEIGHT", "arm": "MSC", "stat": "mean", "value": "60.1"},
    ]}}})


def test_every_status_by_hand(small_reference):
    ard = _ard([
        ("T1", "AGE", MSC, "mean", "", "53.7"),            # match
        ("T1", "AGE", CONTROL, "mean", "", "52.4"),        # differs
        ("T1", "AGE", "", "pvalue", "", "0.598"),          # match (between arms: no arm)
        ("T1", "AGE", "", "diff", "", "4.48"),             # known inconsistency (noted)
        ("T1", "RMST", MSC, "rmst", "", "62"),             # 62 is within 3 of 65: approximate
        ("T1", "RMST", CONTROL, "rmst", "", "44"),         # 44 is 4 from 48: differs despite the tolerance
        ("T1", "SEX", MSC, "n", "M", "18"),                # the level picks the F row
        ("T1", "SEX", MSC, "n", "F", "14"),
    ])                                                     # WEIGHT: not in the ARD -> missing
    table = reconcile(ard, load_reference(small_reference), load_study())
    status = dict(zip(table["row"] + " " + table["cell"], table["status"], strict=True))
    assert status == {"AGE MSC mean": "match", "AGE CONTROL mean": "differs", "AGE pvalue": "match",
                      "AGE diff": "known inconsistency", "RMST MSC rmst": "approximate",
                      "RMST CONTROL rmst": "differs", "SEX MSC n F": "match", "WEIGHT MSC mean": "missing"}
    assert real_differences(table) == 3
    notes = dict(zip(table["row"] + " " + table["cell"], table["note"], strict=True))
    assert notes["AGE diff"] == "the paper's own arithmetic gives 4.48"
    assert notes["RMST MSC rmst"] == "within the tolerance 3" and notes["WEIGHT MSC mean"] == "no such cell in the ARD"
    assert set(table["table"]) == {"Table 1"} and table.loc[0, "published"] == "53.7" and table.loc[1, "ours"] == "52.4"


def test_tolerance_compares_exact_decimals_and_needs_numbers(small_reference):
    cell = load_reference(small_reference).cell("T1", "RMST", "rmst", "MSC")
    assert cell_status(cell, "68")[0] == "approximate"          # exactly 3 away
    assert cell_status(cell, "68.01")[0] == "differs"
    assert cell_status(cell, "NE")[0] == "differs"


def test_arm_codes_go_through_the_study(small_reference, tmp_path):
    doc = yaml.safe_load(small_reference.read_text())
    doc["outputs"]["T1"]["cells"].append({"row": "AGE", "arm": "PLACEBO", "stat": "mean", "value": "50.0"})
    with pytest.raises(ReferenceError, match=r"arm codes \['PLACEBO'\] are not arms of the study"):
        reconcile(_ard([]), load_reference(_write(tmp_path / "bad.yaml", doc)), load_study())


def test_reference_file_problems_are_all_reported_with_their_key_path(tmp_path):
    path = _write(tmp_path / "bad.yaml", {"outputs": {"T1": {"label": "T", "colour": "red", "cells": [
        {"row": "AGE", "arm": "MSC", "stat": "mean", "value": 53.7},
        {"row": "AGE", "stat": "pvalue", "value": "0.598", "tolerance": -1, "tol": 1},
        {"arm": "MSC", "stat": "sd", "value": "7.7"},
        {"row": "AGE", "stat": "pvalue", "value": "0.598"},
    ]}}})
    with pytest.raises(ReferenceError) as info:
        load_reference(path)
    message = str(info.value)
    for expected in ("outputs.T1: unknown key 'colour'",
                     "outputs.T1.cells[0].value: 53.7 is a number; write the printed value in quotes",
                     "outputs.T1.cells[1].tolerance: -1 must be a number >= 0",
                     "outputs.T1.cells[1]: unknown key 'tol'",
                     "outputs.T1.cells[2]: missing key 'row'"):
        assert expected in message
    with pytest.raises(ReferenceError, match="reference file not found"):
        load_reference(tmp_path / "none.yaml")


def test_the_paper_reference_is_read_by_the_simulator_and_the_study_names_it():
    study = load_study()
    assert study.reference_outputs == MAPPINGS_DIR / "reference" / "oh2018.yaml"
    reference = load_reference(study.reference_outputs)
    assert len(reference.cells) == 237 and reference.arm_codes == ["MSC", "CONTROL"]
    assert sum(bool(cell.note) for cell in reference.cells) == 16
    from cdisc_als.simulate.calibrate import alsfrs_block

    rows = {row.name: row for row in alsfrs_block().rows}
    assert (rows["ALSBL.MSC"].mean, rows["ALSBL.MSC"].sd, rows["ALSBL.MSC"].dp) == (35.5, 4.2, 1)


@pytest.fixture(scope="module")
def sample_adam(tmp_path_factory) -> Path:
    adam = tmp_path_factory.mktemp("adam")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(adam), "--quiet"]) == 0
    return adam


def test_sample_study_reconciles_with_the_paper(sample_adam, tmp_path, capsys):
    assert main(["tlf", "--adam", str(sample_adam), "--out", str(tmp_path), "--reference", str(OH2018)]) == 0
    rec = pd.read_csv(tmp_path / "reconciliation.csv", dtype=str, keep_default_na=False)
    assert rec["status"].value_counts().to_dict() == {"match": 219, "known inconsistency": 16, "approximate": 2}
    approximate = rec[rec["status"] == "approximate"]
    # the survival search reaches these two within tolerance only (docs/simulator.md): 56 (5) for 55 (4)
    assert set(zip(approximate["row"], approximate["cell"], strict=True)) == {("OS", "MSC rmst"),
                                                                               ("OS", "MSC rmst_se")}
    known = rec[rec["status"] == "known inconsistency"]
    assert (known["note"] != "").all() and set(known["table"]) == {"Table 1", "Table 2", "Table 3"}
    assert (rec.loc[rec["output_id"] == "LMM", "status"] == "match").sum() == 5
    assert "reconciliation with" in capsys.readouterr().out


def test_changed_and_missing_cells_give_exit_status_1(sample_adam, tmp_path):
    """No reference: exit 0 and no reconciliation; a changed value and a missing cell: exit 1."""
    doc = yaml.safe_load(OH2018.read_text(encoding="utf-8"))
    cells = doc["outputs"]["T1"]["cells"]
    age = next(cell for cell in cells if cell["row"] == "AGE" and cell["stat"] == "mean")
    age["value"] = "53.8"                                          # the sample prints 53.7
    cells.append({"row": "BMI", "arm": "MSC", "stat": "mean", "value": "23.1"})   # no BMI row in the catalogue
    doc["outputs"] = {"T1": doc["outputs"]["T1"]}
    reference = _write(tmp_path / "changed.yaml", doc)
    catalogue = yaml.safe_load((MAPPINGS_DIR / "tlf" / "outputs.yaml").read_text(encoding="utf-8"))
    catalogue["outputs"] = [o for o in catalogue["outputs"] if o["id"] == "T1"]
    t1_only = _write(tmp_path / "t1.yaml", catalogue)
    out = tmp_path / "out"
    assert main(["tlf", "--adam", str(sample_adam), "--out", str(out), "--catalogue", str(t1_only)]) == 0
    assert not (out / "reconciliation.csv").exists()             # no reference, no reconciliation
    assert main(["tlf", "--adam", str(sample_adam), "--out", str(out), "--catalogue", str(t1_only),
                 "--reference", str(reference)]) == 1
    rec = pd.read_csv(out / "reconciliation.csv", dtype=str, keep_default_na=False).set_index(["row", "cell"])
    assert rec.loc[("AGE", "MSC mean"), ["published", "ours", "status"]].tolist() == ["53.8", "53.7", "differs"]
    assert rec.loc[("BMI", "MSC mean"), "status"] == "missing"
    assert (rec["status"] == "differs").sum() == 1 and (rec["status"] == "missing").sum() == 1
    # the paper's whole reference against a Table 1 only ARD: every other output's cells are missing
    assert main(["tlf", "--adam", str(sample_adam), "--out", str(out), "--catalogue", str(t1_only),
                 "--reference", str(OH2018)]) == 1
    rec = pd.read_csv(out / "reconciliation.csv", dtype=str, keep_default_na=False)
    assert set(rec.loc[rec["status"] == "missing", "output_id"]) == {"T2", "T3", "KM", "LMM"}


def test_run_refuses_a_bad_reference_before_it_starts(tmp_path, capsys):
    bad = _write(tmp_path / "bad.yaml", {"outputs": {"T1": {"cells": [{"row": "AGE", "stat": "mean", "value": 1.5}]}}})
    assert main(["run", "--out", str(tmp_path / "out"), "--reference", str(bad), "--quiet"]) == 2
    assert "write the printed value in quotes" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_no_reference_no_reconciliation_on_another_study(tmp_path, capsys):
    adam = pilot_dir() / "adam"
    catalogue = MAPPINGS_DIR / "tlf" / "pilot" / "outputs.yaml"
    assert main(["tlf", "--adam", str(adam), "--out", str(tmp_path), "--catalogue", str(catalogue)]) == 0
    assert not (tmp_path / "reconciliation.csv").exists()
    assert "reconciliation" not in capsys.readouterr().out
