"""Three study variants run end to end (`cdisc-als run`) by YAML only: what each changes reaches the
SDTM, the ADaM and the tables, checked against values computed here from the inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml

from cdisc_als.cli import main
from cdisc_als.resources import MAPPINGS_DIR, SAMPLE_RAW_DIR

pytestmark = pytest.mark.slow    # three whole runs of the sample study (about 1.5 minutes)


def _spec(tmp: Path, mutate) -> Path:
    doc = yaml.safe_load((MAPPINGS_DIR / "study.yaml").read_text())
    doc.pop("reference_outputs", None)          # the paper's numbers belong to the sample study only
    mutate(doc)
    path = tmp / "study.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(tmp: Path, spec: Path, raw: Path = SAMPLE_RAW_DIR) -> Path:
    out = tmp / "out"
    status = main(["run", "--raw", str(raw), "--study", str(spec), "--out", str(out), "--quiet"])
    assert status in (0, 1), status
    assert not (tmp / "out.incomplete").exists()
    return out


def _xpt(out: Path, stage: str, name: str) -> pd.DataFrame:
    return pyreadstat.read_xport(str(out / stage / f"{name}.xpt"), disable_datetime_conversion=True)[0]


def test_other_arm_codes_and_labels(tmp_path):
    def arms(d):
        d["arms"] = [{"armcd": "CELLS", "arm": "Autologous MSC", "trt_code": 1, "treated": True, "raw_value": "MSC"},
                     {"armcd": "SOC", "arm": "Standard care", "trt_code": 2, "treated": False,
                      "raw_value": "CONTROL"}]
        for arm in d["trial_design"]["arms"]:
            arm["armcd"] = {"MSC": "CELLS", "CONTROL": "SOC"}[arm["armcd"]]
    out = _run(tmp_path, _spec(tmp_path, arms))
    demog = pd.read_csv(SAMPLE_RAW_DIR / "demog.csv", dtype=str, keep_default_na=False)
    expected = demog.set_index("SUBJID")["ARM"].map({"MSC": "CELLS", "CONTROL": "SOC", "": ""})
    dm = _xpt(out, "sdtm", "dm")
    assert (dm["ARMCD"].fillna("") == dm["SUBJID"].map(expected)).all()
    adsl = _xpt(out, "adam", "adsl")
    assert set(adsl["TRT01P"]) == {"Autologous MSC", "Standard care"}
    page = (out / "tlf" / "tables" / "tables.html").read_text()
    assert "Autologous MSC" in page and "Standard care" in page and "Riluzole Alone" not in page
    t1 = pd.read_csv(out / "tlf" / "ard" / "T1.csv", dtype=str, keep_default_na=False)
    n = t1[(t1["row_id"] == "POPULATION") & (t1["stat_name"] == "N")].set_index("group1_level")["stat"]
    fas = adsl[adsl["FASFL"] == "Y"]["TRT01P"].value_counts()
    assert n["Autologous MSC"] == str(fas["Autologous MSC"]) and n["Standard care"] == str(fas["Standard care"])
    assert not (out / "tlf" / "reconciliation.csv").exists(), "no reference named: nothing reconciled"


def test_an_extra_visit(tmp_path):
    """VISIT 11 at month 9 (window 30 days), collected for the subjects seen at month 6."""
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    visits = pd.read_csv(raw / "visits.csv", dtype=str, keep_default_na=False)
    alsfrs = pd.read_csv(raw / "alsfrs.csv", dtype=str, keep_default_na=False)
    v10 = alsfrs[alsfrs["VISIT"] == "VISIT 10"].copy()
    v10["VISIT"] = "VISIT 11"
    v10["ALSDT"] = (pd.to_datetime(v10["ALSDT"]) + pd.Timedelta(days=91)).dt.strftime("%Y-%m-%d")
    seen = visits[visits["VISIT"] == "VISIT 10"].copy()
    seen["VISIT"] = "VISIT 11"
    seen["VISDT"] = (pd.to_datetime(seen["VISDT"]) + pd.Timedelta(days=91)).dt.strftime("%Y-%m-%d")
    pd.concat([visits, seen]).to_csv(raw / "visits.csv", index=False)
    pd.concat([alsfrs, v10]).to_csv(raw / "alsfrs.csv", index=False)

    def extra(d):
        d["visits"].append({"visitnum": 11, "visit": "VISIT 11", "label": "Month 9", "month": 9,
                            "window_days": 30, "epoch": "FOLLOW-UP"})
        d["plausible_dates"]["latest"] = "2018-02-28"
    out = _run(tmp_path, _spec(tmp_path, extra), raw)
    sv = _xpt(out, "sdtm", "sv")
    assert (sv["VISITNUM"] == 11).sum() == len(seen)
    adqs = _xpt(out, "adam", "adqs")
    month9 = adqs[(adqs["PARAMCD"] == "ALSR1TOT") & (adqs["AVISIT"] == "VISIT 11")]
    assert len(month9) == len(v10) and (month9["AVISITN"] == 9).all()
    assert month9["CHG"].notna().sum() > 0, "change from baseline at the new visit"


def test_earlier_cutoff_other_age_cut_and_month_length(tmp_path):
    def settings(d):
        d["survival"]["cutoff_date"] = "2015-06-30"
        d["plausible_dates"]["latest"] = "2018-02-28"
        d["month_length_days"] = 30
        d["analysis"]["subgroups"][0]["cuts"] = [60]
    out = _run(tmp_path, _spec(tmp_path, settings))
    cutoff = pd.Timestamp("2015-06-30")
    adtte = _xpt(out, "adam", "adtte")
    adt = pd.Timestamp("1960-01-01") + pd.to_timedelta(adtte["ADT"], unit="D")
    assert not ((adtte["CNSR"] == 0) & (adt > cutoff)).any() and (adt <= cutoff).all()
    start = pd.Timestamp("1960-01-01") + pd.to_timedelta(adtte["STARTDT"], unit="D")
    assert ((adtte["AVAL"] - ((adt - start).dt.days + 1) / 30).abs() < 1e-9).all()
    adsl = _xpt(out, "adam", "adsl")
    assert set(adsl["AGEGR1"]) == {"<60", ">=60"}
    km = pd.read_csv(out / "tlf" / "ard" / "KM.csv", dtype=str, keep_default_na=False)
    young = km[km["row_id"] == "OS_LT54"]
    assert young.loc[young["stat_name"] == "row_label", "stat_fmt"].tolist() == ["Survival, age <60"]
    os_young = adtte[(adtte["PARAMCD"] == "TTDEATH") & (adtte["FASFL"] == "Y") & (adtte["AGE"] < 60)]
    for arm, expected in os_young["TRTP"].value_counts().items():
        n = young[(young["group1_level"] == arm) & (young["stat_name"] == "n")]["stat"]
        assert n.tolist() == [str(expected)], arm
