"""Every setting of the study spec is honoured: each test changes one setting and checks, against values
computed here from the SDTM (not by the code under test), the outputs that must change."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from cdisc_als.adam.bds import to_date
from cdisc_als.adam.pipeline import build_adam, read_sdtm
from cdisc_als.metadata import load_metadata
from cdisc_als.resources import MAPPINGS_DIR, SAMPLE_RAW_DIR, SAMPLE_SDTM_DIR
from cdisc_als.sdtm.pipeline import run_sdtm
from cdisc_als.study import parse_study


def _study(mutate=None):
    doc = yaml.safe_load((MAPPINGS_DIR / "study.yaml").read_text())
    if mutate:
        mutate(doc)
    return parse_study(doc)


@pytest.fixture(scope="module")
def sdtm() -> dict[str, pd.DataFrame]:
    return read_sdtm(SAMPLE_SDTM_DIR)


def _adam(sdtm, study) -> dict[str, pd.DataFrame]:
    return build_adam({k: v.copy() for k, v in sdtm.items()}, study, load_metadata(None, study))


@pytest.fixture(scope="module")
def default(sdtm):
    return _adam(sdtm, _study())


def test_month_length_changes_durations_slopes_and_times(sdtm, default):
    adam = _adam(sdtm, _study(lambda d: d.update(month_length_days=30)))
    adsl = adam["ADSL"].set_index("USUBJID")
    days = (adsl["RFSTDT"] - adsl["ONSETDT"]).dt.days + 1
    assert np.allclose(adsl["DURONSM"], days / 30, equal_nan=True)
    assert not np.allclose(adsl["DURONSM"], default["ADSL"].set_index("USUBJID")["DURONSM"], equal_nan=True)
    tte = adam["ADTTE"]
    assert np.allclose(tte["AVAL"], ((tte["ADT"] - tte["STARTDT"]).dt.days + 1) / 30)


def test_earlier_cutoff_censors_every_later_event_at_the_cutoff(sdtm, default):
    cutoff = pd.Timestamp("2015-06-30")
    adam = _adam(sdtm, _study(lambda d: d["survival"].update(cutoff_date="2015-06-30")))
    tte = adam["ADTTE"]
    assert not ((tte["CNSR"] == 0) & (tte["ADT"] > cutoff)).any(), "no event after the cut-off"
    assert (tte["ADT"] <= cutoff).all()
    dm = sdtm["DM"].set_index("USUBJID")
    death = to_date(dm["DTHDTC"])
    os_ = tte[tte["PARAMCD"] == "TTDEATH"].set_index("USUBJID")
    expected_events = {u for u in os_.index if death.get(u) is not pd.NaT and death.get(u) <= cutoff}
    assert set(os_.index[os_["CNSR"] == 0]) == expected_events
    later = [u for u in os_.index if pd.notna(death.get(u)) and death.get(u) > cutoff]
    assert later, "the sample has deaths after 2015-06-30"
    assert (os_.loc[later, "CNSR"] == 2).all() and (os_.loc[later, "ADT"] == cutoff).all()
    assert (os_.loc[later, "CNSDTDSC"] == "DATA CUT-OFF DATE").all()
    default_os = default["ADTTE"][default["ADTTE"]["PARAMCD"] == "TTDEATH"].set_index("USUBJID")
    assert (default_os.loc[later, "CNSR"] == 0).all(), "at the study's own cut-off they are events"
    assert (adam["ADSL"]["DCUTDT"] == cutoff).all()


def test_origin_visit_sets_the_time_to_event_origin(sdtm):
    adam = _adam(sdtm, _study(lambda d: d["survival"].update(origin_visit="VISIT 5")))
    sv = sdtm["SV"]
    v5 = sv[sv["VISITNUM"] == 5].set_index("USUBJID")["SVSTDTC"].pipe(to_date)
    tte = adam["ADTTE"]
    assert set(tte["USUBJID"]) == set(v5.index) & set(adam["ADSL"]["USUBJID"]), "no V5, no origin, no record"
    assert (tte["STARTDT"] == tte["USUBJID"].map(v5)).all()
    assert tte["PARAM"].str.contains(r"Time from Baseline / injection 1 \(VISIT 5\)").all()


def test_missing_item_rule_applies_to_adsl_and_adqs_alike(sdtm):
    qs = sdtm["QS"].copy()
    base = qs[(qs["VISITNUM"] == 5) & (qs["QSTESTCD"] == "ALSR101")].iloc[0]
    subject = base["USUBJID"]
    items = qs[(qs["USUBJID"] == subject) & (qs["VISITNUM"] == 5) & (qs["QSCAT"] == "ALSFRS-R")]
    scores = dict(zip(items["QSTESTCD"], items["QSSTRESN"], strict=True))
    item5 = scores.get("ALSR105B", np.nan)
    item5 = scores["ALSR105A"] if np.isnan(item5) else item5          # 5b when collected, else 5a
    eleven = item5 + sum(scores[f"ALSR1{i:02d}"] for i in (2, 3, 4, 6, 7, 8, 9, 10, 11, 12))
    expected = np.floor(12 * eleven / 11 + 0.5)            # 12 x mean of the other 11, half up
    qs = qs.drop(index=base.name)
    modified = {**sdtm, "QS": qs}
    for rule, value in (("any_missing_total_missing", np.nan), ("prorate_one", expected)):
        adam = _adam(modified, _study(lambda d, r=rule: d["analysis"].update(alsfrs_missing_item_rule=r)))
        adsl = adam["ADSL"].set_index("USUBJID")
        adqs = adam["ADQS"]
        total = adqs[(adqs["USUBJID"] == subject) & (adqs["PARAMCD"] == "ALSR1TOT") & (adqs["ABLFL"] == "Y")]
        if np.isnan(value):
            assert np.isnan(adsl.loc[subject, "BALSFRS"]) and total.empty
            assert adsl.loc[subject, "FASFL"] == "N", "no baseline total, not in the FAS"
        else:
            assert adsl.loc[subject, "BALSFRS"] == value == total["AVAL"].iloc[0]
            assert adsl.loc[subject, "FASFL"] == "Y"


def test_age_cut_sets_the_subgroup_levels(sdtm):
    adam = _adam(sdtm, _study(lambda d: d["analysis"]["subgroups"][0].update(cuts=[60])))
    adsl = adam["ADSL"]
    assert set(adsl["AGEGR1"]) == {"<60", ">=60"}
    assert (adsl["AGEGR1"] == np.where(adsl["AGE"] < 60, "<60", ">=60")).all()
    assert (adsl["AGEGR1N"] == np.where(adsl["AGE"] < 60, 1.0, 2.0)).all()
    tte = adam["ADTTE"]
    assert set(tte["AGEGR1"]) == {"<60", ">=60"}


def test_responder_thresholds_set_the_criteria(sdtm):
    adam = _adam(sdtm, _study(lambda d: d["analysis"].update(responder_thresholds=[30, 60])))
    pi4 = adam["ADQS"][adam["ADQS"]["PARAMCD"] == "ALSR1PI4"]
    assert "CRIT3FL" not in pi4 or pi4["CRIT3FL"].isna().all()
    valued = pi4[pi4["AVAL"].notna()]
    assert (valued["CRIT1FL"] == np.where(valued["AVAL"] >= 30, "Y", "N")).all()
    assert (valued["CRIT2FL"] == np.where(valued["AVAL"] >= 60, "Y", "N")).all()
    assert valued["CRIT1"].str.endswith(">= 30").all()


def test_slope_months_set_the_slope_parameters(sdtm, default):
    assert {"ALSR1SF4", "ALSR1SF6", "ALSR1PI6"} <= set(default["ADQS"]["PARAMCD"])
    adam = _adam(sdtm, _study(lambda d: d["analysis"].update(slope_months=[4])))
    codes = set(adam["ADQS"]["PARAMCD"])
    assert "ALSR1SF4" in codes and not {"ALSR1SF6", "ALSR1SC6", "ALSR1PI6", "AALSSF6"} & codes
    adqs = adam["ADQS"]
    sf4 = adqs[adqs["PARAMCD"] == "ALSR1SF4"].set_index("USUBJID")["AVAL"]
    tot = adqs[(adqs["PARAMCD"] == "ALSR1TOT") & (adqs["ANL01FL"] == "Y")]
    wide = tot.pivot_table(index="USUBJID", columns="AVISITN", values="AVAL")
    assert np.allclose(sf4, ((wide[4.0] - wide[0.0]) / 4).reindex(sf4.index))


def test_ae_window_visit_sets_the_window_flag(sdtm):
    adam = _adam(sdtm, _study(lambda d: d["analysis"]["ae_windows"][0].update(visit="VISIT 8")))
    ae = adam["ADAE"]
    sv = sdtm["SV"]
    v8 = to_date(sv[sv["VISITNUM"] == 8].set_index("USUBJID")["SVSTDTC"])
    end = ae["USUBJID"].map(v8).fillna(ae["USUBJID"].map(to_date(adam["ADSL"].set_index("USUBJID")["RFENDTC"])))
    assert (ae["AW4FL"] == np.where(ae["ASTDT"] <= end, "Y", "N")).all()


def test_visit_window_decides_the_analysis_visit(sdtm, default):
    adam = _adam(sdtm, _study(lambda d: d["visits"][6].update(window_days=0)))   # VISIT 7, target day 62
    adqs = adam["ADQS"]
    tot = adqs[(adqs["PARAMCD"] == "ALSR1TOT")]
    month2 = tot[tot["AVISITN"] == 2]
    assert (month2["ADY"] == 62).all()
    before = default["ADQS"]
    assert len(before[(before["PARAMCD"] == "ALSR1TOT") & (before["AVISITN"] == 2)]) > len(month2)


def test_arm_codes_labels_and_raw_values_flow_to_sdtm_and_adam(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    demog = pd.read_csv(raw / "demog.csv", dtype=str, keep_default_na=False)
    demog["ARM"] = demog["ARM"].replace({"MSC": "A", "CONTROL": "B"})
    demog.to_csv(raw / "demog.csv", index=False)

    def arms(d):
        d["arms"] = [{"armcd": "CELLS", "arm": "Stem cells", "trt_code": 1, "treated": True, "raw_value": "A"},
                     {"armcd": "SOC", "arm": "Standard of care", "trt_code": 2, "treated": False, "raw_value": "B"}]
        renamed = {"MSC": "CELLS", "CONTROL": "SOC"}
        for arm in d["trial_design"]["arms"]:
            arm["armcd"] = renamed[arm["armcd"]]
    study = _study(arms)
    result = run_sdtm(raw, tmp_path / "sdtm", study)
    dm = result.datasets["DM"]
    expected = demog.set_index("SUBJID")["ARM"].map({"A": "CELLS", "B": "SOC", "": ""})
    assert (dm["ARMCD"] == dm["SUBJID"].map(expected)).all()
    assert set(dm["ARM"]) == {"Stem cells", "Standard of care", ""}
    assert not [f for f in result.findings if f.column == "ARM"]
    ta = result.datasets["TA"]
    assert set(ta["ARMCD"]) == {"CELLS", "SOC"} and set(ta["ARM"]) == {"Stem cells", "Standard of care"}
    adam = build_adam(read_sdtm(tmp_path / "sdtm"), study, load_metadata(None, study))
    assert set(adam["ADSL"]["TRT01P"]) == {"Stem cells", "Standard of care"}
    adsl = adam["ADSL"]
    assert (adsl["TRT01PN"] == adsl["ARMCD"].map({"CELLS": 1.0, "SOC": 2.0})).all()


def test_an_unknown_raw_arm_value_is_a_finding(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    demog = pd.read_csv(raw / "demog.csv", dtype=str, keep_default_na=False)
    row = int(demog.index[demog["ARM"] == "MSC"][0])
    demog.loc[row, "ARM"] = "PLACEBO"
    demog.to_csv(raw / "demog.csv", index=False)
    result = run_sdtm(raw, None, _study())
    arm = [f for f in result.findings if f.column == "ARM" and f.value == "PLACEBO"]
    assert arm and arm[0].row == row + 2 and arm[0].rule == "RAW-ARM"
