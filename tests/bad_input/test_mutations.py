"""Property: whatever happens to the raw tables (columns dropped, duplicated or blanked, rows repeated
or removed, random bytes, random values), `cdisc-als sdtm` ends with exit status 0, 1 or 2, never a
traceback or an internal error, and accounts for every physical line of every raw file it read; and
`cdisc-als adam` on the SDTM it wrote ends the same way."""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_als.cli import main
from tests.bad_input.harness import physical_lines

TABLES = ("demog", "visits", "alsfrs", "ae", "survival", "injections", "fvc")
CELL_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _column_mutation(kind: str, rows: list[list[str]], column: int, value: str) -> list[list[str]]:
    column %= len(rows[0])
    if kind == "drop column":
        return [r[:column] + r[column + 1:] for r in rows]
    if kind == "duplicate column":
        return [r + [r[column]] for r in rows]
    if kind == "blank column":
        return [rows[0]] + [r[:column] + [""] + r[column + 1:] for r in rows[1:]]
    if kind == "random value" and len(rows) > 1:
        target = 1 + column % (len(rows) - 1)
        rows[target][column] = value
        return rows
    if kind == "duplicate row" and len(rows) > 1:
        return rows + [rows[1 + column % (len(rows) - 1)]]
    if kind == "drop row" and len(rows) > 1:
        return rows[:1] + rows[2:]
    return rows


MUTATION = st.one_of(
    st.tuples(st.sampled_from(["drop column", "duplicate column", "blank column", "random value", "duplicate row",
                               "drop row"]), st.sampled_from(TABLES), st.integers(0, 40), CELL_TEXT),
    st.tuples(st.just("random bytes"), st.sampled_from(TABLES), st.integers(0, 10_000),
              st.binary(min_size=1, max_size=6)),
)


def _apply(folder: Path, mutation) -> None:
    kind, table, where, payload = mutation
    path = folder / f"{table}.csv"
    if kind == "random bytes":
        data = path.read_bytes()
        cut = where % (len(data) + 1)
        path.write_bytes(data[:cut] + payload + data[cut:])
        return
    try:
        rows = _rows(path)
    except (UnicodeDecodeError, csv.Error):
        return                                          # an earlier byte mutation made it unreadable as text
    if rows:
        _write(path, _column_mutation(kind, rows, where, payload))


def _check_accounting(folder: Path, out: Path) -> None:
    table = pd.read_csv(out / "reconciliation.csv", keep_default_na=False)
    for row in table.itertuples(index=False):
        path = folder / row.file
        if path.suffix == ".csv":
            total, header = physical_lines(path)
            assert row.lines == total - header, row
        assert row.lines == row.rows + row.blank_lines + row.continuation_lines, row
        assert row.rows == row.rejected + row.mapped + row.not_used, row
    detail = pd.read_csv(out / "reconciliation_rows.csv", keep_default_na=False)
    assert len(detail) == table["rejected"].sum() + table["not_used"].sum()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_raw_tables_never_crash_and_lose_nothing(small_raw, monkeypatch, mutations):
    with tempfile.TemporaryDirectory() as work:
        folder, out, log_dir = Path(work) / "raw", Path(work) / "out", Path(work) / "logs"
        monkeypatch.setenv("CDISC_ALS_LOG_DIR", str(log_dir))
        shutil.copytree(small_raw, folder)
        for mutation in mutations:
            _apply(folder, mutation)
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["sdtm", "--raw", str(folder), "--out", str(out), "--quiet"])
        assert code in (0, 1, 2), code
        assert "Traceback" not in stderr.getvalue() and "internal error" not in stderr.getvalue(), stderr.getvalue()
        assert not (log_dir.exists() and any(log_dir.iterdir()))
        if code in (0, 1):
            _check_accounting(folder, out)
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = main(["adam", "--sdtm", str(out), "--out", str(Path(work) / "adam"), "--quiet"])
            assert code in (0, 1, 2), code
            assert "Traceback" not in stderr.getvalue() and "internal error" not in stderr.getvalue(), stderr.getvalue()
