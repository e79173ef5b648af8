"""Hierarchical counts (e.g. adverse events by system organ class and preferred term): subjects
n (%) of the column N and events, for any record and per term, optionally by severity or
relationship.

terms:  0 to 2 variables, outer first ([AEBODSYS, AEDECOD]); none gives the "any record" line only.
count:  [subjects, events] (default both), or one of them.
by:     a grading variable (AESEV, AEREL): a subject is counted once per term, at the highest grade
        it had, in the order `by_levels` lists (default: the data's order); events at every grade.
sort:   `frequency` (most subjects over all columns first, then alphabetical) or `alphabetical`.
test:   `auto` tests subjects with any record against those without (chi-square / Fisher) on the
        first line; `none` leaves it out.
ARD: the any line has variable 'ANY'; a term line has variable = the term variable and
variable_level = the term, with the outer term in group3 (SOC above a PT) and the grade in group2.
"""

from __future__ import annotations

import pandas as pd

from cdisc_als.stats.tests import chi2_or_fisher
from cdisc_als.tlf.ard import decimals_fmt
from cdisc_als.tlf.context import SUBJECT
from cdisc_als.tlf.filters import number_text, number_texts
from cdisc_als.tlf.rows import LayoutContext, RowContext, RowType, row_type

ANY = "ANY"


def _grades(ctx: RowContext) -> list[str]:
    by = ctx.row.get("by")
    if not by:
        return []
    if ctx.row.get("by_levels"):
        return [number_text(v) for v in ctx.row["by_levels"]]
    return ctx.study.ordered_levels(ctx.data, ctx.dataset, by)


def _term_groups(ctx: RowContext) -> list[tuple[str, str, str, pd.DataFrame]]:
    """(variable, term, outer term, records) of every printed term line, in print order."""
    terms = ctx.row.get("terms", [])
    data = ctx.data
    if ctx.mock:
        return [(t, f"<{t}>", "" if k == 0 else f"<{terms[0]}>", data.iloc[0:0]) for k, t in enumerate(terms)]
    frequency = ctx.row.get("sort", "frequency") == "frequency"

    def ordered(frame: pd.DataFrame, variable: str):
        groups = [(number_text(k), part) for k, part in frame.groupby(variable, sort=False)
                  if number_text(k).strip()]
        key = (lambda kv: (-kv[1][SUBJECT].nunique(), kv[0].upper())) if frequency else (lambda kv: kv[0].upper())
        return sorted(groups, key=key)

    out = []
    if not terms:
        return out
    for outer, part in ordered(data, terms[0]):
        out.append((terms[0], outer, "", part))
        if len(terms) > 1:
            for inner, sub in ordered(part, terms[1]):
                out.append((terms[1], inner, outer, sub))
    return out


def _counts(ctx: RowContext, records: pd.DataFrame, variable: str, level: str, outer: str, grades: list[str]) -> None:
    count = ctx.row.get("count", ["subjects", "events"])
    pct_fmt = decimals_fmt(int(ctx.option("percent_decimals", 1))) + "%"
    by = ctx.row.get("by")
    keys = {"variable": variable, "level": level}
    if outer:
        keys.update(group3=ctx.row["terms"][0], group3_level=outer)
    for column in ctx.columns:
        part = ctx.in_column(records, column)
        big_n = ctx.population_n(column)
        slices = [("", part)]
        if by:
            rank = {g: k for k, g in enumerate(grades)}
            worst = part.assign(_rank=number_texts(part[by]).map(rank)).sort_values("_rank").drop_duplicates(
                SUBJECT, keep="last")
            slices = [(g, part[number_texts(part[by]) == g], worst[number_texts(worst[by]) == g]) for g in grades]
            slices = [("", part, part)] + slices
        else:
            slices = [("", part, part)]
        for grade, events, subjects in slices:
            grade_keys = dict(keys, group2=by, group2_level=grade) if grade else keys
            n = int(subjects[SUBJECT].nunique())
            if "subjects" in count:
                ctx.add("n", n, "xx", arm=column, **grade_keys)
                ctx.add("pct", 100.0 * n / big_n if big_n else None, pct_fmt, arm=column, **grade_keys,
                        warning="" if big_n else "denominator is 0")
            if "events" in count:
                ctx.add("events", len(events), "xx", arm=column, **grade_keys)


def _compute(ctx: RowContext) -> None:
    grades = _grades(ctx)
    for column in ctx.columns:
        ctx.add("N", ctx.population_n(column), "xx", arm=column, variable=ANY)
    _counts(ctx, ctx.data, ANY, "", "", grades)
    arms = [a.arm for a in ctx.arms]
    if ctx.option("test", "auto") != "none" and len(arms) >= 2:
        with_record = [ctx.in_column(ctx.data, a)[SUBJECT].nunique() for a in arms]
        table = [with_record, [ctx.population_n(a) - n for a, n in zip(arms, with_record, strict=True)]]
        res = chi2_or_fisher(table)
        ctx.add("pvalue", res.p, "p.xxx", variable=ANY, warning=res.note)
    for variable, term, outer, records in _term_groups(ctx):
        _counts(ctx, records, variable, term, outer, grades)


def _cell_template(row: dict) -> str:
    count = row.get("count", ["subjects", "events"])
    if count == ["events"]:
        return "{events}"
    return "{n} ({pct}%)" + ("; {events}" if "events" in count else "")


def _layout(lay: LayoutContext) -> None:
    template = _cell_template(lay.row)
    by = lay.row.get("by")
    grades = [g for g in dict.fromkeys(lay.ard["group2_level"]) if g] if by else []
    terms = lay.row.get("terms", [])

    def block(label: str, indent: int, test: str = "", **keys: str) -> None:
        lay.line(label, indent, lay.cells(template, group2_level="", **keys), test=test, group=bool(grades))
        for grade in grades:
            lay.line(lay.decode(by, grade), indent + 1, lay.cells(template, group2_level=grade, **keys))

    block(lay.label, lay.indent, lay.between("{pvalue}", variable=ANY), variable=ANY)
    lines = lay.ard[(lay.ard["stat_name"] == ("events" if template == "{events}" else "n"))
                    & (lay.ard["variable"] != ANY) & (lay.ard["group2_level"] == "")]
    for (variable, level, outer), _ in lines.groupby(["variable", "variable_level", "group3_level"], sort=False):
        indent = lay.indent + (1 if variable == terms[0] else 2)
        block(level, indent, variable=variable, level=level, group3_level=outer)


row_type(RowType(
    name="hierarchical", keys=frozenset({"terms", "count", "by", "by_levels", "sort", "test", "percent_decimals"}),
    required=(), statistics=frozenset(), compute=_compute, layout=_layout,
    variables=lambda row: [*row.get("terms", []), *([row["by"]] if row.get("by") else []), SUBJECT],
    context="hierarchical"))
