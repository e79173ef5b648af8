"""The fast path of reading CSV text: a file where every line is one record, read by pandas' C parser.

csvtext.py reads any CSV line by line in Python, so that it can tell the physical line of each record
and undo what a stray quote or a line break inside a value did. Most files need none of that: no
double quote anywhere, no line break other than \\n or \\r\\n, no NUL and no line longer than the csv
module accepts, and every line either has exactly the header's number of fields or is empty (spaces
only). For such a file each physical line is one record (or a blank line), so the C parser reads the
records and the line numbers follow from the line positions. `parse_regular` recognises that case
(vectorised on the bytes) and returns None for any other file, which then takes the careful path;
both give the same records, line numbers, accounting and findings.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_als.findings import Finding
from cdisc_als.raw.csvtext import header_findings, sniff_delimiter

NEWLINE = 0x0A


@dataclass
class RegularText:
    header: list[str]
    findings: list[Finding]         # about the header line (csvtext.header_findings)
    columns: list[np.ndarray]       # one object array of text per header field, blank lines left out
    rows: np.ndarray                # physical line of each record (int64)
    lines: int                      # physical lines after the header
    blank_lines: int


def parse_simple(text: str, file_name: str) -> RegularText | None:
    """The header and records of text without any double quote whose lines are all regular (see the
    module docstring); None for any other text."""
    if '"' in text:
        return None
    offset, blank_before = 0, 0
    for line in io.StringIO(text, newline=""):
        if line.strip():
            break
        offset += len(line)
        blank_before += 1
    else:
        return None
    delimiter = sniff_delimiter(line)
    header = next(csv.reader([line], delimiter=delimiter), [])
    parsed = parse_regular(text[offset + len(line):], delimiter, len(header), blank_before + 2)
    if parsed is not None:
        parsed.header = header
        parsed.findings = header_findings(file_name, blank_before + 1, blank_before, delimiter)
    return parsed


def parse_regular(body: str, delimiter: str, width: int, first_line: int) -> RegularText | None:
    """The records of `body` (the text after the header line, whose first line is physical line
    `first_line`) when every line is one record of `width` fields or a blank line; else None."""
    try:
        data = body.encode("utf-8")
    except UnicodeEncodeError:                         # a lone surrogate: leave it to the careful path
        return None
    if width < 2 or not data or b'"' in data or b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    codes = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(codes == NEWLINE)
    if ends.size == 0 or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data))             # a last line without a line end
    starts = np.concatenate(([0], ends[:-1] + 1))
    if int((ends - starts).max()) > csv.field_size_limit():
        return None
    at = np.flatnonzero(codes == ord(delimiter))
    fields = np.searchsorted(at, ends) - np.searchsorted(at, starts) + 1
    regular = fields == width
    if not regular.all():
        odd = np.flatnonzero(~regular)
        if (fields[odd] != 1).any() or any(_line(data, starts[k], ends[k]).strip() for k in odd):
            return None                                # a line with too few or too many fields
        data = _without_lines(codes, starts, ends, regular)
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=delimiter, header=None, names=list(range(width)), dtype=object,
                            na_filter=False, keep_default_na=False, quoting=csv.QUOTE_NONE, skip_blank_lines=False,
                            engine="c", encoding="utf-8", low_memory=False)
    except (ValueError, pd.errors.ParserError):        # anything the C parser refuses: the careful path
        return None
    numbers = np.flatnonzero(regular).astype(np.int64) + first_line
    if len(frame) != len(numbers):
        return None
    columns = [frame[k].to_numpy(dtype=object) for k in range(width)]
    blank = np.ones(len(numbers), dtype=bool)
    for values in columns:
        blank &= _blank_cells(values)
    kept = ~blank
    return RegularText([], [], [values[kept] for values in columns], numbers[kept], len(starts),
                       int((~regular).sum() + blank.sum()))


def _line(data: bytes, start: int, end: int) -> str:
    return data[start:end].decode("utf-8")


def _without_lines(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray) -> bytes:
    """The bytes of the kept lines (with their line ends)."""
    lengths = np.minimum(ends + 1, len(codes)) - starts
    return codes[np.repeat(keep, lengths)].tobytes()


def _blank_cells(values: np.ndarray) -> np.ndarray:
    """Cells holding nothing but spaces (computed once per distinct value)."""
    codes, uniques = pd.factorize(values)
    empty = np.array([not u.strip() for u in uniques], dtype=bool)
    return empty[codes] if len(uniques) else np.zeros(len(values), dtype=bool)
