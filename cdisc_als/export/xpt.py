"""SAS XPORT version 5 writer: vectorised, lengths and labels from metadata, byte-reproducible.

Layout (SAS technical note TS-140): 80-byte header records for the library and the member, one
140-byte NAMESTR per variable, then fixed-width observations padded with blanks to a multiple of
80 bytes. Numbers are IBM System/370 floating point (base 16, 7-bit excess-64 exponent, 56-bit
fraction), big-endian; a missing number is 0x2E followed by zeros. Character values are ASCII,
blank-padded to the variable length.

The writer refuses, with a message naming dataset, variable and row, what XPT v5 cannot hold:
dataset or variable names over 8 characters, labels over 40, character values over 200 bytes or
longer than the declared length, non-ASCII text, and numbers outside the IBM range.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.io import atomic_write_chunks

FIXED_TIMESTAMP = "01JAN00:00:00:00"
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,7}")
IBM_MAX = 2.0 ** 252 * (1 - 2.0 ** -53)   # the largest double below 16**63 (16**63 itself overflows IBM)
IBM_MIN = 16.0 ** -65


class XptError(ValueError):
    """The data cannot be written as XPT v5; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("cannot write XPT v5:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class XptVariable:
    name: str
    type: str = "Char"        # "Char" or "Num"
    length: int | None = None  # Char: bytes (default: longest value); Num: 8
    label: str = ""
    format: str = ""          # e.g. "DATE9." or "$20." or "8.2"
    informat: str = ""


def _header(text: str) -> bytes:
    return f"HEADER RECORD*******{text:<8}HEADER RECORD!!!!!!!".encode("ascii")


def _pad(data: bytes, fill: bytes = b" ") -> bytes:
    extra = (-len(data)) % 80
    return data + fill * extra


def _format_parts(fmt: str) -> tuple[str, int, int]:
    """'DATE9.' -> ('DATE', 9, 0); '8.2' -> ('', 8, 2); '$20.' -> ('$', 20, 0)."""
    match = re.fullmatch(r"(\$?[A-Za-z_]*?)(\d*)\.(\d*)", fmt.strip()) if fmt else None
    if not match:
        return (fmt.strip().rstrip("."), 0, 0) if fmt else ("", 0, 0)
    name, width, decimals = match.groups()
    return name.upper(), int(width or 0), int(decimals or 0)


def ibm_from_ieee(values: np.ndarray) -> np.ndarray:
    """IEEE doubles -> big-endian IBM 370 doubles as an (n, 8) uint8 array (NaN -> missing '.')."""
    x = np.asarray(values, dtype=np.float64)
    out = np.zeros(x.shape, dtype=np.uint64)
    finite = np.isfinite(x) & (x != 0)
    fraction, exponent = np.frexp(np.abs(np.where(finite, x, 1.0)))
    e16 = -((-exponent) // 4)                     # ceil(exponent / 4)
    shift = (exponent - 4 * e16 + 3).astype(np.uint64)  # 0..3
    mantissa = (fraction * 2.0 ** 53).astype(np.uint64) << shift
    sign = (x < 0).astype(np.uint64) << np.uint64(63)
    word = sign | ((e16 + 64).astype(np.uint64) << np.uint64(56)) | mantissa
    out = np.where(finite, word, out)
    out = np.where(np.isnan(x), np.uint64(0x2E) << np.uint64(56), out)
    return out.astype(">u8").view(np.uint8).reshape(-1, 8)


def ieee_from_ibm(raw: np.ndarray) -> np.ndarray:
    """(n, 8) uint8 IBM doubles -> float64 (missing values -> NaN). For tests and readers."""
    return ieee_from_ibm_words(raw.copy().view(">u8").reshape(-1).astype(np.uint64))


def ieee_from_ibm_words(words: np.ndarray) -> np.ndarray:
    """IBM 370 doubles as unsigned 64-bit integers (already in native byte order) -> float64; missing values
    ('.', '._' and '.A' to '.Z': first byte 0x2E, 0x5F or a capital letter, zero fraction) -> NaN."""
    words = np.asarray(words, dtype=np.uint64)
    first = (words >> np.uint64(56)).astype(np.int64)
    mantissa = (words & np.uint64((1 << 56) - 1)).astype(np.float64)
    exponent = (first & 0x7F) - 64
    value = mantissa / 2.0 ** 56 * np.exp2(4.0 * exponent)
    value = np.where(first & 0x80, -value, value)
    missing = (mantissa == 0) & ((first == 0x2E) | (first == 0x5F) | ((first >= 0x41) & (first <= 0x5A)))
    return np.where(missing, np.nan, value)


def distinct_text(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(codes, distinct values) of a character column, missing as ''; checks run once per value. The codes are
    in the smallest unsigned type that holds them (a million records of a few hundred values: 1 MB, not 8)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = ["" if u is None or (isinstance(u, float) and np.isnan(u)) else str(u) for u in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values.append("")
    return codes.astype(np.min_scalar_type(max(len(values) - 1, 0)), copy=False), values


def _as_parts(frame: pd.DataFrame | Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """A dataset given whole or as parts (frames of the same columns whose records follow each other)."""
    parts = [frame] if isinstance(frame, pd.DataFrame) else list(frame)
    if not parts:
        raise ValueError("a dataset given in parts needs at least one part")
    return parts


def _first_rows(rows_per_part: Iterable[np.ndarray], sizes: list[int], limit: int = 5) -> list[tuple[int, int, int]]:
    """(row in the dataset, part, row in the part) of the first `limit` of the rows listed for each part (a
    lazy iterable: parts after the limit is reached are not looked at)."""
    found, offset = [], 0
    for k, (rows, size) in enumerate(zip(rows_per_part, sizes, strict=False)):   # stops at the limit
        found += [(offset + int(row), k, int(row)) for row in rows[:limit - len(found)]]
        if len(found) >= limit:
            break
        offset += size
    return found


def _number_problems(parts: list[pd.DataFrame], where: str, name: str) -> list[str]:
    """Values of a numeric variable that are text, or outside the IBM floating-point range."""
    numbers = [pd.to_numeric(part[name], errors="coerce").to_numpy(dtype=float) for part in parts]
    sizes = [len(part) for part in parts]
    texts = (np.zeros(0, dtype=int) if pd.api.types.is_numeric_dtype(part[name]) else
             np.flatnonzero((part[name].notna() & np.isnan(values) & (part[name].astype(str).str.strip() != "")).to_numpy())
             for part, values in zip(parts, numbers, strict=True))
    outside = (np.flatnonzero(np.isinf(values) | (np.abs(values) > IBM_MAX) | ((np.abs(values) > 0) & (np.abs(values) < IBM_MIN)))
               for values in numbers)
    return ([f"{where} row {row + 1}: {parts[k][name].iloc[i]!r} is not a number" for row, k, i in _first_rows(texts, sizes)]
            + [f"{where} row {row + 1}: {numbers[k][i]!r} is outside the IBM floating-point range"
               for row, k, i in _first_rows(outside, sizes)])


def _text_problems(coded: list[tuple[np.ndarray, list[str]]], sizes: list[int], where: str,
                   length: int | None) -> list[str]:
    """Values of a character variable (each part's codes and distinct values) that are not ASCII or are longer
    than the variable (at most 200 bytes)."""
    limit = min(length or 200, 200)

    def rows(test: Callable[[str], bool]) -> Iterator[np.ndarray]:
        return (np.flatnonzero(np.isin(codes, [j for j, u in enumerate(uniques) if test(u)])) for codes, uniques in coded)

    def value(k: int, i: int) -> str:
        codes, uniques = coded[k]
        return uniques[codes[i]]

    problems = [f"{where} row {row + 1}: {value(k, i)!r} is not ASCII"
                for row, k, i in _first_rows(rows(lambda u: not u.isascii()), sizes)]
    if length is not None and length > 200:
        problems.append(f"{where}: length {length} is over the XPT v5 limit of 200")
    return problems + [f"{where} row {row + 1}: value of {len(value(k, i))} bytes is longer than {limit}"
                       for row, k, i in _first_rows(rows(lambda u: len(u) > limit), sizes)]


def _check(parts: list[pd.DataFrame], dataset: str, label: str, variables: list[XptVariable],
           distinct: list[dict[str, tuple[np.ndarray, list[str]]]]) -> list[str]:
    """Every reason the data cannot be XPT v5, at most 5 records named per variable and reason (rows counted
    over the whole dataset when it is given in parts)."""
    problems = []
    if not NAME.fullmatch(dataset):
        problems.append(f"dataset name {dataset!r} must be 1-8 letters, digits or _")
    if len(label) > 40 or not label.isascii():
        problems.append(f"{dataset}: dataset label {label!r} must be at most 40 ASCII characters")
    if not variables:
        problems.append(f"{dataset}: a dataset needs at least one variable")
    sizes = [len(part) for part in parts]
    for var in variables:
        where = f"{dataset}.{var.name}"
        if not NAME.fullmatch(var.name):
            problems.append(f"{where}: variable name must be 1-8 letters, digits or _")
        if len(var.label) > 40 or not var.label.isascii():
            problems.append(f"{where}: label {var.label!r} must be at most 40 ASCII characters")
        if any(var.name not in part.columns for part in parts):
            problems.append(f"{where}: not a column of the data")
        elif var.type == "Num":
            problems += _number_problems(parts, where, var.name)
        else:
            problems += _text_problems([texts[var.name] for texts in distinct], sizes, where, var.length)
    return problems


def _namestr(var: XptVariable, number: int, length: int, position: int) -> bytes:
    fmt, fmt_len, fmt_dec = _format_parts(var.format)
    ifmt, ifmt_len, ifmt_dec = _format_parts(var.informat)
    return struct.pack(
        ">hhhh8s40s8shhh2s8shhi52s",
        1 if var.type == "Num" else 2, 0, length, number,
        var.name.upper().ljust(8).encode("ascii"), var.label.ljust(40).encode("ascii"),
        fmt.ljust(8).encode("ascii"), fmt_len, fmt_dec, 0, b"\x00\x00",
        ifmt.ljust(8).encode("ascii"), ifmt_len, ifmt_dec, position, b"\x00" * 52,
    )


def _default_variables(frame: pd.DataFrame) -> list[XptVariable]:
    """Without metadata: every column, numeric or character by its dtype, lengths from the data."""
    return [XptVariable(str(c), "Num" if pd.api.types.is_numeric_dtype(frame[c]) else "Char") for c in frame.columns]


def xpt_bytes(frame: pd.DataFrame | Sequence[pd.DataFrame], dataset: str, label: str = "",
              variables: list[XptVariable] | None = None, timestamp: str = FIXED_TIMESTAMP) -> bytes:
    """The XPT v5 file content for one dataset, given whole or in parts (raises XptError listing every problem)."""
    return b"".join(bytes(part) for part in xpt_parts(frame, dataset, label, variables, timestamp))


CHUNK_BYTES = 32 << 20         # observation bytes built at a time: a large dataset is never laid out whole


def xpt_parts(frame: pd.DataFrame | Sequence[pd.DataFrame], dataset: str, label: str = "",
              variables: list[XptVariable] | None = None,
              timestamp: str = FIXED_TIMESTAMP) -> Iterator[bytes | memoryview]:
    """The pieces of an XPT v5 file in order: headers, the observations a chunk of records at a time (about
    CHUNK_BYTES each, in one reused buffer: write or copy each piece before asking for the next), the final
    padding. The dataset is a frame or its parts (frames with the same columns whose records follow each
    other, e.g. a large dataset derived part by part): the file is the same. The data are checked before
    this returns (XptError); a text variable's length is its longest value over every part."""
    parts = _as_parts(frame)
    dataset = dataset.upper()
    if variables is None:
        variables = _default_variables(parts[0])
    distinct = [{v.name: distinct_text(part[v.name]) for v in variables
                 if v.type != "Num" and v.name in part.columns} for part in parts]
    problems = _check(parts, dataset, label, variables, distinct)
    if problems:
        raise XptError(problems)
    lengths = []
    for var in variables:
        if var.type == "Num":
            lengths.append(var.length or 8)
        else:
            longest = max([1, *(len(u) for texts in distinct for u in texts[var.name][1])])
            lengths.append(var.length or longest)
    laid_out = []
    for part, texts in zip(parts, distinct, strict=True):
        columns = []
        for var, length in zip(variables, lengths, strict=True):
            if var.type == "Num":
                columns.append((pd.to_numeric(part[var.name], errors="coerce").to_numpy(dtype=float), None))
            else:
                codes, uniques = texts[var.name]
                padded = b"".join(u.encode("ascii").ljust(length, b" ") for u in (uniques or [""]))
                columns.append((codes, np.frombuffer(padded, dtype=np.uint8).reshape(-1, length)))
        laid_out.append((columns, len(part)))
    return _pieces(_headers(dataset, label, variables, lengths, timestamp), laid_out, lengths)


def _headers(dataset: str, label: str, variables: list[XptVariable], lengths: list[int], timestamp: str) -> bytes:
    positions = np.concatenate(([0], np.cumsum(lengths)[:-1])) if lengths else []
    stamp = timestamp.encode("ascii")
    out = bytearray()
    out += _header("LIBRARY") + b"0" * 30 + b"  "
    out += b"SAS     SAS     SASLIB  9.4     X64_7PRO" + b" " * 24 + stamp
    out += stamp + b" " * 64
    out += _header("MEMBER") + b"000000000000000001600000000140  "
    out += _header("DSCRPTR") + b"0" * 30 + b"  "
    out += b"SAS     " + dataset.ljust(8).encode("ascii") + b"SASDATA 9.4     X64_7PRO" + b" " * 24 + stamp
    out += stamp + b" " * 16 + label.ljust(40).encode("ascii") + b" " * 8
    out += _header("NAMESTR") + f"000000{len(variables):04d}00000000000000000000  ".encode("ascii")
    names = b"".join(_namestr(v, i + 1, length, int(pos))
                     for i, (v, length, pos) in enumerate(zip(variables, lengths, positions, strict=True)))
    out += _pad(names, b"\x00")
    out += _header("OBS") + b"0" * 30 + b"  "
    return bytes(out)


def _pieces(headers: bytes, parts: list[tuple[list[tuple[np.ndarray, np.ndarray | None]], int]],
            lengths: list[int]) -> Iterator[bytes | memoryview]:
    """Headers, then each part's records a chunk at a time, laid out as fixed-width rows (numbers as IBM
    doubles, text from the part's padded table of its distinct values), then blanks up to a multiple of 80
    bytes. The chunks share one buffer: each is valid until the next one is asked for (write it, or copy it,
    before)."""
    yield headers
    width = sum(lengths)
    total = sum(n for _columns, n in parts)
    step = max(1, min(max(n for _columns, n in parts), CHUNK_BYTES // max(width, 1)))
    buffer = np.empty(step * width, dtype=np.uint8) if total else np.empty(0, dtype=np.uint8)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(int) if lengths else []
    for columns, n in parts:
        # each variable's bytes in the buffer as one fixed-size item per record (numpy void): a record's value
        # is copied as one item, not byte by byte
        tables = [None if table is None else np.ascontiguousarray(table).view(f"V{length}").reshape(-1)
                  for (_values, table), length in zip(columns, lengths, strict=True)]
        for first in range(0, n, step):
            count = min(n, first + step) - first
            for (values, _table), table, length, offset in zip(columns, tables, lengths, offsets, strict=True):
                target = np.ndarray((count,), dtype=f"V{length}", buffer=buffer, offset=int(offset), strides=(width,))
                chunk = values[first:first + count]
                if table is None:
                    target[:] = ibm_from_ieee(chunk)[:, :length].copy().view(f"V{length}").reshape(-1)
                else:
                    np.take(table, chunk, out=target)
            yield memoryview(buffer[:count * width])
    yield b" " * ((-(total * width)) % 80)


def write_xpt(frame: pd.DataFrame | Sequence[pd.DataFrame], path: str | Path, dataset: str, label: str = "",
              variables: list[XptVariable] | None = None) -> None:
    """Write one dataset, a frame or its parts (xpt_parts), as an XPT v5 file, atomically, with a fixed
    timestamp (reruns are identical). Inside read_cache.shared_reads() the cache is handed what a reader of
    the file would decode."""
    from cdisc_als.xpt_written import keep_written

    parts = _as_parts(frame)
    if variables is None:
        variables = _default_variables(parts[0])
    pieces = xpt_parts(parts, dataset, label, variables)
    headers = next(pieces)                                   # the header records come first
    atomic_write_chunks(path, chain((headers,), pieces))
    keep_written(Path(path), headers, parts, [v.name for v in variables])
