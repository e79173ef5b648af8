"""Read raw CSV and XLSX tables as text, keeping every row and every cell as it was written.

`read_table` returns a `TableRead`: the records as a frame of text cells (blank = ''), spaces trimmed,
plus a column _ROW with the physical line where the record starts (CSV, header = line 1) or its sheet
row (XLSX); the findings met while reading; and the line accounting of the file
(lines = records + blank lines + continuation lines). It never raises on a bad file:

  * not UTF-8 -> read as Windows-1252 (Excel's "CSV" on Western Windows), RAW-ENCODING warning naming
    the line and column of the first byte that is not UTF-8 (the characters get RAW-ASCII findings);
  * ; tab or | delimiters recognised (RAW-DELIMITER warning); a record with the wrong number of fields
    is rejected (RAW-FIELD-COUNT); a stray quote that glued lines together is undone (RAW-QUOTE);
  * header names are matched to the data model ignoring case (RAW-COL-CASE warning); a repeated header
    name is an error (RAW-COL-DUPLICATE) and the repeat is ignored; a column without a name holding
    values is reported (RAW-COL-UNNAMED);
  * an empty file is RAW-FILE-EMPTY; an unreadable one RAW-FILE-READ;
  * XLSX is opened read-only and read to the real extent of its cells, whatever the used range the
    file declares (a file claiming A1:XFD1048576 costs no more than its cells).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.findings import WARNING, Finding
from cdisc_als.raw.csvfast import parse_simple
from cdisc_als.raw.csvtext import Record, fit_to_header, parse_csv_text

EXTENSIONS = (".csv", ".xlsx")


@dataclass
class TableRead:
    frame: pd.DataFrame | None                  # None when the file holds no table (empty, unreadable)
    findings: list[Finding] = field(default_factory=list)
    lines: int = 0                              # physical lines (sheet rows) after the header
    blank_lines: int = 0
    continuation_lines: int = 0                 # lines inside records whose value holds line breaks


def find_table_file(folder: Path, table: str) -> tuple[Path | None, list[Finding]]:
    """The file of a table in folder: <table>.csv or <table>.xlsx (case-insensitive); when both are
    there the CSV is read and the other reported."""
    candidates = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    hits = [candidates[f"{table}{ext}"] for ext in EXTENSIONS if f"{table}{ext}" in candidates]
    if not hits:
        return None, []
    extra = [Finding(p.name, None, "", "", "RAW-FILE-AMBIGUOUS", f"table '{table}' is also in {hits[0].name}; "
                     f"{hits[0].name} is read and this file is ignored", WARNING) for p in hits[1:]]
    return hits[0], extra


def read_table(path: Path, known_columns: tuple[str, ...] = ()) -> TableRead:
    """Read one raw table (see the module docstring); known_columns are the data model's names that
    header names are matched to, ignoring case."""
    try:
        if path.suffix.lower() == ".csv":
            result = _read_csv(path)
        else:
            result = _read_xlsx(path)
    except OSError as exc:
        return TableRead(None, [Finding(path.name, None, "", "", "RAW-FILE-READ", f"file cannot be read: {exc}")])
    if result.frame is not None:
        result.findings += _tidy_header(result.frame, path.name, known_columns)
    return result


def decode(data: bytes, file_name: str) -> tuple[str, list[Finding]]:
    """Bytes -> text: UTF-8 (a byte-order mark dropped), else Windows-1252 with a RAW-ENCODING warning."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), [Finding(file_name, None, "", "", "RAW-ENCODING",
                                                   "file is UTF-16 (Excel 'Unicode text'): read as such; save it "
                                                   "as UTF-8", WARNING)]
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        text = data.decode("cp1252", errors="replace") if _cp1252_ok(data) else data.decode("latin-1")
        return text, [Finding(file_name, line, "", f"byte 0x{data[exc.start]:02x} at character {column}",
                              "RAW-ENCODING", "file is not UTF-8: read as Windows-1252; save it as UTF-8 "
                              "(values outside ASCII are findings of their own)", WARNING)]


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(path: Path) -> TableRead:
    text, findings = decode(path.read_bytes(), path.name)
    simple = parse_simple(text, path.name)
    if simple is not None:
        return TableRead(_columns_frame(simple.header, simple.columns, simple.rows), [*findings, *simple.findings],
                         simple.lines, simple.blank_lines, 0)
    parsed = parse_csv_text(text, path.name)
    if parsed is None:
        return TableRead(None, [*findings, Finding(path.name, None, "", "", "RAW-FILE-EMPTY",
                                                   "file is empty (no header line); the table is read as absent")])
    findings += parsed.findings
    findings += fit_to_header(parsed, path.name)
    return TableRead(_frame(parsed.header, parsed.records), findings, parsed.lines, parsed.blank_lines,
                     parsed.continuation_lines)


