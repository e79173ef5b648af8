"""The same engine on other inputs with YAML only: a PRO-ACT extract and a differently named raw layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.sdtm.pipeline import run_sdtm
from cdisc_als.study import load_study

ITEMS = ["Q1_Speech", "Q2_Salivation", "Q3_Swallowing", "Q4_Handwriting", "Q5a_Cutting_without_Gastrostomy",
         "Q5b_Cutting_with_Gastrostomy", "Q6_Dressing_and_Hygiene", "Q7_Turning_in_Bed", "Q8_Walking",
         "Q9_Climbing_Stairs", "R_1_Dyspnea", "R_2_Orthopnea", "R_3_Respiratory_Insufficiency"]


def _proact_fixture(folder: Path) -> None:
    """A small PRO-ACT-shaped extract: day offsets, no calendar dates, one-hot race, 5a/5b split."""
    folder.mkdir()
    pd.DataFrame({"subject_id": ["533", "1041", "2077"], "Demographics_Delta": ["0", "-2", "0"],
                  "Age": ["61.0", "49.5", "70.2"], "Sex": ["Male", "Female", "Male"],
                  "Race_Caucasian": ["1", "0", ""], "Race_Asian": ["0", "1", ""],
                  "Race_Black_African_American": ["0", "0", "1"]}).to_csv(folder / "demographics.csv", index=False)
    rows = []
    for subject, deltas in (("533", [0, 91, 182]), ("1041", [-5, 84]), ("2077", [3])):
        for k, delta in enumerate(deltas):
            scores = {item: "3" for item in ITEMS}
            scores["Q5b_Cutting_with_Gastrostomy"] = ""
            if subject == "1041" and k == 1:
                scores["Q5a_Cutting_without_Gastrostomy"], scores["Q5b_Cutting_with_Gastrostomy"] = "", "2"
            rows.append({"subject_id": subject, "ALSFRS_Delta": str(delta), **scores, "ALSFRS_R_Total": "36"})
    pd.DataFrame(rows).to_csv(folder / "alsfrs.csv", index=False)


def test_proact_extract_maps_with_its_own_specs(tmp_path):
    raw = tmp_path / "proact"
    _proact_fixture(raw)
    mappings = MAPPINGS_DIR / "proact"
    result = run_sdtm(raw, tmp_path / "out", load_study(mappings / "study.yaml"), mappings)
    assert not [f for f in result.findings if f.severity == "error"], [f.describe() for f in result.findings]
    dm = result.datasets["DM"].set_index("SUBJID")
    assert dm.loc["533", "USUBJID"] == "PROACT-533"
    order = ["533", "1041", "2077"]
    assert dm.loc[order, "SEX"].tolist() == ["M", "F", "M"]
    assert dm.loc[order, "RACE"].tolist() == ["WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN"]
    assert dm.loc["1041", "DMDY"] == -2 and dm.loc["533", "DMDY"] == 1       # no day 0
    qs = result.datasets["QS"]
    assert (qs["QSDTC"] == "").all(), "PRO-ACT has no calendar dates"
    assert sorted(qs.loc[qs["USUBJID"] == "PROACT-533", "QSDY"].unique()) == [1, 92, 183]
    assert sorted(qs.loc[qs["USUBJID"] == "PROACT-1041", "QSDY"].unique()) == [-5, 85]
    per_admin = qs[qs["QSTESTCD"] != "ALSR113"].groupby(["USUBJID", "QSDY"]).size()
    assert (per_admin == 12).all()
    assert "ALSR105B" in set(qs["QSTESTCD"]) and (qs["QSSEQ"] > 0).all()
    assert (tmp_path / "out" / "qs.xpt").exists()
    rec = result.reconciliation.set_index("table")
    assert rec.loc["alsfrs", "mapped"] == 6 and rec.loc["alsfrs", "records"] == 6 * 13


def _second_layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Renamed tables and columns, other visit names, sex coded 1/2: a new study described in YAML only."""
    mappings = tmp_path / "mappings"
    (mappings / "raw").mkdir(parents=True)
    (mappings / "sdtm").mkdir()
    study = (MAPPINGS_DIR / "study.yaml").read_text()
    study = study.replace("study_id: ALSMSC2", "study_id: NEXT01").replace("VISIT 1,", "SCREENING,")
    study = study.replace("VISIT 5,", "BASELINE,").replace("VISIT 9,", "MONTH 4,").replace("origin_visit: VISIT 1",
                                                                                          "origin_visit: SCREENING")
    study = study.replace("{visit: VISIT 5}", "{visit: BASELINE}")
    (tmp_path / "study.yaml").write_text(study)
    (mappings / "raw" / "tables.yaml").write_text("""
subject_table: patients
subject_column: PATNO
site_column: CENTRE
tables:
  patients:
    description: Patients.
    key: [PATNO]
    columns:
      - {name: PATNO, type: text, required: true}
      - {name: CENTRE, type: text, required: true}
      - {name: GENDER, type: text, allowed: ["1", "2"]}
      - {name: AGEYRS, type: integer}
      - {name: CONSENT, type: date}
      - {name: GROUP, type: text, allowed: [A, B]}
  frs:
    description: ALSFRS-R, two items shown.
    key: [PATNO, VISITNAME]
    columns:
      - {name: PATNO, type: text, required: true}
      - {name: VISITNAME, type: visit, required: true}
      - {name: ASSESSED, type: date}
      - {name: SPEECH, type: integer, min: 0, max: 4}
      - {name: WALKING, type: integer, min: 0, max: 4}
""")
    (mappings / "sdtm" / "DM.yaml").write_text("""
domain: DM
sources:
  - table: patients
    variables:
      STUDYID: {rule: hardcode, value: $study_id}
      DOMAIN: {rule: hardcode, value: DM}
      USUBJID: {rule: usubjid}
      SUBJID: {rule: assign, from: PATNO}
      SITEID: {rule: assign, from: CENTRE}
      AGE: {rule: number, from: AGEYRS}
      SEX: {rule: ct, from: GENDER, codelist: SEX}
      ARMCD: {rule: map, from: GROUP, values: {A: MSC, B: CONTROL}}
      RFICDTC: {rule: date, from: CONSENT}
derive:
  dm_reference:
    RFSTDTC: {table: frs, date: ASSESSED, where: {column: VISITNAME, equals: BASELINE}}
sort: [USUBJID]
""")
    (mappings / "sdtm" / "QS.yaml").write_text("""
domain: QS
sources:
  - table: frs
    transpose:
      columns:
        - {column: SPEECH, set: {TESTCD: ALSR101}}
        - {column: WALKING, set: {TESTCD: ALSR108}}
    variables:
      STUDYID: {rule: hardcode, value: $study_id}
      DOMAIN: {rule: hardcode, value: QS}
      USUBJID: {rule: usubjid}
      QSTESTCD: {rule: assign, from: TESTCD}
      QSTEST: {rule: ct, from: TESTCD, codelist: QSTESTCD, output: decode}
      QSCAT: {rule: hardcode, value: ALSFRS-R}
      QSORRES: {rule: assign, from: _VALUE}
      QSSTRESN: {rule: number, from: _VALUE}
      VISITNUM: {rule: visitnum, from: VISITNAME}
      VISIT: {rule: assign, from: VISITNAME}
      QSDTC: {rule: date, from: ASSESSED}
derive:
  seq: true
  study_day: {QSDTC: QSDY}
  lobxfl: {flag: QSLOBXFL, date: QSDTC, by: [QSTESTCD], result: QSORRES}
sort: [USUBJID, VISITNUM, QSTESTCD]
""")
    raw = tmp_path / "raw"
    raw.mkdir()
    pd.DataFrame({"PATNO": ["P1", "P2"], "CENTRE": ["07", "09"], "GENDER": ["1", "2"], "AGEYRS": ["55", "48"],
                  "CONSENT": ["2020-01-06", "2020-02-03"], "GROUP": ["A", "B"]}).to_csv(raw / "patients.csv", index=False)
    pd.DataFrame({"PATNO": ["P1", "P1", "P2", "P2"], "VISITNAME": ["SCREENING", "BASELINE", "BASELINE", "MONTH 4"],
                  "ASSESSED": ["2020-01-06", "2020-04-06", "2020-05-04", "2020-09-01"],
                  "SPEECH": ["4", "3", "4", "3"], "WALKING": ["3", "3", "2", "1"]}).to_csv(raw / "frs.csv", index=False)
    return mappings, tmp_path / "study.yaml", raw


