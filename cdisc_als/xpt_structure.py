"""The structure of a SAS XPORT version 5 file, checked against TS-140 (SAS technical note): the header
records, the NAMESTR descriptions of the variables and the number of records, without decoding a value
(damage raises DatasetReadError naming the file). cdisc_als.xpt_reader decodes the records."""

from __future__ import annotations

import mmap
import struct
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cdisc_als.dataset_file import Column
from cdisc_als.dataset_file import fail as _fail

RECORD = 80
_HEADER = b"HEADER RECORD*******"
_LIBRARY_V5 = _HEADER + b"LIBRARY HEADER RECORD!!!!!!!"
_LIBRARY_V8 = _HEADER + b"LIBV8   HEADER RECORD!!!!!!!"
_MEMBER = _HEADER + b"MEMBER  HEADER RECORD!!!!!!!"
_DSCRPTR = _HEADER + b"DSCRPTR HEADER RECORD!!!!!!!"
_NAMESTR = _HEADER + b"NAMESTR HEADER RECORD!!!!!!!"
_OBS = _HEADER + b"OBS     HEADER RECORD!!!!!!!"
_NAMESTR_FORMAT = ">hhhh8s40s8shhh2s8shhl52s"


@dataclass(frozen=True)
class XptLayout:
    """What the bytes of a transport file say: member name, label, variables and record count."""

    name: str
    label: str
    columns: list[Column]
    records: int
    version: int = 5
    namestr_size: int = 140


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").strip(" \x00")


def _sas_format(name: bytes, width: int, decimals: int) -> str:
    """NAMESTR format fields -> 'DATE9.', '8.2', '$12.' ('' when there is none)."""
    text = _text(name)
    if not text and not width:
        return ""
    return f"{text}{width or ''}.{decimals or ''}"


def xpt_layout(data: bytes | bytearray, path: Path, size: int | None = None, check_text: bool = True) -> XptLayout:
    """Check the transport file structure (TS-140) and count its records; raise on any damage. `size`: the
    file's length when data holds more bytes after it (the reader's slack). `check_text=False` skips the scans
    of the records' bytes (character values for NUL bytes, i.e. shifted records; the records for a second
    member), for callers that only count: only the headers and the last records are then read."""
    size = len(data) if size is None else size
    if size < 8 * RECORD or not data.startswith(_HEADER):
        raise _fail(path, "not a SAS transport (XPORT) file: the library header record is missing"
                    f" ({size} bytes{'' if size else ', empty file'})")
    if data.startswith(_LIBRARY_V8):
        return XptLayout(path.stem.upper(), "", [], -1, version=8)
    if not data.startswith(_LIBRARY_V5):
        raise _fail(path, "not a SAS transport v5 file: unknown library header record")
    if size % RECORD:
        raise _fail(path, f"file length {size} is not a multiple of 80 bytes: the file is truncated or damaged")
    records = [data[i * RECORD:(i + 1) * RECORD] for i in range(8)]
    for index, prefix in ((3, _MEMBER), (4, _DSCRPTR), (7, _NAMESTR)):
        if not records[index].startswith(prefix):
            raise _fail(path, f"header record {index + 1} is not the expected {prefix[20:27].decode().strip()} header")
    namestr_size = int(records[3][74:78] or b"140") if records[3][74:78].strip().isdigit() else 140
    if namestr_size not in (136, 140):
        raise _fail(path, f"NAMESTR length {namestr_size} is neither 140 nor 136")
    name, label = _text(records[5][8:16]), _text(records[6][32:72])
    count_field = records[7][54:58]
    if not count_field.isdigit():
        raise _fail(path, f"NAMESTR header does not hold a variable count ({count_field!r})")
    nvars = int(count_field)
    start = 8 * RECORD
    block = nvars * namestr_size
    block_end = start + block + (-block) % RECORD
    if block_end + RECORD > size:
        raise _fail(path, f"the file ends inside the descriptions of its {nvars} variables: truncated")
    columns, position = [], 0
    for i in range(nvars):
        raw = data[start + i * namestr_size: start + (i + 1) * namestr_size].ljust(140, b" ")
        fields = struct.unpack(_NAMESTR_FORMAT, raw)
        ntype, length, varname, varlabel, npos = fields[0], fields[2], _text(fields[4]), _text(fields[5]), fields[14]
        kind = {1: "Num", 2: "Char"}.get(ntype)
        if kind is None or not varname:
            raise _fail(path, f"variable {i + 1} has an invalid description (type {ntype}, name {varname!r})")
        if (kind == "Char" and not 1 <= length <= 200) or (kind == "Num" and not 2 <= length <= 8):
            raise _fail(path, f"variable {varname} has an invalid length {length} for a {kind} variable")
        if npos != position:
            raise _fail(path, f"variable {varname} starts at byte {npos} of the record, expected {position}")
        position += length
        columns.append(Column(varname, varlabel, kind, length, _sas_format(*fields[6:9]), _sas_format(*fields[11:14])))
    if not data[block_end:block_end + RECORD].startswith(_OBS):
        raise _fail(path, "the observation header record is missing after the variable descriptions")
    data_start = block_end + RECORD
    data_end = size
    next_member = second_member(data, data_start, size) if check_text else -1
    if next_member != -1:
        raise second_member_error(path, data_start + next_member)
    length = data_end - data_start
    if position == 0:
        if not check_text and (member := second_member(data, data_start, size)) != -1:
            raise second_member_error(path, data_start + member)     # the cause, when there is one
        raise _fail(path, "the dataset has no variables")
    count = length // position
    remainder = data[data_start + count * position:data_end]
    if len(remainder) >= RECORD or remainder.strip(b" "):
        if not check_text and (member := second_member(data, data_start, size)) != -1:
            raise second_member_error(path, data_start + member)     # the cause, when there is one
        raise _fail(path, f"the last record is incomplete ({len(remainder)} of {position} bytes): the file is "
                    "truncated or damaged")
    while count and data_end - (data_start + (count - 1) * position) < RECORD and \
            not data[data_start + (count - 1) * position:data_start + count * position].strip(b" "):
        count -= 1                                  # blank records inside the final 80 bytes are padding
    if check_text and (shifted := first_nul_record(data, data_start, count, columns)) is not None:
        raise nul_error(path, shifted)
    return XptLayout(name or path.stem.upper(), label, columns, count, 5, namestr_size)


