"""Reference outputs: numbers a study's outputs are expected to print (e.g. a paper's published tables).

A reference file (YAML, e.g. mappings/reference/oh2018.yaml) lists cells by catalogue output id,
row id, arm code (study.yaml armcd; none for between-arm statistics), ARD statistic name and,
for categorical rows, level; each holds the value as printed, an optional tolerance (a value within
it is "approximate") and an optional note (a known inconsistency of the reference). The
reconciliation (cdisc_als.tlf.reconcile) compares the ARD with it; the calibrated simulator takes
its search targets from it. Every problem in the file is reported at once, naming the key path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CELL_KEYS = {"row", "arm", "stat", "level", "value", "tolerance", "note"}
OUTPUT_KEYS = {"label", "cells"}
TOP_KEYS = {"title", "outputs"}


class ReferenceError(ValueError):
    """The reference file cannot be read or holds invalid cells (all problems in one message)."""


@dataclass(frozen=True)
class ReferenceCell:
    output: str
    label: str
    row: str
    arm: str                   # arm code; "" for between-arm statistics
    stat: str
    level: str                 # ARD variable_level; "" when the row has none
    value: str                 # as printed
    tolerance: float | None = None
    note: str = ""             # known inconsistency of the reference

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.output, self.row, self.arm, self.stat, self.level)

    @property
    def decimals(self) -> int:
        """Decimals of the printed value ("-1.55" -> 2, "24" -> 0)."""
        return len(self.value.split(".")[1]) if "." in self.value else 0


@dataclass(frozen=True)
class Reference:
    title: str
    source: Path
    cells: tuple[ReferenceCell, ...]

    def cell(self, output: str, row: str, stat: str, arm: str = "", level: str = "") -> ReferenceCell:
        for cell in self.cells:
            if cell.key == (output, row, arm, stat, level):
                return cell
        raise KeyError(f"{self.source}: no cell output {output}, row {row}, arm {arm or '-'}, stat {stat}"
                       + (f", level {level}" if level else ""))

    def value(self, output: str, row: str, stat: str, arm: str = "", level: str = "") -> str:
        """The printed value of one cell (KeyError naming the cell when the file has none)."""
        return self.cell(output, row, stat, arm, level).value

    def output_cells(self, output: str) -> list[ReferenceCell]:
        """The cells of one output, in file order."""
        return [cell for cell in self.cells if cell.output == output]

    @property
    def arm_codes(self) -> list[str]:
        """Arm codes the cells name, in order of first appearance."""
        return list(dict.fromkeys(cell.arm for cell in self.cells if cell.arm))


def _text(node: dict[str, Any], key: str, where: str, problems: list[str], required: bool = False) -> str:
    value = node.get(key)
    if value is None:
        if required:
            problems.append(f"{where}: missing key '{key}'")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.append(f"{where}.{key}: {value!r} must be text")
        return ""
    return str(value)


def _cell(node: Any, output: str, label: str, where: str, problems: list[str]) -> ReferenceCell | None:
    if not isinstance(node, dict):
        problems.append(f"{where}: a cell must be a mapping of {sorted(CELL_KEYS)}")
        return None
    for key in sorted(set(node) - CELL_KEYS):
        problems.append(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(CELL_KEYS))})")
    value = node.get("value")
    if isinstance(value, float):
        problems.append(f"{where}.value: {value!r} is a number; write the printed value in quotes "
                        f"(\"{value}\") so that trailing zeros survive")
        value = None
    elif value is None:
        problems.append(f"{where}: missing key 'value'")
    elif isinstance(value, bool) or not isinstance(value, str | int):
        problems.append(f"{where}.value: {value!r} must be the printed text")
        value = None
    tolerance = node.get("tolerance")
    if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(tolerance, int | float)
                                  or tolerance < 0):
        problems.append(f"{where}.tolerance: {tolerance!r} must be a number >= 0")
        tolerance = None
    row = _text(node, "row", where, problems, required=True)
    stat = _text(node, "stat", where, problems, required=True)
    arm, level, note = (_text(node, key, where, problems) for key in ("arm", "level", "note"))
    if value is None or not row or not stat:
        return None
    return ReferenceCell(output, label, row, arm, stat, level, str(value),
                         None if tolerance is None else float(tolerance), note)


def load_reference(path: str | Path) -> Reference:
    """Read and check a reference file; ReferenceError lists every problem with its key path."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReferenceError(f"{path}: reference file not found") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReferenceError(f"{path}: not a readable YAML file: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("outputs"), dict):
        raise ReferenceError(f"{path}: needs a mapping 'outputs: <output id>: {{label, cells}}'")
    problems = [f"{path}: unknown key '{key}' (allowed: {', '.join(sorted(TOP_KEYS))})"
                for key in sorted(set(doc) - TOP_KEYS)]
    cells: list[ReferenceCell] = []
    for output, spec in doc["outputs"].items():
        where = f"{path}: outputs.{output}"
        if not isinstance(spec, dict) or not isinstance(spec.get("cells"), list):
            problems.append(f"{where}: needs a list 'cells'")
            continue
        problems += [f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(OUTPUT_KEYS))})"
                     for key in sorted(set(spec) - OUTPUT_KEYS)]
        label = str(spec.get("label") or output)
        for i, node in enumerate(spec["cells"]):
            cell = _cell(node, str(output), label, f"{where}.cells[{i}]", problems)
            if cell is not None:
                cells.append(cell)
    seen: set[tuple[str, ...]] = set()
    for cell in cells:
        if cell.key in seen:
            problems.append(f"{path}: outputs.{cell.output}: cell row {cell.row}, arm {cell.arm or '-'}, "
                            f"stat {cell.stat}{', level ' + cell.level if cell.level else ''} is listed twice")
        seen.add(cell.key)
    if problems:
        raise ReferenceError("\n".join(problems))
    return Reference(str(doc.get("title") or path.stem), path, tuple(cells))