def _frame(header: list[str], records: list[Record]) -> pd.DataFrame:
    columns = list(zip(*(r.fields for r in records), strict=True)) if records else [()] * len(header)
    return _columns_frame(header, columns, np.array([r.start for r in records], dtype=np.int64))


def _columns_frame(header: list[str], columns: list, rows: np.ndarray) -> pd.DataFrame:
    """Columns of text cells (one per header field) -> the table frame: spaces trimmed, _ROW last."""
    names = [f"_COL{k + 1}" if not h.strip() else h for k, h in enumerate(header)]
    frame = pd.DataFrame({k: _stripped(values) for k, values in enumerate(columns)}, columns=range(len(names)))
    frame.columns = names
    frame["_ROW"] = rows
    return frame


def _stripped(values) -> pd.Series:
    """Text with surrounding spaces removed, computed once per distinct value."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object).fillna(""))
    return pd.Series(pd.Series(uniques, dtype=object).str.strip().to_numpy(dtype=object)[codes], dtype=object)


def _tidy_header(frame: pd.DataFrame, file_name: str, known: tuple[str, ...]) -> list[Finding]:
    """Trim and case-match header names in place; repeated and unnamed columns are set aside."""
    findings = []
    by_upper = {k.upper(): k for k in known}
    names, seen = [], set()
    for position, raw in enumerate(frame.columns[:-1], start=1):
        name = str(raw).strip()
        if name.startswith("_COL"):
            if (frame.iloc[:, position - 1] != "").any():
                findings.append(Finding(file_name, None, f"column {position}", "", "RAW-COL-UNNAMED",
                                        "column without a header name holds values; they are not mapped", WARNING))
            names.append(f"_UNNAMED{position}")
            continue
        if name not in known and name.upper() in by_upper:
            findings.append(Finding(file_name, None, name, "", "RAW-COL-CASE",
                                    f"header '{name}' read as the data model's '{by_upper[name.upper()]}'", WARNING))
            name = by_upper[name.upper()]
        if name in seen:
            findings.append(Finding(file_name, None, name, "", "RAW-COL-DUPLICATE",
                                    f"header '{name}' appears again in column {position}; that column is ignored"))
            name = f"_DUPLICATE{position}"
        seen.add(name)
        names.append(name)
    frame.columns = [*names, "_ROW"]
    return findings


def _read_xlsx(path: Path) -> TableRead:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - any failure of the parser on a damaged file is a finding
        return TableRead(None, [Finding(path.name, None, "", "", "RAW-FILE-READ",
                                        f"not a readable XLSX workbook ({type(exc).__name__}: {exc})")])
    findings = []
    try:
        sheet = book.worksheets[0]
        if len(book.worksheets) > 1:
            findings.append(Finding(path.name, None, "", "", "RAW-XLSX-SHEETS", f"only the first of "
                                    f"{len(book.worksheets)} sheets ('{sheet.title}') is read", WARNING))
        sheet.reset_dimensions()     # the declared used range may be far larger than the cells
        return _sheet_table(sheet.iter_rows(values_only=True), path.name, findings)
    except Exception as exc:  # noqa: BLE001 - any failure of the parser on a damaged file is a finding
        return TableRead(None, [Finding(path.name, None, "", "", "RAW-FILE-READ",
                                        f"worksheet cannot be read ({type(exc).__name__}: {exc})")])
    finally:
        book.close()


def _sheet_table(rows, file_name: str, findings: list[Finding]) -> TableRead:
    """Rows of a sheet (tuples of cell values; rows absent from the file come as empty tuples) -> table;
    the header is the first row with a value."""
    header, header_number, number = None, 0, 0
    records, blank = [], 0
    width = 0
    for number, row in enumerate(rows, start=1):
        if not row or all(v is None or v == "" for v in row):
            if header is not None:
                blank += 1
            continue
        cells = [_cell_text(v) for v in row]
        if header is None:
            header, header_number = cells, number
            while header and header[-1] == "":
                header.pop()
            width = len(header)
            continue
        if all(c == "" for c in cells):
            blank += 1
            continue
        beyond = [c for c in cells[width:] if c != ""]
        if beyond:
            findings.append(Finding(file_name, number, "", beyond[0], "RAW-FIELD-COUNT",
                                    f"values right of the last header column ({len(beyond)}) are not mapped", WARNING))
        records.append(Record(number, number, (cells + [""] * width)[:width]))
    if header is None:
        return TableRead(None, [*findings, Finding(file_name, None, "", "", "RAW-FILE-EMPTY",
                                                   "the first sheet is empty; the table is read as absent")])
    return TableRead(_frame(header, records), findings, number - header_number, blank, 0)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
