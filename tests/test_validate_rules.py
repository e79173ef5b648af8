"""Rules on small hand-made datasets: one test per false-alarm class of issue 13, an injected defect per
rule of issue 12, special datasets, folder contents, define.xml, and the streamed report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from cdisc_als.validate.engine import validate_folder
from cdisc_als.validate.report import write_xlsx
from tests.shared_data import pilot_dir

S = "XSTUDY"


def _dm(**extra) -> pd.DataFrame:
    base = {"STUDYID": [S] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": ["S-1", "S-2", "S-3"],
            "RFSTDTC": ["2020-01-10", "2020-01-12", "2020-01-15"], "RFPENDTC": ["2020-06-01"] * 3,
            "DTHDTC": ["", "", ""], "DTHFL": ["", "", ""], "ARMCD": ["A", "A", "B"], "ACTARMCD": ["A", "A", "B"]}
    base.update(extra)
    return pd.DataFrame(base)


def _write(folder: Path, frames: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        pyreadstat.write_xport(frame, str(folder / f"{name.lower()}.xpt"), table_name=name, file_format_version=5)
    return folder


def _found(folder: Path) -> pd.DataFrame:
    return validate_folder(folder, study_id="").findings


def _rows(findings: pd.DataFrame, dataset: str, rule: str) -> list[int]:
    sub = findings[(findings["dataset"] == dataset) & (findings["rule"] == rule)]
    return sorted(int(r) for r in sub["record"].dropna())


def _lb(testcd, orres, orresu, **extra) -> pd.DataFrame:
    n = len(testcd)
    frame = {"STUDYID": [S] * n, "DOMAIN": ["LB"] * n, "USUBJID": ["S-1"] * n, "LBSEQ": list(range(1, n + 1)),
             "LBTESTCD": testcd, "LBTEST": [f"Test {t}" for t in testcd], "LBORRES": orres, "LBORRESU": orresu,
             "LBSTRESC": orres, "LBSTRESU": orresu, "LBDTC": [f"2020-02-{i + 1:02d}" for i in range(n)]}
    frame.update(extra)
    return pd.DataFrame(frame)


# ------------------------------------------------------------------ false alarms of issue 13

def test_units_are_required_only_for_tests_that_have_units(tmp_path):
    lb = _lb(["PH", "SPGRAV", "KETONES", "KETONES", "GLUC", "COLOR"], ["6.0", "1.010", "0", "1", "5.4", "N"],
             ["", "", "", "", "", ""])
    found = _found(_write(tmp_path, {"DM": _dm(), "LB": lb}))
    assert _rows(found, "LB", "ALS0118") == [4, 5]        # KETONES 1 and GLUC 5.4; not pH, SG, zero or text
    assert _rows(found, "LB", "ALS0119") == [4, 5]


def test_baseline_flag_is_unique_per_time_point_not_per_test(tmp_path):
    n = 4
    vs = pd.DataFrame({"STUDYID": [S] * n, "DOMAIN": ["VS"] * n, "USUBJID": ["S-1"] * n, "VSSEQ": [1, 2, 3, 4],
                       "VSTESTCD": ["SYSBP"] * n, "VSTEST": ["Systolic Blood Pressure"] * n,
                       "VSTPT": ["PRE-DOSE", "1H", "PRE-DOSE", "1H"], "VSTPTNUM": [1, 2, 1, 2],
                       "VSLOBXFL": ["Y", "Y", "Y", ""], "VSORRES": ["120"] * n, "VSORRESU": ["mmHg"] * n})
    found = _found(_write(tmp_path, {"DM": _dm(), "VS": vs}))
    assert _rows(found, "VS", "ALS0134") == [3]           # only the second PRE-DOSE flag is a duplicate


def _relrec(**columns) -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": [S] * 2, "RDOMAIN": ["AE", "AE"], **columns})


def _ae() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": [S] * 2, "DOMAIN": ["AE"] * 2, "USUBJID": ["S-1", "S-2"], "AESEQ": [1.0, 12.0],
                         "AETERM": ["HEADACHE", "NAUSEA"], "AEDECOD": ["Headache", "Nausea"],
                         "AESTDTC": ["2020-02-01", "2020-02-03"], "AEENDTC": ["2020-02-02", "2020-02-04"]})


def test_relrec_idvarval_with_leading_blanks_finds_its_parent(tmp_path):
    relrec = _relrec(USUBJID=["S-1", "S-2"], IDVAR=["AESEQ", "AESEQ"], IDVARVAL=["   1", "  12"],
                     RELTYPE=["", ""], RELID=["R1", "R1"])
    supp = pd.DataFrame({"STUDYID": [S], "RDOMAIN": ["AE"], "USUBJID": ["S-2"], "IDVAR": ["AESEQ"],
                         "IDVARVAL": ["  12"], "QNAM": ["AETRTEM"], "QLABEL": ["Treatment Emergent Flag"],
                         "QVAL": ["Y"]})
    found = _found(_write(tmp_path, {"DM": _dm(), "AE": _ae(), "RELREC": relrec, "SUPPAE": supp}))
    assert not _rows(found, "RELREC", "ALS0127") and not _rows(found, "SUPPAE", "ALS0127")
    relrec.loc[1, "IDVARVAL"] = "  13"
    found = _found(_write(tmp_path / "bad", {"DM": _dm(), "AE": _ae(), "RELREC": relrec}))
    assert _rows(found, "RELREC", "ALS0127") == [2]


def test_dataset_level_relrec_rows_are_valid_without_usubjid(tmp_path):
    relrec = _relrec(USUBJID=["", ""], IDVAR=["AESEQ", "AESEQ"], IDVARVAL=["", ""], RELTYPE=["ONE", "MANY"],
                     RELID=["R9", "R9"])
    found = _found(_write(tmp_path, {"DM": _dm(), "AE": _ae(), "RELREC": relrec}))
    relrec_rules = set(found.loc[found["dataset"] == "RELREC", "rule"])
    assert not relrec_rules & {"ALS0016", "ALS0127", "ALS0171", "ALS0169", "ALS0170"}, relrec_rules
    relrec.loc[0, "RELTYPE"] = ""
    found = _found(_write(tmp_path / "bad", {"DM": _dm(), "AE": _ae(), "RELREC": relrec}))
    assert _rows(found, "RELREC", "ALS0171") == [1]


def test_ndjson_and_dataset_json_are_validated(tmp_path):
    folder = _write(tmp_path, {"DM": _dm()})
    ae = _ae()
    ae.loc[1, "AESTDTC"] = "2020/02/03"                  # an invalid date, found in the NDJSON rows
    columns = [{"itemOID": f"IT.AE.{c}", "name": c, "label": c, "dataType": "double" if c == "AESEQ" else "string"}
               for c in ae.columns]
    meta = {"datasetJSONVersion": "1.1.0", "itemGroupOID": "IG.AE", "records": 2, "name": "AE",
            "label": "Adverse Events", "columns": columns}
    lines = [json.dumps(meta)] + [json.dumps(list(row)) for row in ae.itertuples(index=False)]
    (folder / "ae.ndjson").write_text("\n".join(lines) + "\n")
    (folder / "notes.txt").write_text("not a dataset")
    found = _found(folder)
    assert _rows(found, "AE", "ALS0102") == [2]
    unread = found[found["rule"] == "ALS0022"]
    assert unread["file"].tolist() == ["notes.txt"]


# ------------------------------------------------------------------ natural keys, seriousness, doses

def test_duplicates_by_natural_key_and_seriousness_criteria(tmp_path):
    ae = pd.concat([_ae(), _ae().iloc[[0]]], ignore_index=True)
    ae.loc[2, "AESEQ"] = 3.0                            # same event again under another sequence number
    ae["AESER"] = ["N", "N", "N"]
    ae["AESCAN"] = ["Y", "N", "N"]
    ae["AESOD"] = ["N", "Y", "N"]
    found = _found(_write(tmp_path, {"DM": _dm(), "AE": ae}))
    assert _rows(found, "AE", "ALS0028") == [3]           # P21 SD1201
    assert _rows(found, "AE", "ALS0112") == [1]           # AESCAN = Y, AESER = N
    assert _rows(found, "AE", "ALS0148") == [2]           # AESOD = Y, AESER = N (SD1062)


def test_dose_unit_missing(tmp_path):
    cm = pd.DataFrame({"STUDYID": [S] * 3, "DOMAIN": ["CM"] * 3, "USUBJID": ["S-1"] * 3, "CMSEQ": [1.0, 2.0, 3.0],
                       "CMTRT": ["ASPIRIN", "PARACETAMOL", "VITAMIN D"], "CMDOSE": [100.0, 500.0, None],
                       "CMDOSU": ["mg", "", ""], "CMSTDTC": ["2020-01-01"] * 3})
    found = _found(_write(tmp_path, {"DM": _dm(), "CM": cm}))
    assert _rows(found, "CM", "ALS0174") == [2]           # P21 SD0035


# ------------------------------------------------------------------ issue 12 defect classes

def test_study_day_without_its_date_and_start_day_naming(tmp_path):
    ds = pd.DataFrame({"STUDYID": [S], "DOMAIN": ["DS"], "USUBJID": ["S-1"], "DSSEQ": [1.0],
                       "DSDECOD": ["COMPLETED"], "DSSTDTC": ["2020-05-01"], "DSDY": [113.0]})
    found = _found(_write(tmp_path, {"DM": _dm(), "DS": ds}))
    rows = found[(found["dataset"] == "DS") & (found["rule"] == "ALS0137")]
    assert rows["variables"].tolist() == ["DSDY"] and "DSSTDY" in rows["values"].iloc[0]


def test_death_records_against_dm_and_subject_status(tmp_path):
    dm = _dm(DTHFL=["Y", "", "Y"], DTHDTC=["2020-05-01", "", "2020-05-03"])
    ds = pd.DataFrame({"STUDYID": [S] * 2, "DOMAIN": ["DS"] * 2, "USUBJID": ["S-1", "S-2"], "DSSEQ": [1.0, 1.0],
                       "DSDECOD": ["DEATH", "DEATH"], "DSSTDTC": ["2020-05-01", "2020-05-02"]})
    ss = pd.DataFrame({"STUDYID": [S] * 2, "DOMAIN": ["SS"] * 2, "USUBJID": ["S-1", "S-3"], "SSSEQ": [1.0, 1.0],
                       "SSTESTCD": ["SURVSTAT"] * 2, "SSSTRESC": ["DEAD", "DEAD"], "SSDTC": ["2020-06-01"] * 2})
    found = _found(_write(tmp_path, {"DM": dm, "DS": ds, "SS": ss}))
    assert _rows(found, "DM", "ALS0151") == [3]           # DTHFL = Y, no DS death record
    assert _rows(found, "DS", "ALS0152") == [2]           # DS death, DTHFL not Y
    assert _rows(found, "SS", "ALS0153") == [2]           # DEAD in SS, no DS death record


def test_rfpendtc_on_or_after_every_subject_date(tmp_path):
    ae = _ae()
    ae.loc[1, "AEENDTC"] = "2020-07-15"                  # after S-2's RFPENDTC 2020-06-01
    found = _found(_write(tmp_path, {"DM": _dm(), "AE": ae}))
    rows = found[(found["dataset"] == "DM") & (found["rule"] == "ALS0147")]
    assert rows["record"].tolist() == [2] and "2020-07-15 (AE.AEENDTC)" in rows["values"].iloc[0]


def test_time_point_without_number_and_epoch(tmp_path):
    lb = _lb(["GLUC", "GLUC"], ["5.1", "5.3"], ["mmol/L"] * 2, LBTPT=["PRE-DOSE", "1H"], EPOCH=["TREATMENT", ""])
    gf = pd.DataFrame({"STUDYID": [S], "DOMAIN": ["GF"], "USUBJID": ["S-1"], "GFSEQ": [1.0], "GFTESTCD": ["SNV"],
                       "GFTEST": ["Single Nucleotide Variation"], "GFORRES": ["DETECTED"], "GFDTC": ["2020-02-01"]})
    found = _found(_write(tmp_path, {"DM": _dm(), "LB": lb, "GF": gf}))
    assert found[(found["dataset"] == "LB") & (found["rule"] == "ALS0142")]["variables"].tolist() == ["LBTPTNUM"]
    assert _rows(found, "LB", "ALS0117") == [2]           # EPOCH null on a dated record
    assert found[(found["dataset"] == "GF") & (found["rule"] == "ALS0144")]["variables"].tolist() == ["EPOCH"]


def _ts(rows: dict[str, str], **extra) -> pd.DataFrame:
    n = len(rows)
    frame = {"STUDYID": [S] * n, "DOMAIN": ["TS"] * n, "TSSEQ": [1.0] * n, "TSPARMCD": list(rows),
             "TSPARM": list(rows), "TSVAL": list(rows.values()), "TSVALNF": [""] * n, "TSVALCD": [""] * n,
             "TSVCDREF": [""] * n, "TSVCDVER": [""] * n}
    frame.update(extra)
    return pd.DataFrame(frame)


def test_required_trial_summary_parameters_and_ct_version(tmp_path):
    ts = _ts({"STYPE": "INTERVENTIONAL", "TITLE": "A trial", "SSTDTC": "2020-13", "INTTYPE": "DRUG"},
             TSVALCD=["C98388", "", "", "C1909"], TSVCDREF=["CDISC", "", "", "CDISC"], TSVCDVER=["", "", "", "2025-03-28"])
    found = _found(_write(tmp_path, {"DM": _dm(), "TS": ts}))
    missing = set(found.loc[(found["rule"] == "ALS0302"), "values"])
    assert {"INTMODEL", "TINDTP", "PCLAS", "SPONSOR", "AGEMIN", "AGEMAX", "SEXPOP", "ACTSUB", "DCUTDTC",
            "OBJPRIM"} <= missing and not {"STYPE", "TITLE", "SSTDTC", "INTTYPE"} & missing
    assert "PCLAS" not in set(_found(_write(tmp_path / "obs", {
        "DM": _dm(), "TS": _ts({"STYPE": "OBSERVATIONAL"})})).loc[lambda f: f["rule"] == "ALS0302", "values"])
    p21 = found.loc[(found["rule"] == "ALS0302") & (found["values"] == "SPONSOR"), "p21"].tolist()
    assert p21 == ["SD2218"]
    assert _rows(found, "TS", "ALS0303") == [3]           # SSTDTC 2020-13 is not ISO 8601 (SD2247)
    assert _rows(found, "TS", "ALS0306") == [1]           # TSVCDREF CDISC without TSVCDVER


def test_trial_design_datasets_present(tmp_path):
    found = _found(_write(tmp_path, {"DM": _dm()}))
    missing = found[found["rule"] == "ALS0301"]
    assert set(missing["dataset"]) == {"TA", "TE", "TV", "TI", "TS", "SE"}
    assert set(missing["p21"]) == {"SD1112", "SD1113", "SD1115", "SD1111", ""}
    assert missing.loc[missing["dataset"] == "TS", "severity"].tolist() == ["error"]


def test_history_dates_against_first_treatment_and_death(tmp_path):
    dm = _dm(DTHFL=["Y", "", ""], DTHDTC=["2020-05-01", "", ""])
    mh = pd.DataFrame({"STUDYID": [S] * 3, "DOMAIN": ["MH"] * 3, "USUBJID": ["S-1", "S-1", "S-2"],
                       "MHSEQ": [1.0, 2.0, 1.0], "MHTERM": ["ALS", "Diabetes", "ALS"],
                       "MHSTDTC": ["2019-03", "2020-06-02", "2020-02-01"]})
    found = _found(_write(tmp_path, {"DM": dm, "MH": mh}))
    assert _rows(found, "MH", "ALS0154") == [2, 3]        # after RFSTDTC (partial 2019-03 is not compared)
    assert _rows(found, "MH", "ALS0155") == [2]           # after DTHDTC


# ------------------------------------------------------------------ define.xml

def test_define_checks_on_the_pilot_define(tmp_path):
    folder = tmp_path / "sdtm"
    folder.mkdir()
    pilot = pilot_dir() / "sdtm"
    for name in ("define.xml", "dm.xpt", "ts.xpt"):
        shutil.copy(pilot / name, folder / name)
    dm, _ = pyreadstat.read_xport(str(pilot / "dm.xpt"))
    dm = dm.drop(columns=["ETHNIC"]).assign(NEWVAR="x", AGE=dm["AGE"].astype(str))
    pyreadstat.write_xport(dm, str(folder / "dm.xpt"), table_name="DM", file_format_version=5)
    result = validate_folder(folder, study_id="")
    found = result.findings
    dm_found = found[found["dataset"] == "DM"]
    assert ("ETHNIC" in dm_found.loc[dm_found["rule"] == "ALS0406", "variables"].tolist())     # SD0054
    assert dm_found.loc[dm_found["rule"] == "ALS0405", "variables"].tolist() == ["NEWVAR"]      # SD0060
    assert dm_found.loc[dm_found["rule"] == "ALS0407", "variables"].tolist() == ["AGE"]         # SD0059
    assert "AE" in set(found.loc[found["rule"] == "ALS0404", "dataset"])                         # SD0061
    assert result.config["define.xml version and standard"].startswith("Define-XML 2.0")
    text = (folder / "define.xml").read_text()
    (folder / "define.xml").write_text(text.replace('Repeating="No"', 'Repeating="Maybe"', 1))
    schema = validate_folder(folder, study_id="")
    if "not checked" not in schema.config["define.xml schema"]:
        assert schema.counts.loc[schema.counts["rule"] == "ALS0402", "found"].sum() >= 1
    (folder / "define.xml").write_text(text[: len(text) // 2])
    broken = validate_folder(folder, study_id="").findings
    assert "not well-formed" in broken.loc[broken["rule"] == "ALS0401", "values"].iloc[0]


# ------------------------------------------------------------------ streaming and the report

def test_details_are_capped_with_a_note_and_every_finding_is_in_the_csv(tmp_path):
    n = 30
    lb = _lb(["GLUC"] * n, [str(i + 1) for i in range(n)], [""] * n,
             LBDTC=[f"2020-02-{i % 28 + 1:02d}T{i:02d}" for i in range(n)])
    folder = _write(tmp_path / "in", {"DM": _dm(), "LB": lb})
    result = validate_folder(folder, study_id="", out=tmp_path / "out", cap=5)
    assert int(result.counts.loc[(result.counts["rule"] == "ALS0118"), "found"].sum()) == n
    assert (result.details["rule"] == "ALS0118").sum() == 5
    assert (result.findings["rule"] == "ALS0118").sum() == n
    write_xlsx(result, tmp_path / "out" / "validation.xlsx")
    book = load_workbook(tmp_path / "out" / "validation.xlsx")
    assert book.sheetnames[0] == "Configuration"
    details = book["Details"]
    assert details.freeze_panes == "A2" and details.auto_filter.ref
    values = [row[3] for row in details.iter_rows(values_only=True)]
    assert f"{n - 5} more findings of this rule in validation_details.csv" in values
    config = {row[0]: row[1] for row in book["Configuration"].iter_rows(values_only=True)}
    assert config["Tool"].startswith("cdisc_als") and "Controlled terminology" in config and "Generated" in config
    assert (tmp_path / "out" / "validation_details.csv").is_file()


@pytest.mark.parametrize("value", ["=1+1", "+cmd|' /C calc'!A0", "@SUM(1)"])
def test_formula_text_is_neutralised_in_the_findings(tmp_path, value):
    lb = _lb(["GLUC"], [value], [""], LBORRES=[value])
    lb["LBSTAT"] = [""]
    folder = _write(tmp_path, {"DM": _dm(), "LB": lb.assign(LBTESTCD=[value[:8]])})
    found = _found(folder)
    assert not found["values"].str.startswith(("=", "+", "@")).any()
    assert found["values"].str.startswith("'").any()


def test_rfpendtc_finding_names_the_last_variable_holding_the_latest_date(tmp_path):
    ae = _ae()
    ae.loc[1, ["AESTDTC", "AEENDTC"]] = ["2020-07-15", "2020-07-15"]     # both after S-2's RFPENDTC 2020-06-01
    assert ae.columns.get_loc("AESTDTC") < ae.columns.get_loc("AEENDTC")
    found = _found(_write(tmp_path, {"DM": _dm(), "AE": ae}))
    rows = found[(found["dataset"] == "DM") & (found["rule"] == "ALS0147")]
    assert rows["record"].tolist() == [2] and "2020-07-15 (AE.AEENDTC)" in rows["values"].iloc[0]
