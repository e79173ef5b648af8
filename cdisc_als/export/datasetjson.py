"""CDISC Dataset-JSON 1.1: write a data frame with its variable metadata, and read it back.

Top level: datasetJSONCreationDateTime, datasetJSONVersion, fileOID, originator, sourceSystem,
studyOID, metaDataVersionOID, itemGroupOID, records, name, label, columns and rows. Each column has
itemOID, name, label, dataType (string, integer, double, ...), optional length and keySequence;
rows are arrays in column order with null for missing values.
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


@dataclass
class ColumnMeta:
    name: str
    label: str = ""
    data_type: str = "string"
    length: int | None = None
    display_format: str | None = None
    key_sequence: int | None = None


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


def _cell(value: object, data_type: str) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if data_type == "string":
        text = str(value)
        return text if text != "" else None
    if data_type == "integer":
        return int(value)
    return float(value)


def write_dataset_json(frame: pd.DataFrame, path: str | Path, meta: DatasetMeta, study_oid: str = "",
                       created: str = FIXED_CREATED) -> None:
    """Write frame as Dataset-JSON 1.1 (atomically; fixed creation time so reruns are identical)."""
    types = [c.data_type for c in meta.columns]
    rows = [[_cell(v, t) for v, t in zip(row, types, strict=True)]
            for row in frame[[c.name for c in meta.columns]].itertuples(index=False, name=None)]
    columns = []
    for col in meta.columns:
        entry: dict[str, object] = {"itemOID": f"IT.{meta.name}.{col.name}", "name": col.name, "label": col.label,
                                    "dataType": col.data_type}
        if col.length is not None:
            entry["length"] = col.length
        if col.display_format:
            entry["displayFormat"] = col.display_format
        if col.key_sequence is not None:
            entry["keySequence"] = col.key_sequence
        columns.append(entry)
    doc = {
        "datasetJSONCreationDateTime": created, "datasetJSONVersion": VERSION,
        "fileOID": f"cdisc_als.{meta.name}", "originator": "cdisc_als",
        "sourceSystem": {"name": "cdisc_als", "version": __version__},
        "studyOID": study_oid, "metaDataVersionOID": "MDV.1", "itemGroupOID": f"IG.{meta.name}",
        "records": len(rows), "name": meta.name, "label": meta.label, "columns": columns, "rows": rows,
    }
    atomic_write_text(path, json.dumps(doc, ensure_ascii=True, separators=(",", ":")) + "\n")


def read_dataset_json(path: str | Path) -> tuple[pd.DataFrame, DatasetMeta]:
    """Read a Dataset-JSON 1.1 file: strings as str ('' for null), numbers as float or Int64."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in ("columns", "rows"):
        if key not in doc:
            raise ValueError(f"{path}: not Dataset-JSON (no '{key}')")
    columns = [ColumnMeta(c["name"], c.get("label", ""), c.get("dataType", "string"), c.get("length"),
                          c.get("displayFormat"), c.get("keySequence")) for c in doc["columns"]]
    frame = pd.DataFrame(doc["rows"], columns=[c.name for c in columns])
    for col in columns:
        if col.data_type in ("string", "date", "datetime", "time", "URI"):
            frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), "").astype(str)
        elif col.data_type == "integer":
            frame[col.name] = pd.array(frame[col.name], dtype="Int64").astype("float64")
        else:
            frame[col.name] = pd.to_numeric(frame[col.name], errors="coerce").astype("float64")
    if doc.get("records") is not None and int(doc["records"]) != len(frame):
        raise ValueError(f"{path}: 'records' says {doc['records']} but there are {len(frame)} rows")
    return frame, DatasetMeta(doc.get("name", Path(path).stem.upper()), doc.get("label", ""), columns)
