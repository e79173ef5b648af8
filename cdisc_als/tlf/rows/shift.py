"""Shift rows: subjects by baseline category and category at each post-baseline visit, per arm (e.g.
the King's or MiToS stage at baseline against the stage at each visit, death being a stage).

A shift table prints its own columns: one per level of the category at the visit, then Missing and
Total; its lines are visit > arm (N) > baseline level, each cell n (% of the baseline row).

variable:     the category at the visit (default AVAL)
baseline:     the baseline category on the records (default BASE): a subject's first non-missing value
visit:        the visit number variable (default AVISITN)
visit_label:  the visit heading, a template of the records' variables (default "{AVISIT}" when the
              dataset has AVISIT, else the visit number)
visits:       the visit numbers tabulated (default: the visits after the baseline visit: above the
              largest visit number of the records flagged ABLFL = Y, or every visit without ABLFL)
levels:       the categories, as in categorical rows (values or {value, label}; `data`; `codelist`)
percent:      `row` (% of the baseline row's subjects, the default) or `none`
label_header: the text above the row labels (default "Visit / arm / baseline")

Every subject of the population is counted once per visit: without a record at the visit in the
Missing column, without a baseline in the Missing row, so each arm's block adds up to its N. A value
outside the listed levels becomes a level of its own (reported); a subject with more than one record
at a visit is reported and its first record counts. The ARD holds the whole matrix (zeros included);
the table prints the baseline rows that have subjects (all of them in a shell).
"""

from __future__ import annotations

import pandas as pd

from cdisc_als.columnar import map_distinct
from cdisc_als.stats.stages import MISSING, stage_shift
from cdisc_als.tlf.ard import decimals_fmt
from cdisc_als.tlf.context import SUBJECT
from cdisc_als.tlf.filters import number_text, number_texts
from cdisc_als.tlf.rows import PLACEHOLDER, LayoutContext, LayoutLine, RowContext, RowType, fill, row_type
from cdisc_als.tlf.rows.categorical import levels_of

TOTAL_COLUMN = "Total"
VISIT_LABEL_DEFAULT = "{AVISIT}"


def _names(row: dict) -> tuple[str, str, str]:
    return row.get("variable", "AVAL"), row.get("baseline", "BASE"), row.get("visit", "AVISITN")


def _visit_label(row: dict) -> str:
    return str(row.get("visit_label", VISIT_LABEL_DEFAULT))


def _text(values: pd.Series) -> pd.Series:
    """Values as level texts ('1' for 1.0), missing as None."""
    text = pd.Series(map_distinct(values, lambda v: str("" if v is None else number_text(v)).strip()),
                     index=values.index, dtype=object, name=values.name)
    return text.where(text != "", None)


def _visits(ctx: RowContext, visit: str) -> list[str]:
    if "visits" in ctx.row:
        return [number_text(v) for v in ctx.row["visits"]]
    if ctx.mock or visit not in ctx.data:
        return ["<visit>"]
    numbers = pd.to_numeric(ctx.data[visit], errors="coerce")
    after = numbers.notna()
    if "ABLFL" in ctx.data and (ctx.data["ABLFL"] == "Y").any():
        after &= numbers > numbers[ctx.data["ABLFL"] == "Y"].max()
    return [number_text(v) for v in sorted(set(numbers[after]))]


def _levels(ctx: RowContext, variable: str, baseline: str) -> list[tuple[str, str]]:
    levels = levels_of(ctx.study, ctx.dataset, ctx.data, dict(ctx.row, variable=variable))
    if ctx.mock:
        return levels or [("<level>", "<level>")]
    known = {value for value, _ in levels}
    found = set()
    for column in (variable, baseline):
        if column in ctx.data:
            found |= set(_text(ctx.data[column]).dropna())
    extra = sorted(found - known, key=lambda v: (pd.to_numeric(v, errors="coerce"), v))
    if extra:
        ctx.finding("TLF-SHIFT-LEVEL", f"value(s) {', '.join(extra)} of {variable}/{baseline} are not among the "
                                       f"listed levels: added as levels of their own", variable, extra[0])
    return levels + [(v, ctx.study.decode(ctx.dataset, variable, v)) for v in extra]


