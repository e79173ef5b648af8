"""Continuous rows: n, mean, SD, SE, median, quartiles, min, max, geometric mean, CV and the CI of the
mean per column; Student pooled t (two arms) or one-way ANOVA (more) between the arms.

Decimals default to the precision the data were collected at (p, the fewest decimals that write
every value): min and max at p, mean, median, quartiles and the CI at p + 1, SD and SE at p + 2, CV
at 1; the difference and its CI as the mean, its SE as the SD. `decimals: 1` sets every statistic,
`decimals: {mean: 2, sd: 3}` some of them.
"""

from __future__ import annotations

from typing import Any

from cdisc_als.stats.descriptive import summarise
from cdisc_als.stats.tests import one_way_anova, student_pooled_samples
from cdisc_als.tlf.ard import decimals_fmt
from cdisc_als.tlf.context import data_precision
from cdisc_als.tlf.rows import LayoutContext, RowContext, RowType, display_lines, emit_block, row_type

STATS = ("n", "mean", "sd", "se", "median", "q1", "q3", "min", "max", "geom_mean", "cv", "mean_ci")
DEFAULT_STATS = ["n", "mean", "sd", "median", "min", "max"]
OFFSET = {"min": 0, "max": 0, "mean": 1, "median": 1, "q1": 1, "q3": 1, "geom_mean": 1, "mean_lcl": 1,
          "mean_ucl": 1, "sd": 2, "se": 2, "diff": 1, "lcl": 1, "ucl": 1, "diff_se": 2}


def decimals(row: dict[str, Any], precision: int) -> dict[str, int]:
    """Decimals per statistic (see the module docstring)."""
    given = row.get("decimals")
    out = {name: precision + k for name, k in OFFSET.items()}
    out["cv"] = 1
    if isinstance(given, int):
        out = {name: given for name in out}
    elif isinstance(given, dict):
        mean_sd = {"diff": given.get("mean"), "lcl": given.get("mean"), "ucl": given.get("mean"),
                   "mean_lcl": given.get("mean"), "mean_ucl": given.get("mean"), "diff_se": given.get("sd")}
        out.update({k: v for k, v in mean_sd.items() if v is not None})
        out.update({k: int(v) for k, v in given.items()})
    return out


def _compute(ctx: RowContext) -> None:
    variable = ctx.row["variable"]
    stats = ctx.row.get("stats", DEFAULT_STATS)
    dp = decimals(ctx.row, data_precision(ctx.data[variable]) if len(ctx.data) else 1)
    wanted = [s for s in STATS[1:] if s in stats]
    if "mean_ci" in wanted:
        wanted[wanted.index("mean_ci"):wanted.index("mean_ci") + 1] = ["mean_lcl", "mean_ucl"]
    samples = {}
    for column in ctx.columns:
        values = ctx.in_column(ctx.data, column)[variable].astype(float)
        summary = summarise(values)
        samples[column] = values
        ctx.add("n", summary["n"], "xx", arm=column, variable=variable)
        for name in wanted:
            ctx.add(name, summary[name], decimals_fmt(dp[name]), arm=column, variable=variable,
                    warning=summary.undefined.get(name, ""))
    test = ctx.option("test", "auto")
    arms = [a.arm for a in ctx.arms]
    if test == "none" or len(arms) < 2:
        return
    if len(arms) == 2 and test in ("auto", "t"):
        res = student_pooled_samples(samples[arms[0]], samples[arms[1]])
        for name, value in (("diff", res.diff), ("diff_se", res.se), ("lcl", res.lcl), ("ucl", res.ucl)):
            ctx.add(name, value, decimals_fmt(dp[name]), variable=variable, warning=res.undefined)
        ctx.add("pvalue", res.p, "p.xxx", variable=variable, warning=res.undefined)
        ctx.add("method", "Student t (pooled variance)", "text", variable=variable)
    else:
        res = one_way_anova([samples[a] for a in arms])
        ctx.add("pvalue", res.p, "p.xxx", variable=variable, warning=res.undefined)
        ctx.add("method", "one-way ANOVA", "text", variable=variable)


def default_lines(stats: list[str]) -> list[tuple[str, str]]:
    pairs = [("n", "n", "{n}"), ("mean", "Mean (SD)" if "sd" in stats else "Mean",
                                     "{mean} ({sd})" if "sd" in stats else "{mean}"),
             ("se", "SE", "{se}"), ("median", "Median", "{median}"),
             ("q1", "Q1, Q3" if "q3" in stats else "Q1", "{q1}, {q3}" if "q3" in stats else "{q1}"),
             ("min", "Min, Max" if "max" in stats else "Min", "{min}, {max}" if "max" in stats else "{min}"),
             ("geom_mean", "Geometric mean", "{geom_mean}"), ("cv", "CV (%)", "{cv}"),
             ("mean_ci", "95% CI of mean", "{mean_lcl}, {mean_ucl}")]
    lines = [(label, template) for stat, label, template in pairs if stat in stats]
    if "sd" in stats and "mean" not in stats:
        lines.append(("SD", "{sd}"))
    return lines


def _layout(lay: LayoutContext) -> None:
    stats = lay.row.get("stats", DEFAULT_STATS)
    lines = display_lines(lay.row, default_lines(stats))
    emit_block(lay, lay.label, lines, difference="{diff} ({diff_se}, {lcl} to {ucl})",
               test="{pvalue}", variable=lay.row["variable"])


row_type(RowType(
    name="continuous", keys=frozenset({"variable", "stats", "decimals", "test"}), required=("variable",),
    statistics=frozenset(STATS), compute=_compute, layout=_layout, variables=lambda row: [row["variable"]],
    context="continuous"))
