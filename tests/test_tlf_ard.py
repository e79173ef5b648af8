"""ARD of the sample study: cards-compatible columns, unique keys, integers as integers (the
reconciliation with the paper: test_reconcile.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_als.cli import main
from cdisc_als.resources import SAMPLE_SDTM_DIR
from cdisc_als.tlf.ard import COLUMNS, KEY

MSC, CONTROL = "BM-MSC + Riluzole", "Riluzole Alone"


@pytest.fixture(scope="module")
def tlf_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tlf")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(base / "adam"), "--quiet"]) == 0
    assert main(["tlf", "--adam", str(base / "adam"), "--out", str(base / "tlf")]) == 0
    return base / "tlf"


def _read(tlf_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(tlf_dir / "ard" / f"{name}.csv", dtype=str, keep_default_na=False)


def test_ard_has_the_cards_columns_and_sas_rounding(tlf_dir):
    t1 = _read(tlf_dir, "T1")
    assert list(t1.columns) == COLUMNS
    age = t1[(t1["row_id"] == "AGE") & (t1["group1_level"] == MSC)].set_index("stat_name")
    assert (age.loc["mean", "stat_fmt"], age.loc["sd", "stat_fmt"], age.loc["n", "stat_fmt"]) == ("53.7", "7.7", "32")
    assert age.loc["n", "stat"] == "32", "integers are written as integers"
    assert age.loc["mean", "stat_label"] == "Mean" and age.loc["mean", "fmt"] == "xx.x"
    assert age.loc["mean", "context"] == "continuous"


def test_every_output_has_a_unique_key_and_compares_with_itself(tlf_dir):
    for path in sorted((tlf_dir / "ard").glob("*.csv")):
        ard = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert not ard.duplicated(KEY).any(), path.name
        assert main(["compare", "--ard", str(path), str(path)]) == 0, path.name


def test_difference_se_is_diff_se(tlf_dir):
    t3 = _read(tlf_dir, "T3")
    row = t3[(t3["row_id"] == "ALSCHG4") & (t3["group1_level"] == "")].set_index("stat_name")["stat_fmt"]
    assert (row["diff"], row["diff_se"], row["lcl"], row["ucl"], row["pvalue"]) == ("2.98", "0.75", "1.48", "4.48", "<0.001")
    assert "se" not in row.index


def test_survival_subgroup_labels_come_from_the_data(tlf_dir):
    km = _read(tlf_dir, "KM")
    labels = km.loc[km["stat_name"] == "row_label"].set_index("row_id")["stat_fmt"]
    assert labels["OS_LT54"] == "Survival, age <54" and labels["OS_GE54"] == "Survival, age >=54"
    sex = km[(km["row_id"] == "OS_SEX") & (km["stat_name"] == "label")]
    assert list(sex["stat_fmt"]) == ["Female", "Male"], "codelist decodes of SEX"


def test_mixed_model_reports_its_fit(tlf_dir):
    lmm = _read(tlf_dir, "LMM")
    per_arm = lmm[lmm["group1_level"].isin([MSC, CONTROL])].set_index(["group1_level", "stat_name"])["stat_fmt"]
    # the paper's post hoc model: -0.55 (0.11) vs -1.13 (0.15) points/month, p = 0.003 (t on 57 df)
    assert (per_arm[(MSC, "estimate")], per_arm[(MSC, "se")]) == ("-0.55", "0.11")
    assert (per_arm[(CONTROL, "estimate")], per_arm[(CONTROL, "se")]) == ("-1.13", "0.15")
    assert per_arm[(MSC, "converged")] == "1" and (lmm["error"] == "").all()
    assert lmm.loc[lmm["stat_name"] == "pvalue", "stat_fmt"].iloc[0] == "0.003"


def test_csf_outputs(tlf_dir):
    csf = _read(tlf_dir, "CSF")
    n = csf[(csf["stat_name"] == "n") & (csf["variable_level"] == "0")].set_index("variable")["stat_fmt"]
    assert set(n) == {"28"} and len(n) == 8
    reg = _read(tlf_dir, "CSFREG")
    good = reg[reg["group2_level"] == "Y"].set_index("stat_name")["stat_fmt"]
    assert good["r2"] == "0.259" and float(good["estimate"]) < 0
