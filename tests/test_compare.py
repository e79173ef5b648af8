"""Dataset and ARD comparison: every kind of difference, every SYSINFO bit, tolerance edges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cdisc_als.cli import main
from cdisc_als.compare import (
    BITS,
    CompareError,
    DuplicateKeyError,
    VariableAttrs,
    compare_ard,
    compare_datasets,
    decode_sysinfo,
    from_frame,
    read_xpt,
    write_workbook,
)
from cdisc_als.export.datasetjson import DatasetMeta, infer_columns, write_dataset_json
from cdisc_als.export.xpt import XptVariable, write_xpt
from tests.shared_data import pilot_dir


@pytest.fixture(scope="module")
def pilot_adsl() -> Path:
    return pilot_dir() / "adam" / "adsl.xpt"


def base_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["S1", "S2", "S3", "S4"],
        "AVISITN": [1.0, 1.0, 2.0, 2.0],
        "AVAL": [10.0, 20.5, np.nan, 0.0],
        "AVALC": ["A", "B", "", "D"],
    })


def test_identical_frames_have_no_differences():
    result = compare_datasets(base_frame(), base_frame(), keys=["USUBJID"])
    assert result.sysinfo == 0 and not result.has_differences and result.bits == []
    assert result.n_obs_common == 4 and result.values.empty


def test_unsorted_input_is_matched_by_key():
    shuffled = base_frame().sample(frac=1.0, random_state=3)
    assert compare_datasets(base_frame(), shuffled, keys=["USUBJID"]).sysinfo == 0


def test_value_differences_listed_with_keys_base_compare_and_difference():
    comp = base_frame()
    comp.loc[1, "AVAL"] = 21.0
    comp.loc[3, "AVALC"] = "E"
    result = compare_datasets(base_frame(), comp, keys=["USUBJID"])
    assert result.bits == ["VALUE"] and result.sysinfo == BITS["VALUE"]
    values = result.values.set_index("variable")
    assert values.loc["AVAL", "USUBJID"] == "S2" and values.loc["AVAL", "diff"] == pytest.approx(0.5)
    assert (values.loc["AVALC", "base"], values.loc["AVALC", "compare"]) == ("D", "E")
    assert result.n_obs_unequal == 2
    summary = result.value_summary.set_index("variable")
    assert summary.loc["AVAL", "unequal"] == 1 and summary.loc["AVAL", "max_abs_diff"] == pytest.approx(0.5)


def test_missing_values_compare_as_sas_does():
    comp = base_frame()
    comp["AVALC"] = ["A  ", "B", None, "D"]   # trailing blanks ignored, None == ''
    assert compare_datasets(base_frame(), comp, keys=["USUBJID"]).sysinfo == 0
    comp.loc[0, "AVALC"] = " A"                # leading blank is a difference
    comp.loc[3, "AVAL"] = np.nan              # 0 vs missing is a difference
    result = compare_datasets(base_frame(), comp, keys=["USUBJID"])
    assert set(result.values["variable"]) == {"AVALC", "AVAL"}
    nan_vs_missing = base_frame()
    assert compare_datasets(nan_vs_missing, nan_vs_missing.copy(), keys=["USUBJID"]).sysinfo == 0


@pytest.mark.parametrize("method, tolerance, x, y, unequal", [
    ("absolute", 0.25, 20.0, 20.25, False),        # exactly at the criterion: equal (not greater)
    ("absolute", 0.25, 20.0, 20.2500001, True),
    ("exact", None, 20.0, 20.000000000001, True),
    ("relative", 0.001, 20.0, 20.0199, False),      # |d| / ((20 + 20.0199)/2) = 0.000995
    ("relative", 0.001, 20.0, 20.0201, True),
    ("percent", 3.125, 16.0, 16.5, False),          # 100 * 0.5 / 16 = 3.125
    ("percent", 3.12, 16.0, 16.5, True),
])
def test_tolerance_edges(method, tolerance, x, y, unequal):
    base = pd.DataFrame({"K": [1.0], "X": [x]})
    comp = pd.DataFrame({"K": [1.0], "X": [y]})
    result = compare_datasets(base, comp, keys=["K"], tolerance=tolerance, method=method)
    assert result.has_differences is unequal


def test_relative_zero_zero_is_equal():
    frame = pd.DataFrame({"K": [1.0], "X": [0.0]})
    assert compare_datasets(frame, frame.copy(), keys=["K"], tolerance=1e-9, method="relative").sysinfo == 0


def test_observations_in_one_dataset_only():
    comp = base_frame().drop(index=1)
    comp.loc[9] = ["S9", 3.0, 1.0, "Z"]
    result = compare_datasets(base_frame(), comp, keys=["USUBJID"])
    assert result.obs_only_in_base["USUBJID"].tolist() == ["S2"]
    assert result.obs_only_in_compare["USUBJID"].tolist() == ["S9"]
    assert result.sysinfo == BITS["BASEOBS"] | BITS["COMPOBS"]


def test_variables_in_one_dataset_only_and_type_conflict():
    comp = base_frame().drop(columns=["AVALC"]).assign(NEW=1.0)
    comp["AVISITN"] = comp["AVISITN"].astype(str)
    result = compare_datasets(base_frame(), comp, keys=["USUBJID"])
    assert result.vars_only_in_base == ["AVALC"] and result.vars_only_in_compare == ["NEW"]
    attrs = result.attributes
    assert attrs.to_dict("records") == [{"variable": "AVISITN", "attribute": "type", "base": "num", "compare": "char"}]
    assert "AVISITN" not in set(result.values["variable"])
    assert result.sysinfo == BITS["BASEVAR"] | BITS["COMPVAR"] | BITS["TYPE"]


@pytest.mark.parametrize("attr, value, bit", [
    ("length", 12, "LENGTH"), ("label", "Other label", "LABEL"), ("format", "$12.", "FORMAT"),
    ("informat", "$12.", "INFORMAT"),
])
def test_attribute_bits(attr, value, bit):
    attrs = {"USUBJID": VariableAttrs("char", 8, "Subject", "$8.", "$8."), "AVISITN": VariableAttrs("num", 8),
             "AVAL": VariableAttrs("num", 8), "AVALC": VariableAttrs("char", 8, "Value", "", "")}
    changed = {k: VariableAttrs(**vars(v)) for k, v in attrs.items()}
    setattr(changed["USUBJID"], attr, value)
    result = compare_datasets(from_frame(base_frame(), "A", "Lab", attrs), from_frame(base_frame(), "A", "Lab", changed),
                              keys=["USUBJID"])
    assert result.bits == [bit] and result.sysinfo == BITS[bit]


def test_dataset_label_bit():
    result = compare_datasets(from_frame(base_frame(), "A", "One"), from_frame(base_frame(), "A", "Two"),
                              keys=["USUBJID"])
    assert result.bits == ["DSLABEL"] and result.sysinfo == 1
    assert result.dataset["label"].tolist() == ["One", "Two"]


def test_duplicate_keys_are_a_clear_error():
    dup = pd.concat([base_frame(), base_frame().iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError) as info:
        compare_datasets(base_frame(), dup, keys=["USUBJID"])
    assert "not unique" in str(info.value) and info.value.duplicates["count"].tolist() == [2]


def test_missing_key_variable_and_bad_method():
    with pytest.raises(CompareError, match="NOPE"):
        compare_datasets(base_frame(), base_frame(), keys=["NOPE"])
    with pytest.raises(CompareError, match="method"):
        compare_datasets(base_frame(), base_frame(), method="fuzzy")


def test_comparison_by_position_without_keys():
    comp = base_frame().iloc[:3]
    result = compare_datasets(base_frame(), comp)
    assert result.obs_only_in_base["_OBS_"].tolist() == [4.0]


def test_decode_sysinfo():
    assert decode_sysinfo(4096 + 64) == ["BASEOBS", "VALUE"]


def _pilot_variables(ds) -> list[XptVariable]:
    return [XptVariable(name, "Num" if a.type == "num" else "Char", a.length, a.label, a.format, a.informat)
            for name, a in ds.attrs.items()]


def test_pilot_adsl_altered_copy_reports_exactly_those_differences(tmp_path, pilot_adsl):
    original = read_xpt(pilot_adsl)
    frame = original.frame.copy()
    variables = _pilot_variables(original)
    subjects = frame["USUBJID"].tolist()
    frame.loc[frame["USUBJID"] == subjects[5], "HEIGHTBL"] += 1.5
    frame.loc[frame["USUBJID"] == subjects[9], "WEIGHTBL"] = np.nan
    frame = frame[frame["USUBJID"] != subjects[20]]                       # a dropped row
    frame["AGE"] = frame["AGE"].map(lambda v: f"{v:.0f}")                  # retyped: num -> char
    by_name = {v.name: v for v in variables}
    by_name["AGE"] = XptVariable("AGE", "Char", 3, by_name["AGE"].label)
    by_name["SEX"] = XptVariable("SEX", "Char", by_name["SEX"].length, "Sex at Birth")   # relabelled
    race = by_name["RACE"]
    by_name["RACE"] = XptVariable("RACE", "Char", race.length + 8, race.label, race.format)  # longer
    altered = tmp_path / "adsl.xpt"
    write_xpt(frame, altered, "ADSL", original.label, [by_name[v.name] for v in variables])

    result = compare_datasets(pilot_adsl, altered, keys=["USUBJID"])
    assert result.bits == ["LENGTH", "LABEL", "BASEOBS", "VALUE", "TYPE"]
    assert result.sysinfo == 16 + 32 + 64 + 4096 + 8192
    attrs = {(r["variable"], r["attribute"]): (r["base"], r["compare"]) for r in result.attributes.to_dict("records")}
    assert attrs == {("AGE", "type"): ("num", "char"), ("SEX", "label"): ("Sex", "Sex at Birth"),
                     ("RACE", "length"): (race.length, race.length + 8)}
    assert result.obs_only_in_base["USUBJID"].tolist() == [subjects[20]]
    assert result.obs_only_in_compare.empty
    values = result.values.sort_values("variable").to_dict("records")
    assert [(v["USUBJID"], v["variable"]) for v in values] == [(subjects[5], "HEIGHTBL"), (subjects[9], "WEIGHTBL")]
    assert values[0]["diff"] == pytest.approx(1.5)
    report = result.report()
    assert "SYSINFO=12400" in report and "Listing of Common Variables with Differing Attributes" in report


def test_xpt_and_dataset_json_of_the_same_data_are_equal(tmp_path, pilot_adsl):
    original = read_xpt(pilot_adsl)
    frame = original.frame
    labels = {k: a.label for k, a in original.attrs.items()}
    lengths = {k: a.length for k, a in original.attrs.items() if a.type == "char"}
    meta = DatasetMeta("ADSL", original.label, infer_columns(frame, labels, lengths, ["STUDYID", "USUBJID"]))
    for col in meta.columns:
        col.display_format = original.attrs[col.name].format or None
    path = tmp_path / "adsl.json"
    write_dataset_json(frame, path, meta)
    result = compare_datasets(pilot_adsl, path, keys=["USUBJID"])
    assert not result.values.size and not result.obs_only_in_base.size
    assert set(result.bits) <= {"INFORMAT"}, result.bits   # Dataset-JSON carries no informats


def _ard(rows):
    return pd.DataFrame(rows, columns=["output_id", "group1", "group1_level", "variable", "variable_level",
                                       "stat_name", "stat", "stat_fmt"])


def test_compare_ard():
    base = _ard([["T1", "TRT01P", "MSC", "AGE", "", "mean", 53.65625, "53.7"],
                 ["T1", "TRT01P", "MSC", "AGE", "", "sd", 7.71, "7.7"],
                 ["T1", "TRT01P", "CONTROL", "AGE", "", "mean", 52.5, "52.5"]])
    same = base.copy()
    same.loc[0, "stat"] += 1e-10
    assert compare_ard(base, same).sysinfo == 0
    changed = base.copy().iloc[:2]
    changed.loc[1, ["stat", "stat_fmt"]] = [7.9, "7.9"]
    result = compare_ard(base, changed)
    assert set(result.values["variable"]) == {"stat", "stat_fmt"}
    assert result.obs_only_in_base["group1_level"].tolist() == ["CONTROL"]
    assert result.bits == ["BASEOBS", "VALUE"]


def test_workbook_has_a_sheet_per_kind_and_neutralises_formulas(tmp_path):
    comp = base_frame()
    comp.loc[0, "AVALC"] = "=HYPERLINK(\"http://x\")"
    result = compare_datasets(base_frame(), comp, keys=["USUBJID"])
    path = tmp_path / "report.xlsx"
    write_workbook(result, path)
    book = load_workbook(path)
    assert book.sheetnames == ["summary", "dataset", "vars_only_in_base", "vars_only_in_compare", "attributes",
                               "obs_only_in_base", "obs_only_in_compare", "value_summary", "values"]
    cells = [c for row in book["values"].iter_rows() for c in row]
    hyperlink = [c for c in cells if c.value == "=HYPERLINK(\"http://x\")"]
    assert len(hyperlink) == 1 and hyperlink[0].data_type == "s" and hyperlink[0].quotePrefix
    assert not any(c.data_type == "f" for c in cells)


def test_cli_compares_folders(tmp_path, capsys):
    base_dir, comp_dir, report = tmp_path / "base", tmp_path / "comp", tmp_path / "report"
    base_dir.mkdir()
    comp_dir.mkdir()
    frame = base_frame()
    write_xpt(frame, base_dir / "adqs.xpt", "ADQS", "Questionnaire")
    changed = frame.copy()
    changed.loc[2, "AVAL"] = 5.0
    write_xpt(changed, comp_dir / "adqs.xpt", "ADQS", "Questionnaire")
    write_xpt(frame, base_dir / "adsl.xpt", "ADSL", "Subjects")
    code = main(["compare", str(base_dir), str(comp_dir), "--keys", "USUBJID", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 1 and "SYSINFO=4096" in out and "only in BASE: ['adsl.xpt']" in out
    summary = pd.read_csv(report / "summary.csv", dtype=str)
    assert summary.set_index("file").loc["adqs.xpt", "sysinfo"] == "4096"
    assert (report / "adqs.xlsx").exists() and (report / "adqs.txt").exists()
    assert main(["compare", str(base_dir / "adsl.xpt"), str(base_dir / "adsl.xpt")]) == 0
