"""Read raw CSV and XLSX tables as text, keeping every row and every cell as it was written."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from cdisc_als.findings import Finding

EXTENSIONS = (".csv", ".xlsx")


def find_table_file(folder: Path, table: str) -> Path | None:
    """The file of a table in folder: <table>.csv or <table>.xlsx (case-insensitive)."""
    candidates = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    for ext in EXTENSIONS:
        hit = candidates.get(f"{table}{ext}")
        if hit is not None:
            return hit
    return None


def read_table(path: Path) -> tuple[pd.DataFrame | None, list[Finding]]:
    """All cells as str ('' for blank), spaces trimmed, plus a column _ROW with the row number in the file.

    The header is row 1, so the first record is row 2 (the row a user sees in Excel; in a CSV
    without line breaks inside quoted values it is also the line number). Completely blank
    spreadsheet rows are skipped but keep the numbering of the rows around them.
    On an unreadable file returns None and a finding.
    """
    try:
        if path.suffix.lower() == ".csv":
            frame = _read_csv(path)
            frame["_ROW"] = range(2, len(frame) + 2)
        else:
            frame = _read_xlsx(path)
    except (UnicodeDecodeError, ValueError, OSError, KeyError, pd.errors.ParserError) as exc:
        return None, [Finding(path.name, None, "", "", "RAW-FILE-READ", f"file cannot be read: {exc}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    text_cols = [c for c in frame.columns if c != "_ROW"]
    frame[text_cols] = frame[text_cols].apply(lambda s: s.str.strip())
    return frame.reset_index(drop=True), []


def _read_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)


def _read_xlsx(path: Path) -> pd.DataFrame:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        raise ValueError("the first sheet is empty")
    header = ["" if h is None else str(h) for h in rows[0]]
    body, numbers = [], []
    for number, row in enumerate(rows[1:], start=2):
        cells = ["" if v is None else _cell_text(v) for v in row[: len(header)]]
        if any(v != "" for v in cells):
            body.append(cells + [""] * (len(header) - len(cells)))
            numbers.append(number)
    frame = pd.DataFrame(body, columns=header, dtype=str)
    frame["_ROW"] = numbers
    return frame


def _cell_text(value: object) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
