"""The ALS endpoints end to end: DeltaFS with partial onset dates, the DeltaFS subgroup, the NIV raw table
through SDTM PR to the PAV event of ADTTE, the study setting that defines PAV, the new ADaM parameters
on the sample study, and the NIV simulator."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml

from cdisc_als.adam import derive as d
from cdisc_als.adam.adsl import derive_deltafs, derive_subgroup
from cdisc_als.adam.pipeline import build_adam, check_study_against_metadata, read_sdtm
from cdisc_als.metadata import load_metadata
from cdisc_als.resources import MAPPINGS_DIR, SAMPLE_RAW_DIR, SAMPLE_SDTM_DIR
from cdisc_als.sdtm.pipeline import run_sdtm
from cdisc_als.simulate.niv import simulate_niv_use
from cdisc_als.study import StudyConfigError, Subgroup, parse_study

T = pd.Timestamp


def _study_doc() -> dict:
    return yaml.safe_load((MAPPINGS_DIR / "study.yaml").read_text())


def test_deltafs_with_partial_onset_dates():
    onset, flag = d.impute_date(pd.Series(["2011-03", "2011", "2011-03-15", "2012-06"]), "mid")
    assert flag.tolist() == ["D", "M", "", "D"]
    adsl = pd.DataFrame({"USUBJID": ["A", "B", "C", "D"], "ONSETDT": onset})
    totals = pd.DataFrame({"USUBJID": ["A", "B", "C", "D", "A"], "VISITNUM": [5.0, 5.0, 5.0, 5.0, 1.0],
                           "AVAL": [36.0, 40.0, np.nan, 40.0, 44.0],
                           "QSDTC": ["2012-03-15", "2012-03-15", "2012-03-15", "2012-03-15", "2011-12-01"]})
    out = derive_deltafs(adsl, totals, 5.0, 30.4375).set_index("USUBJID")["DELTAFS"]
    # A: onset 2011-03 -> 2011-03-15; 366 days to 2012-03-15 (leap day); (48 - 36) / (366 / 30.4375)
    assert out["A"] == pytest.approx(12 * 30.4375 / 366)
    # B: onset 2011 -> 2011-07-01; 258 days to 2012-03-15; (48 - 40) / (258 / 30.4375)
    assert out["B"] == pytest.approx(8 * 30.4375 / 258)
    assert np.isnan(out["C"])                       # no total at the reference visit
    assert np.isnan(out["D"])                       # imputed onset (2012-06-15) after the assessment


def test_deltafs_subgroup_cut_point_goes_up():
    group = Subgroup(variable="DFSGR1", source="DELTAFS", cuts=(0.5,))
    out = derive_subgroup(pd.DataFrame({"DELTAFS": [0.4999, 0.5, 1.2, np.nan]}), group)
    assert out["DFSGR1"].tolist() == ["<0.5", ">=0.5", ">=0.5", ""]
    assert out["DFSGR1N"].tolist()[:3] == [1.0, 2.0, 2.0]


def test_permanent_ventilation_setting_is_typed_and_checked():
    doc = _study_doc()
    assert parse_study(doc).survival.permanent_ventilation.min_consecutive_days == 7
    doc["survival"]["permanent_ventilation"] = {"min_hours_per_day": 25, "min_consecutive_days": 0, "hours": 3}
    with pytest.raises(StudyConfigError) as caught:
        parse_study(doc)
    text = "\n".join(caught.value.problems)
    assert "survival.permanent_ventilation.min_hours_per_day" in text
    assert "survival.permanent_ventilation.min_consecutive_days" in text
    assert "survival.permanent_ventilation.hours: unknown key" in text
    doc["survival"].pop("permanent_ventilation")
    assert parse_study(doc).survival.permanent_ventilation.min_hours_per_day == 22


@pytest.fixture(scope="module")
def sample_adam() -> dict[str, pd.DataFrame]:
    study = parse_study(_study_doc())
    return build_adam(read_sdtm(SAMPLE_SDTM_DIR), study, load_metadata(None, study))


def test_sample_has_stage_slope_cafs_and_event_free_parameters(sample_adam):
    adqs, adtte, adcafs = sample_adam["ADQS"], sample_adam["ADTTE"], sample_adam["ADCAFS"]
    assert {"KINGSTG", "MITOSTG", "BULBSLI", "BULBSF4", "RESPSF6"} <= set(adqs["PARAMCD"])
    stages = adqs[adqs["PARAMCD"] == "KINGSTG"]
    assert set(stages["AVAL"].dropna()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    phantom = stages[stages["DTYPE"] == "PHANTOM"]
    assert (phantom["AVAL"] == 5).all() and (phantom["ADT"] == phantom["USUBJID"].map(
        sample_adam["ADSL"].set_index("USUBJID")["DTHDT"])).all()
    assert stages["PCHG"].isna().all()
    stage_4a = stages[stages["CRIT1FL"] == "Y"]
    assert len(stage_4a) and (stage_4a["AVAL"] == 4).all() and stage_4a["CRIT1"].str.contains("4A").all()
    assert (stages.loc[stages["DTYPE"] != "PHANTOM", "CRIT2FL"] != "").all()
    assert {"TTDPAV", "TTPAV", "TTKINGSP", "TTMITOSP"} <= set(adtte["PARAMCD"])
    for code in ("CAFSS4", "CAFSS6"):
        assert adcafs.loc[adcafs["PARAMCD"] == code, "AVAL"].sum() == 0      # pairwise scores cancel
    ranks = adcafs[adcafs["PARAMCD"] == "CAFSR6"]
    assert sorted(ranks["AVAL"])[0] >= 1 and ranks["AVAL"].sum() == pytest.approx(len(ranks) * (len(ranks) + 1) / 2)


def test_niv_table_reaches_the_pav_event(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    demog = pd.read_csv(raw / "demog.csv", dtype=str)
    subject = demog.loc[demog["RANDDT"].notna(), "SUBJID"].iloc[0]
    # 5 days of night-time use, a 0-hour day, then 8 days of 23 h: PAV on the 7th recorded day
    days = pd.date_range("2013-01-01", periods=14, freq="D").strftime("%Y-%m-%d")
    hours = ["8.0"] * 5 + ["0"] + ["23.0"] * 8
    pd.DataFrame({"SUBJID": subject, "NIVDT": days, "HOURS": hours}).to_csv(raw / "niv.csv", index=False)
    study = parse_study(_study_doc())
    result = run_sdtm(raw, tmp_path / "sdtm", study)
    pr = result.datasets["PR"]
    daily = pr[pr["PRCAT"] == "NIV DAILY USE"]
    assert len(daily) == 14 and daily["PROCCUR"].tolist().count("N") == 1
    assert daily.loc[daily["PROCCUR"] == "N", "PRDUR"].tolist() == [""]
    assert daily["PRDUR"].iloc[-1] == "PT23.0H"
    adam = build_adam(read_sdtm(tmp_path / "sdtm"), study, load_metadata(None, study))
    adtte = adam["ADTTE"]
    usubjid = adam["ADSL"].set_index("SUBJID").loc[subject, "USUBJID"]
    pav = adtte[(adtte["PARAMCD"] == "TTPAV") & (adtte["USUBJID"] == usubjid)].iloc[0]
    assert (pav["CNSR"], pav["ADT"], pav["EVNTDESC"]) == (0.0, T("2013-01-07"), "PERMANENT ASSISTED VENTILATION")
    assert pav["SRCDOM"] == "PR" and pav["SRCVAR"] == "PRDUR"


def test_niv_simulator_is_seeded_and_plausible():
    periods = pd.DataFrame({"SUBJID": ["001", "002", "003"], "START": ["2014-01-01", "2014-01-01", "2014-05-01"],
                            "END": ["2014-12-31", "2014-03-31", "2014-04-01"],
                            "END_REASON": ["DEATH", "ALIVE", "ALIVE"]})
    first = simulate_niv_use(periods, np.random.default_rng(11))
    again = simulate_niv_use(periods, np.random.default_rng(11))
    pd.testing.assert_frame_equal(first, again)
    assert set(first["SUBJID"]) == {"001", "002"}                      # 003 ends before it starts
    assert not first.duplicated(["SUBJID", "NIVDT"]).any()
    assert first["HOURS"].between(0, 24).all() and (first["HOURS"] * 10 == (first["HOURS"] * 10).round()).all()
    dates = pd.to_datetime(first["NIVDT"])
    assert dates.min() >= T("2014-01-01") and dates.max() <= T("2014-12-31")
    dying = first[first["SUBJID"] == "001"]
    assert dying["HOURS"].tail(14).mean() > 20 > dying["HOURS"].head(14).mean()
    assert len(dying) < 365                                             # download gaps


def test_parameters_of_an_undescribed_dataset_are_a_problem():
    study = parse_study(_study_doc())
    metadata = load_metadata(None, study)
    assert check_study_against_metadata(study, metadata) == []
    without = replace(metadata, datasets={k: v for k, v in metadata.datasets.items() if k != "ADCAFS"})
    assert check_study_against_metadata(study, without) == [
        "parameters.csv has ADCAFS parameters but mappings/metadata/datasets.csv does not describe ADCAFS"]


def test_a_raw_table_with_a_header_and_no_rows_maps_no_records(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    (raw / "niv.csv").write_text("SUBJID,NIVDT,HOURS\n")      # a NIV form nobody needed
    result = run_sdtm(raw, None, parse_study(_study_doc()))
    assert not (result.datasets["PR"]["PRCAT"] == "NIV DAILY USE").any()
    assert not [f for f in result.findings if f.severity == "error"]
    row = result.reconciliation.set_index("table").loc["niv"]
    assert (row["rows"], row["records"]) == (0, 0)


@pytest.mark.parametrize("per_part", [5, 7])
def test_adqs_derived_part_by_part_equals_one_pass(sample_adam, monkeypatch, per_part):
    """ADQS built a few subjects at a time (parts of 5 or 7 of the 64 subjects: deaths and stage 5 records in
    some parts, not in the first of 5) is, once finalized, the one-pass dataset: the same records, in the
    same order, with the same ASEQ; ADTTE built from it is the same too."""
    import cdisc_als.adam.adqs as adqs
    from cdisc_als.adam.adtte import build_adtte
    from cdisc_als.adam.pipeline import finalize_adam

    study = parse_study(_study_doc())
    metadata = load_metadata(None, study)
    sdtm = read_sdtm(SAMPLE_SDTM_DIR)
    adsl = sample_adam["ADSL"]
    monkeypatch.setattr(adqs, "SUBJECTS_PER_PART", per_part)
    in_parts = adqs.build_adqs(sdtm, adsl, study, metadata.parameters.resolve("ADQS", study))
    first_part = set(sorted(adsl["USUBJID"])[:per_part])
    phantom = in_parts.loc[in_parts.get("DTYPE", pd.Series(dtype=object)) == "PHANTOM", "USUBJID"]
    assert len(phantom) and (per_part == 7) == bool(set(phantom) & first_part)     # both cases are covered
    pd.testing.assert_frame_equal(finalize_adam(in_parts, "ADQS", metadata),
                                  finalize_adam(sample_adam["ADQS"], "ADQS", metadata))
    adtte = build_adtte(sdtm, adsl, study, metadata.parameters.resolve("ADTTE", study), {"ADQS": in_parts})
    pd.testing.assert_frame_equal(finalize_adam(adtte, "ADTTE", metadata),
                                  finalize_adam(sample_adam["ADTTE"], "ADTTE", metadata))


@pytest.mark.parametrize("per_part", [5, 7])
def test_adqs_kept_in_finalized_parts_is_the_finalized_one_pass_dataset(sample_adam, monkeypatch, per_part):
    """run_adam's path: each ADQS part finalized and kept compact as it is derived (adam.parted), stacked for
    the writer. The stacked records are the finalized one-pass ADQS (DTYPE, which the first part of 5 lacks,
    is '' there), and ADTTE and ADCAFS, built from the records of the few parameters they read, are the
    one-pass ones."""
    import cdisc_als.adam.adqs as adqs
    from cdisc_als.adam.parted import FinalizedParts
    from cdisc_als.adam.pipeline import finalize_adam
    from cdisc_als.columnar import stack_parts

    study = parse_study(_study_doc())
    metadata = load_metadata(None, study)
    monkeypatch.setattr(adqs, "SUBJECTS_PER_PART", per_part)
    parts = FinalizedParts("ADQS", metadata, lambda part: finalize_adam(part, "ADQS", metadata))
    built = build_adam(read_sdtm(SAMPLE_SDTM_DIR), study, metadata, parts)
    assert built["ADQS"] is parts and len(parts) == len(sample_adam["ADQS"])
    stacked = stack_parts(parts.aligned())
    assert isinstance(stacked["PARAMCD"].dtype, pd.CategoricalDtype)       # text kept as codes
    decoded = stacked.astype({c: object for c in stacked.columns if isinstance(stacked[c].dtype, pd.CategoricalDtype)})
    expected = finalize_adam(sample_adam["ADQS"], "ADQS", metadata)
    assert "DTYPE" in expected.columns and (expected["DTYPE"] == "").any()
    pd.testing.assert_frame_equal(decoded, expected)
    assert len(parts) == 0                                          # the parts were handed over, not kept
    for name in ("ADTTE", "ADCAFS"):
        pd.testing.assert_frame_equal(finalize_adam(built[name], name, metadata),
                                      finalize_adam(sample_adam[name], name, metadata))


def test_finalized_parts_keep_a_permissible_variable_that_only_some_parts_have():
    """Stacking finalized parts: a permissible variable is kept when any part has it, missing ('' or NaN) in
    the others, in the metadata's order; one that no part has is left out, as finalize leaves it out."""
    from cdisc_als.adam.parted import FinalizedParts
    from cdisc_als.columnar import stack_parts

    metadata = load_metadata(None, parse_study(_study_doc()))
    order = metadata.dataset("ADQS").variable_names
    assert order.index("AVAL") < order.index("DTYPE") < order.index("SRCSEQ")
    parts = FinalizedParts("ADQS", metadata, lambda part: part)
    parts.add(pd.DataFrame({"USUBJID": ["S1", "S1"], "AVAL": [1.0, 2.0]}))
    parts.add(pd.DataFrame({"USUBJID": ["S2"], "DTYPE": ["PHANTOM"], "AVAL": [3.0], "SRCSEQ": [7.0]}))
    stacked = stack_parts(parts.aligned())
    assert list(stacked.columns) == ["USUBJID", "AVAL", "DTYPE", "SRCSEQ"]
    assert stacked["DTYPE"].astype(object).tolist() == ["", "", "PHANTOM"]
    assert stacked["USUBJID"].astype(object).tolist() == ["S1", "S1", "S2"]
    assert stacked["AVAL"].tolist() == [1.0, 2.0, 3.0]
    assert np.isnan(stacked["SRCSEQ"].to_numpy()[:2]).all() and stacked["SRCSEQ"].iloc[2] == 7.0
