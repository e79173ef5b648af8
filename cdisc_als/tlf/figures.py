"""Figures as catalogue entries (kind: figure): Kaplan-Meier curves with numbers at risk, mean (SE) over
visits (optionally per parameter and with a mixed-model fit), a forest plot of subgroups and a scatter
with regression lines. Each returns the PNG and the ARD of the numbers it draws.

Texts come from the data and metadata: arm labels, PARAM, variable labels, codelist decodes; the time
unit from AVALU / PARAM (or the entry's `time_unit`). Legends and at-risk rows follow the column
order of the tables (the study spec's arms); the at-risk counts sit exactly under the axis ticks.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cdisc_als.rounding import format_pvalue  # noqa: E402
from cdisc_als.stats.descriptive import summarise  # noqa: E402
from cdisc_als.stats.km import km_restricted_mean, logrank_k  # noqa: E402
from cdisc_als.stats.models import linear_regression  # noqa: E402
from cdisc_als.stats.tests import paired_t  # noqa: E402
from cdisc_als.tlf.ard import ArdBuilder, decimals_fmt  # noqa: E402
from cdisc_als.tlf.context import SUBJECT, StudyData  # noqa: E402
from cdisc_als.tlf.engine import output_arms, population_subjects  # noqa: E402
from cdisc_als.tlf.filters import apply_filter, condition_columns, number_text, number_texts, to_condition  # noqa: E402
from cdisc_als.tlf.rows.survival import curve_points, time_unit  # noqa: E402

COLORS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#7f8c8d")
FIGURES: dict[str, Callable] = {}


def figure(name: str):
    def register(func):
        FIGURES[name] = func
        return func
    return register


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _records(output: dict, data: StudyData, extra: list[str]):
    """The entry's records (population subjects, `where`) with the arms, and the arms."""
    treatment = output["treatment"]
    subjects = population_subjects(output, data, [v for v in extra if v])
    arms = output_arms(output, data, subjects)
    cond = to_condition(output.get("where"), f"output {output['id']}: where")
    if SUBJECT not in data.own_columns(output["dataset"]):
        raise KeyError(SUBJECT)
    frame = data.select(output["dataset"], cond, subjects, [treatment, *extra, *condition_columns(cond)])
    frame = frame[number_texts(frame[treatment]).isin([a.arm for a in arms])]
    return frame, subjects, arms


def _ticks(output: dict, upper: float) -> np.ndarray:
    step = output.get("tick_every")
    if step:
        return np.arange(0, upper + float(step) * 0.999, float(step))
    ticks = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(0, upper)
    return ticks[(ticks >= 0) & (ticks <= upper * 1.1 + 1e-9)]


@figure("km")
def km_figure(output: dict, data: StudyData, ards: dict, catalogue) -> tuple[bytes, pd.DataFrame]:
    frame, _, arms = _records(output, data, ["AVAL", "CNSR", "PARAM", "AVALU"])
    bad = frame["AVAL"].isna() | frame["CNSR"].isna()
    frame = frame[~bad]
    treatment = output["treatment"]
    unit = time_unit(frame, str(output.get("time_unit", "")))
    ard = ArdBuilder(output["id"], "KM", "survival", treatment)
    upper = float(frame["AVAL"].max()) if len(frame) else 1.0
    ticks = _ticks(output, upper)
    fig, (ax, risk) = plt.subplots(2, 1, figsize=(8, 6), sharex=True,
                                   gridspec_kw={"height_ratios": [4, 0.35 * len(arms) + 0.5], "hspace": 0.22})
    for k, arm in enumerate(arms):
        part = frame[number_texts(frame[treatment]) == arm.arm]
        t, e = part["AVAL"].to_numpy(float), (part["CNSR"] == 0).to_numpy()
        color = COLORS[k % len(COLORS)]
        ard.add("n", int(t.size), "xx", arm=arm.arm)
        ard.add("events", int(e.sum()), "xx", arm=arm.arm)
        if t.size:
            xs, ys = curve_points(t, e)
            ax.step(xs, ys, where="post", color=color, label=f"{arm.arm} (n = {t.size}, events = {int(e.sum())})")
            censored = t[~e]
            heights = np.interp(censored, xs, ys) if len(xs) else np.ones_like(censored)
            ax.plot(censored, heights, "|", color=color, markersize=9)
        else:
            ax.plot([], [], color=color, label=f"{arm.arm} (n = 0)")
        row = len(arms) - 1 - k
        for tick in ticks:
            at_risk = int((t >= tick).sum())
            risk.text(tick, row, str(at_risk), ha="center", va="center", fontsize=8, color=color)
            ard.add("n_at_risk", at_risk, "xx", arm=arm.arm, level=number_text(float(tick)), label="Number at risk")
    if len(arms) >= 2 and len(frame):
        res = logrank_k(frame["AVAL"], frame["CNSR"] == 0, number_texts(frame[treatment]))
        ard.add("pvalue", res.p, "p.xxx", warning=res.undefined)
        if output.get("pvalue", True):
            ax.text(0.02, 0.04, f"Log-rank {_p_text(res.p)}",
                    transform=ax.transAxes, fontsize=9)
    ax.set_ylim(0, 1.04)
    ax.set_ylabel("Probability of no event")
    ax.legend(frameon=False, loc="upper right", fontsize=8)
    ax.grid(alpha=0.2)
    risk.set_ylim(-0.6, len(arms) - 0.4)
    risk.set_yticks(range(len(arms) - 1, -1, -1), ["\n".join(textwrap.wrap(a.arm, 24)) for a in arms], fontsize=8)
    risk.tick_params(axis="y", length=0)
    for spine in ("top", "right", "left"):
        risk.spines[spine].set_visible(False)
    risk.set_title("Number at risk", fontsize=8, loc="left")
    risk.set_xticks(ticks)
    risk.set_xlim(-0.02 * ticks[-1], ticks[-1] * 1.03)
    risk.set_xlabel(str(output.get("x_label") or (f"Time ({unit})" if unit else "Time")))
    return _png(fig), ard.frame()


