"""ARD of Tables 1 and 3 from the sample study's ADaM (reconciliation with the paper: test_reconcile.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_als.cli import main
from cdisc_als.resources import SAMPLE_SDTM_DIR
from cdisc_als.tlf.ard import COLUMNS


@pytest.fixture(scope="module")
def tlf_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tlf")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(base / "adam"), "--quiet"]) == 0
    assert main(["tlf", "--adam", str(base / "adam"), "--out", str(base / "tlf")]) == 0
    return base / "tlf"


def test_ard_has_the_standard_columns(tlf_dir):
    t1 = pd.read_csv(tlf_dir / "ard" / "T1.csv", dtype=str, keep_default_na=False)
    assert list(t1.columns) == COLUMNS
    age = t1[(t1["row_id"] == "AGE") & (t1["group1_level"] == "BM-MSC + Riluzole")].set_index("stat_name")
    assert age.loc["mean", "stat_fmt"] == "53.7" and age.loc["sd", "stat_fmt"] == "7.7" and age.loc["n", "stat_fmt"] == "32"


def test_table2_and_survival_ard(tlf_dir):
    t2 = pd.read_csv(tlf_dir / "ard" / "T2.csv", dtype=str, keep_default_na=False)
    any4 = t2[(t2["row_id"] == "ANYAE4") & (t2["variable"] == "ANYAE4")]
    assert any4.loc[any4["stat_name"] == "pvalue", "stat_fmt"].tolist() == ["0.383"]
    soc = t2[(t2["row_id"] == "ADR6") & (t2["variable"] == "AEBODSYS") & (t2["stat_name"] == "n")
             & (t2["group1_level"] == "BM-MSC + Riluzole")]
    assert set(soc["variable_level"]) == {"General disorders and administration site conditions", "Nervous system disorders"}
    km = pd.read_csv(tlf_dir / "ard" / "KM.csv", dtype=str, keep_default_na=False)
    os_p = km[(km["row_id"] == "OS") & (km["stat_name"] == "pvalue")]["stat_fmt"].tolist()
    assert os_p == ["0.487"]
    assert set(km["stat_name"]) >= {"rmst", "rmst_se", "events", "n", "pvalue"}


def test_csf_cytokine_outputs(tlf_dir):
    csf = pd.read_csv(tlf_dir / "ard" / "CSF.csv", dtype=str, keep_default_na=False)
    n = csf[(csf["stat_name"] == "n") & (csf["variable_level"] == "V_FIRST=0")].set_index("variable")["stat_fmt"]
    assert set(n) == {"28"} and len(n) == 8
    diff = csf[csf["stat_name"] == "diff"].set_index("variable")["stat"].astype(float)
    assert diff["TGFB1"] > 0 and diff["MCP1"] < 0
    reg = pd.read_csv(tlf_dir / "ard" / "CSFREG.csv", dtype=str, keep_default_na=False)
    good = reg[reg["variable_level"] == "good responders"].set_index("stat_name")["stat_fmt"]
    assert good["r2"] == "0.259" and float(good["estimate"]) < 0


def test_mixed_model_output(tlf_dir):
    lmm = pd.read_csv(tlf_dir / "ard" / "LMM.csv", dtype=str, keep_default_na=False)
    per_arm = lmm[lmm["group1_level"] != ""]
    printed = {(arm, stat): text for arm, stat, text in per_arm[["group1_level", "stat_name", "stat_fmt"]].to_numpy()}
    # the paper's post hoc model: -0.55 (0.11) vs -1.13 (0.15) points/month, p = 0.003 (t on 57 df)
    assert printed[("BM-MSC + Riluzole", "estimate")] == "-0.55" and printed[("BM-MSC + Riluzole", "se")] == "0.11"
    assert printed[("Riluzole Alone", "estimate")] == "-1.13" and printed[("Riluzole Alone", "se")] == "0.15"
    assert lmm.loc[lmm["stat_name"] == "pvalue", "stat_fmt"].iloc[0] == "0.003"
