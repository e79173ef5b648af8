"""CDISC Dataset-JSON 1.1: write a data frame with its variable metadata (as JSON and as NDJSON), and
read the JSON form back.

Top level: datasetJSONCreationDateTime, datasetJSONVersion, fileOID, originator, sourceSystem,
studyOID, metaDataVersionOID, metaDataRef, itemGroupOID, records, name, label, columns and rows. Each
column has itemOID, name, label, dataType (string, integer, float, date, ...), optional targetDataType,
length, displayFormat and keySequence; rows are arrays in column order with null for missing values.
Integers are JSON integers; a SAS date (dataType date, targetDataType integer) is an ISO 8601 date
string. The NDJSON form (.ndjson) has the same content: line 1 the metadata object (everything but
rows), then one JSON array per row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als import __version__
from cdisc_als.io import atomic_writer

VERSION = "1.1.0"
FIXED_CREATED = "2000-01-01T00:00:00"
SAS_EPOCH = pd.Timestamp("1960-01-01")


@dataclass
class ColumnMeta:
    name: str
    label: str = ""
    data_type: str = "string"
    length: int | None = None
    display_format: str | None = None
    key_sequence: int | None = None
    target_data_type: str | None = None
    item_oid: str | None = None


@dataclass
class DatasetMeta:
    name: str
    label: str = ""
    columns: list[ColumnMeta] = field(default_factory=list)

    def column(self, name: str) -> ColumnMeta | None:
        return next((c for c in self.columns if c.name == name), None)


def infer_columns(frame: pd.DataFrame, labels: dict[str, str] | None = None,
                  lengths: dict[str, int] | None = None, keys: list[str] | None = None) -> list[ColumnMeta]:
    """Column metadata from dtypes: numbers are 'double' (or 'integer' when whole), text 'string'."""
    labels, lengths, keys = labels or {}, lengths or {}, keys or []
    out = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values = series.dropna().to_numpy(dtype=float)
            whole = values.size > 0 and bool(np.all(np.mod(values, 1) == 0)) and pd.api.types.is_integer_dtype(series)
            out.append(ColumnMeta(name, labels.get(name, ""), "integer" if whole else "double", None, None,
                                  keys.index(name) + 1 if name in keys else None))
        else:
            text = series.fillna("").astype(str)
            width = lengths.get(name) or max(1, int(text.map(lambda s: len(s.encode("utf-8"))).max() or 1))
            out.append(ColumnMeta(name, labels.get(name, ""), "string", width, None,
                                  keys.index(name) + 1 if name in keys else None))
    return out


CHUNK_ROWS = 50_000      # rows turned into text at a time (each column's codes are kept whole, 1-4 bytes a row)
_DUMPS = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def _cell(value: object, column: ColumnMeta) -> object:
    """The JSON value of one cell (None for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if column.target_data_type == "integer" and column.data_type in ("date", "datetime"):
        moment = SAS_EPOCH + (pd.Timedelta(days=float(value)) if column.data_type == "date"
                              else pd.Timedelta(seconds=float(value)))
        return moment.strftime("%Y-%m-%d" if column.data_type == "date" else "%Y-%m-%dT%H:%M:%S")
    if column.data_type in ("string", "date", "datetime", "time", "URI", "decimal"):
        text = str(value)
        return text if text != "" else None
    if column.data_type == "integer":
        return int(value)
    return float(value)


def _encoded(values: pd.Series, column: ColumnMeta,
             coded: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(codes, JSON text of each code) of one column: each distinct value converted and encoded once;
    `coded` is the column's (codes, texts) when the reader kept them (nothing is hashed again)."""
    if coded is not None:
        codes, uniques = coded
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        codes = np.where(codes < 0, len(uniques), codes).astype(np.min_scalar_type(len(uniques)))
    texts = [_DUMPS(_cell(u, column)) for u in uniques] + ["null"]
    return codes, np.array(texts, dtype=object)


def _row_chunks(frame: pd.DataFrame, meta: DatasetMeta,
                coded: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Iterator[list[str]]:
    """The rows of the frame as JSON arrays (text), CHUNK_ROWS at a time, in the columns' order; each
    column is encoded once (`coded`: the reader's codes of text columns, by name)."""
    if not meta.columns:
        for start in range(0, len(frame), CHUNK_ROWS):
            yield ["[]"] * len(frame.iloc[start:start + CHUNK_ROWS])
        return
    encoded = [_encoded(frame[c.name], c, (coded or {}).get(c.name)) for c in meta.columns]
    for start in range(0, len(frame), CHUNK_ROWS):
        cells = [texts[codes[start:start + CHUNK_ROWS]].tolist() for codes, texts in encoded]
        yield ["[" + ",".join(row) + "]" for row in zip(*cells, strict=True)]


def _header(frame: pd.DataFrame, meta: DatasetMeta, study_oid: str, created: str,
            metadata_version_oid: str, metadata_ref: str | None) -> dict:
    columns = []
    for col in meta.columns:
        entry: dict[str, object] = {"itemOID": col.item_oid or f"IT.{meta.name}.{col.name}", "name": col.name,
                                    "label": col.label, "dataType": col.data_type}
        if col.target_data_type:
            entry["targetDataType"] = col.target_data_type
        if col.length is not None:
            entry["length"] = col.length
        if col.display_format:
            entry["displayFormat"] = col.display_format
        if col.key_sequence is not None:
            entry["keySequence"] = col.key_sequence
        columns.append(entry)
    doc = {"datasetJSONCreationDateTime": created, "datasetJSONVersion": VERSION,
           "fileOID": f"{study_oid or 'cdisc_als'}.{meta.name}", "originator": "cdisc_als",
           "sourceSystem": {"name": "cdisc_als", "version": __version__},
           "studyOID": study_oid, "metaDataVersionOID": metadata_version_oid}
    if metadata_ref:
        doc["metaDataRef"] = metadata_ref
    doc.update({"itemGroupOID": f"IG.{meta.name}", "records": len(frame), "name": meta.name, "label": meta.label,
                "columns": columns})
    return doc


def write_dataset_json_files(frame: pd.DataFrame, meta: DatasetMeta, json_path: str | Path | None = None,
                             ndjson_path: str | Path | None = None, study_oid: str = "",
                             created: str = FIXED_CREATED, metadata_version_oid: str = "",
                             metadata_ref: str | None = None,
                             coded: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
    """Write the frame as Dataset-JSON 1.1 (json_path) and/or its NDJSON form (ndjson_path), atomically,
    streaming: the rows are encoded once, a chunk at a time, and each chunk goes to both files. Same
    bytes as json.dumps(..., ensure_ascii=True, separators=(",", ":")) of the whole document. `coded`:
    the (codes, distinct texts) of text columns as the reader decoded them (DatasetFile.distinct_text)."""
    header = _DUMPS(_header(frame, meta, study_oid, created, metadata_version_oid, metadata_ref))
    with ExitStack() as stack:
        whole = stack.enter_context(atomic_writer(json_path)) if json_path is not None else None
        lines = stack.enter_context(atomic_writer(ndjson_path)) if ndjson_path is not None else None
        if whole is not None:
            whole.write(header[:-1].encode("ascii") + b',"rows":[')
        if lines is not None:
            lines.write(header.encode("ascii"))
        first = True
        for rows in _row_chunks(frame, meta, coded):
            # one line per row, joined once: a row never holds a newline (JSON escapes control characters),
            # so the array's separators are the lines' newlines replaced
            text = ("\n" + "\n".join(rows)).encode("ascii")
            if whole is not None:
                whole.write(text[1:].replace(b"\n", b",") if first else text.replace(b"\n", b","))
            if lines is not None:
                lines.write(text)
            first = False
        if whole is not None:
            whole.write(b"]}\n")
        if lines is not None:
            lines.write(b"\n")


def write_dataset_json(frame: pd.DataFrame, path: str | Path, meta: DatasetMeta, study_oid: str = "",
                       created: str = FIXED_CREATED, metadata_version_oid: str = "",
                       metadata_ref: str | None = None) -> None:
    """Write frame as Dataset-JSON 1.1 (atomically; the creation time is the caller's, fixed by default so
    reruns are identical)."""
    write_dataset_json_files(frame, meta, json_path=path, study_oid=study_oid, created=created,
                             metadata_version_oid=metadata_version_oid, metadata_ref=metadata_ref)


def write_dataset_ndjson(frame: pd.DataFrame, path: str | Path, meta: DatasetMeta, study_oid: str = "",
                         created: str = FIXED_CREATED, metadata_version_oid: str = "",
                         metadata_ref: str | None = None) -> None:
    """Write frame as Dataset-JSON 1.1 NDJSON: the metadata object on line 1, one row array per line."""
    write_dataset_json_files(frame, meta, ndjson_path=path, study_oid=study_oid, created=created,
                             metadata_version_oid=metadata_version_oid, metadata_ref=metadata_ref)


def read_dataset_json(path: str | Path) -> tuple[pd.DataFrame, DatasetMeta]:
    """Read a Dataset-JSON 1.1 file: strings as str ('' for null), numbers as float or Int64."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in ("columns", "rows"):
        if key not in doc:
            raise ValueError(f"{path}: not Dataset-JSON (no '{key}')")
    columns = [ColumnMeta(c["name"], c.get("label", ""), c.get("dataType", "string"), c.get("length"),
                          c.get("displayFormat"), c.get("keySequence"), c.get("targetDataType"), c.get("itemOID"))
               for c in doc["columns"]]
    frame = pd.DataFrame(doc["rows"], columns=[c.name for c in columns])
    for col in columns:
        if col.target_data_type == "integer" and col.data_type in ("date", "datetime"):
            moments = pd.to_datetime(frame[col.name], errors="coerce")
            scale = 86400.0 if col.data_type == "date" else 1.0
            frame[col.name] = ((moments - SAS_EPOCH).dt.total_seconds() / scale).astype("float64")
        elif col.data_type in ("string", "date", "datetime", "time", "URI", "decimal"):
            frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), "").astype(str)
        elif col.data_type == "integer":
            frame[col.name] = pd.array(frame[col.name], dtype="Int64").astype("float64")
        else:
            frame[col.name] = pd.to_numeric(frame[col.name], errors="coerce").astype("float64")
    if doc.get("records") is not None and int(doc["records"]) != len(frame):
        raise ValueError(f"{path}: 'records' says {doc['records']} but there are {len(frame)} rows")
    return frame, DatasetMeta(doc.get("name", Path(path).stem.upper()), doc.get("label", ""), columns)
