"""The printed form of an output, from its ARD and catalogue entry only: title block (number, title,
population), column headers with (N = n), body lines (label, indent, cells), footnotes. Every
renderer (RTF, HTML, XLSX) prints layouts; a mock shell is the layout of a placeholder ARD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cdisc_als.tlf.ard import NOT_ESTIMABLE, TOTAL
from cdisc_als.tlf.filters import condition_columns, number_texts, to_condition
from cdisc_als.tlf.rows import LayoutContext, LayoutLine, load_row_types


@dataclass
class Layout:
    output_id: str
    title: str
    columns: list[str]                       # headers of the columns after the label column
    rows: list[LayoutLine] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    number: str = ""
    population: str = ""
    kind: str = "table"                      # table, listing or figure
    label_header: str = ""
    numeric: list[bool] = field(default_factory=list)   # per column: align numbers on the decimal point
    image: bytes | None = None               # PNG of a figure
    image_size: tuple[float, float] = (0.0, 0.0)   # inches

    @property
    def heading(self) -> str:
        return f"{self.number} {self.title}".strip() if self.number else self.title


def population_text(output: dict[str, Any], data=None) -> str:
    """The population line: `population_label`, else the label of a single population flag ('Y')
    without its trailing 'Flag' ('Intent-To-Treat Population')."""
    if output.get("population_label"):
        return str(output["population_label"])
    cond = to_condition(output.get("population"), "")
    flags = sorted(condition_columns(cond))
    if data is None or len(flags) != 1 or not cond or cond.get("equals") != "Y":
        return ""
    label = data.label(output["dataset"], flags[0])
    return label[:-5].strip() if label.lower().endswith(" flag") else label


def _header(ard: pd.DataFrame, column: str, shell: bool) -> str:
    if shell:
        return f"{column}\n(N = xx)"
    hit = ard[(ard["row_id"] == "POPULATION") & (ard["stat_name"] == "N") & (ard["group1_level"] == column)]
    return f"{column}\n(N = {hit['stat_fmt'].iloc[0]})" if len(hit) else column


def _automatic_notes(ard: pd.DataFrame, lines: list[LayoutLine]) -> list[str]:
    notes = []
    approximate = ard.loc[(ard["stat_name"] == "method") & ard["warning"].astype(str).str.contains("approximation"),
                          "warning"]
    notes += sorted(set(approximate.astype(str)))
    printed = any(re.search(rf"\b{NOT_ESTIMABLE}\b", cell) for line in lines for cell in line.cells)
    if printed:                          # an NE of the ARD that no cell prints (0 of 0 %) needs no note
        notes.append("NE: not estimable (the ARD's warning column gives the reason).")
    errors = ard.loc[ard["error"].astype(str) != "", "error"]
    notes += [f"Not computed: {e}" for e in sorted(set(errors.astype(str)))]
    return notes


def build_layout(output: dict[str, Any], ard: pd.DataFrame, data=None, shell: bool = False) -> Layout:
    """The printed table of a catalogue table output from its ARD."""
    types = load_row_types()
    rows = output["rows"]
    first = types[rows[0]["type"]]
    custom = first.custom_columns
    arm_columns = list(dict.fromkeys(ard.loc[(ard["row_id"] == "POPULATION") & (ard["stat_name"] == "N"),
                                             "group1_level"]))
    n_arms = len([c for c in arm_columns if c != TOTAL])
    difference = bool(output.get("difference")) and n_arms == 2 and not custom
    test = bool(output.get("test_column", n_arms >= 2)) and not custom
    label_header = ""
    if custom:
        if output.get("columns") or first.headers is None:
            headers = list(output["columns"])
        else:
            label_header, headers = first.headers(rows[0], ard[ard["row_id"] == rows[0]["id"]])
    else:
        headers = [_header(ard, c, shell) for c in arm_columns]
        headers += [str(output.get("difference_label", "Difference\n(SE, 95% CI)"))] if difference else []
        headers += [str(output.get("test_label", "p-value"))] if test else []
    layout = Layout(output["id"], str(output["title"]), headers, number=str(output.get("number", "")),
                    population=population_text(output, data), label_header=label_header)
    dataset = output["dataset"]
    for row in rows:
        part = ard[ard["row_id"] == row["id"]]
        kind = types[row["type"]]
        lay = LayoutContext(output, row, part, arm_columns, difference, test, data, row.get("dataset", dataset))
        if row.get("subgroup"):
            var = row["subgroup"]
            levels = part[(part["stat_name"] == "label") & (part["group2"] == var)]
            lay.line(lay.label, 0, [""] * len(arm_columns), group=True)
            for level, label in zip(levels["group2_level"], levels["stat"], strict=True):
                sub = LayoutContext(output, row, part, arm_columns, difference, test, data, lay.dataset,
                                    group2_level=str(level), label=str(label), indent=1)
                kind.layout(sub)
                lay.lines += sub.lines
        else:
            kind.layout(lay)
        layout.rows += lay.lines
    layout.numeric = [True] * len(headers)
    layout.footnotes = [str(f) for f in output.get("footnotes", [])] + ([] if shell else _automatic_notes(ard, layout.rows))
    return layout


def listing_layout(output: dict[str, Any], data) -> Layout:
    """A listing of any dataset: the population's records filtered by `where`, sorted by `sort`, one
    line per record with the `columns` (variable or {variable, label}); numeric dates (SAS date
    format, or a name ending in DT) print as ISO dates."""
    from cdisc_als.tlf.engine import population_subjects

    columns = [c if isinstance(c, dict) else {"variable": c} for c in output["columns"]]
    names = [c["variable"] for c in columns]
    frame = data.frame(output["dataset"], [*names, *output.get("sort", [])])
    if output.get("population"):
        treatment = output.get("treatment", "")
        subjects = population_subjects(dict(output, treatment=treatment or "USUBJID"), data)
        frame = frame[frame["USUBJID"].isin(subjects["USUBJID"])]
    frame = _apply_where(frame, output)
    if output.get("sort"):
        frame = frame.sort_values(list(output["sort"]), kind="stable")
    formats = data.adam[output["dataset"]].attrs.get("formats", {})
    rendered = {name: _listing_text(frame[name], name, formats.get(name, "")) for name in names}
    lines = [LayoutLine(rendered[names[0]].iloc[k], 0, [rendered[n].iloc[k] for n in names[1:]])
             for k in range(len(frame))]
    headers = [str(c.get("label") or data.label(output["dataset"], c["variable"])) for c in columns]
    layout = Layout(output["id"], str(output["title"]), headers[1:], lines, [str(f) for f in output.get("footnotes", [])],
                    number=str(output.get("number", "")), population=population_text(output, data), kind="listing",
                    label_header=headers[0])
    layout.numeric = [False] * len(headers[1:])
    if not lines:
        layout.rows = [LayoutLine("No records.", 0, [""] * len(headers[1:]))]
    return layout


def _apply_where(frame: pd.DataFrame, output: dict[str, Any]) -> pd.DataFrame:
    from cdisc_als.tlf.filters import apply_filter

    return apply_filter(frame, to_condition(output.get("where"), f"output {output['id']}: where"))


EPOCH = pd.Timestamp("1960-01-01")


def _listing_text(values: pd.Series, name: str, fmt: str) -> pd.Series:
    is_date = values.dtype.kind in "fi" and ((fmt or "").upper().startswith(("DATE", "YYMMDD", "E8601DA")) or name.endswith("DT"))
    if is_date:
        return values.map(lambda v: "" if pd.isna(v) else (EPOCH + pd.Timedelta(days=float(v))).strftime("%Y-%m-%d"))
    return number_texts(values).str.strip()
