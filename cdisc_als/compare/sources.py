"""Datasets to compare, with their attributes: from a DataFrame, an XPT file or a Dataset-JSON file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

CHAR, NUM = "char", "num"


@dataclass
class VariableAttrs:
    type: str                 # "char" or "num"
    length: int | None = None
    label: str = ""
    format: str = ""
    informat: str = ""


@dataclass
class ComparableDataset:
    """A frame plus what PROC COMPARE looks at besides values: name, label and variable attributes."""

    frame: pd.DataFrame
    name: str = ""
    label: str = ""
    attrs: dict[str, VariableAttrs] = field(default_factory=dict)


def _type_of(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return CHAR
    return NUM if pd.api.types.is_numeric_dtype(series) else CHAR


def from_frame(frame: pd.DataFrame, name: str = "", label: str = "",
               attrs: dict[str, VariableAttrs] | None = None) -> ComparableDataset:
    """Wrap a frame; attributes not given are taken from the dtypes (no length, label or format)."""
    given = attrs or {}
    out = {}
    for col in frame.columns:
        out[col] = given.get(col) or VariableAttrs(_type_of(frame[col]))
    return ComparableDataset(frame, name, label or str(frame.attrs.get("label", "")), out)


def _from_file(ds) -> ComparableDataset:
    attrs = {c.name: VariableAttrs(CHAR if c.type == "Char" else NUM, c.length, c.label, _fmt(c.format),
                           _fmt(c.informat))
             for c in ds.columns}
    return ComparableDataset(ds.frame, ds.name, ds.label, attrs)


def read_xpt(path: str | Path) -> ComparableDataset:
    """SAS XPORT through the checked reader, keeping dataset label, variable labels, lengths and formats."""
    from cdisc_als.datasets_io import read_xpt as read_checked

    return _from_file(read_checked(path))


def _fmt(value: object) -> str:
    text = "" if value is None else str(value)
    return "" if text in ("NULL", "$", "") else text


def read_datasetjson(path: str | Path) -> ComparableDataset:
    """Dataset-JSON 1.1 (.json) or its NDJSON form (.ndjson) through the checked reader."""
    from cdisc_als.datasets_io import read_dataset

    return _from_file(read_dataset(path))


class InputFileError(ValueError):
    """A file to compare cannot be read (damaged, truncated, not the format its name says)."""


def load(source: object, name: str = "") -> ComparableDataset:
    """A ComparableDataset from a frame, a ComparableDataset, or an .xpt / .json path."""
    if isinstance(source, ComparableDataset):
        return source
    if isinstance(source, pd.DataFrame):
        return from_frame(source, name)
    path = Path(str(source))
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    readers = {".xpt": read_xpt, ".json": read_datasetjson, ".ndjson": read_datasetjson}
    if suffix in readers:
        try:
            return readers[suffix](path)
        except Exception as exc:  # noqa: BLE001 - a damaged input file is the user's problem, named here
            raise InputFileError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from exc
    raise InputFileError(f"{path}: cannot compare files of type {suffix!r} (use .xpt or Dataset-JSON .json)")
