"""What define.xml and Dataset-JSON must agree on, computed once: OIDs, data types, lengths, display
formats and key sequences of the variables of an XPT file.

Define-XML data types (ItemDef/@DataType):
  character variables      text; ISO 8601 variables (names ending in DTC) by their values: date (all
                           full dates), datetime (all with a time), partialDate / partialDatetime
                           (some truncated); ISO 8601 durations (names ending in DUR): durationDatetime
  numeric variables        integer when every value is whole (SAS dates with a DATE format included,
                           shown with def:DisplayFormat), else float
Dataset-JSON 1.1 columns follow (json_type): text -> string, integer -> integer, float -> float,
date/datetime/time -> the same; other ISO 8601 kinds -> string; a SAS date (integer with a DATE
format) -> dataType date with targetDataType integer, its values written as ISO 8601 dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.datasets_io import Column as FileColumn
from cdisc_als.datasets_io import DatasetFile
from cdisc_als.datasets_io import read_xpt as read_checked

FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FULL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
JSON_TYPES = {"text": "string", "integer": "integer", "float": "float", "date": "date", "datetime": "datetime",
              "time": "time"}
SAS_DATE_FORMATS = ("DATE", "E8601DA", "YYMMDD", "MMDDYY", "DDMMYY")


def study_oid(study_id: str) -> str:
    return f"STDY.{study_id}"


def metadata_version_oid(study_id: str, standard: str) -> str:
    return f"MDV.{study_id}.{standard}"


def item_group_oid(dataset: str) -> str:
    return f"IG.{dataset}"


def item_oid(dataset: str, variable: str) -> str:
    return f"IT.{dataset}.{variable}"


@dataclass(frozen=True)
class Column:
    dataset: str
    name: str
    label: str
    sas_type: str                 # Char or Num
    length: int | None            # characters for Char (the file's width), None for Num
    data_type: str                # Define-XML DataType
    display_format: str | None    # e.g. DATE9.
    key_sequence: int | None

    @property
    def oid(self) -> str:
        return item_oid(self.dataset, self.name)

    @property
    def is_sas_date(self) -> bool:
        return self.sas_type == "Num" and bool(self.display_format) and self.display_format.startswith(SAS_DATE_FORMATS)

    @property
    def json_type(self) -> str:
        """Dataset-JSON dataType."""
        return "date" if self.is_sas_date else JSON_TYPES.get(self.data_type, "string")

    @property
    def json_target(self) -> str | None:
        """Dataset-JSON targetDataType: integer for SAS dates (their JSON values are ISO 8601 strings)."""
        return "integer" if self.is_sas_date else None


def iso_type(name: str, values: pd.Series) -> str:
    """Define-XML DataType of a character variable."""
    if name.endswith("DUR"):
        return "durationDatetime"
    if not name.endswith("DTC"):
        return "text"
    # each test below holds for every value when it holds for every distinct value
    distinct = values.drop_duplicates()                 # text or categorical: each value once
    text = [v for v in pd.unique(distinct.astype(object).fillna("").astype(str)) if v]
    if not text:
        return "date"
    full_dates = all(FULL_DATE.fullmatch(v) for v in text)
    if full_dates:
        return "date"
    with_time = [bool(FULL_DATETIME.fullmatch(v)) for v in text]
    if all(with_time):
        return "datetime"
    return "partialDatetime" if any("T" in v for v in text) else "partialDate"


def numeric_type(values: pd.Series) -> str:
    finite = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    return "integer" if finite.size == 0 or bool(np.all(np.mod(finite, 1) == 0)) else "float"


def read_xpt(path: str | Path) -> DatasetFile:
    """An XPT file through the checked reader: numbers as floats (dates as SAS day counts), text as categoricals
    ('' when blank; define.xml and Dataset-JSON only count, group and encode each distinct text), the file's
    variables with their labels, lengths and formats."""
    return read_checked(path, categorical=True)


def dataset_columns(name: str, frame: pd.DataFrame, variables: list[FileColumn], keys: tuple[str, ...] = (),
                    labels: dict[str, str] | None = None) -> list[Column]:
    """The columns of one XPT file (its variables as read by read_xpt) in file order; labels default to the
    file's."""
    labels = labels or {}
    out = []
    for var in variables:
        is_num = var.type == "Num"
        fmt = var.format or ""
        display = fmt if is_num and fmt and not fmt.startswith("$") else None
        data_type = numeric_type(frame[var.name]) if is_num else iso_type(var.name, frame[var.name])
        out.append(Column(name, var.name, labels.get(var.name) or var.label or "", "Num" if is_num else "Char",
                          None if is_num else max(1, int(var.length or 1)), data_type, display,
                          keys.index(var.name) + 1 if var.name in keys else None))
    return out
