"""SAS XPORT version 5 files read in numpy: the structure checked against TS-140 first (cdisc_als.xpt_structure:
damage raises DatasetReadError naming the file), then the records decoded column by column: numbers from IBM to IEEE
doubles, text decoded once per distinct value (so a column of two million records holding a few
hundred values creates a few hundred strings). Version 8 files go to pyreadstat, with a finding.
See cdisc_als.datasets_io for what damage is found."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from cdisc_als.dataset_file import Column, DatasetFile, DatasetReadError, Problem
from cdisc_als.dataset_file import fail as _fail
from cdisc_als.xpt_structure import (
    RECORD,
    XptLayout,
    describe_xpt,
    first_nul_record,
    headers_layout,
    nul_error,
    second_member,
    second_member_error,
    xpt_layout,
)


def _read_xport(path: Path, usecols: list[str] | None, encoding: str | None) -> tuple[pd.DataFrame, object]:
    """pyreadstat, for transport version 8 files only (version 5 is decoded here: decode_records)."""
    import pyreadstat

    kwargs = {"disable_datetime_conversion": True}
    if usecols is not None:
        kwargs["usecols"] = usecols
    if encoding:
        kwargs["encoding"] = encoding
    return pyreadstat.read_xport(str(path), **kwargs)


SLACK = 8   # bytes read past the last record when a variable's bytes are taken 8 at a time


def _words(buffer: bytes | bytearray | memoryview, start: int, count: int, width: int, offset: int,
           length: int) -> np.ndarray:
    """The bytes of one variable as (count, ceil(length / 8)) little-endian 64-bit words, read in place
    (unaligned strided view) and copied once; bytes past the variable's length are cleared. The buffer must
    hold SLACK bytes after the last record."""
    words = -(-length // 8)
    view = np.ndarray((count, words), dtype="<u8", buffer=buffer, offset=start + offset, strides=(width, 8))
    keys = np.array(view)
    if length % 8:
        keys[:, -1] &= np.uint64((1 << (8 * (length % 8))) - 1)
    return keys


def _factorize_words(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first record of each code) of the rows of a (n, words) integer array, without one Python object
    per row: the words of a row are hashed into one integer, the hashes factorized, and every row compared
    with the first row of its code (should two values ever share a hash, the rows are keyed word by word)."""
    count, words = keys.shape
    hashed = keys[:, 0].copy()
    for w in range(1, words):
        hashed *= np.uint64(0x100000001B3)
        hashed ^= keys[:, w]
    codes, first = _codes_and_first(pd.factorize(hashed)[0])
    if words > 1 and count and not np.array_equal(keys, keys[first][codes]):
        combined = pd.factorize(keys[:, 0])[0]
        for w in range(1, words):
            part, uniques = pd.factorize(keys[:, w])
            combined = pd.factorize(combined.astype(np.int64) * len(uniques) + part)[0]
        codes, first = _codes_and_first(combined)
    return codes, first


def _numbered_by_first_appearance(codes: np.ndarray) -> bool:
    """Codes 0, 1, 2, ... in the order each first appears (pd.factorize's numbering)."""
    if not len(codes):
        return True
    return bool(codes[0] == 0 and (codes[1:] <= np.maximum.accumulate(codes)[:-1] + 1).all())


