"""Model rows: the piecewise linear mixed model, linear regression of one change on another by a
grouping, and paired before/after comparisons per parameter.

mixed_model  time (default AVISITN), knot (0), visits (time values kept), value (AVAL): per arm the
             slope after the knot (estimate, se), before it (lead_estimate, lead_se) and n; between two
             arms the difference, its SE and the t test on n1 + n2 - 2 df. A fit that does not
             converge gives NE with the reason in `error`.
regression   x / y: {where, variable} picked per subject from the row's data; group: {dataset, where,
             variable, levels: [{value, label}]} splits the subjects; min_n (3): n, slope (estimate),
             intercept, R squared and the p of the slope per group.
paired       visits: [first, second] (AVISITN values): per PARAMCD the n, mean and SE at both visits of
             the subjects with both, the paired t of the change and the ROC AUC of second vs first.
The regression and paired rows print their own columns: the output's `columns:` names them.
"""

from __future__ import annotations

import pandas as pd

from cdisc_als.stats.descriptive import summarise
from cdisc_als.stats.models import linear_regression, piecewise_mixed_model, roc_auc, slope_difference
from cdisc_als.stats.tests import paired_t
from cdisc_als.tlf.ard import decimals_fmt
from cdisc_als.tlf.context import SUBJECT
from cdisc_als.tlf.filters import apply_filter, condition_columns, number_text, number_texts, to_condition
from cdisc_als.tlf.rows import LayoutContext, RowContext, RowType, display_lines, emit_block, fill, row_type

SLOPE = "slope after the knot"


def _parameter(data: pd.DataFrame, fallback: str) -> str:
    return "|".join(dict.fromkeys(data["PARAMCD"].astype(str))) if "PARAMCD" in data and len(data) else fallback


def _mixed_compute(ctx: RowContext) -> None:
    row = ctx.row
    time, value = row.get("time", "AVISITN"), row.get("value", "AVAL")
    data = ctx.data
    if "visits" in row:
        data = data[data[time].isin([float(v) for v in row["visits"]])]
    variable = _parameter(data, value)
    dp = int(row.get("decimals", 2))
    frame = data.rename(columns={time: "_TIME"}).assign(_ARM=number_texts(data[ctx.treatment]))
    fits = {f.group: f for f in piecewise_mixed_model(frame, "_ARM", SUBJECT, "_TIME", value,
                                                         knot=float(row.get("knot", 0)))} if len(frame) else {}
    keys = {"variable": variable, "level": SLOPE}
    for arm in ctx.arms:
        fit = fits.get(arm.arm)
        error = "" if fit is None or fit.converged else f"mixed model: {fit.note}"
        warning = "no data" if fit is None else (fit.note if fit.converged else "")
        for stat, val in (("estimate", fit.post if fit else None), ("se", fit.post_se if fit else None),
                          ("lead_estimate", fit.lead if fit else None), ("lead_se", fit.lead_se if fit else None)):
            ctx.add(stat, val, decimals_fmt(dp), arm=arm.arm, warning=warning, error=error, **keys)
        ctx.add("n", fit.n_subjects if fit else 0, "xx", arm=arm.arm, **keys)
        ctx.add("converged", fit is not None and fit.converged, "xx", arm=arm.arm, **keys)
        if fit is not None and not fit.converged:
            ctx.finding("TLF-MODEL", f"the mixed model of {arm.arm} did not converge: {fit.note}", severity="error")
    arms = [a.arm for a in ctx.arms]
    if len(arms) == 2 and all(a in fits and fits[a].converged for a in arms):
        diff = slope_difference(fits[arms[0]], fits[arms[1]])
        ctx.add("diff", diff["diff"], decimals_fmt(dp), **keys)
        ctx.add("diff_se", diff["se"], decimals_fmt(dp), **keys)
        ctx.add("pvalue", diff["p"], "p.xxx", **keys)


