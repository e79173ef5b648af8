"""Trial design datasets from the study spec (TA, TE, TV, TI, TS, SE) and the SDTM derivations that fixed the
conformance findings of issue 12 (DS deaths, RFPENDTC, --DY names, --TPTNUM, FADTC, EPOCH)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from cdisc_als.metadata import default_metadata
from cdisc_als.resources import MAPPINGS_DIR, SAMPLE_SDTM_DIR
from cdisc_als.sdtm.derive import (
    derive_epoch,
    derive_participation_end,
    derive_visit_date,
    visit_dates_from_sv,
)
from cdisc_als.sdtm.trial_design import (
    TrialDesignError,
    build_ta,
    build_ts,
    build_tv,
    derive_subject_elements,
)
from cdisc_als.study import StudyConfigError, load_study, parse_study


def _doc() -> dict:
    return yaml.safe_load((MAPPINGS_DIR / "study.yaml").read_text())


@pytest.fixture(scope="module")
def study():
    return load_study()


def _dm(**subjects) -> pd.DataFrame:
    rows = []
    for usubjid, values in subjects.items():
        rows.append({"USUBJID": usubjid, "ARMCD": "", "RFICDTC": "", "RFSTDTC": "", "RFENDTC": "", "RFPENDTC": "",
                     **values})
    return pd.DataFrame(rows)


def _sv(visits: dict[str, dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"USUBJID": u, "VISIT": v, "VISITNUM": float(v.split()[-1]), "SVSTDTC": d}
                         for u, dates in visits.items() for v, d in dates.items()])


def test_subject_elements_follow_the_arm_and_the_actual_dates(study):
    dm = _dm(A={"ARMCD": "MSC", "RFICDTC": "2012-01-02", "RFSTDTC": "2012-04-01", "RFENDTC": "2012-10-01",
                "RFPENDTC": "2015-06-30"},
             B={"ARMCD": "CONTROL", "RFICDTC": "2012-01-05", "RFSTDTC": "2012-02-03", "RFENDTC": "2012-03-01",
                "RFPENDTC": "2012-03-01"},
             C={"RFICDTC": "2012-02-01", "RFPENDTC": "2012-02-10"})
    sv = _sv({"A": {"VISIT 1": "2012-01-02", "VISIT 2": "2012-02-01", "VISIT 5": "2012-04-01", "VISIT 8": "2012-07-01",
                    "VISIT 10": "2012-10-01"},
              "B": {"VISIT 1": "2012-01-05", "VISIT 2": "2012-02-03"}})
    se, findings = derive_subject_elements(study, dm, sv)
    assert not findings
    a = se[se["USUBJID"] == "A"]
    # VISIT 7 was missed: follow-up starts at VISIT 8, the first attended visit of its epoch
    assert a["ETCD"].tolist() == ["SCRN", "LEADBME", "MSC", "FU", "LTFU"]
    assert a["SESTDTC"].tolist() == ["2012-01-02", "2012-02-01", "2012-04-01", "2012-07-01", "2012-10-01"]
    assert a["SEENDTC"].tolist() == ["2012-02-01", "2012-04-01", "2012-07-01", "2012-10-01", "2015-06-30"]
    assert a["EPOCH"].tolist() == ["SCREENING", "RUN-IN", "TREATMENT", "FOLLOW-UP", "LONG-TERM FOLLOW-UP"]
    # study days from RFSTDTC 2012-04-01: 2012-01-02 is 90 days before (day -90), 2012-04-01 is day 1
    assert a["SESTDY"].tolist()[:3] == [-90, -60, 1] and a["SESEQ"].tolist() == [1, 2, 3, 4, 5]
    b = se[se["USUBJID"] == "B"]
    # left before VISIT 5: lead-in ends at RFPENDTC; long-term follow-up would start and end that day: not entered
    assert b["ETCD"].tolist() == ["SCRN", "LEAD"] and b["SEENDTC"].tolist() == ["2012-02-03", "2012-03-01"]
    c = se[se["USUBJID"] == "C"]
    # a screen failure (no arm) has the elements every arm shares: screening only
    assert c["ETCD"].tolist() == ["SCRN"] and c["SEENDTC"].tolist() == ["2012-02-10"]


def test_an_element_starting_before_the_previous_one_is_a_finding(study):
    dm = _dm(A={"ARMCD": "CONTROL", "RFICDTC": "2012-03-01", "RFSTDTC": "2012-04-01", "RFPENDTC": "2012-05-01"})
    sv = _sv({"A": {"VISIT 2": "2012-02-01", "VISIT 5": "2012-04-01"}})
    se, findings = derive_subject_elements(study, dm, sv)
    assert se["ETCD"].tolist() == ["SCRN", "RILU"]
    assert len(findings) == 1 and "LEAD starts before element SCRN" in findings[0].message


def test_trial_arms_visits_and_summary(study):
    ta = build_ta(study)
    assert ta[ta["ARMCD"] == "MSC"]["ETCD"].tolist() == ["SCRN", "LEADBME", "MSC", "FU", "LTFU"]
    assert ta[ta["TABRANCH"] != ""][["ARMCD", "ETCD"]].values.tolist() == [["MSC", "SCRN"], ["CONTROL", "SCRN"]]
    tv = build_tv(study).set_index("VISIT")
    # VISIT 9: 4 x 30.4375 = 121.75 -> 122 days after day 1 -> 123; VISIT 1: -3 x 30.4375 -> -91
    assert tv.loc["VISIT 9", "VISITDY"] == 123 and tv.loc["VISIT 1", "VISITDY"] == -91
    assert "window +/- 14 days" in tv.loc["VISIT 9", "TVSTRL"]
    dm = _dm(A={"ARMCD": "MSC", "RFICDTC": "2011-12-09", "RFPENDTC": "2016-01-01"},
             B={"ARMCD": "CONTROL", "RFICDTC": "2011-12-05", "RFPENDTC": "2018-02-01"},
             C={"RFICDTC": "2011-11-30", "RFPENDTC": "2011-12-01"})
    ts = build_ts(study, default_metadata(), dm).set_index("TSPARMCD")
    assert ts.loc["TPHASE", ["TSVAL", "TSVALCD", "TSVCDREF", "TSVCDVER"]].tolist() == [
        "PHASE II TRIAL", "C15601", "CDISC CT", "2025-03-28"]
    assert ts.loc["TPHASE", "TSPARM"] == "Trial Phase Classification"
    assert ts.loc["ACTSUB", "TSVAL"] == "2", "subjects with a planned arm"
    assert ts.loc["SSTDTC", "TSVAL"] == "2011-11-30" and ts.loc["SENDTC", "TSVAL"] == "2018-02-01"
    assert ts.loc["LENGTH", "TSVAL"] == "P9M", "VISIT 1 (month -3) to VISIT 10 (month 6)"
    assert ts.loc["FCNTRY", ["TSVAL", "TSVALCD", "TSVCDREF"]].tolist() == ["KOR", "KOR", "ISO 3166"]
    assert ts.loc["PCLAS", ["TSVAL", "TSVALNF"]].tolist() == ["", "NA"]
    assert ts.loc["TTYPE", "TSSEQ"].tolist() == [1, 2]


def test_trial_summary_value_outside_its_codelist_is_refused():
    doc = _doc()
    doc["trial_design"]["trial_summary"].append({"parmcd": "TBLIND", "value": "TRIPLE BLIND", "codelist": "TBLIND"})
    study = parse_study(doc)
    with pytest.raises(TrialDesignError, match="'TRIPLE BLIND' is not a term"):
        build_ts(study, default_metadata(), _dm(A={"ARMCD": "MSC"}))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["elements"][0].update(epoch="WASHOUT"), "trial_design.elements[0].epoch: 'WASHOUT' is not listed"),
    (lambda d: d["elements"][1].update(start={"visit": "VISIT 99"}), "'VISIT 99' is not a visit"),
    (lambda d: d["arms"].pop(), "arms ['CONTROL'] of 'arms' have no elements"),
    (lambda d: d["arms"][0]["elements"].append("XX"), "['XX'] are not elements"),
    (lambda d: d["trial_summary"][7].update(code_ref="MEDDRA"), "'MEDDRA' (INDIC) is not a terminology"),
    (lambda d: d["terminologies"].pop(0), "must give the version of 'CDISC CT'"),
    (lambda d: d["elements"][0].update(start={"visit": "VISIT 1", "date": "RFICDTC"}), "exactly one of 'visit'"),
    (lambda d: d["trial_summary"][0].update(value="X"), "give exactly one of value, source or null_flavor"),
    (lambda d: d["elements"][0].update(duration="P"), "has no amount"),
])
def test_trial_design_problems_name_the_key(change, message):
    doc = _doc()
    change(doc["trial_design"])
    with pytest.raises(StudyConfigError) as info:
        parse_study(doc)
    assert any(message in p for p in info.value.problems), info.value.problems


def test_participation_end_is_the_latest_subject_date_except_history():
    dm = pd.DataFrame({"USUBJID": ["A", "B"], "RFENDTC": ["2013-02-01", "2012-05-01"], "DTHDTC": ["", "2012-06-01"],
                       "RFPENDTC": ["", ""]})
    ae = pd.DataFrame({"USUBJID": ["A"], "AESTDTC": ["2013-01-21"], "AEENDTC": ["2013-02-04"]})
    mh = pd.DataFrame({"USUBJID": ["B"], "MHSTDTC": ["2012-07-01"]})
    ss = pd.DataFrame({"USUBJID": ["B"], "SSDTC": ["2012-05"]})       # partial dates do not count
    out = derive_participation_end(dm, "RFPENDTC", {"DM": dm, "AE": ae, "MH": mh, "SS": ss}, exclude=("MH",))
    assert out["RFPENDTC"].tolist() == ["2013-02-04", "2012-06-01"]


def test_visit_date_and_epoch_after_the_end_of_trial_participation(study):
    sv = _sv({"A": {"VISIT 1": "2012-01-02", "VISIT 2": "2012-02-01"}})
    visits = visit_dates_from_sv(sv)
    fa = pd.DataFrame({"USUBJID": ["A", "A"], "VISITNUM": [1.0, 3.0], "FADTC": ["", ""]})
    assert derive_visit_date(fa, "FADTC", visits)["FADTC"].tolist() == ["2012-01-02", ""]
    ds = pd.DataFrame({"USUBJID": ["A", "A", "A"], "DSSTDTC": ["2012-02-10", "2012-03-01", "2016-05-05"]})
    ended = pd.Series({"A": "2012-03-01"})
    out = derive_epoch(ds, "DSSTDTC", visits, study, ended)
    # withdrawn on 2012-03-01 during the run-in: that day is still run-in, a later death is long-term follow-up
    assert out["EPOCH"].tolist() == ["RUN-IN", "RUN-IN", "LONG-TERM FOLLOW-UP"]


@pytest.fixture(scope="module")
def sample():
    import pyreadstat

    return {p.stem.upper(): pyreadstat.read_xport(str(p))[0] for p in SAMPLE_SDTM_DIR.glob("*.xpt")}


def test_sample_has_the_trial_design_datasets(sample):
    assert {"TA", "TE", "TV", "TI", "TS", "SE"} <= set(sample)
    ts = sample["TS"]
    required = {"ADDON", "AGEMAX", "AGEMIN", "LENGTH", "PLANSUB", "RANDOM", "SEXPOP", "STOPRULE", "TBLIND", "TCNTRL",
                "TDIGRP", "TINDTP", "TITLE", "TPHASE", "TTYPE", "CURTRT", "OBJPRIM", "SPONSOR", "TRT", "REGID",
                "OUTMSPRI", "PCLAS", "FCNTRY", "ADAPT", "DCUTDTC", "DCUTDESC", "INTMODEL", "NARMS", "STYPE",
                "INTTYPE", "SSTDTC", "SENDTC", "ACTSUB", "HLTSUBJI", "INDIC", "SDTIGVER", "SDTMVER"}
    assert required <= set(ts["TSPARMCD"])
    assert ((ts["TSVAL"] != "") | (ts["TSVALNF"] != "")).all()
    cdisc = ts[ts["TSVCDREF"] == "CDISC CT"]
    assert len(cdisc) >= 15 and (cdisc["TSVCDVER"] == "2025-03-28").all() and (cdisc["TSVALCD"] != "").all()
    assert ts.loc[ts["TSPARMCD"] == "ACTSUB", "TSVAL"].item() == str((sample["DM"]["ARMCD"] != "").sum())
    se = sample["SE"]
    assert set(se["USUBJID"]) == set(sample["DM"]["USUBJID"])
    assert (se["SESTDTC"] <= se["SEENDTC"]).all()


def test_sample_every_death_has_a_ds_death_record(sample):
    dm, ds, ss = sample["DM"], sample["DS"], sample["SS"]
    dead = set(dm.loc[dm["DTHFL"] == "Y", "USUBJID"])
    assert dead == set(ss.loc[ss["SSSTRESC"] == "DEAD", "USUBJID"])
    deaths = ds[ds["DSDECOD"] == "DEATH"]
    assert set(deaths["USUBJID"]) == dead and not deaths["USUBJID"].duplicated().any()
    dates = dm.set_index("USUBJID")["DTHDTC"]
    assert (deaths["DSSTDTC"] == deaths["USUBJID"].map(dates)).all()
    assert set(deaths["DSCAT"]) == {"DISPOSITION EVENT", "OTHER EVENT"}
    assert "DSDY" not in ds and "DSSTDY" in ds


def test_sample_rfpendtc_is_on_or_after_every_subject_date(sample):
    end = sample["DM"].set_index("USUBJID")["RFPENDTC"]
    for name, frame in sample.items():
        if name in ("DM", "MH") or "USUBJID" not in frame:
            continue
        for column in [c for c in frame.columns if c.endswith("DTC")]:
            dates = frame[column].str.slice(0, 10)
            known = dates.str.len() == 10
            late = dates[known] > frame.loc[known, "USUBJID"].map(end)
            assert not late.any(), f"{name}.{column} after RFPENDTC: {frame.loc[late[late].index, 'USUBJID'].tolist()}"


def test_sample_timing_variables_come_in_pairs(sample):
    lb, dm = sample["LB"], sample["DM"]
    assert ((lb["LBTPT"] != "") == lb["LBTPTNUM"].notna()).all()
    reference = dm.set_index("USUBJID")["RFSTDTC"]
    # a study day where the date and RFSTDTC are full dates (screen failures have no RFSTDTC), never without
    for name, dtc, dy in (("DM", "DMDTC", "DMDY"), ("GF", "GFDTC", "GFDY"), ("FA", "FADTC", "FADY"),
                          ("DS", "DSSTDTC", "DSSTDY")):
        frame = sample[name]
        computable = (frame[dtc].str.len() >= 10) & (frame["USUBJID"].map(reference).str.len() >= 10)
        assert (computable == frame[dy].notna()).all(), name
    assert (sample["FA"]["FADTC"] != "").all() and (sample["GF"]["EPOCH"] != "").all()
    assert sample["MH"]["MHCAT"].unique().tolist() == ["PRIMARY DIAGNOSIS"]