def _p_text(p: float) -> str:
    """'p = 0.123', 'p < 0.001' or 'p: NE'."""
    if p != p:
        return "p: NE"
    text = format_pvalue(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _subgroup_levels(data: StudyData, frame: pd.DataFrame, dataset: str, variable: str) -> list[tuple[str, str]]:
    return [(level, data.decode(dataset, variable, level)) for level in data.ordered_levels(frame, dataset, variable)]


@figure("forest")
def forest_figure(output: dict, data: StudyData, ards: dict, catalogue) -> tuple[bytes, pd.DataFrame]:
    subgroups = list(output.get("subgroups", []))
    frame, _, arms = _records(output, data, ["AVAL", "CNSR", *subgroups])
    frame = frame.dropna(subset=["AVAL", "CNSR"])
    treatment = output["treatment"]
    ard = ArdBuilder(output["id"], "FOREST", "survival", treatment)
    if len(arms) != 2:
        raise ValueError(f"output {output['id']}: a forest plot compares two arms ({len(arms)} selected)")
    estimate = output.get("estimate", "hazard_ratio")
    rows = [("All subjects", "", "", frame)]
    for variable in subgroups:
        for level, label in _subgroup_levels(data, frame, output["dataset"], variable):
            rows.append((f"{data.label(output['dataset'], variable)}: {label}", variable, level,
                         frame[number_texts(frame[variable]) == level]))
    drawn = []
    for label, variable, level, part in rows:
        keys = {"group2": variable, "group2_level": level}
        counts, groups = [], []
        for arm in arms:
            sub = part[number_texts(part[treatment]) == arm.arm]
            counts.append(len(sub))
            groups.append((sub["AVAL"].to_numpy(float), (sub["CNSR"] == 0).to_numpy()))
            ard.add("n", len(sub), "xx", arm=arm.arm, **keys)
        value = low = high = float("nan")
        if all(counts):
            if estimate == "rmst_difference":
                first, second = (km_restricted_mean(t, e) for t, e in groups)
                value = first.mean - second.mean
                se = float(np.hypot(first.se, second.se))
                low, high = value - 1.959964 * se, value + 1.959964 * se
            else:
                from cdisc_als.stats.km import cox_hazard_ratios

                hr = cox_hazard_ratios(part["AVAL"], part["CNSR"] == 0, number_texts(part[treatment]),
                                       arms[1].arm)[arms[0].arm]
                value, low, high = hr.hr, hr.lcl, hr.ucl
        res = logrank_k(part["AVAL"], part["CNSR"] == 0, number_texts(part[treatment]))
        for name, number in (("estimate", value), ("lcl", low), ("ucl", high)):
            ard.add(name, number, "xx.xx", **keys)
        ard.add("pvalue", res.p, "p.xxx", warning=res.undefined, **keys)
        drawn.append((label, counts, value, low, high, format_pvalue(res.p) if res.p == res.p else "NE"))
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(drawn) + 1.6))
    for k, (_label, _counts, value, low, high, _p) in enumerate(drawn):
        y = len(drawn) - k
        if value == value:
            ax.errorbar(value, y, xerr=[[value - low], [high - value]], fmt="s", color=COLORS[0], capsize=3)
    null = 0.0 if estimate == "rmst_difference" else 1.0
    ax.axvline(null, color="grey", linewidth=0.8)
    if estimate != "rmst_difference":
        ax.set_xscale("log")
    ax.set_yticks(range(len(drawn), 0, -1), [d[0] for d in drawn], fontsize=8)
    ax.set_ylim(0.4, len(drawn) + 0.9)
    table = ax.twinx()
    table.set_ylim(ax.get_ylim())
    table.set_yticks(range(len(drawn), 0, -1),
                     [f"{d[1][0]:>3} / {d[1][1]:<3}  {_estimate_text(d)}  p {d[5]}" for d in drawn], fontsize=8,
                     family="monospace")
    table.text(1.02, len(drawn) + 0.6, f"n {arms[0].armcd} / {arms[1].armcd}", transform=table.get_yaxis_transform(),
               fontsize=8, family="monospace")
    unit = time_unit(frame, str(output.get("time_unit", "")))
    ax.set_xlabel(str(output.get("x_label") or (
        f"Difference in restricted mean, {arms[0].arm} minus {arms[1].arm}" + (f" ({unit})" if unit else "")
        if estimate == "rmst_difference" else f"Hazard ratio, {arms[0].arm} vs {arms[1].arm} (log scale)")))
    return _png(fig), ard.frame()