def second_member(data: bytes | bytearray, start: int, end: int) -> int:
    """Offset from `start` of the first member header starting on a record boundary (counted from `start`)
    in data[start:end], -1 when there is none."""
    found = data.find(_MEMBER, start, end)
    while found != -1 and (found - start) % RECORD:
        found = data.find(_MEMBER, found + 1, end)
    return found if found == -1 else found - start


def second_member_error(path: Path, position: int):
    return _fail(path, f"the file holds more than one dataset (a second member starts at byte {position}); "
                 "write one dataset per file")


def nul_error(path: Path, record: int):
    """`record`: 0-based."""
    return _fail(path, f"record {record + 1} holds NUL bytes in character variables: records are "
                 "shifted (bytes missing or inserted) or the file is damaged")


def first_nul_record(data: bytes | bytearray, start: int, count: int, columns: list[Column]) -> int | None:
    """The first of `count` records from byte `start` with a NUL byte in a character value (0-based), else None.
    Character values never hold NUL bytes (SAS pads with blanks); NULs there mean shifted records. Each run
    of adjacent character variables is tested in one pass; rows are located only when one fails."""
    width = sum(c.length or 0 for c in columns)
    if not count or not width:
        return None
    runs, offset = [], 0
    for col in columns:
        length = col.length or 0
        if col.type == "Char":
            if runs and runs[-1][1] == offset:
                runs[-1][1] = offset + length
            else:
                runs.append([offset, offset + length])
        offset += length
    body = np.frombuffer(data, dtype=np.uint8, count=count * width, offset=start).reshape(count, width)
    bad_rows = [int(np.argmax((body[:, a:b] == 0).any(axis=1))) for a, b in runs if not body[:, a:b].all()]
    return min(bad_rows) if bad_rows else None


class _Mapped:
    """A memory-mapped file as xpt_layout reads it (slices, startswith, find)."""

    def __init__(self, mapped: mmap.mmap | bytes):
        self._mapped = mapped

    def __len__(self) -> int:
        return len(self._mapped)

    def __getitem__(self, key: slice) -> bytes:
        return self._mapped[key]

    def startswith(self, prefix: bytes) -> bool:
        return self._mapped[:len(prefix)] == prefix

    def find(self, sub: bytes, start: int, end: int) -> int:
        return self._mapped.find(sub, start, end)


def headers_layout(path: Path) -> XptLayout:
    """xpt_layout without the scans of the records' bytes (check_text=False), reading only the pages of the
    headers and of the last records; OSError when the file cannot be read."""
    with path.open("rb") as handle, \
            (mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else nullcontext(b"")) \
            as mapped:
        return xpt_layout(_Mapped(mapped), path, len(mapped), check_text=False)


def describe_xpt(path: str | Path) -> XptLayout:
    """The structure of a transport file (name, label, variables, number of records) without decoding its
    records; raises DatasetReadError when the headers or the file length are damaged (the records' bytes
    are not scanned: read_xpt does that)."""
    path = Path(path)
    try:
        layout = headers_layout(path)
    except OSError as exc:
        raise _fail(path, f"cannot be read: {exc.strerror or exc}") from exc
    if layout.version == 8:            # no record count in the headers: read it
        from cdisc_als.xpt_reader import read_whole

        whole = read_whole(path)
        layout = XptLayout(whole.name, whole.label, whole.columns, len(whole.frame), version=8)
    return layout