def _mixed_layout(lay: LayoutContext) -> None:
    variable = next(iter(lay.ard["variable"]), "")
    lines = display_lines(lay.row, [("", "{estimate} ({se})")])
    emit_block(lay, lay.label, lines, difference="{diff} ({diff_se})", test="{pvalue}", variable=variable,
               level=SLOPE)


row_type(RowType(
    name="mixed_model", keys=frozenset({"time", "knot", "visits", "value", "decimals"}), required=(),
    statistics=frozenset(), compute=_mixed_compute, layout=_mixed_layout,
    variables=lambda row: [row.get("time", "AVISITN"), row.get("value", "AVAL"), SUBJECT], context="mixed_model"))


def group_records(study, dataset: str, spec: dict, where: str) -> pd.DataFrame:
    """The dataset's columns that _per_subject reads for `spec` (USUBJID, its variable and the variables of
    its `where`), so that a large dataset is not decoded whole for them."""
    needed = [SUBJECT, spec["variable"], *condition_columns(to_condition(spec.get("where"), where))]
    return study.frame(dataset, columns=needed)


def _per_subject(data: pd.DataFrame, spec: dict, where: str) -> pd.Series:
    part = apply_filter(data, to_condition(spec.get("where"), where))
    return part.dropna(subset=[spec["variable"]]).drop_duplicates(SUBJECT).set_index(SUBJECT)[spec["variable"]]


def _regression_compute(ctx: RowContext) -> None:
    row = ctx.row
    where = f"output {ctx.output['id']}, row {row['id']}"
    if ctx.mock:
        for item in row["group"].get("levels", []):
            value = number_text(item["value"] if isinstance(item, dict) else item)
            keys = {"variable": _axis_name(row["y"]), "level": _axis_name(row["x"]), "group2": row["group"]["variable"],
                    "group2_level": value}
            for stat, fmt in (("n", "xx"), ("estimate", "xx.xxx"), ("r2", "xx.xxx"), ("pvalue", "p.xxx")):
                ctx.add(stat, None, fmt, **keys)
        return
    x, y = _per_subject(ctx.data, row["x"], where), _per_subject(ctx.data, row["y"], where)
    group = row["group"]
    flags = _per_subject(group_records(ctx.study, group.get("dataset", ctx.dataset), group, where), group, where)
    pair = pd.DataFrame({"x": x, "y": y}).dropna()
    variable, level = _axis_name(row["y"]), _axis_name(row["x"])
    for item in group.get("levels", []):
        value = number_text(item["value"] if isinstance(item, dict) else item)
        members = pair[pair.index.map(lambda s, v=value: number_text(flags.get(s, "")) == v)]
        keys = {"variable": variable, "level": level, "group2": group["variable"], "group2_level": value}
        fit = linear_regression(members["x"], members["y"])
        too_few = "" if fit.n >= int(row.get("min_n", 3)) else f"fewer than {row.get('min_n', 3)} subjects"
        ctx.add("n", fit.n, "xx", **keys)
        for stat, val, fmt in (("estimate", fit.slope, "xx.xxx"), ("intercept", fit.intercept, "xx.xxx"),
                               ("r2", fit.r2, "xx.xxx"), ("pvalue", fit.p, "p.xxx")):
            ctx.add(stat, None if too_few else val, fmt, warning=too_few, **keys)


def _axis_name(spec: dict) -> str:
    where = spec.get("where") or {}
    code = where.get("PARAMCD") if isinstance(where, dict) else None
    return f"{code}.{spec['variable']}" if code else spec["variable"]


def _regression_layout(lay: LayoutContext) -> None:
    template = display_lines(lay.row, [("", "{n}|{estimate}|{r2}|{pvalue}")])[0][1]
    variable, level = _axis_name(lay.row["y"]), _axis_name(lay.row["x"])
    for item in lay.row["group"].get("levels", []):
        value = number_text(item["value"] if isinstance(item, dict) else item)
        label = item.get("label", value) if isinstance(item, dict) else value
        text = fill(template, lambda s, v=value: lay.value(s, "", variable=variable, level=level, group2_level=v))
        lay.lines.append(_custom_line(f"{lay.label}: {label}", lay.indent, text.split("|")))