def _estimate_text(row: tuple) -> str:
    _label, _counts, value, low, high, _p = row
    if value != value:
        return "NE".rjust(22)
    return f"{value:6.2f} ({low:6.2f}, {high:6.2f})"


def _fit_lines(output: dict, ards: dict, catalogue) -> dict[str, tuple[float, float, float]]:
    """Per arm (slope before, slope after, knot) from the mixed-model row the entry's `fit` names."""
    spec = output.get("fit")
    if not spec or spec.get("output") not in ards:
        return {}
    ard = ards[spec["output"]]
    row = next((r for r in catalogue.output(spec["output"]).get("rows", []) if r["id"] == spec.get("row")), {})
    part = ard[(ard["row_id"] == spec.get("row")) & (ard["group1_level"] != "")]
    out = {}
    for arm, stats in part.groupby("group1_level"):
        values = dict(zip(stats["stat_name"], stats["stat"], strict=False))
        if values.get("estimate") is not None and values.get("lead_estimate") is not None:
            out[arm] = (float(values["lead_estimate"]), float(values["estimate"]), float(row.get("knot", 0)))
    return out


@figure("mean_over_visits")
def mean_over_visits(output: dict, data: StudyData, ards: dict, catalogue) -> tuple[bytes, pd.DataFrame]:
    x, variable = output.get("x", "AVISITN"), output["variable"]
    panel_by = output.get("panel_by")
    frame, _, arms = _records(output, data, [x, variable, "PARAM", *([panel_by] if panel_by else [])])
    frame = frame.dropna(subset=[x])
    treatment = output["treatment"]
    ard = ArdBuilder(output["id"], "MEANS", "continuous", treatment)
    panels = list(dict.fromkeys(number_texts(frame[panel_by]))) if panel_by else [""]
    ncols = min(4, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols if panel_by else 8, 2.8 * nrows if panel_by else 5),
                             squeeze=False)
    fits = _fit_lines(output, ards, catalogue)
    for ax, panel in zip(axes.flat, panels, strict=False):
        part = frame[number_texts(frame[panel_by]) == panel] if panel_by else frame
        keys = {"group2": panel_by or "", "group2_level": panel}
        for k, arm in enumerate(arms):
            sub = part[number_texts(part[treatment]) == arm.arm]
            if output.get("test") == "paired_t":
                sub = sub[sub.groupby(SUBJECT)[x].transform("nunique") == sub[x].nunique()]
            points = []
            for value, rows in sorted(sub.groupby(x), key=lambda kv: kv[0]):
                summary = summarise(rows[variable])
                points.append((float(value), summary["mean"], summary["se"], summary["n"]))
                for name in ("n", "mean", "se"):
                    ard.add(name, summary[name], "xx" if name == "n" else decimals_fmt(2), arm=arm.arm,
                            variable=variable, level=number_text(float(value)), warning=summary.undefined.get(name, ""),
                            **keys)
            if not points:
                continue
            xs, means, ses, ns = zip(*points, strict=True)
            color = COLORS[k % len(COLORS)]
            ax.errorbar(xs, means, yerr=np.nan_to_num(ses), marker="o", capsize=3, color=color,
                        label=f"{arm.arm} (n = {sub[SUBJECT].nunique()})")
            if arm.arm in fits:
                lead, post, knot = fits[arm.arm]
                grid = np.array([min(xs), knot, max(xs)])
                ax.plot(grid, lead * np.minimum(grid - knot, 0) + post * np.maximum(grid - knot, 0), linestyle=":",
                        color=color, label=f"mixed model: {post:.2f} per unit after {knot:g}")
            if output.get("test") == "paired_t" and len(xs) >= 2:
                wide = sub.pivot_table(index=SUBJECT, columns=x, values=variable, aggfunc="first")
                res = paired_t(wide[xs[0]], wide[xs[-1]])
                ard.add("pvalue", res.p, "p.xxx", variable=variable, warning=res.undefined, arm=arm.arm, **keys)
                title_p = _p_text(res.p)
                if panel_by:
                    ax.set_title("\n".join(textwrap.wrap(f"{_param(part)} ({title_p})", 34)), fontsize=8)
        if panel_by and not ax.get_title():
            ax.set_title("\n".join(textwrap.wrap(_param(part), 34)), fontsize=8)
        values = sorted({float(v) for v in part[x].dropna()})
        ax.set_xticks(values, [number_text(v) for v in values], fontsize=7 if panel_by else 9)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    first = axes.flat[0]
    label = data.label(output["dataset"], variable)
    if not panel_by:
        first.axhline(0, color="grey", linewidth=0.6)
        first.set_ylabel(str(output.get("y_label") or f"Mean (SE): {_param(frame)} {label}".strip()))
        first.legend(frameon=False, fontsize=8)
    first.set_xlabel(str(output.get("x_label") or data.label(output["dataset"], x)))
    fig.tight_layout()
    return _png(fig), ard.frame()