def test_a_new_study_needs_yaml_only(tmp_path):
    mappings, study_file, raw = _second_layout(tmp_path)
    result = run_sdtm(raw, tmp_path / "out", load_study(study_file), mappings)
    assert not [f for f in result.findings if f.severity == "error"], [f.describe() for f in result.findings]
    dm = result.datasets["DM"]
    assert dm["USUBJID"].tolist() == ["NEXT01-07-P1", "NEXT01-09-P2"]
    assert dm["SEX"].tolist() == ["M", "F"] and dm["ARMCD"].tolist() == ["MSC", "CONTROL"]
    assert dm["RFSTDTC"].tolist() == ["2020-04-06", "2020-05-04"]
    qs = result.datasets["QS"]
    assert qs["VISITNUM"].tolist() == [1, 1, 5, 5, 5, 5, 9, 9]
    p1 = qs[qs["USUBJID"] == "NEXT01-07-P1"]
    assert p1["QSDY"].tolist() == [-91, -91, 1, 1]
    assert p1["QSLOBXFL"].tolist() == ["", "", "Y", "Y"]
    assert set(result.datasets) == {"DM", "QS"}


def test_unknown_visit_name_in_new_layout_is_a_finding(tmp_path):
    mappings, study_file, raw = _second_layout(tmp_path)
    frs = pd.read_csv(raw / "frs.csv", dtype=str)
    frs.loc[3, "VISITNAME"] = "MONTH 5"
    frs.to_csv(raw / "frs.csv", index=False)
    result = run_sdtm(raw, None, load_study(study_file), mappings)
    hits = [f for f in result.findings if f.rule == "RAW-VISIT"]
    assert hits and hits[0].file == "frs.csv" and hits[0].row == 5 and hits[0].value == "MONTH 5"
    assert result.reconciliation.set_index("table").loc["frs", "rejected"] == 1
    assert not np.isnan(result.datasets["QS"]["VISITNUM"]).any()

