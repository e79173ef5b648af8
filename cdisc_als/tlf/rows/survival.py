"""Time-to-event rows (ADTTE: AVAL time, CNSR 0 = event): per column n, events, censored, Kaplan-
Meier median and quartiles with log(-log) 95 % CI, event-free rates at given times, restricted mean
with its SE; between the arms the log-rank test (k arms, stratified by `strata`) and Cox hazard
ratios of each arm against the reference arm.

stats:   any of n, events, censored, median, median_ci, q1, q3, rate, rmst, hr (default n, events,
         median, median_ci)
rate_at: times for `rate`;  tau: restriction time of the restricted mean: `own` (each column's
         largest time, SPSS's "mean survival time"), `common` (the smallest of the arms' largest
         times) or a number;  reference: the arm code the hazard ratios compare with (default the
         study spec's untreated arm, else the first arm);  strata: variables of a stratified test.
Records with a missing time or censoring flag are left out and reported as findings.
The time unit (AVALU, else the unit in parentheses at the end of PARAM, else `time_unit:`) is
recorded as the text statistic `time_unit`.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from cdisc_als.stats.km import (
    cox_hazard_ratios,
    km_curve,
    km_quantile,
    km_quantile_ci,
    km_rate_ci,
    km_restricted_mean,
    logrank_k,
)
from cdisc_als.tlf.ard import decimals_fmt
from cdisc_als.tlf.filters import number_text, number_texts
from cdisc_als.tlf.rows import LayoutContext, RowContext, RowType, display_lines, emit_block, row_type

STATS = ("n", "events", "censored", "median", "median_ci", "q1", "q3", "rate", "rmst", "hr")
DEFAULT_STATS = ["n", "events", "median", "median_ci"]
TIME_UNITS = re.compile(r"\((days?|weeks?|months?|years?|hours?)\)\s*$", re.IGNORECASE)


def time_unit(data: pd.DataFrame, fallback: str = "") -> str:
    """AVALU, else the unit in parentheses at the end of PARAM ('... (Months)'), else `fallback`."""
    for column in ("AVALU",):
        if column in data:
            units = [u for u in number_texts(data[column]).str.strip() if u]
            if units:
                return units[0].lower()
    if "PARAM" in data:
        for param in dict.fromkeys(data["PARAM"].astype(str)):
            match = TIME_UNITS.search(param)
            if match:
                return match.group(1).lower()
    return fallback


def clean_times(ctx: RowContext) -> pd.DataFrame:
    """The row's records with a time and a censoring flag; the others become findings."""
    data = ctx.data
    bad = data["AVAL"].isna() | data["CNSR"].isna()
    if bad.any():
        ctx.finding("TLF-TTE-MISSING", f"{int(bad.sum())} record(s) without AVAL or CNSR left out of the analysis",
                    "AVAL", ", ".join(map(str, data.loc[bad, "USUBJID"].head(5))) if "USUBJID" in data else "")
    return data[~bad]


def reference_arm(ctx: RowContext) -> str:
    code = ctx.row.get("reference")
    for arm in ctx.arms:
        if code is not None and number_text(code) in (arm.armcd, number_text(arm.trt_code)):
            return arm.arm
    untreated = [a.arm for a in ctx.arms if not a.treated]
    return untreated[0] if len(untreated) == 1 else ctx.arms[0].arm