def _at_visit(ctx: RowContext, visit_texts: pd.Series | None, number: str, variable: str) -> pd.DataFrame:
    """One record per subject at the visit (the first when there are several; reported); `visit_texts`:
    number_texts of the visit variable (None when the data lack it)."""
    part = ctx.data[visit_texts == number] if visit_texts is not None else ctx.data.iloc[0:0]
    repeated = part[SUBJECT].duplicated() if SUBJECT in part else pd.Series(False, index=part.index)
    if repeated.any():
        ctx.finding("TLF-SHIFT-DUPLICATE", f"{int(repeated.sum())} subject(s) have more than one record at visit "
                                           f"{number}: the first counts", variable,
                    ", ".join(map(str, part.loc[repeated, SUBJECT].head(5))))
    return part[~repeated]


def _compute(ctx: RowContext) -> None:
    variable, baseline, visit = _names(ctx.row)
    levels = _levels(ctx, variable, baseline)
    values = [v for v, _ in levels]
    pct_fmt = decimals_fmt(int(ctx.option("percent_decimals", 1))) + "%"
    for value, label in levels:
        ctx.add("label", label, "text", variable=variable, level=value, label="Level")
    subjects = ctx.subjects[[SUBJECT, ctx.treatment]].drop_duplicates(SUBJECT) if SUBJECT in ctx.subjects \
        else pd.DataFrame({SUBJECT: [], ctx.treatment: []})
    subjects = subjects.assign(_ARM=subjects[ctx.treatment].map(number_text))
    base = pd.Series(dtype=object)
    if not ctx.mock and baseline in ctx.data:
        known = ctx.data.assign(_B=_text(ctx.data[baseline])).dropna(subset=["_B"])
        base = known.drop_duplicates(SUBJECT).set_index(SUBJECT)["_B"]
    template = _visit_label(ctx.row)
    visit_texts = number_texts(ctx.data[visit]) if visit in ctx.data and not ctx.mock else None
    for number in _visits(ctx, visit):
        records = _at_visit(ctx, visit_texts, number, variable) if not ctx.mock else ctx.data
        heading = _heading(template, records, visit, number)
        ctx.add("label", heading, "text", variable=visit, level=number, label="Visit")
        value = records.assign(_V=_text(records[variable])).set_index(SUBJECT)["_V"] if len(records) else \
            pd.Series(dtype=object)
        frame = subjects.assign(_B=subjects[SUBJECT].map(base), _V=subjects[SUBJECT].map(value))
        counts = stage_shift(frame, "_ARM", "_B", "_V", values) if len(frame) else pd.DataFrame(
            columns=["_ARM", "_B", "_V", "N", "N_BASE", "PCT"])
        cells = {(a, b, v): int(n) for a, b, v, n in counts[["_ARM", "_B", "_V", "N"]].itertuples(index=False)}
        row_totals = {(a, b): int(n) for a, b, n in counts[["_ARM", "_B", "N_BASE"]].itertuples(index=False)}
        for arm in (a.arm for a in ctx.arms):
            scope = {"arm": arm, "group2": visit, "group2_level": number}
            ctx.add("N", int((subjects["_ARM"] == arm).sum()), "xx", variable=variable, **scope)
            for base_level in [*values, MISSING]:
                row_keys = dict(scope, group3=baseline, group3_level=base_level)
                row_total = row_totals.get((arm, base_level), 0)
                ctx.add("N", row_total, "xx", variable=variable, **row_keys)
                for level in [*values, MISSING]:
                    n = cells.get((arm, base_level, level), 0)
                    ctx.add("n", n, "xx", variable=variable, level=level, **row_keys)
                    ctx.add("pct", 100.0 * n / row_total if row_total else None, pct_fmt, variable=variable,
                            level=level, warning="" if row_total else "no subject in the baseline row", **row_keys)


