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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als import __version__
from cdisc_als.io import atomic_write_text

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


def _cell(value: object, column: ColumnMeta) -> object:
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


def _document(frame: pd.DataFrame, meta: DatasetMeta, study_oid: str, created: str,
              metadata_version_oid: str, metadata_ref: str | None) -> tuple[dict, list[list]]:
    rows = [[_cell(v, c) for v, c in zip(row, meta.columns, strict=True)]
            for row in frame[[c.name for c in meta.columns]].itertuples(index=False, name=None)]
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
    doc.update({"itemGroupOID": f"IG.{meta.name}", "records": len(rows), "name": meta.name, "label": meta.label,
                "columns": columns})
    return doc, rows


def write_dataset_json(frame: pd.DataFrame, path: str | Path, meta: DatasetMeta, study_oid: str = "",
                       created: str = FIXED_CREATED, metadata_version_oid: str = "",
                       metadata_ref: str | None = None) -> None:
    """Write frame as Dataset-JSON 1.1 (atomically; the creation time is the caller's, fixed by default so
    reruns are identical)."""
    doc, rows = _document(frame, meta, study_oid, created, metadata_version_oid, metadata_ref)
    doc["rows"] = rows
    atomic_write_text(path, json.dumps(doc, ensure_ascii=True, separators=(",", ":")) + "\n")


def write_dataset_ndjson(frame: pd.DataFrame, path: str | Path, meta: DatasetMeta, study_oid: str = "",
                         created: str = FIXED_CREATED, metadata_version_oid: str = "",
                         metadata_ref: str | None = None) -> None:
    """Write frame as Dataset-JSON 1.1 NDJSON: the metadata object on line 1, one row array per line."""
    doc, rows = _document(frame, meta, study_oid, created, metadata_version_oid, metadata_ref)
    lines = [json.dumps(doc, ensure_ascii=True, separators=(",", ":"))]
    lines += [json.dumps(row, ensure_ascii=True, separators=(",", ":")) for row in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


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