def _custom_line(label: str, indent: int, cells: list[str]):
    from cdisc_als.tlf.rows import LayoutLine

    return LayoutLine(label, indent, cells)


row_type(RowType(
    name="regression", keys=frozenset({"x", "y", "group", "min_n"}), required=("x", "y", "group"),
    statistics=frozenset(), compute=_regression_compute, layout=_regression_layout,
    variables=lambda row: [row["x"]["variable"], row["y"]["variable"], SUBJECT,
                           *(c for axis in ("x", "y") for c in condition_columns(to_condition(row[axis].get("where"), "")))],
    context="regression",
    custom_columns=True))


def _paired_compute(ctx: RowContext) -> None:
    first, second = (float(v) for v in ctx.row["visits"])
    dp = int(ctx.row.get("decimals", 1))
    if ctx.mock:
        for visit in (first, second):
            ctx.add("n", None, "xx", variable="<parameter>", level=number_text(visit))
            for stat in ("mean", "se"):
                ctx.add(stat, None, decimals_fmt(dp), variable="<parameter>", level=number_text(visit))
        for stat, fmt in (("pvalue", "p.xxx"), ("auc", "xx.xxx")):
            ctx.add(stat, None, fmt, variable="<parameter>", level="change")
        return
    value = ctx.row.get("value", "AVAL")
    for paramcd, part in ctx.data.groupby("PARAMCD", sort=True):
        wide = part.pivot_table(index=SUBJECT, columns="AVISITN", values=value, aggfunc="first")
        if first not in wide or second not in wide:
            continue
        both = wide[[first, second]].dropna()
        param = next(iter(part["PARAM"].astype(str)), str(paramcd)) if "PARAM" in part else str(paramcd)
        ctx.add("param", param, "text", variable=str(paramcd), label="Parameter")
        for visit in (first, second):
            summary = summarise(both[visit])
            level = number_text(visit)
            ctx.add("n", summary["n"], "xx", variable=str(paramcd), level=level)
            for stat in ("mean", "se"):
                ctx.add(stat, summary[stat], decimals_fmt(dp), variable=str(paramcd), level=level,
                        warning=summary.undefined.get(stat, ""))
        res = paired_t(both[first], both[second])
        ctx.add("diff", res.diff, decimals_fmt(dp), variable=str(paramcd), level="change", warning=res.undefined)
        ctx.add("pvalue", res.p, "p.xxx", variable=str(paramcd), level="change", warning=res.undefined)
        auc = roc_auc(both[first], both[second]) if len(both) else None
        ctx.add("auc", auc, "xx.xxx", variable=str(paramcd), level="change")


def _paired_layout(lay: LayoutContext) -> None:
    first, second = (number_text(float(v)) for v in lay.row["visits"])
    template = display_lines(lay.row, [("", f"{{n@{first}}}|{{mean@{first}}} ({{se@{first}}})|"
                                           f"{{mean@{second}}} ({{se@{second}}})|{{pvalue@change}}|{{auc@change}}")])[0][1]
    params = lay.ard.loc[lay.ard["stat_name"] == "n", "variable"]
    for paramcd in dict.fromkeys(params):
        text = _fill_at(template, lambda s, lv, p=paramcd: lay.value(s, "", variable=p, level=lv))
        label = lay.value("param", "", variable=paramcd) or paramcd
        lay.lines.append(_custom_line(label, lay.indent, text.split("|")))


def _fill_at(template: str, lookup) -> str:
    """{stat@level} placeholders (the level a paired statistic belongs to)."""
    import re

    return re.sub(r"\{(\w+)@([\w.\-]+)\}", lambda m: lookup(m.group(1), m.group(2)), template)


row_type(RowType(
    name="paired", keys=frozenset({"visits", "value", "decimals"}), required=("visits",), statistics=frozenset(),
    compute=_paired_compute, layout=_paired_layout,
    variables=lambda row: ["PARAMCD", "AVISITN", row.get("value", "AVAL"), SUBJECT], context="paired",
    custom_columns=True))
