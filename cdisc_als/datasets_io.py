"""Checked reading of datasets on disk: SAS XPORT v5 (.xpt), Dataset-JSON 1.1 (.json) and its NDJSON form.

Every stage that reads datasets (validate, adam, tlf, compare) reads them here, so damage is
found once and described the same way. A reader either returns the whole dataset or raises
DatasetReadError naming the file and what is wrong; it never returns a silently shorter
dataset. Damage found:

- XPT: not a transport file (a text file named .xpt), a header record out of place, a
  NAMESTR block that contradicts itself (positions, lengths, types), a file length that is not
  a multiple of 80 bytes, an incomplete last record, non-blank padding, more than one member,
  and a reader that returns a different number of records than the file structure holds.
  XPT v5 stores no record count: whole records removed exactly at an 80-byte boundary cannot
  be told from a shorter dataset, and trailing records whose every value is blank cannot be
  told from padding (true of every XPT reader, SAS included).
- Dataset-JSON / NDJSON: invalid JSON (with line and column), missing top-level attributes,
  rows whose length differs from the number of columns, 'records' different from the rows
  present, values that do not match the column's dataType.

A zero-record dataset is valid. Character values come back as str ('' for missing), numbers
as float64; Dataset-JSON dates with targetDataType integer become SAS day (or second) counts,
as they would be in the XPT file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.dataset_file import Column, DatasetFile, DatasetReadError, Problem
from cdisc_als.dataset_file import fail as _fail
from cdisc_als.xpt_reader import read_xpt
from cdisc_als.xpt_structure import RECORD, XptLayout, xpt_layout

__all__ = ["RECORD", "Column", "DatasetFile", "DatasetReadError", "Problem", "XptLayout", "dataset_files",
           "read_dataset", "read_dataset_json", "read_frames", "read_ndjson", "read_xpt",
           "xpt_layout"]

DATASET_SUFFIXES = (".xpt", ".json", ".ndjson")
CHAR_TYPES = ("string", "date", "datetime", "time", "URI", "decimal")
NUM_TYPES = ("integer", "float", "double")
SAS_EPOCH = pd.Timestamp("1960-01-01")


_REQUIRED_JSON = ("datasetJSONVersion", "itemGroupOID", "records", "name", "label", "columns")


def _json_columns(path: Path, doc: dict) -> list[dict]:
    missing = [key for key in _REQUIRED_JSON if key not in doc]
    if missing:
        raise _fail(path, f"not Dataset-JSON 1.1: top-level attribute(s) {', '.join(missing)} missing")
    columns = doc["columns"]
    if not isinstance(columns, list) or not all(isinstance(c, dict) and c.get("name") for c in columns):
        raise _fail(path, "'columns' must be a list of objects, each with a 'name'")
    bad = [c["name"] for c in columns if c.get("dataType") not in (*CHAR_TYPES, *NUM_TYPES, "boolean")]
    if bad:
        raise _fail(path, f"column(s) {', '.join(bad)} have no valid dataType")
    return columns


def _to_sas_number(values: pd.Series, data_type: str) -> pd.Series:
    """ISO 8601 date/datetime/time strings -> SAS days or seconds (NaN when missing or unparseable)."""
    text = values.where(values.notna(), None)
    if data_type == "date":
        return (pd.to_datetime(text, errors="coerce", format="%Y-%m-%d") - SAS_EPOCH).dt.days.astype("float64")
    if data_type == "datetime":
        stamp = pd.to_datetime(text, errors="coerce", format="ISO8601")
        return (stamp - SAS_EPOCH).dt.total_seconds().astype("float64")
    delta = pd.to_timedelta(text, errors="coerce")
    return delta.dt.total_seconds().astype("float64")


def _json_frame(path: Path, columns: list[dict], rows: list, records: object, fmt: str) -> DatasetFile:
    width = len(columns)
    problems: list[Problem] = []
    ragged = [i + 1 for i, row in enumerate(rows) if not isinstance(row, list) or len(row) != width]
    if ragged:
        raise _fail(path, f"row(s) {', '.join(map(str, ragged[:5]))}{' ...' if len(ragged) > 5 else ''} do not hold "
                    f"{width} values")
    if not isinstance(records, int) or records != len(rows):
        raise _fail(path, f"'records' says {records} but the file holds {len(rows)} rows: truncated or damaged")
    names = [c["name"] for c in columns]
    frame = pd.DataFrame(rows, columns=names) if rows else pd.DataFrame({n: [] for n in names})
    out_columns = []
    for col in columns:
        name, data_type = col["name"], col["dataType"]
        series = frame[name]
        target = col.get("targetDataType")
        if data_type in NUM_TYPES or (target == "integer" and data_type in ("date", "datetime", "time")):
            if data_type in NUM_TYPES:
                number = pd.to_numeric(series, errors="coerce").astype("float64")
                wrong = series.notna() & number.isna() | series.map(lambda v: isinstance(v, (str, bool)))
            else:
                number = _to_sas_number(series, data_type)
                wrong = series.notna() & number.isna()
            if wrong.any():
                where = ", ".join(str(i + 1) for i in np.nonzero(wrong.to_numpy())[0][:5])
                problems.append(Problem(path.name, f"column {name} ({data_type}) holds values of another type in "
                                        f"row(s) {where}; read as missing", fatal=False, kind="type"))
            frame[name] = number.where(~wrong)
            kind = "Num"
        else:
            not_text = series.notna() & ~series.map(lambda v: isinstance(v, str))
            if not_text.any() and data_type != "boolean":
                where = ", ".join(str(i + 1) for i in np.nonzero(not_text.to_numpy())[0][:5])
                problems.append(Problem(path.name, f"column {name} ({data_type}) holds non-string values in "
                                        f"row(s) {where}", fatal=False, kind="type"))
            frame[name] = series.where(series.notna(), "").astype(str)
            kind = "Char"
        out_columns.append(Column(name, str(col.get("label", "")), kind, col.get("length"),
                                  str(col.get("displayFormat", "") or "")))
    return DatasetFile(path, "", "", out_columns, frame, problems, fmt)


def read_dataset_json(path: str | Path) -> DatasetFile:
    """A Dataset-JSON 1.1 file (.json): one object with 'columns' and 'rows'."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _fail(path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start}): {exc.reason}") from exc
    except OSError as exc:
        raise _fail(path, f"cannot be read: {exc.strerror or exc}") from exc
    if not isinstance(doc, dict):
        raise _fail(path, "not Dataset-JSON: the file is not a JSON object")
    columns = _json_columns(path, doc)
    rows = doc.get("rows")
    if not isinstance(rows, list):
        raise _fail(path, "not Dataset-JSON: 'rows' is missing or not a list")
    ds = _json_frame(path, columns, rows, doc["records"], "json")
    ds.name, ds.label = str(doc["name"]).upper(), str(doc.get("label", ""))
    return ds


