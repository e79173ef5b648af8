"""Row types of the output catalogue, registered like the validation rules: one module per kind of
analysis, each with its allowed keys and statistics, an ARD builder and a layout.

A row type's `compute(ctx)` records statistics through `ctx.add(...)`; its `layout(lay)` turns the
row's ARD into printed lines through `lay.line(...)`. Neither reads the other's internals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cdisc_als.study import Arm
from cdisc_als.tlf.ard import TOTAL, ArdBuilder
from cdisc_als.tlf.context import SUBJECT, StudyData
from cdisc_als.tlf.filters import number_texts

COMMON_ROW_KEYS = frozenset({"id", "type", "label", "dataset", "where", "display", "subgroup"})


@dataclass(frozen=True)
class RowType:
    name: str
    keys: frozenset[str]                       # allowed keys besides COMMON_ROW_KEYS
    required: tuple[str, ...]
    statistics: frozenset[str]                 # allowed in `stats:`
    compute: Callable[[RowContext], None]
    layout: Callable[[LayoutContext], None]
    variables: Callable[[dict[str, Any]], list[str]]   # variables of the row's dataset it reads
    context: str
    custom_columns: bool = False               # prints its own columns (the output's `columns:`)
    check: Callable[[dict[str, Any]], list[str]] | None = None     # the row's own catalogue problems
    headers: Callable[[dict[str, Any], pd.DataFrame], tuple[str, list[str]]] | None = None
    # ^ a custom-column row's (label header, column headers) from its ARD, when the output has no `columns:`


REGISTRY: dict[str, RowType] = {}


def row_type(row: RowType) -> RowType:
    REGISTRY[row.name] = row
    return row


@dataclass
class RowContext:
    """Everything a row type computes from: the row's records (population and `where` applied), the
    population's subjects with their arm, the columns and the ARD being built."""

    output: dict[str, Any]
    row: dict[str, Any]
    dataset: str
    data: pd.DataFrame
    subjects: pd.DataFrame
    arms: list[Arm]
    columns: list[str]                          # arm labels, then 'Total' when asked for
    treatment: str
    study: StudyData
    ard: ArdBuilder
    group2: str = ""
    group2_level: str = ""
    mock: bool = False

    def add(self, stat_name: str, value: Any, fmt: str, **keys: Any) -> None:
        if self.group2 and "group2" not in keys:
            keys.update(group2=self.group2, group2_level=self.group2_level)
        self.ard.add(stat_name, value, fmt, **keys)

    def in_column(self, frame: pd.DataFrame, column: str) -> pd.DataFrame:
        """Rows of frame in one column: an arm, or every listed arm for 'Total'."""
        labels = [a.arm for a in self.arms] if column == TOTAL else [column]
        if self.treatment not in frame:
            return frame.iloc[0:0]
        return frame[number_texts(frame[self.treatment]).isin(labels)]

    def population_n(self, column: str) -> int:
        part = self.in_column(self.subjects, column)
        return int(part[SUBJECT].nunique()) if SUBJECT in part else len(part)

    def option(self, key: str, default: Any = None) -> Any:
        """A row option, else the output's, else the catalogue default."""
        if key in self.row:
            return self.row[key]
        return self.output.get(key, default)

    def finding(self, rule: str, message: str, column: str = "", value: str = "", severity: str = "warning") -> None:
        from cdisc_als.findings import Finding

        self.study.findings.append(Finding(self.dataset, None, column, value, rule,
                                           f"output {self.output['id']}, row {self.row['id']}: {message}", severity))


PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, lookup: Callable[[str], str]) -> str:
    """Replace every {stat_name} of a display template with the statistic's printed value; a cell
    none of whose statistics exists (e.g. the hazard ratio of the reference arm) is empty."""
    values = {name: lookup(name) for name in PLACEHOLDER.findall(template)}
    if values and not any(values.values()):
        return ""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


@dataclass
class LayoutLine:
    label: str
    indent: int
    cells: list[str]
    group: bool = False                          # a heading line that keeps with the next line


@dataclass
class LayoutContext:
    """A row's ARD indexed for printing, the output's columns and the lines being built."""

    output: dict[str, Any]
    row: dict[str, Any]
    ard: pd.DataFrame
    columns: list[str]
    difference: bool
    test: bool
    study: StudyData | None
    dataset: str
    lines: list[LayoutLine] = field(default_factory=list)
    group2_level: str = ""                       # the subgroup level being printed (rows with `subgroup:`)
    label: str = ""                              # the block's label (the row label, or the subgroup level)
    indent: int = 0

    def __post_init__(self) -> None:
        resolved = self.ard.loc[self.ard["stat_name"] == "row_label", "stat_fmt"]
        self.label = self.label or (str(resolved.iloc[0]) if len(resolved) else str(self.row.get("label", self.row["id"])))
        keys = ["group1_level", "group2_level", "group3_level", "variable", "variable_level", "stat_name"]
        self._index = {tuple(r[:-1]): r[-1] for r in self.ard[[*keys, "stat_fmt"]].astype(str).itertuples(index=False)}

    def value(self, stat: str, column: str = "", variable: str = "", level: str = "", group2_level: str | None = None,
              group3_level: str = "") -> str:
        g2 = self.group2_level if group2_level is None else group2_level
        return self._index.get((column, g2, group3_level, variable, level, stat), "")

    def cells(self, template: str, **keys: str) -> list[str]:
        return [fill(template, lambda s, c=column: self.value(s, c, **keys)) for column in self.columns]

    def between(self, template: str, **keys: str) -> str:
        text = fill(template, lambda s: self.value(s, "", **keys))
        return "" if not text.strip(" (),;to-") else text

    def line(self, label: str, indent: int, cells: list[str], difference: str = "", test: str = "",
             group: bool = False) -> None:
        extra = ([difference] if self.difference else []) + ([test] if self.test else [])
        self.lines.append(LayoutLine(label, indent, cells + extra, group))

    def decode(self, variable: str, value: str) -> str:
        return self.study.decode(self.dataset, variable, value) if self.study is not None else value


def display_lines(row: dict[str, Any], defaults: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (label, template) lines of a row: its `display:` (a template, or {label, format}) or defaults."""
    if "display" not in row:
        return defaults
    lines = []
    for item in row["display"]:
        if isinstance(item, str):
            lines.append(("", item))
        else:
            lines.append((str(item.get("label", "")), str(item["format"])))
    return lines


def emit_block(lay: LayoutContext, label: str, lines: list[tuple[str, str]], indent: int = 0,
               difference: str = "", test: str = "", **keys: str) -> None:
    indent += lay.indent
    """A row block: one line when there is one display line (the row label carries the cells), else a
    heading line and one indented line per display line; the difference and test cells go on the
    first printed line."""
    diff_text = lay.between(difference, **keys) if difference else ""
    test_text = lay.between(test, **keys) if test else ""
    if len(lines) == 1:
        lay.line(label, indent, lay.cells(lines[0][1], **keys), diff_text, test_text)
        return
    lay.line(label, indent, [""] * len(lay.columns), diff_text, test_text, group=True)
    for text, template in lines:
        lay.line(text, indent + 1, lay.cells(template, **keys))


def load_row_types() -> dict[str, RowType]:
    """Import every row-type module (each registers itself) and return the registry."""
    from cdisc_als.tlf.rows import categorical, continuous, hierarchical, models, ranks, shift, survival  # noqa: F401

    return REGISTRY
