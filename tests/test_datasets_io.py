"""The checked dataset reader: damaged XPT / Dataset-JSON / NDJSON files raise one clear error, never a shorter dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from cdisc_als.cli import main
from cdisc_als.datasets_io import DatasetReadError, read_dataset, read_frames, xpt_layout
from cdisc_als.export.datasetjson import DatasetMeta, infer_columns, write_dataset_json
from cdisc_als.resources import SAMPLE_SDTM_DIR


def _damaged(tmp_path: Path, name: str, edit) -> Path:
    raw = (SAMPLE_SDTM_DIR / name).read_bytes()
    target = tmp_path / name
    target.write_bytes(edit(raw))
    return target


@pytest.mark.parametrize("name", ["dm.xpt", "qs.xpt", "ae.xpt"])
def test_record_count_from_the_structure_equals_pyreadstat(name):
    data = (SAMPLE_SDTM_DIR / name).read_bytes()
    layout = xpt_layout(data, SAMPLE_SDTM_DIR / name)
    frame, meta = pyreadstat.read_xport(str(SAMPLE_SDTM_DIR / name))
    assert layout.records == len(frame) and [c.name for c in layout.columns] == meta.column_names
    assert read_dataset(SAMPLE_SDTM_DIR / name).frame.shape == frame.shape


DAMAGE = [
    ("dm.xpt", lambda b: b[: len(b) // 2], "not a multiple of 80"),
    ("qs.xpt", lambda b: b[:-800], "last record is incomplete"),
    ("qs.xpt", lambda b: b[: len(b) // 2] + b[len(b) // 2 + 800:], "shifted"),
    ("dm.xpt", lambda b: b"Subject,Age\n01-001,54\n", "not a SAS transport"),
    ("dm.xpt", lambda b: b"", "empty file"),
    ("dm.xpt", lambda b: b[:240] + b"X" * 80 + b[320:], "MEMBER header"),
    ("dm.xpt", lambda b: b[:960], "ends inside the descriptions"),
    ("ae.xpt", lambda b: b + b[80 * 3: 80 * 20], "more than one dataset"),
]


@pytest.mark.parametrize("name,edit,expected", DAMAGE)
def test_damaged_xpt_raises_one_clear_error(tmp_path, name, edit, expected):
    path = _damaged(tmp_path, name, edit)
    with pytest.raises(DatasetReadError) as info:
        read_dataset(path)
    message = str(info.value)
    assert message.startswith(f"{name}:") and expected in message and "\n" not in message


def test_zero_record_dataset_is_valid(tmp_path):
    frame = pd.DataFrame({"STUDYID": pd.Series([], dtype=str), "AESEQ": pd.Series([], dtype=float)})
    pyreadstat.write_xport(frame, str(tmp_path / "ae.xpt"), table_name="AE", file_format_version=5)
    ds = read_dataset(tmp_path / "ae.xpt")
    assert len(ds.frame) == 0 and ds.types == {"STUDYID": "Char", "AESEQ": "Num"} and ds.name == "AE"


def _json_doc(tmp_path: Path) -> tuple[Path, dict]:
    frame = pd.DataFrame({"USUBJID": ["A", "B", None], "AGE": [50.0, None, 61.0]})
    path = tmp_path / "dm.json"
    write_dataset_json(frame, path, DatasetMeta("DM", "Demographics", infer_columns(frame)))
    return path, json.loads(path.read_text())


def test_dataset_json_and_ndjson_read_the_same_frame(tmp_path):
    path, doc = _json_doc(tmp_path)
    from_json = read_dataset(path)
    rows = doc.pop("rows")
    nd = tmp_path / "dm.ndjson"
    nd.write_text("\n".join([json.dumps(doc)] + [json.dumps(r) for r in rows]) + "\n")
    from_nd = read_dataset(nd)
    pd.testing.assert_frame_equal(from_json.frame, from_nd.frame)
    assert from_json.frame["USUBJID"].tolist() == ["A", "B", ""] and from_nd.format == "ndjson"
    assert from_nd.name == "DM" and from_nd.types == {"USUBJID": "Char", "AGE": "Num"}


def test_damaged_json_and_ndjson(tmp_path):
    path, doc = _json_doc(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DatasetReadError, match=r"dm.json: invalid JSON at line 1, column \d+"):
        read_dataset(path)
    doc["records"] = 5
    path.write_text(json.dumps(doc))
    with pytest.raises(DatasetReadError, match="'records' says 5 but the file holds 3 rows"):
        read_dataset(path)
    doc["records"], doc["rows"][1] = 3, ["B"]
    path.write_text(json.dumps(doc))
    with pytest.raises(DatasetReadError, match="row.s. 2 do not hold 2 values"):
        read_dataset(path)
    rows = doc.pop("rows")
    rows[1] = ["B", None]
    nd = tmp_path / "dm.ndjson"
    nd.write_text("\n".join([json.dumps(doc)] + [json.dumps(r) for r in rows[:2]]) + "\n")   # a row lost
    with pytest.raises(DatasetReadError, match="'records' says 3 but the file holds 2 rows"):
        read_dataset(nd)
    nd.write_text(json.dumps(doc) + "\n" + '["A", 5' + "\n")
    with pytest.raises(DatasetReadError, match="invalid JSON at line 2"):
        read_dataset(nd)


def test_wrong_value_type_in_json_is_reported_not_fatal(tmp_path):
    path, doc = _json_doc(tmp_path)
    doc["rows"][0][1] = "fifty"
    path.write_text(json.dumps(doc))
    ds = read_dataset(path)
    assert pd.isna(ds.frame.loc[0, "AGE"]) and "AGE" in ds.problems[0].message and not ds.problems[0].fatal


def _stage_folder(tmp_path: Path, damaged: str) -> Path:
    folder = tmp_path / "sdtm"
    shutil.copytree(SAMPLE_SDTM_DIR, folder)
    raw = (folder / damaged).read_bytes()
    (folder / damaged).write_bytes(raw[: len(raw) // 2])
    return folder


def test_stages_report_damage_in_one_line_with_exit_status_2(tmp_path, capsys):
    folder = _stage_folder(tmp_path, "dm.xpt")
    with pytest.raises(DatasetReadError):
        read_frames(folder)
    assert main(["adam", "--sdtm", str(folder), "--out", str(tmp_path / "adam"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "dm.xpt" in err and "truncated" in err and "Traceback" not in err
    assert main(["compare", str(SAMPLE_SDTM_DIR / "dm.xpt"), str(folder / "dm.xpt")]) == 2
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert "dm.xpt: file length" in said and "truncated" in said and "Traceback" not in said
    adam = tmp_path / "adam_in"
    adam.mkdir()
    shutil.copy(SAMPLE_SDTM_DIR / "dm.xpt", adam / "adsl.xpt")
    raw = (adam / "adsl.xpt").read_bytes()
    (adam / "adsl.xpt").write_bytes(raw[:-50])
    assert main(["tlf", "--adam", str(adam), "--out", str(tmp_path / "tlf")]) == 2
    err = capsys.readouterr().err.strip()
    assert "adsl.xpt" in err and "Traceback" not in err


# ------------------------------------------------------------------ records decoded a chunk at a time

@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few records, so that the sample files span many chunks."""
    import cdisc_als.xpt_reader as reader

    monkeypatch.setattr(reader, "CHUNK_BYTES", 2000)