def read_ndjson(path: str | Path) -> DatasetFile:
    """Dataset-JSON 1.1 as NDJSON: line 1 the metadata object, then one JSON array per row."""
    path = Path(path)
    rows: list = []
    meta: dict | None = None
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise _fail(path, f"invalid JSON at line {number}, column {exc.colno}: {exc.msg}") from exc
                if meta is None:
                    if not isinstance(value, dict):
                        raise _fail(path, "not Dataset-JSON NDJSON: line 1 is not the metadata object")
                    meta = value
                else:
                    rows.append(value)
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start}): {exc.reason}") from exc
    except OSError as exc:
        raise _fail(path, f"cannot be read: {exc.strerror or exc}") from exc
    if meta is None:
        raise _fail(path, "empty file: no Dataset-JSON metadata line")
    columns = _json_columns(path, meta)
    ds = _json_frame(path, columns, rows, meta["records"], "ndjson")
    ds.name, ds.label = str(meta["name"]).upper(), str(meta.get("label", ""))
    return ds


# ------------------------------------------------------------------ any dataset file

def read_dataset(path: str | Path, usecols: list[str] | None = None, categorical: bool = False) -> DatasetFile:
    """Read one dataset file by its suffix (.xpt, .json, .ndjson); damage raises DatasetReadError.
    `categorical`: an XPT file's text columns as categoricals of the reader's codes (xpt_reader.read_xpt)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xpt":
        return read_xpt(path, usecols, categorical)
    if suffix in (".json", ".ndjson"):
        ds = read_dataset_json(path) if suffix == ".json" else read_ndjson(path)
        if usecols is not None:
            keep = [c for c in ds.columns if c.name in usecols]
            ds.columns, ds.frame = keep, ds.frame[[c.name for c in keep]]
        return ds
    raise _fail(path, f"not a dataset file (expected one of {', '.join(DATASET_SUFFIXES)})")


def dataset_files(folder: str | Path, prefix: str = "") -> list[Path]:
    """Dataset files of a folder (any supported suffix), sorted; one per dataset name (.xpt preferred)."""
    chosen: dict[str, Path] = {}
    for path in sorted(Path(folder).iterdir()):
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in DATASET_SUFFIXES or not path.stem.lower().startswith(prefix):
            continue
        key = path.stem.upper()
        if key not in chosen or DATASET_SUFFIXES.index(suffix) < DATASET_SUFFIXES.index(chosen[key].suffix.lower()):
            chosen[key] = path
    return [chosen[k] for k in sorted(chosen)]


def read_frames(folder: str | Path, prefix: str = "", skip: tuple[str, ...] = (),
                usecols: dict[str, list[str]] | None = None) -> dict[str, pd.DataFrame]:
    """Every dataset of a folder as frames keyed by upper-case file stem; any damaged file raises."""
    out = {}
    for path in dataset_files(folder, prefix):
        name = path.stem.upper()
        if name in skip:
            continue
        out[name] = read_dataset(path, (usecols or {}).get(name)).frame
    return out
