"""Categorical rows: subjects per level (n, %) per column, an optional Missing row, and Pearson
chi-square / Fisher / Freeman-Halton between the arms.

levels:   omitted or `data` (the values present, in the order of the numeric companion, else the
          codelist, else as text), `codelist` (every term of the variable's codelist, zeros shown),
          or an explicit list of values or {value, label}.
labels:   the explicit label, else the codelist decode (mappings/codelists.yaml), else the value.
percent:  of the column N (`N`, the default), of the subjects with a value (`nonmissing`), or `none`.
missing:  true adds a "Missing" row: subjects of the population without a value.
Subjects are counted once per level (distinct USUBJID). The test uses the table of the printed
levels; when they do not cover every counted subject (e.g. a responder row showing only "Y"), the
rest forms one more category, so "Y" is tested against "not Y".
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cdisc_als.stats.tests import chi2_or_fisher
from cdisc_als.tlf.ard import decimals_fmt
from cdisc_als.tlf.context import SUBJECT
from cdisc_als.tlf.filters import number_text, number_texts
from cdisc_als.tlf.rows import LayoutContext, RowContext, RowType, display_lines, row_type

MISSING = "Missing"


def levels_of(ctx_study, dataset: str, frame: pd.DataFrame, row: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, label) of every level the row prints."""
    variable = row["variable"]
    spec = row.get("levels", "data")
    if spec == "codelist":
        codelist = ctx_study.codelist(dataset, variable)
        values = list(codelist.values) if codelist is not None else []
    elif spec == "data":
        values = ctx_study.ordered_levels(frame, dataset, variable) if variable in frame else []
    else:
        values = []
        labels = {}
        for item in spec:
            value = number_text(item["value"]) if isinstance(item, dict) else number_text(item)
            values.append(value)
            if isinstance(item, dict) and item.get("label"):
                labels[value] = str(item["label"])
        return [(v, labels.get(v) or ctx_study.decode(dataset, variable, v)) for v in values]
    return [(v, ctx_study.decode(dataset, variable, v)) for v in values]


def _subjects_with(frame: pd.DataFrame, mask) -> set:
    rows = frame[mask]
    return set(rows[SUBJECT]) if SUBJECT in rows else set(rows.index)


def _compute(ctx: RowContext) -> None:
    variable = ctx.row["variable"]
    levels = levels_of(ctx.study, ctx.dataset, ctx.data, ctx.row)
    if ctx.mock and not levels:
        levels = [("<level>", "<level>")]
    percent = ctx.option("percent", "N")
    pct_fmt = decimals_fmt(int(ctx.option("percent_decimals", 1))) + "%"
    text = number_texts(ctx.data[variable]).str.strip() if variable in ctx.data else pd.Series(dtype=str)
    counts: dict[str, list[int]] = {}
    for column in ctx.columns:
        part = ctx.in_column(ctx.data, column)
        values = text.loc[part.index]
        denominator_subjects = set(ctx.in_column(ctx.subjects, column)[SUBJECT]) if SUBJECT in ctx.subjects else set()
        big_n = len(denominator_subjects) if denominator_subjects else len(part)
        with_value = _subjects_with(part, values != "")
        missing = max(big_n - len(with_value & denominator_subjects if denominator_subjects else with_value), 0)
        base = {"N": big_n, "nonmissing": big_n - missing}.get(percent)
        ctx.add("N", big_n, "xx", arm=column, variable=variable)
        row_counts = []
        for value, _label in levels:
            n = len(_subjects_with(part, values == value))
            row_counts.append(n)
            ctx.add("n", n, "xx", arm=column, variable=variable, level=value)
            if base is not None:
                ctx.add("pct", 100.0 * n / base if base else None, pct_fmt, arm=column, variable=variable, level=value,
                        warning="" if base else "denominator is 0")
        if ctx.row.get("missing"):
            ctx.add("n", missing, "xx", arm=column, variable=variable, level=MISSING)
            if percent == "N":
                ctx.add("pct", 100.0 * missing / big_n if big_n else None, pct_fmt, arm=column, variable=variable,
                        level=MISSING, warning="" if big_n else "denominator is 0")
        elif missing and column != "Total":
            ctx.finding("TLF-MISSING", f"{missing} subject(s) of {column} have no {variable} and are in no row "
                                       f"(add `missing: true` to show them)", variable)
        explicit = isinstance(ctx.row.get("levels"), list) and percent == "N"
        counted = big_n if explicit else len(with_value)
        counts[column] = row_counts + [max(counted - sum(row_counts), 0)]
    _test(ctx, variable, counts)


def _test(ctx: RowContext, variable: str, counts: dict[str, list[int]]) -> None:
    arms = [a.arm for a in ctx.arms]
    if ctx.option("test", "auto") == "none" or len(arms) < 2:
        return
    table = [list(col) for col in zip(*(counts[a] for a in arms), strict=True)]
    res = chi2_or_fisher(table)
    ctx.add("pvalue", res.p, "p.xxx", variable=variable, warning=res.note)
    ctx.add("method", {"pearson": "Pearson chi-square", "fisher": "Fisher's exact test",
                       "freeman-halton": "Freeman-Halton exact test",
                       "pearson-approximate": "Pearson chi-square (approximate)",
                       "none": "not computed"}[res.method], "text", variable=variable, warning=res.note)


def _layout(lay: LayoutContext) -> None:
    variable = lay.row["variable"]
    show_pct = lay.row.get("percent", lay.output.get("percent", "N")) != "none"
    template = display_lines(lay.row, [("", "{n} ({pct}%)" if show_pct else "{n}")])[0][1]
    levels = [lv for lv in dict.fromkeys(lay.ard.loc[(lay.ard["stat_name"] == "n")
                                                     & (lay.ard["group2_level"] == lay.group2_level),
                                                     "variable_level"])]
    test = lay.between("{pvalue}", variable=variable)
    if len(levels) == 1 and levels[0] != MISSING:
        lay.line(lay.label, lay.indent, lay.cells(template, variable=variable, level=levels[0]), test=test)
        return
    lay.line(lay.label, lay.indent, [""] * len(lay.columns), test=test, group=True)
    labels = dict(zip(lay.ard["variable_level"], lay.ard["variable_level"], strict=False))
    explicit = lay.row.get("levels")
    if isinstance(explicit, list):
        for item in explicit:
            if isinstance(item, dict) and item.get("label"):
                labels[number_text(item["value"])] = str(item["label"])
    for level in levels:
        label = MISSING if level == MISSING else (labels[level] if labels[level] != level else lay.decode(variable, level))
        missing_template = template if level != MISSING or "pct" not in template or lay.value(
            "pct", lay.columns[0], variable=variable, level=level) else "{n}"
        lay.line(label, lay.indent + 1, lay.cells(missing_template, variable=variable, level=level))


row_type(RowType(
    name="categorical", keys=frozenset({"variable", "levels", "missing", "percent", "percent_decimals", "test"}),
    required=("variable",), statistics=frozenset(), compute=_compute, layout=_layout,
    variables=lambda row: [row["variable"]], context="categorical"))

