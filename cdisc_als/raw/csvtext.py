"""Raw CSV text -> records with the physical lines they came from, never losing a line.

Python's csv module parses (RFC 4180 quoting); this module adds what a user needs to find a problem
in the file: the physical line where each record starts and ends, blank lines counted, the
delimiter recognised (comma, semicolon, tab or pipe), and records that a stray quote glued together
split back into their lines. Every physical line after the header is accounted for as a record,
a blank line, or a continuation line of a record whose quoted value holds a line break:

    lines = records + blank_lines + continuation_lines
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from cdisc_als.findings import ERROR, REJECTED, WARNING, Finding

DELIMITERS = (",", ";", "\t", "|")
SHOWN = 120          # characters of a raw line quoted in a finding


@dataclass(slots=True)
class Record:
    start: int                  # physical line where the record starts (header = line 1)
    end: int                    # physical line where it ends (> start when a value holds line breaks)
    fields: list[str]


@dataclass
class ParsedText:
    header: list[str]
    header_line: int
    records: list[Record]
    delimiter: str
    lines: int = 0              # physical lines after the header line
    blank_lines: int = 0
    continuation_lines: int = 0
    findings: list[Finding] = field(default_factory=list)


def split_lines(text: str) -> list[str]:
    """Physical lines with their line ends (\\n, \\r\\n or a lone \\r), as csv reads them."""
    return list(io.StringIO(text, newline=""))


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: a comma when it has one, else the most frequent of ; tab |."""
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    if counts[","]:
        return ","
    best = max(DELIMITERS[1:], key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse_line(line: str, delimiter: str, quoting: int = csv.QUOTE_MINIMAL) -> list[str]:
    rows = list(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, quoting=quoting))
    return rows[0] if rows else []


def _blank(fields: list[str]) -> bool:
    return not "".join(fields).strip()


def _shown(text: str) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def _split_glued(lines: list[str], start: int, end: int, width: int, delimiter: str,
                 file_name: str, header: list[str]) -> tuple[list[Record], list[Finding]] | None:
    """Lines start..end read as one record: when each line on its own has the header's number of
    fields (a lone quote taken literally), they were separate records glued by an unbalanced quote.
    Returns the records and one RAW-QUOTE finding per line with a stray quote, else None."""
    records, findings = [], []
    for number in range(start, end + 1):
        line = lines[number - 1]
        fields = _parse_line(line, delimiter)
        if _blank(fields):
            continue
        if line.count('"') % 2 or len(fields) != width:
            literal = _parse_line(line, delimiter, csv.QUOTE_NONE)
            if len(literal) != width:
                return None
            fields = literal
            for column, value in zip(header, fields, strict=True):
                if '"' in value:
                    findings.append(Finding(file_name, number, column, value, "RAW-QUOTE",
                                            "unbalanced double quote: it joined this line and the lines after it "
                                            "into one value; the lines are read separately", ERROR))
        records.append(Record(number, number, fields))
    return records, findings


def header_findings(file_name: str, header_line: int, blank_before: int, delimiter: str) -> list[Finding]:
    """RAW-HEADER-LINE when blank lines precede the header, RAW-DELIMITER when values are not comma-separated."""
    findings = []
    if blank_before:
        findings.append(Finding(file_name, header_line, "", "", "RAW-HEADER-LINE",
                                f"the header is on line {header_line}, after {blank_before} blank line(s)", WARNING))
    if delimiter != ",":
        shown = {"\t": "tab", ";": "semicolon", "|": "pipe"}[delimiter]
        findings.append(Finding(file_name, header_line, "", "", "RAW-DELIMITER",
                                f"values are separated by {shown}s, not commas; read with that delimiter", WARNING))
    return findings


def parse_csv_text(text: str, file_name: str) -> ParsedText | None:
    """Parse CSV text; None when it holds no header (empty, or only blank lines)."""
    lines = split_lines(text)
    header_index = next((k for k, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        return None
    delimiter = sniff_delimiter(lines[header_index])
    reader = csv.reader(iter(lines[header_index:]), delimiter=delimiter)
    header = next(reader)
    header_line = header_index + 1 + reader.line_num - 1
    findings = header_findings(file_name, header_line, header_index, delimiter)
    parsed = ParsedText(header, header_line, [], delimiter, lines=len(lines) - header_line, findings=findings)
    previous_end = header_line
    offset = header_line - reader.line_num      # physical line = offset + reader.line_num
    for fields in reader:
        start, end = previous_end + 1, offset + reader.line_num
        previous_end = end
        if end == start and _blank(fields):
            parsed.blank_lines += 1
            continue
        if end > start:
            split = _split_glued(lines, start, end, len(header), delimiter, file_name, header)
            if split is not None:
                records, problems = split
                parsed.records += records
                parsed.findings += problems
                parsed.blank_lines += (end - start + 1) - len(records)
                continue
            parsed.continuation_lines += end - start
            broken = next((k for k, f in enumerate(fields) if "\n" in f or "\r" in f), 0)
            column = header[broken] if broken < len(header) else ""
            parsed.findings.append(Finding(
                file_name, start, column, f"lines {start}-{end}", "RAW-LINE-BREAK",
                f"one record spans lines {start} to {end}: a quoted value holds line breaks (an unbalanced "
                "quote?)", WARNING))
        parsed.records.append(Record(start, end, list(fields)))
    return parsed


def fit_to_header(parsed: ParsedText, file_name: str) -> list[Finding]:
    """Make every record as wide as the header. Extra fields that are all blank are dropped (a
    trailing delimiter, a warning); a record with missing fields or extra values is rejected, since
    its values may sit under the wrong columns."""
    width = len(parsed.header)
    findings = []
    for record in parsed.records:
        n = len(record.fields)
        if n == width:
            continue
        if n > width and _blank(record.fields[width:]):
            findings.append(Finding(file_name, record.start, "", "", "RAW-FIELD-COUNT",
                                    f"{n} fields where the header has {width}: the extra fields are blank and "
                                    "ignored", WARNING))
        else:
            findings.append(Finding(file_name, record.start, "", _shown(parsed.delimiter.join(record.fields)),
                                    "RAW-FIELD-COUNT",
                                    f"{n} fields where the header has {width}: values may be shifted under the "
                                    "wrong columns, so the row is not used", ERROR, REJECTED))
        record.fields = (record.fields + [""] * width)[:width]
    return findings
