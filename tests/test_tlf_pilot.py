"""The same kinds of output, configured in YAML only, run on the public CDISC pilot ADaM (3 arms, ITT)."""

from __future__ import annotations

import pandas as pd

from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.tlf.layout import build_layout
from cdisc_als.tlf.render import render_rtf
from cdisc_als.tlf.run import render_outputs, run_tlf
from tests.shared_data import pilot_dir

CATALOGUE = MAPPINGS_DIR / "tlf" / "pilot" / "outputs.yaml"


def test_pilot_tables_run_and_are_sensible(tmp_path):
    ards = run_tlf(pilot_dir() / "adam", tmp_path, CATALOGUE)
    assert set(ards) == {"T1", "AE", "KM"}
    t1 = ards["T1"]
    n = t1[(t1["row_id"] == "AGE") & (t1["stat_name"] == "n")].set_index("group1_level")["stat_fmt"].to_dict()
    assert n == {"Placebo": "86", "Xanomeline Low Dose": "84", "Xanomeline High Dose": "84"}
    sex = t1[(t1["row_id"] == "SEX") & (t1["stat_name"] == "n")]
    assert sex.groupby("group1_level")["stat"].sum().astype(int).to_dict() == {
        "Placebo": 86, "Xanomeline High Dose": 84, "Xanomeline Low Dose": 84}
    p_values = t1[t1["stat_name"] == "pvalue"]["stat"].astype(float)
    assert len(p_values) == 5 and p_values.between(0, 1).all()
    ae = ards["AE"]
    any_ae = ae[(ae["variable"] == "TEAE") & (ae["stat_name"] == "n")].set_index("group1_level")["stat"].astype(int)
    assert (any_ae > 0).all() and (any_ae <= 86).all()
    soc_rows = ae[(ae["variable"] == "AEBODSYS") & (ae["stat_name"] == "n")]
    assert soc_rows["variable_level"].nunique() > 5
    km = ards["KM"]
    assert set(km.loc[km["stat_name"] == "rmst", "group1_level"]) == {"Placebo", "Xanomeline Low Dose",
                                                                       "Xanomeline High Dose"}
    assert 0 <= float(km.loc[km["stat_name"] == "pvalue", "stat"].iloc[0]) <= 1


def test_pilot_tables_render(tmp_path):
    ards = run_tlf(pilot_dir() / "adam", tmp_path, CATALOGUE)
    render_outputs(ards, tmp_path, CATALOGUE)
    assert (tmp_path / "tables" / "t1.rtf").exists() and (tmp_path / "tables" / "tables.html").exists()
    import yaml

    outputs = {o["id"]: o for o in yaml.safe_load(CATALOGUE.read_text())["outputs"]}
    layout = build_layout(outputs["T1"], ards["T1"])
    assert layout.columns[:3] == ["Placebo (N = 86)", "Xanomeline Low Dose (N = 84)", "Xanomeline High Dose (N = 84)"]
    assert "Xanomeline High Dose" in render_rtf(layout)
    assert isinstance(pd.read_csv(tmp_path / "ard" / "AE.csv"), pd.DataFrame)
