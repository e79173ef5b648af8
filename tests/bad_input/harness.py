"""The bad-input catalogue's machinery: a case is an edit of a small valid study, a verb, and what the
user must see: the exit status, findings (rule, file, row = physical line, column) and the accounting.

Every case also checks, independently of the code under test, that each physical line of every raw
file is accounted for (lines = rows + blank lines + continuation lines; rows = rejected + mapped +
not used), that no traceback reached the user and that no internal-error log was written.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_als.cli import main

Expected = tuple[str, str, int | None, str]     # rule, file, row (physical line; None: any), column


@dataclass(frozen=True)
class Case:
    id: str
    kind: str                                   # the failure kind (docs/bad-input.md)
    edit: Callable[[Path], None]                # changes the copied input folder
    verb: str = "check-raw"                     # check-raw, sdtm, adam (or argv given by `argv`)
    exit: int = 1
    findings: tuple[Expected, ...] = ()
    once: tuple[str, ...] = ()                  # rules that must be reported exactly once
    absent: tuple[str, ...] = ()                # rules that must not be reported (no cascade)
    accounting: dict[str, dict[str, int]] = field(default_factory=dict)   # table -> column -> value
    stderr: str = ""                            # text the one-line error message must hold (exit 2)
    check: Callable[[Path], None] | None = None  # further checks on the output folder
    argv: Callable[[Path, Path], list[str]] | None = None   # (input, output) -> argv, for other verbs


@dataclass
class Outcome:
    exit: int
    stdout: str
    stderr: str
    out: Path
    findings: pd.DataFrame | None
    accounting: pd.DataFrame | None


FINDINGS_FILE = {"check-raw": "raw_findings.csv", "sdtm": "sdtm_findings.csv", "adam": "adam_findings.csv"}
ACCOUNTING_FILE = {"check-raw": "raw_accounting.csv", "sdtm": "reconciliation.csv"}


def run_case(case: Case, source: Path, work: Path) -> Outcome:
    data = work / "in"
    shutil.copytree(source, data)
    case.edit(data)
    out = work / "out"
    if case.argv is not None:
        argv = case.argv(data, out)
    elif case.verb == "check-raw":
        argv = ["check-raw", str(data), "--out", str(out), "--show", "0"]
    elif case.verb == "sdtm":
        argv = ["sdtm", "--raw", str(data), "--out", str(out), "--quiet"]
    else:
        argv = ["adam", "--sdtm", str(data), "--out", str(out), "--quiet"]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    findings_path = out / FINDINGS_FILE.get(case.verb, "-")
    accounting_path = out / ACCOUNTING_FILE.get(case.verb, "-")
    return Outcome(code, stdout.getvalue(), stderr.getvalue(), out,
                   pd.read_csv(findings_path, dtype=str, keep_default_na=False) if findings_path.is_file() else None,
                   pd.read_csv(accounting_path, keep_default_na=False) if accounting_path.is_file() else None)


def physical_lines(path: Path) -> tuple[int, int]:
    """(physical lines of a text file, line of its header): \\n, \\r\\n and a lone \\r each end a line;
    a last line without a line end counts; the header is the first non-blank line."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("latin-1")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = next((k + 1 for k, line in enumerate(lines) if line.strip()), 0)
    return len(lines), header


def check_outcome(case: Case, outcome: Outcome, data: Path, log_dir: Path) -> None:
    assert "Traceback" not in outcome.stderr + outcome.stdout, outcome.stderr
    assert not (log_dir.exists() and any(log_dir.iterdir())), f"internal error logged: {outcome.stderr}"
    assert outcome.exit == case.exit, f"exit {outcome.exit}, expected {case.exit}: {outcome.stderr[-600:]}"
    if case.exit == 2:      # one message naming the problem (compare reports it with its other results)
        lines = [line for line in outcome.stderr.splitlines() if line.startswith("cdisc-als")]
        assert len(lines) == (0 if case.verb == "compare" else 1), outcome.stderr
        assert case.stderr and case.stderr in outcome.stderr + outcome.stdout, outcome.stderr + outcome.stdout
    if case.findings or case.once or case.absent:
        assert outcome.findings is not None, f"no findings file in {outcome.out}"
        frame = outcome.findings
        for rule, file, row, column in case.findings:
            hits = frame[(frame["rule"] == rule) & (frame["file"] == file) & (frame["column"] == column)]
            if row is not None:
                hits = hits[hits["row"] == str(row)]
            assert len(hits), (f"no {rule} finding at {file} row {row} column {column!r}; got:\n"
                               + frame.head(12).to_string())
        for rule in case.once:
            assert (frame["rule"] == rule).sum() == 1, frame[frame["rule"] == rule].to_string()
        for rule in case.absent:
            assert not (frame["rule"] == rule).any(), frame[frame["rule"] == rule].to_string()
    if outcome.accounting is not None:
        check_accounting(case, outcome.accounting, data)
    if case.check is not None:
        case.check(outcome.out)


def check_accounting(case: Case, accounting: pd.DataFrame, data: Path) -> None:
    """Each physical line of each raw file is a row, a blank line or a continuation line; each row is
    rejected, mapped or not used; plus the case's own expectations."""
    table = accounting.set_index("table")
    for name, row in table.iterrows():
        total, header = physical_lines(data / row["file"]) if row["file"].endswith(".csv") else (None, None)
        if total is not None:
            assert row["lines"] == total - header, (name, row.to_dict(), total, header)
        assert row["lines"] == row["rows"] + row["blank_lines"] + row["continuation_lines"], (name, row.to_dict())
        if "mapped" in row:
            assert row["rows"] == row["rejected"] + row["mapped"] + row["not_used"], (name, row.to_dict())
        else:
            assert row["rows"] == row["rows_clean"] + row["rows_with_errors"], (name, row.to_dict())
            assert row["rows_rejected"] <= row["rows_with_errors"], (name, row.to_dict())
    for name, expected in case.accounting.items():
        actual = {key: int(table.loc[name, key]) for key in expected}
        assert actual == expected, (name, actual, expected)


# ---- edits: small functions that change a copied study folder -------------------------------------


def read_rows(folder: Path, table: str) -> list[list[str]]:
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def set_cell(table: str, line: int, column: str, value: str) -> Callable[[Path], None]:
    """Edit: the cell of `column` on physical `line` (header = 1) of a file without blank lines."""
    def edit(folder: Path) -> None:
        rows = read_rows(folder, table)
        rows[line - 1][rows[0].index(column)] = value
        write_rows(folder, table, rows)
    return edit


def replace_text(table: str, old: str, new: str, count: int = 1, encoding: str = "utf-8") -> Callable[[Path], None]:
    """Edit: replace text in a file (and write it in `encoding`)."""
    def edit(folder: Path) -> None:
        path = folder / f"{table}.csv"
        text = path.read_text(encoding="utf-8")
        assert old in text, (table, old)
        path.write_bytes(text.replace(old, new, count).encode(encoding))
    return edit


def write_text(table: str, text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / f"{table}.csv").write_text(text, encoding="utf-8")
    return edit


def map_lines(table: str, change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    """Edit: change the list of lines of a file (line ends kept by the caller: lines hold no \\n)."""
    def edit(folder: Path) -> None:
        path = folder / f"{table}.csv"
        lines = path.read_text(encoding="utf-8").split("\n")
        path.write_text("\n".join(change(lines[:-1])) + "\n", encoding="utf-8")
    return edit


def remove(name: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / name).unlink()
    return edit


def both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        for step in edits:
            step(folder)
    return edit


def nothing(folder: Path) -> None:
    """Edit: none (the input is valid)."""