def _compute(ctx: RowContext) -> None:
    stats = ctx.row.get("stats", DEFAULT_STATS)
    variable = "|".join(dict.fromkeys(ctx.data["PARAMCD"].astype(str))) if "PARAMCD" in ctx.data else ""
    variable = variable or "AVAL"
    data = clean_times(ctx)
    dp = {"time": 1, "se": 2, "rate": 3, "hr": 2, "pct": int(ctx.option("percent_decimals", 1))}
    given = ctx.row.get("decimals", {})
    dp.update(given if isinstance(given, dict) else {k: int(given) for k in ("time", "se")})
    time_fmt = decimals_fmt(dp.get("median", dp["time"]))
    ctx.add("time_unit", time_unit(ctx.data, str(ctx.option("time_unit", ""))), "text", variable=variable)
    tau_rule = ctx.row.get("tau", "own")
    maxima = [float(ctx.in_column(data, a.arm)["AVAL"].max()) for a in ctx.arms if len(ctx.in_column(data, a.arm))]
    if not ctx.mock and not (data["CNSR"] == 0).any():
        ctx.finding("TLF-TTE-NO-EVENT", f"no event among {len(data)} record(s){' of ' + variable if variable else ''}: "
                    "medians and hazard ratios are NE, event-free rates 1 (does the study collect this event?)", "CNSR")
    for column in ctx.columns:
        part = ctx.in_column(data, column)
        t, e = part["AVAL"].to_numpy(float), (part["CNSR"] == 0).to_numpy()
        n, events = int(t.size), int(e.sum())
        keys = {"arm": column, "variable": variable}
        ctx.add("n", n, "xx", **keys)
        if "events" in stats:
            ctx.add("events", events, "xx", **keys)
            ctx.add("events_pct", 100.0 * events / n if n else None, decimals_fmt(dp["pct"]) + "%", **keys)
        if "censored" in stats:
            ctx.add("censored", n - events, "xx", **keys)
        curve = km_curve(t, e)
        why = "" if n else "no subject in this column"
        if "median" in stats:
            ctx.add("median", km_quantile(curve, 0.5), time_fmt, **keys,
                    warning=why or ("" if events and curve.surv[-1] <= 0.5 else "the survival curve stays above 0.5"))
        if "median_ci" in stats:
            low, high = km_quantile_ci(curve, 0.5)
            ctx.add("median_lcl", low, time_fmt, **keys, warning=why or ("" if not math.isnan(low) else "not reached"))
            ctx.add("median_ucl", high, time_fmt, **keys, warning=why or ("" if not math.isnan(high) else "not reached"))
        for name, q in (("q1", 0.25), ("q3", 0.75)):
            if name in stats:
                ctx.add(name, km_quantile(curve, q), time_fmt, **keys, warning=why or "")
        if "rate" in stats:
            for at in ctx.row.get("rate_at", []):
                rate, low, high = km_rate_ci(curve, float(at)) if n else (math.nan,) * 3
                for name, value in (("rate", rate), ("rate_lcl", low), ("rate_ucl", high)):
                    ctx.add(name, value, decimals_fmt(dp["rate"]), arm=column, variable=variable,
                            level=number_text(at), warning=why)
        if "rmst" in stats:
            tau = (max(t) if n else math.nan) if tau_rule == "own" else (min(maxima) if tau_rule == "common" and maxima
                                                                         else float(tau_rule))
            rmst = km_restricted_mean(t, e, tau=tau) if n and not math.isnan(tau) else None
            ctx.add("rmst", rmst.mean if rmst else None, decimals_fmt(dp.get("rmst", dp["time"])), **keys, warning=why)
            ctx.add("rmst_se", rmst.se if rmst else None, decimals_fmt(dp.get("rmst_se", dp["se"])), **keys, warning=why)
            ctx.add("tau", tau, time_fmt, **keys, warning=why)
    _between(ctx, data, variable, stats, dp)


