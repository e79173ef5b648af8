"""Load datasets to validate: XPT (any encoding, non-ASCII reported) or Dataset-JSON, with attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_als.findings import ERROR, Finding


@dataclass
class LoadedDataset:
    name: str
    file: str
    frame: pd.DataFrame
    label: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)     # "Char" / "Num"

    _distinct: dict = field(default_factory=dict, repr=False)

    def distinct(self, column: str) -> tuple:
        """(codes, distinct values as str) of a column, computed once; rules test distinct values."""
        if column not in self._distinct:
            import numpy as np

            codes, uniques = pd.factorize(self.frame[column], use_na_sentinel=True)
            values = pd.Series(["" if not isinstance(u, str) else u for u in uniques] + [""], dtype=object)
            self._distinct[column] = (np.where(codes < 0, len(values) - 1, codes), values)
        return self._distinct[column]

    def char_test(self, column: str, test) -> pd.Series:
        """Boolean per record of a vectorised test run on the distinct values of a character column."""
        codes, values = self.distinct(column)
        result = test(values).to_numpy(dtype=bool)
        return pd.Series(result[codes], index=self.frame.index)

    @property
    def standard(self) -> str:
        return "ADAM" if self.name.startswith("AD") else "SDTM"


def load_dataset(path: Path) -> tuple[LoadedDataset | None, list[Finding]]:
    """One dataset file; problems become findings, never exceptions."""
    findings: list[Finding] = []
    suffix = path.suffix.lower()
    try:
        if suffix == ".xpt":
            import pyreadstat

            try:
                frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
            except UnicodeDecodeError as exc:
                findings.append(Finding(path.name, None, "", "", "ALS0012",
                                        f"text is not ASCII/UTF-8 ({exc.reason} at byte {exc.start} of a value); "
                                        "read as Windows-1252 so the dataset is still validated", ERROR))
                frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True, encoding="cp1252")
            types = {n: ("Num" if meta.readstat_variable_types[n] == "double" else "Char") for n in meta.column_names}
            for col, kind in types.items():
                if kind == "Char":
                    frame[col] = frame[col].fillna("").astype(str)
            ds = LoadedDataset((meta.table_name or path.stem).upper(), path.name, frame, meta.file_label or "",
                               dict(zip(meta.column_names, [lbl or "" for lbl in meta.column_labels], strict=True)),
                               dict(meta.variable_storage_width or {}), types)
            return ds, findings
        if suffix == ".json":
            from cdisc_als.export.datasetjson import read_dataset_json

            frame, meta = read_dataset_json(path)
            types = {c.name: ("Char" if c.data_type in ("string", "date", "datetime", "time") else "Num")
                     for c in meta.columns}
            return LoadedDataset(meta.name.upper(), path.name, frame, meta.label,
                                 {c.name: c.label for c in meta.columns},
                                 {c.name: c.length for c in meta.columns if c.length}, types), findings
    except Exception as exc:  # an unreadable file is a finding, whatever the reader raised
        return None, [*findings, Finding(path.name, None, "", "", "ALS0013", f"file cannot be read: {exc}", ERROR)]
    return None, [Finding(path.name, None, "", "", "ALS0013", "not an .xpt or Dataset-JSON .json file", ERROR)]


def load_folder(folder: Path) -> tuple[list[LoadedDataset], list[Finding]]:
    datasets, findings = [], []
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".xpt", ".json"))
    for path in files:
        ds, problems = load_dataset(path)
        findings += problems
        if ds is not None:
            datasets.append(ds)
    return datasets, findings