def _heading(template: str, records: pd.DataFrame, visit: str, number: str) -> str:
    names = PLACEHOLDER.findall(template)
    if not len(records) or any(n not in records for n in names):
        return f"Visit {number}"
    first = records.iloc[0]
    return PLACEHOLDER.sub(lambda m: number_text(first[m.group(1)]).strip(), template)


def _headers(row: dict, ard: pd.DataFrame) -> tuple[str, list[str]]:
    variable, _, _ = _names(row)
    labels = ard[(ard["stat_name"] == "label") & (ard["variable"] == variable)]
    return (str(row.get("label_header", "Visit / arm / baseline")),
            [*labels["stat_fmt"].astype(str), MISSING, TOTAL_COLUMN])


def _layout(lay: LayoutContext) -> None:
    variable, baseline, visit = _names(lay.row)
    ard = lay.ard
    labels = ard[(ard["stat_name"] == "label") & (ard["variable"] == variable)]
    levels = [*labels["variable_level"].astype(str), MISSING]
    names = dict(zip(labels["variable_level"].astype(str), labels["stat_fmt"].astype(str), strict=True))
    totals = ard[(ard["stat_name"] == "N") & (ard["group3"] == baseline)]
    shell = totals["stat"].isna().all()
    counted = pd.to_numeric(totals["stat"], errors="coerce").groupby(totals["group3_level"].astype(str)).sum()
    rows = [b for b in levels if shell or counted.get(b, 0) > 0]
    show_pct = lay.row.get("percent", "row") != "none"
    visits = ard[(ard["stat_name"] == "label") & (ard["variable"] == visit) & (ard["group2"] == "")]
    lay.lines.append(LayoutLine(lay.label, lay.indent, [""] * (len(levels) + 1), group=True))
    for number, heading in zip(visits["variable_level"].astype(str), visits["stat_fmt"].astype(str), strict=True):
        lay.lines.append(LayoutLine(heading, lay.indent + 1, [""] * (len(levels) + 1), group=True))
        for arm in lay.columns:
            keys = {"variable": variable, "group2_level": number}
            big_n = lay.value("N", arm, **keys)
            lay.lines.append(LayoutLine(f"{arm} (N = {big_n})", lay.indent + 2, [""] * (len(levels) + 1),
                                        group=True))
            for base_level in rows:
                at = dict(keys, group3_level=base_level)
                cells = [_cell(lay, arm, at, level, show_pct) for level in levels]
                cells.append(lay.value("N", arm, **at))
                label = MISSING if base_level == MISSING else names.get(base_level, base_level)
                lay.lines.append(LayoutLine(label, lay.indent + 3, cells))


def _cell(lay: LayoutContext, arm: str, keys: dict, level: str, show_pct: bool) -> str:
    n = lay.value("n", arm, level=level, **keys)
    if not show_pct or n == "0":
        return n
    return fill("{n} ({pct}%)", lambda s: lay.value(s, arm, level=level, **keys))


def _check(row: dict) -> list[str]:
    problems = []
    if row.get("subgroup"):
        problems.append("a shift row cannot have a 'subgroup' (its groups are the visits and baseline levels)")
    if "visits" in row and (not isinstance(row["visits"], list) or not row["visits"]):
        problems.append("'visits' must be a non-empty list of visit numbers")
    if row.get("percent", "row") not in ("row", "none"):
        problems.append(f"'percent' must be row or none, got {row['percent']!r}")
    return problems


row_type(RowType(
    name="shift",
    keys=frozenset({"variable", "baseline", "visit", "visit_label", "visits", "levels", "percent", "percent_decimals",
                    "label_header"}),
    required=(), statistics=frozenset(), compute=_compute, layout=_layout,
    variables=lambda row: [*_names(row), SUBJECT, *(
        n for n in PLACEHOLDER.findall(_visit_label(row)) if "visit_label" in row)],
    context="categorical", custom_columns=True, check=_check, headers=_headers))