def _between(ctx: RowContext, data: pd.DataFrame, variable: str, stats: list[str], dp: dict) -> None:
    arms = [a.arm for a in ctx.arms]
    if len(arms) < 2:
        return
    part = data[number_texts(data[ctx.treatment]).isin(arms)]
    strata_vars = ctx.row.get("strata", [])
    if strata_vars:
        texts = part[strata_vars].apply(lambda c: number_texts(c).str.strip())
        blank = (texts == "").any(axis=1)
        if blank.any():      # as SAS PROC LIFETEST / PHREG: a record without a stratum is left out
            ctx.finding("TLF-TTE-STRATUM", f"{int(blank.sum())} record(s) without a value of "
                        f"{', '.join(strata_vars)} left out of the stratified test", strata_vars[0],
                        ", ".join(map(str, part.loc[blank, "USUBJID"].head(5))) if "USUBJID" in part else "")
            part, texts = part[~blank], texts[~blank]
    strata = texts.agg("|".join, axis=1).to_numpy() if strata_vars else None
    group = number_texts(part[ctx.treatment]).to_numpy()
    if ctx.option("test", "logrank") != "none":
        res = logrank_k(part["AVAL"], part["CNSR"] == 0, group, strata)
        ctx.add("pvalue", res.p, "p.xxx", variable=variable, warning=res.undefined)
        ctx.add("statistic", res.chi2, "xx.xx", variable=variable, warning=res.undefined)
        ctx.add("method", "log-rank" + (f" stratified by {', '.join(strata_vars)}" if strata_vars else ""), "text",
                variable=variable)
    if "hr" in stats:
        reference = reference_arm(ctx)
        ratios = cox_hazard_ratios(part["AVAL"].to_numpy(float), (part["CNSR"] == 0).to_numpy(), group, reference,
                                   strata)
        for arm, hr in ratios.items():
            for name, value in (("hr", hr.hr), ("hr_lcl", hr.lcl), ("hr_ucl", hr.ucl)):
                ctx.add(name, value, decimals_fmt(dp["hr"]), arm=arm, variable=variable, warning=hr.undefined)
            ctx.add("hr_pvalue", hr.p, "p.xxx", arm=arm, variable=variable, warning=hr.undefined)


def default_lines(row: dict) -> list[tuple[str, str]]:
    stats = row.get("stats", DEFAULT_STATS)
    lines = [("n", "{n}")]
    if "events" in stats:
        lines.append(("Events, n (%)", "{events} ({events_pct}%)"))
    if "censored" in stats:
        lines.append(("Censored", "{censored}"))
    if "median" in stats:
        lines.append(("Median (95% CI)" if "median_ci" in stats else "Median",
                      "{median} ({median_lcl}, {median_ucl})" if "median_ci" in stats else "{median}"))
    if "q1" in stats or "q3" in stats:
        lines.append(("Q1, Q3", "{q1}, {q3}"))
    if "rmst" in stats:
        lines.append(("Restricted mean (SE)", "{rmst} ({rmst_se})"))
    if "hr" in stats:
        lines.append(("Hazard ratio (95% CI)", "{hr} ({hr_lcl}, {hr_ucl})"))
    return lines


def _layout(lay: LayoutContext) -> None:
    variable = next(iter(lay.ard.loc[lay.ard["stat_name"] == "n", "variable"]), "")
    lines = display_lines(lay.row, default_lines(lay.row))
    unit = lay.value("time_unit", "", variable=variable)
    rates = [(f"Event-free rate at {at}{' ' + unit if unit else ''} (95% CI)", "{rate} ({rate_lcl}, {rate_ucl})",
              number_text(at))
             for at in lay.row.get("rate_at", []) if "rate" in lay.row.get("stats", DEFAULT_STATS)]
    if rates and "display" not in lay.row:
        emit_block(lay, lay.label, lines, test="{pvalue}", variable=variable)
        for label, template, at in rates:
            lay.line(label, lay.indent + 1, lay.cells(template, variable=variable, level=at))
        return
    emit_block(lay, lay.label, lines, test="{pvalue}", variable=variable)


row_type(RowType(
    name="time_to_event",
    keys=frozenset({"stats", "rate_at", "tau", "reference", "strata", "decimals", "test", "time_unit",
                    "percent_decimals"}),
    required=(), statistics=frozenset(STATS), compute=_compute, layout=_layout,
    variables=lambda row: ["AVAL", "CNSR", *row.get("strata", [])], context="survival"))


def curve_points(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step coordinates of a KM curve from time 0 to the last time (for figures)."""
    curve = km_curve(t, e)
    xs = np.concatenate(([0.0], np.repeat(curve.times, 2), [t.max() if t.size else 0.0]))
    ys = np.concatenate(([1.0, 1.0], np.repeat(curve.surv, 2)))[: len(xs)]
    return xs, ys