def _param(frame: pd.DataFrame) -> str:
    return "/".join(dict.fromkeys(frame["PARAM"].astype(str))) if "PARAM" in frame and len(frame) else ""


@figure("scatter")
def scatter_figure(output: dict, data: StudyData, ards: dict, catalogue) -> tuple[bytes, pd.DataFrame]:
    from cdisc_als.tlf.rows.models import _per_subject, group_records

    frame, _, _ = _records(output, data, [output["x"]["variable"], output["y"]["variable"], "PARAM"])
    where = f"output {output['id']}"
    xs, ys = _per_subject(frame, output["x"], where), _per_subject(frame, output["y"], where)
    pair = pd.DataFrame({"x": xs, "y": ys}).dropna()
    group = output.get("group")
    ard = ArdBuilder(output["id"], "SCATTER", "regression", output["treatment"])
    levels: list[tuple[str, str, Any]] = [("", "all subjects", pair)]
    if group:
        flags = _per_subject(group_records(data, group.get("dataset", output["dataset"]), group, where), group, where)
        levels = []
        for item in group.get("levels", []):
            value = number_text(item["value"] if isinstance(item, dict) else item)
            label = item.get("label", value) if isinstance(item, dict) else value
            levels.append((value, label, pair[pair.index.map(lambda s, v=value: number_text(flags.get(s, "")) == v)]))
    fig, ax = plt.subplots(figsize=(7, 5))
    for k, (value, label, members) in enumerate(levels):
        fit = linear_regression(members["x"], members["y"])
        keys = {"group2": group["variable"] if group else "", "group2_level": value}
        ard.add("n", fit.n, "xx", **keys)
        for name, number in (("estimate", fit.slope), ("intercept", fit.intercept), ("r2", fit.r2)):
            ard.add(name, number, "xx.xxx", **keys)
        color = COLORS[k % len(COLORS)]
        r2 = f", R² = {fit.r2:.3f}" if fit.r2 == fit.r2 else ""
        ax.scatter(members["x"], members["y"], color=color, s=22, label=f"{label} (n = {fit.n}{r2})")
        if fit.slope == fit.slope and len(members):
            grid = np.linspace(members["x"].min(), members["x"].max(), 20)
            ax.plot(grid, fit.intercept + fit.slope * grid, color=color, linewidth=1)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.axvline(0, color="grey", linewidth=0.6)
    ax.set_xlabel(str(output.get("x_label") or _axis_label(frame, output["x"], data, output["dataset"])))
    ax.set_ylabel(str(output.get("y_label") or _axis_label(frame, output["y"], data, output["dataset"])))
    ax.legend(frameon=False, fontsize=8)
    return _png(fig), ard.frame()


def _axis_label(frame: pd.DataFrame, spec: dict, data: StudyData, dataset: str) -> str:
    part = apply_filter(frame, to_condition(spec.get("where"), ""))
    return f"{_param(part)}: {data.label(dataset, spec['variable'])}".strip(": ")


def figure_variables(output: dict) -> list[str]:
    """Variables a figure entry names besides its population, treatment and `where` (checked against
    the data with the catalogue)."""
    if output.get("type") == "trajectories":
        from cdisc_als.tlf.trajectories import names

        return list(names(output))
    return []


def render_figure(output: dict, data: StudyData, ards: dict, catalogue) -> tuple[bytes, pd.DataFrame]:
    from cdisc_als.tlf import trajectories  # noqa: F401  (registers its figure type)

    return FIGURES[output["type"]](output, data, ards, catalogue)
