"""What a validation reads from a folder: every dataset file, define.xml, and a note of everything else.

Datasets (.xpt, Dataset-JSON .json, NDJSON .ndjson) are read with the checked reader of
cdisc_als.datasets_io: a damaged file is one finding (the dataset is not validated, so its damage
is reported once and does not cascade into other rules), text that is not ASCII/UTF-8 is a finding
and the dataset is still read. define.xml is read for the define checks. Any other file or folder
is a finding too, so nothing in the folder is silently skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.datasets_io import DATASET_SUFFIXES, DatasetFile, DatasetReadError, read_dataset

# file-level rules: (id, severity, category, message); the registry lists them in the Rules sheet
FILE_RULES = {
    "ALS0012": ("error", "Format", "Text in the file is not ASCII/UTF-8"),
    "ALS0013": ("error", "Format", "Dataset file cannot be read: damaged or not the format its name says"),
    "ALS0022": ("notice", "Presence", "File or folder is not a dataset or define.xml: not validated"),
    "ALS0023": ("error", "Format", "Dataset-JSON value does not match its column's dataType"),
    "ALS0024": ("warning", "Presence", "Dataset is present in more than one file: only one is validated"),
    "ALS0025": ("error", "Format", "Dataset is not SAS transport version 5"),
}
KIND_RULE = {"encoding": "ALS0012", "damaged": "ALS0013", "type": "ALS0023", "format": "ALS0025"}
DEFINE_NAME = "define.xml"


@dataclass
class LoadedDataset:
    """One dataset of the folder. Read from a file (load_folder), its records can be unloaded and are read again
    (through the read cache inside a run) the next time a rule asks for `frame`, so that a validation holds
    the records of the datasets it is checking, not of every dataset of the folder."""

    name: str
    file: str
    frame: pd.DataFrame             # a property (below): the records, read again when they were unloaded
    label: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)     # "Char" / "Num"
    formats: dict[str, str] = field(default_factory=dict)

    _distinct: dict = field(default_factory=dict, repr=False)
    _records: int | None = field(default=None, repr=False)
    _file: DatasetFile | None = field(default=None, repr=False)    # the reader's codes of its text columns
    _path: Path | None = field(default=None, repr=False)            # where the records are read again from

    @property
    def records(self) -> int:
        """The number of records (kept when the frame is released or unloaded)."""
        return len(self.frame) if self._records is None else self._records

    def has_column(self, name: str) -> bool:
        """Whether the dataset has the variable, without reading its records when its types are known."""
        return name in self.types if self.types else name in self.frame.columns

    @property
    def loaded(self) -> bool:
        return self.__dict__.get("_frame") is not None

    def unload(self) -> None:
        """Drop the records and what was computed from them (kept: name, labels, types, the count, the variable
        prefix and whether the dataset is the study's), when they can be read again; otherwise nothing."""
        if self._path is None or not self.loaded:
            return
        self._records = self.records
        self.__dict__["_frame"] = None
        self._file = None
        for key in [k for k in self._distinct if k not in KEPT_WHEN_UNLOADED]:
            del self._distinct[key]

    def release(self) -> None:
        """Drop the records and everything computed from them for good, keeping name, file, labels and the count."""
        self._records = self.records
        self._path = None
        frame = self.__dict__.get("_frame")
        self.frame = (frame.iloc[0:0].copy() if frame is not None     # a copy: an empty view keeps every record
                      else pd.DataFrame({c: pd.Series(dtype=float if t == "Num" else object) for c, t in self.types.items()}))
        self._distinct.clear()
        self._file = None

    @classmethod
    def from_file(cls, ds: DatasetFile) -> LoadedDataset:
        return cls(ds.name or ds.path.stem.upper(), ds.path.name, ds.frame, ds.label,
                   {c.name: c.label for c in ds.columns},
                   {c.name: c.length for c in ds.columns if c.length}, ds.types,
                   {c.name: c.format for c in ds.columns}, _file=ds)

    def distinct(self, column: str) -> tuple:
        """(codes, distinct values as str) of a column, computed once; rules test distinct values."""
        if column in self._distinct:
            return self._distinct[column]
        read = self._file.distinct_text(column) if self._file is not None and self._file.frame is self.frame \
            else None
        if read is not None:      # the reader hashed the column already: its codes, as small as they are
            self._distinct[column] = (read[0], pd.Series([*read[1].tolist(), ""], dtype=object))
        else:
            codes, uniques = pd.factorize(self.frame[column], use_na_sentinel=True)
            values = pd.Series(["" if not isinstance(u, str) else u for u in uniques] + [""], dtype=object)
            self._distinct[column] = (np.where(codes < 0, len(values) - 1, codes), values)
        return self._distinct[column]

    def codes(self, column: str) -> np.ndarray:
        """Integer codes of a column's values (equal values, missing ones included, share a code): the
        distinct codes of a character column, kept; a numeric column factorized (all NaN one code)."""
        series = self.frame[column]
        if series.dtype == object:
            return self.distinct(column)[0]
        return pd.factorize(series, use_na_sentinel=False)[0]

    def group_keys(self, columns: list[str]) -> np.ndarray:
        """One integer per record, equal for records whose values of `columns` are all equal: the columns'
        codes combined arithmetically, renumbered only when the combination could overflow, and no further
        once every record has a key of its own."""
        n = len(self.frame)
        key, bound = np.zeros(n, dtype=np.int64), 1
        for name in columns:
            codes = self.codes(name).astype(np.int64)
            size = int(codes.max()) + 1 if n else 1
            if bound * size >= 2 ** 62:
                key, distinct = pd.factorize(key)
                key, bound = key.astype(np.int64), len(distinct)
                if bound == n:
                    return key
            key = key * size + codes
            bound *= size
        return pd.factorize(key)[0].astype(np.int64)

    def duplicated(self, columns: list[str] | str | None = None) -> np.ndarray:
        """frame.duplicated(columns, keep='first') as a boolean array, from the kept codes of each column."""
        names = list(self.frame.columns) if columns is None else [columns] if isinstance(columns, str) else columns
        if not len(self.frame) or not names:
            return self.frame.duplicated(columns, keep="first").to_numpy()
        return pd.Series(self.group_keys(names)).duplicated(keep="first").to_numpy()

    def dates(self, column: str) -> pd.Series:
        """The complete date part of an ISO 8601 column as datetime64 (NaT when partial or absent; see
        rules.registry.date_part), parsed once per distinct value and kept."""
        key = ("_dates", column)
        if key not in self._distinct:
            from cdisc_als.validate.rules.registry import date_part

            codes, values = self.distinct(column)
            parsed = date_part(values).to_numpy(dtype="datetime64[ns]")
            self._distinct[key] = pd.Series(parsed[codes], index=self.frame.index, name=column)
        return self._distinct[key]

    def char_test(self, column: str, test) -> pd.Series:
        """Boolean per record of a vectorised test run on the distinct values of a character column."""
        codes, values = self.distinct(column)
        result = test(values).to_numpy(dtype=bool)
        return pd.Series(result[codes], index=self.frame.index)

    @property
    def standard(self) -> str:
        return "ADAM" if self.name.startswith("AD") else "SDTM"


def _written_in_this_run(path: Path) -> LoadedDataset | None:
    """The dataset of a file the XPT writer wrote in this run and left a note on (too large for the read
    cache: read_cache.WrittenNote), described from its headers and unloaded; None for any other file."""
    from cdisc_als.read_cache import written_note
    from cdisc_als.xpt_structure import describe_xpt

    if written_note(path) is None:
        return None
    layout = describe_xpt(path)
    loaded = LoadedDataset.from_file(DatasetFile(path, layout.name.upper() or path.stem.upper(), layout.label,
                                                 list(layout.columns), pd.DataFrame(), [], "xpt"))
    loaded._path, loaded._records = path, layout.records
    loaded.unload()
    return loaded


PREFIX_KEY, OWN_STUDY_KEY = "_prefix", "_own"   # what rules keep in _distinct that does not grow with the records
KEPT_WHEN_UNLOADED = (PREFIX_KEY, OWN_STUDY_KEY)


def _frame_of(ds: LoadedDataset) -> pd.DataFrame:
    frame = ds.__dict__.get("_frame")
    if frame is None:
        if ds._path is None:
            raise RuntimeError(f"{ds.name}: records released")
        file = read_dataset(ds._path)            # read before without damage: the read cache has it inside a run
        ds.__dict__["_frame"], ds._file = file.frame, file
        frame = file.frame
    return frame


def _set_frame(ds: LoadedDataset, frame: pd.DataFrame) -> None:
    ds.__dict__["_frame"] = frame


LoadedDataset.frame = property(_frame_of, _set_frame)     # after @dataclass: its __init__ sets it


@dataclass(frozen=True)
class FileFinding:
    file: str
    dataset: str
    rule: str
    detail: str


@dataclass
class FolderContents:
    datasets: list[LoadedDataset]
    findings: list[FileFinding]
    define_path: Path | None
    files: list[str]


def load_folder(folder: Path) -> FolderContents:
    """Every entry of the folder: datasets read, define.xml found, everything else reported."""
    datasets: dict[str, LoadedDataset] = {}
    findings: list[FileFinding] = []
    define_path = None
    entries = sorted(Path(folder).iterdir(), key=lambda p: (p.suffix.lower() != ".xpt", p.name))
    for path in entries:
        stem = path.stem.upper()
        if path.is_dir():
            findings.append(FileFinding(path.name + "/", "GLOBAL", "ALS0022", "a folder: its files are not validated"))
            continue
        if path.name.lower() == DEFINE_NAME:
            define_path = path
            continue
        if path.suffix.lower() not in DATASET_SUFFIXES:
            findings.append(FileFinding(path.name, "GLOBAL", "ALS0022",
                                        f"not a dataset ({', '.join(DATASET_SUFFIXES)}) or {DEFINE_NAME}"))
            continue
        loaded = _written_in_this_run(path) if path.suffix.lower() == ".xpt" else None   # sound: not read now
        if loaded is None:
            try:
                ds = read_dataset(path)
            except DatasetReadError as exc:
                findings += [FileFinding(p.file, stem, KIND_RULE.get(p.kind, "ALS0013"), p.message)
                             for p in exc.problems]
                continue
            findings += [FileFinding(p.file, ds.name or stem, KIND_RULE.get(p.kind, "ALS0013"), p.message)
                         for p in ds.problems]
            loaded = LoadedDataset.from_file(ds)
            if ds.format == "xpt":              # read again (through the read cache) when its rules run: one
                loaded._path = path             # dataset's records at a time; Dataset-JSON stays read (no cache)
                loaded.unload()
        if loaded.name in datasets:
            findings.append(FileFinding(path.name, loaded.name, "ALS0024",
                                        f"{loaded.name} is also in {datasets[loaded.name].file}, which is validated"))
            continue
        datasets[loaded.name] = loaded
    files = [p.name for p in entries]
    return FolderContents(sorted(datasets.values(), key=lambda d: d.name), findings, define_path, files)