@pytest.mark.parametrize("name", ["dm.xpt", "qs.xpt", "ae.xpt", "suppqs.xpt"])
def test_chunked_decode_equals_pyreadstat(small_chunks, name):
    frame, _meta = pyreadstat.read_xport(str(SAMPLE_SDTM_DIR / name))
    ours = read_dataset(SAMPLE_SDTM_DIR / name).frame
    pd.testing.assert_frame_equal(ours, frame.fillna({c: "" for c in frame.select_dtypes(object)}),
                                  check_dtype=False)


def test_codes_widen_past_255_values_and_keep_first_appearance_order(small_chunks, tmp_path):
    values = [f"V{i % 300:03d}" for i in range(900)][::-1]          # 300 distinct values, each seen 3 times
    frame = pd.DataFrame({"TXT": values, "N": [float(i) for i in range(900)]})
    pyreadstat.write_xport(frame, str(tmp_path / "xx.xpt"), table_name="XX", file_format_version=5)
    ds = read_dataset(tmp_path / "xx.xpt")
    codes, texts = ds.coded["TXT"]
    assert ds.frame["TXT"].tolist() == values and ds.frame["N"].tolist() == frame["N"].tolist()
    assert codes.dtype == "uint16" and texts.tolist() == list(dict.fromkeys(values))     # first appearance


def test_damage_in_a_later_chunk_names_its_record(small_chunks, tmp_path):
    raw = (SAMPLE_SDTM_DIR / "qs.xpt").read_bytes()
    layout = xpt_layout(raw, SAMPLE_SDTM_DIR / "qs.xpt")
    width = sum(c.length for c in layout.columns)
    start = next(s for s in range(len(raw)) if raw[s:s + 80].startswith(b"HEADER RECORD*******OBS")) + 80    # first record
    record = 500                                                      # far past the first chunk (2000 bytes)
    first_char = next(sum(c.length for c in layout.columns[:i]) for i, c in enumerate(layout.columns)
                      if c.type == "Char")
    at = start + record * width + first_char
    (tmp_path / "qs.xpt").write_bytes(raw[:at] + b"\x00" + raw[at + 1:])
    with pytest.raises(DatasetReadError, match=f"record {record + 1} holds NUL bytes"):
        read_dataset(tmp_path / "qs.xpt")


def test_a_second_member_is_reported_before_earlier_nul_bytes(small_chunks, tmp_path):
    """Checked a chunk at a time, the file still gets the whole-file verdict: a second member anywhere is the
    cause reported, even after a shifted record in an earlier chunk."""
    raw = bytearray((SAMPLE_SDTM_DIR / "qs.xpt").read_bytes())
    start = raw.find(b"HEADER RECORD*******OBS") + 80
    member_at = start + 80 * 200                                  # 16,000 bytes in: chunks of about 2,000
    raw[member_at:member_at + 48] = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
    raw[start] = 0                                                # record 1: STUDYID's first byte
    (tmp_path / "qs.xpt").write_bytes(bytes(raw))
    with pytest.raises(DatasetReadError, match=f"more than one dataset \\(a second member starts at byte {member_at}\\)"):
        read_dataset(tmp_path / "qs.xpt")


def test_a_member_without_variables_followed_by_another_is_reported_as_two_members(tmp_path):
    from cdisc_als.export.xpt import XptVariable, xpt_bytes

    whole = xpt_bytes(pd.DataFrame({"A": ["x"] * 3}), "XX", "", [XptVariable("A", "Char", 8)])
    headers = bytearray(whole[:640])
    headers[560 + 54:560 + 58] = b"0000"                          # the NAMESTR header: no variables
    observations = whole[whole.find(b"HEADER RECORD*******OBS"):][:80]
    (tmp_path / "xx.xpt").write_bytes(bytes(headers) + observations + whole[240:])
    with pytest.raises(DatasetReadError, match="more than one dataset"):
        read_dataset(tmp_path / "xx.xpt")