def _codes_and_first(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of pd.factorize (numbered in order of first appearance) and the first record of each."""
    codes = np.asarray(codes, dtype=np.intp)
    if not len(codes):
        return codes, codes
    seen = np.maximum.accumulate(codes)
    return codes, np.flatnonzero(np.concatenate(([True], codes[1:] > seen[:-1])))


@dataclass(frozen=True)
class CodedText:
    """A character column kept compact: the code of each record (the smallest integer type that holds them)
    and the text of each code. values() gives the column (one pointer per record)."""

    codes: np.ndarray
    texts: np.ndarray

    def values(self) -> np.ndarray:
        return self.texts[self.codes] if len(self.texts) else np.array([], dtype=object)

    def column(self, categorical: bool = False) -> np.ndarray | pd.Categorical:
        """values(), or with `categorical` the same texts as a categorical (categories: the texts, in code
        order), unless two codes share a text (a categorical cannot hold that): then values()."""
        if not categorical or len(set(self.texts.tolist())) != len(self.texts):
            return self.values()
        return pd.Categorical.from_codes(self.codes, categories=pd.Index(self.texts, dtype=object), validate=False)

    @property
    def nbytes(self) -> int:
        return int(self.codes.nbytes + self.texts.nbytes)


def _coded_text(codes: np.ndarray, texts: list[str]) -> CodedText:
    """Codes in the smallest unsigned type that holds them, and the texts; read-only, as every reader of the
    file shares them."""
    smallest = np.min_scalar_type(max(len(texts) - 1, 0))
    coded = CodedText(codes.astype(smallest if smallest.kind == "u" else np.intp), np.array(texts, dtype=object))
    coded.codes.flags.writeable = coded.texts.flags.writeable = False
    return coded


CHUNK_BYTES = 32 << 20     # records decoded at a time: the file is never held whole in memory


def _records_per_chunk(width: int) -> int:
    """About CHUNK_BYTES of records, a whole number of 80-byte records long (a member header, which starts
    on a record boundary, then lies whole in one chunk)."""
    step = RECORD // math.gcd(width, RECORD)
    return max(step, CHUNK_BYTES // max(width, 1) // step * step)


class _TextCodes:
    """The codes of one character variable built chunk by chunk: numbered in order of first appearance in the
    file, each distinct value decoded once, the codes in the smallest unsigned type that holds them."""

    def __init__(self, count: int, length: int, encoding: str):
        self.codes = np.empty(count, dtype=np.uint8)
        self.length, self.encoding = length, encoding
        self.errors = "strict" if encoding == "utf-8" else "replace"
        self.known: dict[bytes, int] = {}
        self.texts: list[str] = []

    def add(self, at: int, keys: np.ndarray) -> None:
        """`keys`: the records from record `at` as _words gives them."""
        local, first = _factorize_words(keys)
        distinct = np.ascontiguousarray(keys[first]).view(np.dtype((np.void, keys.shape[1] * 8))).ravel()
        mapping = np.empty(len(first), dtype=np.intp)
        for i, key in enumerate(distinct.tolist()):
            code = self.known.get(key)
            if code is None:
                code = self.known[key] = len(self.texts)
                self.texts.append(key[:self.length].rstrip(b" ").decode(self.encoding, self.errors))
            mapping[i] = code
        top = len(self.texts) - 1
        if top > np.iinfo(self.codes.dtype).max:
            self.codes = self.codes.astype(np.min_scalar_type(top))
        self.codes[at:at + len(keys)] = mapping[local]

    def coded(self) -> CodedText:
        return _coded_text(self.codes, self.texts)


def _raise_if_later_member(handle: BinaryIO, path: Path, position: int, buffer: bytearray) -> None:
    """A second member after byte `position` (a record boundary) is reported before the NUL bytes found before
    it, as when the whole file is checked at once: the rest of the file is scanned, a buffer at a time."""
    handle.seek(position)
    view = memoryview(buffer)[:len(buffer) - SLACK]
    while got := handle.readinto(view):
        if (member := second_member(buffer, 0, got)) != -1:
            raise second_member_error(path, position + member)
        position += got


def decode_records(handle: BinaryIO, path: Path, layout: XptLayout, usecols: list[str] | None = None,
                   encoding: str = "utf-8") -> dict[str, np.ndarray | CodedText]:
    """The records of a version 5 transport file whose headers xpt_layout checked, columnar, read from `handle`
    about CHUNK_BYTES at a time: numbers from IBM to IEEE doubles (missing values, special ones included, as
    NaN; short numbers padded with zeros), text decoded once per distinct value (raises UnicodeDecodeError when
    `encoding` cannot decode it). Each chunk's bytes are checked first, as xpt_layout checks a whole file: no
    second member, no NUL byte in a character value (DatasetReadError)."""
    from cdisc_als.export.xpt import ieee_from_ibm_words

    width = sum(c.length or 0 for c in layout.columns)
    count = layout.records
    wanted = [c for c in layout.columns if usecols is None or c.name in set(usecols)]
    if not count:
        return {c.name: np.array([], dtype=np.float64 if c.type == "Num" else object) for c in wanted}
    offsets = dict(zip([c.name for c in layout.columns],
                       np.cumsum([0] + [c.length or 0 for c in layout.columns]).tolist(), strict=False))
    numbers = {c.name: np.empty(count, dtype=np.float64) for c in wanted if c.type == "Num"}
    texts = {c.name: _TextCodes(count, c.length or 0, encoding) for c in wanted if c.type == "Char"}
    per_chunk = _records_per_chunk(width)
    buffer = bytearray(min(per_chunk, count) * width + SLACK)
    data_start = _observations_start(layout)
    handle.seek(data_start)
    for at in range(0, count, per_chunk):
        records = min(per_chunk, count - at)
        size = records * width
        if handle.readinto(memoryview(buffer)[:size]) != size:
            raise OSError(f"the file changed while it was read (record {at + 1} onwards missing)")
        if (member := second_member(buffer, 0, size)) != -1:
            raise second_member_error(path, data_start + at * width + member)
        if (shifted := first_nul_record(buffer, 0, records, layout.columns)) is not None:
            _raise_if_later_member(handle, path, data_start + at * width + size, buffer)
            raise nul_error(path, at + shifted)
        for col in wanted:
            keys = _words(buffer, 0, records, width, offsets[col.name], col.length or 0)
            if col.type == "Num":
                numbers[col.name][at:at + records] = ieee_from_ibm_words(keys[:, 0].byteswap())
            else:
                texts[col.name].add(at, keys)
    return {c.name: numbers[c.name] if c.type == "Num" else texts[c.name].coded() for c in wanted}


def read_xpt(path: str | Path, usecols: list[str] | None = None, categorical: bool = False) -> DatasetFile:
    """An XPT v5 file, its structure checked first; text that is not ASCII/UTF-8 is read as Windows-1252.
    Inside read_cache.shared_reads() a file read before (and unchanged since) is not decoded again.
    `categorical`: text columns as pandas categoricals of the reader's codes (CodedText.column) instead of
    one pointer per record, for readers that only compare, count or select text."""
    from cdisc_als.read_cache import active_cache

    path = Path(path)
    cache = active_cache()
    try:
        kept = cache.get(path) if cache is not None else None
    except OSError:                      # gone or unreadable: the reader says so
        cache = None
    if cache is None:
        return _read_file(path, usecols, categorical)
    if kept is None:
        kept = KeptDataset.read(path)
        cache.put(path, kept)
    return kept.copy(usecols, categorical)


class KeptDataset:
    """A decoded file as the read cache keeps it: numbers as arrays, text as CodedText (a fraction of the
    memory of one pointer per record); copy() gives each reader its own DatasetFile."""

    def __init__(self, file: DatasetFile, data: dict[str, np.ndarray | CodedText]):
        self.file, self.data = file, data

    @classmethod
    def read(cls, path: Path) -> KeptDataset:
        file, data = _read_columns(path, None)
        if data is None:                        # version 8: pyreadstat gave a frame
            data = {name: file.frame[name].to_numpy() for name in file.frame.columns}
            file.frame = pd.DataFrame()
        return cls(file, data)

    @property
    def nbytes(self) -> int:
        return sum(int(v.nbytes) for v in self.data.values())

    def copy(self, usecols: list[str] | None = None, categorical: bool = False) -> DatasetFile:
        wanted = None if usecols is None else set(usecols)
        columns = [c for c in self.file.columns if wanted is None or c.name in wanted]
        names = [c.name for c in columns if c.name in self.data]
        frame = pd.DataFrame({name: _expanded(self.data[name], copy=True, categorical=categorical) for name in names},
                             index=pd.RangeIndex(_length(self.data)), columns=names, copy=False)
        return DatasetFile(self.file.path, self.file.name, self.file.label, columns, frame,
                           list(self.file.problems), self.file.format, _coded(self.data, names), frame)


def _expanded(values: np.ndarray | CodedText, copy: bool = False,
              categorical: bool = False) -> np.ndarray | pd.Categorical:
    if isinstance(values, CodedText):
        return values.column(categorical)       # new pointers to the kept texts, or a categorical of its codes
    return values.copy() if copy else values


def _read_file(path: Path, usecols: list[str] | None, categorical: bool = False) -> DatasetFile:
    file, data = _read_columns(path, usecols)
    if data is None:
        return file
    file.frame = pd.DataFrame({name: _expanded(values, categorical=categorical) for name, values in data.items()},
                              index=pd.RangeIndex(_length(data)), copy=False)
    file.coded, file.coded_frame = _coded(data, list(data)), file.frame
    return file


def _coded(data: dict[str, np.ndarray | CodedText], names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The (codes, texts) of the text columns among `names` (shared read-only with the cache: nobody writes them)."""
    return {name: (data[name].codes, data[name].texts) for name in names if isinstance(data[name], CodedText)}


def _length(data: dict[str, np.ndarray | CodedText]) -> int:
    if not data:
        return 0
    first = next(iter(data.values()))
    return len(first.codes) if isinstance(first, CodedText) else len(first)


def _read_columns(path: Path, usecols: list[str] | None) -> tuple[DatasetFile, dict | None]:
    """The file's description and its decoded columns (version 5); a version 8 file comes back whole, as a
    DatasetFile with its frame and no columns."""
    try:
        layout = headers_layout(path)
        problems: list[Problem] = []
        wanted = None if usecols is None else [c for c in usecols if c in {x.name for x in layout.columns}] \
            if layout.version == 5 else usecols
        if layout.version == 8:
            frame, columns, name, label = _read_version8(path, wanted, problems)
            return DatasetFile(path, name, label, columns, frame, problems, "xpt"), None
        with path.open("rb") as handle:
            try:
                try:
                    data = decode_records(handle, path, layout, wanted)
                except UnicodeDecodeError as exc:
                    problems.append(Problem(path.name, f"text is not ASCII/UTF-8 ({exc.reason} at byte {exc.start} "
                                            "of a value); read as Windows-1252", fatal=False, kind="encoding"))
                    data = decode_records(handle, path, layout, wanted, "cp1252")
            except (DatasetReadError, OSError):
                raise
            except Exception as exc:  # the structure looked right but decoding still failed: report, never trace back
                raise _fail(path, f"cannot be read as SAS transport: {exc}") from exc
    except OSError as exc:
        raise _fail(path, f"cannot be read: {exc.strerror or exc}") from exc
    columns = layout.columns if wanted is None else [c for c in layout.columns if c.name in wanted]
    return DatasetFile(path, layout.name.upper(), layout.label, columns, pd.DataFrame(), problems, "xpt"), data


def _observations_start(layout: XptLayout) -> int:
    """Byte offset of the first record: 8 header records, the NAMESTR block padded to 80, the OBS header."""
    block = len(layout.columns) * layout.namestr_size
    return 8 * RECORD + block + (-block) % RECORD + RECORD


def _read_version8(path: Path, wanted: list[str] | None,
                   problems: list[Problem]) -> tuple[pd.DataFrame, list[Column], str, str]:
    try:
        try:
            frame, meta = _read_xport(path, wanted, None)
        except Exception as exc:  # pyreadstat raises UnicodeDecodeError or ReadstatError ("...encoding...")
            if not isinstance(exc, UnicodeDecodeError) and "encoding" not in str(exc):
                raise
            detail = f"{exc.reason} at byte {exc.start} of a value" if isinstance(exc, UnicodeDecodeError) else exc
            problems.append(Problem(path.name, f"text is not ASCII/UTF-8 ({detail}); read as Windows-1252",
                                    fatal=False, kind="encoding"))
            frame, meta = _read_xport(path, wanted, "cp1252")
    except Exception as exc:  # the structure looked right but the reader still failed: report, never trace back
        raise _fail(path, f"cannot be read as SAS transport: {exc}") from exc
    problems.append(Problem(path.name, "SAS transport version 8 file; submissions need version 5",
                            fatal=False, kind="format"))
    columns = [Column(n, lbl or "", "Num" if meta.readstat_variable_types[n] == "double" else "Char",
                      (meta.variable_storage_width or {}).get(n)) for n, lbl in
               zip(meta.column_names, meta.column_labels, strict=True)]
    for col in columns:
        if col.type == "Char" and col.name in frame:
            frame[col.name] = frame[col.name].fillna("").astype(str)
    return frame, columns, (meta.table_name or path.stem).upper(), meta.file_label or ""



def read_whole(path: Path) -> DatasetFile:
    """The whole file, decoded here (no read cache)."""
    return _read_file(path, None)


__all__ = ["RECORD", "CodedText", "KeptDataset", "XptLayout", "decode_records", "describe_xpt",
           "read_whole", "read_xpt", "xpt_layout"]
