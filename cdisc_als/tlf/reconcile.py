"""Reconcile the ARD with a reference file (cdisc_als.reference), cell by cell at the printed precision.

Each reference cell gets one status:
  match                the ARD prints the reference value
  approximate          it does not, but lies within the cell's tolerance (only cells with a tolerance)
  known inconsistency  it does not, and the cell's note documents why the reference value cannot be
                       printed (e.g. the paper's own arithmetic does not add up)
  differs              it prints another value
  missing              the ARD has no such cell (output not computed, row or statistic absent)
Only `differs` and `missing` are real differences (REAL_DIFFERENCES): they decide the exit status.
Arm codes of the reference map to the arm labels of the ARD through the Study (study.arm(code).arm).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pandas as pd

from cdisc_als.reference import Reference, ReferenceCell, ReferenceError
from cdisc_als.study import Study

REAL_DIFFERENCES = ("differs", "missing")
COLUMNS = ["table", "row", "cell", "published", "ours", "status", "note", "output_id", "arm", "stat", "level",
           "tolerance"]

# The ARD columns the reconciliation reads: change them here when the ARD's column names change.
ARD_COLUMNS = {"output": "output_id", "row": "row_id", "arm": "group1_level", "stat": "stat_name",
               "level": "variable_level", "printed": "stat_fmt"}


class ArdCells:
    """Printed ARD values by (output, row, arm label, statistic) and level: the one accessor of the ARD.

    Without a level, the cell without a level is taken when the row has one, else the row's first.
    """

    def __init__(self, ard: pd.DataFrame):
        self._cells: dict[tuple[str, str, str, str], list[tuple[str, str]]] = {}
        columns = [ARD_COLUMNS[key] for key in ("output", "row", "arm", "stat", "level", "printed")]
        absent = [column for column in columns if column not in ard.columns]
        if absent and len(ard):
            raise ValueError(f"the ARD has no column {', '.join(absent)} (the reconciliation reads {columns})")
        if absent:
            return
        for output, row, arm, stat, level, printed in ard[columns].fillna("").astype(str).itertuples(index=False):
            self._cells.setdefault((output, row, arm, stat), []).append((level, printed))

    def printed(self, output: str, row: str, arm_label: str, stat: str, level: str = "") -> str | None:
        found = self._cells.get((output, row, arm_label, stat), [])
        if level:
            found = [hit for hit in found if hit[0] == level]
        elif any(hit[0] == "" for hit in found):
            found = [hit for hit in found if hit[0] == ""]
        return found[0][1] if found else None


def _within(ours: str, cell: ReferenceCell) -> bool:
    """|ours - reference| <= tolerance, in exact decimal arithmetic; False when either is not a number."""
    if cell.tolerance is None:
        return False
    try:
        return abs(Decimal(ours) - Decimal(cell.value)) <= Decimal(str(cell.tolerance))
    except InvalidOperation:
        return False


def cell_status(cell: ReferenceCell, ours: str | None) -> tuple[str, str]:
    """Status and note of one reference cell given the ARD's printed value (None: no such cell)."""
    if ours is None:
        return "missing", "no such cell in the ARD"
    if ours == cell.value:
        return "match", ""
    if _within(ours, cell):
        note = f"within the tolerance {cell.tolerance:g}"
        return "approximate", f"{note}; {cell.note}" if cell.note else note
    if cell.note and cell.tolerance is None:
        return "known inconsistency", cell.note
    return "differs", cell.note


def arm_labels(reference: Reference, study: Study) -> dict[str, str]:
    """Arm code -> the arm label the ARD prints, for every code the reference names."""
    labels, unknown = {}, []
    for code in reference.arm_codes:
        try:
            labels[code] = study.arm(code).arm
        except KeyError:
            unknown.append(code)
    if unknown:
        raise ReferenceError(f"{reference.source}: arm codes {unknown} are not arms of the study "
                             f"({study.source}: {[a.armcd for a in study.arms]})")
    return labels


def reconcile(ard: pd.DataFrame, reference: Reference, study: Study) -> pd.DataFrame:
    """One line per reference cell: where it is, the reference and ARD values, status and note."""
    labels = arm_labels(reference, study)
    cells = ArdCells(ard)
    lines = []
    for cell in reference.cells:
        ours = cells.printed(cell.output, cell.row, labels.get(cell.arm, ""), cell.stat, cell.level)
        status, note = cell_status(cell, ours)
        name = " ".join(part for part in (cell.arm, cell.stat, cell.level) if part)
        lines.append({"table": cell.label, "row": cell.row, "cell": name, "published": cell.value,
                      "ours": "" if ours is None else ours, "status": status, "note": note,
                      "output_id": cell.output, "arm": cell.arm, "stat": cell.stat, "level": cell.level,
                      "tolerance": "" if cell.tolerance is None else f"{cell.tolerance:g}"})
    return pd.DataFrame(lines, columns=COLUMNS)


def real_differences(table: pd.DataFrame) -> int:
    """Number of cells that differ from the reference or are missing from the ARD."""
    return int(table["status"].isin(REAL_DIFFERENCES).sum())
