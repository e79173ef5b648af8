"""Validation: clean sample study, injected defects found by the right rule, the public pilot, reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from cdisc_als.cli import main
from cdisc_als.export.datasetjson import DatasetMeta, infer_columns, write_dataset_json
from cdisc_als.export.xpt import write_xpt
from cdisc_als.metadata import load_metadata
from cdisc_als.resources import SAMPLE_SDTM_DIR
from cdisc_als.sdtm.pipeline import xpt_variables
from cdisc_als.validate.engine import validate_folder
from cdisc_als.validate.report import write_html, write_xlsx
from cdisc_als.validate.rules import RULES
from cdisc_als.validate.schemas import validate_frame
from tests.shared_data import pilot_dir


@pytest.fixture(scope="module")
def adam_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("adam")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(out), "--quiet"]) == 0
    return out


def _read(path: Path) -> pd.DataFrame:
    frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    for col, kind in meta.readstat_variable_types.items():
        if kind != "double":
            frame[col] = frame[col].fillna("")
    return frame


def _write(frame: pd.DataFrame, folder: Path, name: str) -> None:
    meta = load_metadata()
    meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
    label = meta.dataset(meta_name).label
    write_xpt(frame, folder / f"{name.lower()}.xpt", name, label, xpt_variables(frame, meta, meta_name))


def test_catalogue_has_at_least_60_rules_with_ids_and_severities():
    ids = [r.id for r in RULES]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)
    assert {r.severity for r in RULES} == {"error", "warning", "notice"}
    assert {r.standard for r in RULES} == {"ALL", "SDTM", "ADAM"}
    assert sum(1 for r in RULES if r.p21) >= 25


# known sample defects fixed by issue 12: the rules that fire on the sample SDTM until the trial design
# datasets, the complete TS and the mapping/simulator fixes of issue 12 land (DS death records, DSSTDY,
# RFPENDTC, an MH date after death). Every other rule must report 0 errors.
KNOWN_SAMPLE_DEFECTS = {"ALS0137", "ALS0147", "ALS0151", "ALS0153", "ALS0155", "ALS0302"}


def test_sample_sdtm_and_adam_have_no_errors(adam_dir):
    for folder in (SAMPLE_SDTM_DIR, adam_dir):
        result = validate_folder(folder)
        errors = result.counts[result.counts["severity"] == "error"]
        unexpected = errors[~errors["rule"].isin(KNOWN_SAMPLE_DEFECTS)]
        assert unexpected.empty, unexpected.to_string()


SDTM_DEFECTS = [
    # (dataset, rule, row index, edit)
    ("DM", "ALS0109", 1, lambda f: f.__setitem__("USUBJID", f["USUBJID"].where(f.index != 1, f["USUBJID"][0]))),
    ("DM", "ALS0110", 2, lambda f: f.__setitem__("RFENDTC", f["RFENDTC"].where(f.index != 2, "2000-01-01"))),
    ("DM", "ALS0116", 3, lambda f: f.__setitem__("DTHDTC", f["DTHDTC"].where(f.index != 3, "2015-01-01"))),
    ("DM", "ALS0129", 4, lambda f: f.__setitem__("AGE", f["AGE"].where(f.index != 4, -5))),
    ("DM", "ALS0018", 5, lambda f: f.__setitem__("SEX", f["SEX"].where(f.index != 5, "X"))),
    ("DM", "ALS0111", 6, lambda f: f.__setitem__("ACTARMCD", f["ACTARMCD"].where(f.index != 6, "OTHER"))),
    ("AE", "ALS0101", 0, lambda f: f.__setitem__("DOMAIN", f["DOMAIN"].where(f.index != 0, "XX"))),
    ("AE", "ALS0102", 1, lambda f: f.__setitem__("AESTDTC", f["AESTDTC"].where(f.index != 1, "2012/03/04"))),
    ("AE", "ALS0103", 2, lambda f: f.__setitem__("AEENDTC", f["AEENDTC"].where(f.index != 2, "2000-01-01"))),
    ("AE", "ALS0107", 12, lambda f: (f.__setitem__("USUBJID", f["USUBJID"].where(f.index != 12, f["USUBJID"][11])),
                                     f.__setitem__("AESEQ", f["AESEQ"].where(f.index != 12, f["AESEQ"][11])))),
    ("AE", "ALS0108", 5, lambda f: f.__setitem__("USUBJID", f["USUBJID"].where(f.index != 5, "NOBODY"))),
    ("AE", "ALS0112", 6, lambda f: (f.__setitem__("AESHOSP", f["AESHOSP"].where(f.index != 6, "Y")),
                                    f.__setitem__("AESER", f["AESER"].where(f.index != 6, "N")))),
    ("AE", "ALS0113", 7, lambda f: (f.__setitem__("AEOUT", f["AEOUT"].where(f.index != 7, "NOT RECOVERED/NOT RESOLVED")),
                                    f.__setitem__("AEENDTC", f["AEENDTC"].where(f.index != 7, "2012-12-01")))),
    ("AE", "ALS0115", 8, lambda f: f.__setitem__("AESDTH", f["AESDTH"].where(f.index != 8, "Y"))),
    ("AE", "ALS0105", 9, lambda f: f.__setitem__("AESTDY", f["AESTDY"].where(f.index != 9, 0))),
    ("AE", "ALS0135", 10, lambda f: f.__setitem__("AESTDY", f["AESTDY"].where(f.index != 10, f["AESTDY"][10] + 3))),
    ("QS", "ALS0122", 0, lambda f: f.__setitem__("QSTESTCD", f["QSTESTCD"].where(f.index != 0, "1BAD"))),
    ("QS", "ALS0123", 1, lambda f: f.__setitem__("QSTEST", f["QSTEST"].where(f.index != 1, "X" * 45))),
    ("QS", "ALS0016", 2, lambda f: f.__setitem__("USUBJID", f["USUBJID"].where(f.index != 2, ""))),
    ("QS", "ALS0008", 3, lambda f: f.__setitem__("QSORRES", f["QSORRES"].where(f.index != 3, " 3"))),
    ("LB", "ALS0118", 0, lambda f: f.__setitem__("LBORRESU", f["LBORRESU"].where(f.index != 0, ""))),
    ("LB", "ALS0133", 1, lambda f: f.__setitem__("LBSTRESN", f["LBSTRESN"].where(f.index != 1, -1.0))),
    ("SUPPQS", "ALS0127", 0, lambda f: f.__setitem__("IDVARVAL", f["IDVARVAL"].where(f.index != 0, "NO SUCH GROUP"))),
    ("SV", "ALS0130", 0, lambda f: f.__setitem__("VISIT", f["VISIT"].where(f.index != 0, "VISIT ONE"))),
]


def _inject(src: Path, dst: Path, defects) -> dict[str, pd.DataFrame]:
    shutil.copytree(src, dst)
    frames: dict[str, pd.DataFrame] = {}
    for name, _, _, edit in defects:
        frames.setdefault(name, _read(dst / f"{name.lower()}.xpt"))
        edit(frames[name])
    for name, frame in frames.items():
        _write(frame, dst, name)
    return frames


def test_injected_sdtm_defects_are_found_by_the_right_rule(tmp_path):
    _inject(SAMPLE_SDTM_DIR, tmp_path / "sdtm", SDTM_DEFECTS)
    findings = validate_folder(tmp_path / "sdtm").findings
    found = set(zip(findings["dataset"], findings["rule"], findings["record"], strict=True))
    missed = [(d, r, i + 1) for d, r, i, _ in SDTM_DEFECTS if (d, r, i + 1) not in found]
    assert not missed, missed


ADAM_DEFECTS = [
    ("ADSL", "ALS0211", 1, lambda f: f.__setitem__("USUBJID", f["USUBJID"].where(f.index != 1, f["USUBJID"][0]))),
    ("ADSL", "ALS0209", 2, lambda f: f.__setitem__("SAFFL", f["SAFFL"].where(f.index != 2, ""))),
    ("ADSL", "ALS0210", 3, lambda f: f.__setitem__("TRT01P", f["TRT01P"].where(f.index != 3, "Other"))),
    ("ADSL", "ALS0215", 4, lambda f: f.__setitem__("FASFL", f["FASFL"].where(f.index != 4, "X"))),
    ("ADQS", "ALS0201", 0, lambda f: f.__setitem__("PARAM", f["PARAM"].where(f.index != 0, "Another name"))),
    ("ADQS", "ALS0205", 5, lambda f: f.__setitem__("CHG", f["CHG"].where(f.index != 5, 99.0))),
    ("ADQS", "ALS0212", 6, lambda f: f.__setitem__("USUBJID", f["USUBJID"].where(f.index != 6, "NOBODY"))),
    ("ADTTE", "ALS0207", 0, lambda f: f.__setitem__("CNSR", f["CNSR"].where(f.index != 0, -1.0))),
]


def test_injected_adam_defects_are_found(tmp_path, adam_dir):
    frames = _inject(adam_dir, tmp_path / "adam", ADAM_DEFECTS)
    adqs = frames["ADQS"]
    base_row = int(np.nonzero((adqs["ABLFL"] == "Y").to_numpy())[0][-5])  # far from the rows edited above
    adqs.loc[base_row + 1, "ABLFL"] = "Y" if adqs.loc[base_row + 1, "PARAMCD"] == adqs.loc[base_row, "PARAMCD"] else ""
    adqs.loc[base_row + 2, "BASE"] = 123.0
    _write(adqs, tmp_path / "adam", "ADQS")
    adtte = frames["ADTTE"]
    event = int(np.nonzero((adtte["CNSR"] == 0).to_numpy())[0][0])
    adtte.loc[event, "EVNTDESC"] = ""
    _write(adtte, tmp_path / "adam", "ADTTE")
    findings = validate_folder(tmp_path / "adam").findings
    found = set(zip(findings["dataset"], findings["rule"], findings["record"], strict=True))
    expected = [(d, r, i + 1) for d, r, i, _ in ADAM_DEFECTS] + [("ADQS", "ALS0204", base_row + 3),
                                                                 ("ADTTE", "ALS0208", event + 1)]
    missed = [e for e in expected if e not in found]
    assert not missed, missed
    rules = set(findings["rule"])
    if adqs.loc[base_row + 1, "ABLFL"] == "Y":
        assert "ALS0203" in rules


def test_long_names_non_ascii_and_unreadable_files_are_findings(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    frame = pd.DataFrame({"STUDYID": ["S"], "TOOLONGNAME": ["x"], "TXT": ["caf\u00e9"]})
    meta = DatasetMeta("XX", "Label that is much longer than the forty characters allowed",
                       infer_columns(frame, {"TOOLONGNAME": "y" * 45}))
    write_dataset_json(frame, folder / "xx.json", meta)
    pyreadstat.write_xport(pd.DataFrame({"A": ["\u00e9t\u00e9"]}), str(folder / "yy.xpt"), table_name="YY",
                           file_format_version=5)
    (folder / "zz.xpt").write_bytes(b"not an xport file")
    findings = validate_folder(folder).findings
    rules = set(zip(findings["dataset"], findings["rule"], strict=True))
    assert {("XX", "ALS0002"), ("XX", "ALS0003"), ("XX", "ALS0007"), ("ZZ", "ALS0013")} <= rules
    assert ("YY", "ALS0007") in rules or ("YY", "ALS0012") in rules


def test_pilot_adam_has_no_errors():
    result = validate_folder(pilot_dir() / "adam")
    assert result.errors == 0 and len(result.datasets) == 3


def test_pilot_ts_non_ascii_bytes_are_reported_not_dropped():
    result = validate_folder(pilot_dir() / "sdtm")
    ts = result.counts[result.counts["dataset"] == "TS"]
    assert {"ALS0012", "ALS0007"} <= set(ts["rule"]) and len(result.datasets) == 18


def test_reports_and_cli(tmp_path, adam_dir):
    result = validate_folder(pilot_dir() / "sdtm")
    write_xlsx(result, tmp_path / "validation.xlsx")
    write_html(result, tmp_path / "validation.html")
    book = load_workbook(tmp_path / "validation.xlsx", read_only=True)
    assert book.sheetnames == ["Configuration", "Dataset Summary", "Issue Summary", "Details", "Rules"]
    html = (tmp_path / "validation.html").read_text()
    assert "<table>" in html and "Issue Summary" in html
    assert main(["validate", str(pilot_dir() / "sdtm"), "--out", str(tmp_path / "r")]) == 1
    assert main(["validate", str(adam_dir)]) == 0


def test_pandera_schemas_from_metadata(adam_dir):
    dm = _read(SAMPLE_SDTM_DIR / "dm.xpt")
    assert validate_frame(dm, "DM").empty
    adsl = _read(adam_dir / "adsl.xpt")
    assert validate_frame(adsl, "ADSL").empty
    bad = dm.copy()
    bad.loc[0, "SEX"] = "X"
    bad.loc[1, "USUBJID"] = ""
    bad.loc[2, "USUBJID"] = bad.loc[3, "USUBJID"]
    failures = validate_frame(bad, "DM")
    checks = set(failures["check"].astype(str))
    assert "codelist SEX" in checks and "required" in checks
    assert any("unique" in c or "duplicate" in c.lower() for c in checks) or (failures["schema_context"] == "DataFrameSchema").any()


def test_a_released_dataset_keeps_none_of_its_records():
    """release() must drop the records themselves: an empty view of the frame would keep every array alive."""
    import gc
    import weakref

    from cdisc_als.validate.datasets import LoadedDataset

    frame = pd.DataFrame({"USUBJID": np.array(["A"] * 1000, dtype=object), "AVAL": np.arange(1000.0)})
    alive = [weakref.ref(block.values) for block in frame._mgr.blocks]
    ds = LoadedDataset("AD", "ad.xpt", frame)
    del frame
    ds.release()
    gc.collect()
    assert ds.records == 1000 and ds.frame.columns.tolist() == ["USUBJID", "AVAL"] and len(ds.frame) == 0
    assert all(ref() is None for ref in alive)


def test_only_xpt_datasets_are_unloaded_between_rules(tmp_path):
    """An XPT dataset is read again through the read cache when its rules run; Dataset-JSON, which the cache
    does not keep, stays read (parsing it again for every lookup would cost more than it saves)."""
    from cdisc_als.validate.datasets import load_folder

    frame = pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["DM"], "USUBJID": ["S-1"]})
    write_dataset_json(frame, tmp_path / "dm.json", DatasetMeta("DM", "Demographics", infer_columns(frame)))
    pyreadstat.write_xport(frame.assign(DOMAIN="AE"), str(tmp_path / "ae.xpt"), table_name="AE", file_format_version=5)
    loaded = {d.name: d for d in load_folder(tmp_path).datasets}
    assert loaded["DM"].loaded and not loaded["AE"].loaded
    assert loaded["AE"].frame["USUBJID"].tolist() == ["S-1"] and loaded["AE"].records == 1
