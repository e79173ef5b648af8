"""PNG figures from ADaM: mean ALSFRS-R change over time (Figure 2), Kaplan-Meier curves with numbers
at risk and log-rank p, a forest plot of the survival subgroups (restricted mean differences), the
CSF cytokines before and after the first injection, and the TGF-beta1 / MCP-1 change regression."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cdisc_als.io import atomic_write_bytes  # noqa: E402
from cdisc_als.rounding import format_pvalue  # noqa: E402
from cdisc_als.stats.km import km_restricted_mean, km_table, logrank_p  # noqa: E402

COLORS = ("#1f5fa8", "#c0392b", "#2e8b57")


def _save(fig, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def figure_mean_change(adqs: pd.DataFrame, path: Path, treatment: str = "TRTP",
                       fits: dict[str, tuple[float, float]] | None = None) -> None:
    """Mean (SE) change from baseline of the ALSFRS-R total by analysis visit (months) and arm (FAS),
    with the piecewise mixed-model fit (lead-in and post-treatment slopes through baseline) when given."""
    data = adqs[(adqs["PARAMCD"] == "ALSR1TOT") & (adqs["FASFL"] == "Y") & (adqs["ANL01FL"] == "Y")
                & adqs["AVISITN"].between(-3, 6)].copy()
    data["CHANGE"] = data["AVAL"] - data["BASE"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for color, (arm, part) in zip(COLORS, data.groupby(treatment), strict=False):
        stats = part.groupby("AVISITN")["CHANGE"].agg(["mean", "sem", "count"])
        ax.errorbar(stats.index, stats["mean"], yerr=stats["sem"], marker="o", capsize=3, color=color,
                    label=f"{arm} (n = {part['USUBJID'].nunique()})")
        if fits and arm in fits:
            lead, post = fits[arm]
            ax.plot([-3, 0, 6], [-3 * lead, 0.0, 6 * post], linestyle=":", color=color,
                    label=f"mixed model: {post:.2f}/month after V5")
    ax.axvline(0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("Months from first injection (V5)")
    ax.set_ylabel("Mean (SE) change in ALSFRS-R total from V5")
    ax.set_title("ALSFRS-R change over time (full analysis set)")
    ax.legend(frameon=False)
    _save(fig, path)


def figure_km(adtte: pd.DataFrame, paramcd: str, path: Path, treatment: str = "TRTP", title: str = "") -> None:
    """Kaplan-Meier curves with censoring marks, numbers at risk every 12 months and the log-rank p."""
    data = adtte[(adtte["PARAMCD"] == paramcd) & (adtte["FASFL"] == "Y")]
    fig, (ax, risk) = plt.subplots(2, 1, figsize=(7.5, 5.5), gridspec_kw={"height_ratios": [4, 1]}, sharex=True)
    arms = sorted(data[treatment].unique())
    groups = []
    for k, arm in enumerate(arms):
        part = data[data[treatment] == arm]
        t, e = part["AVAL"].to_numpy(float), (part["CNSR"] == 0).to_numpy()
        groups.append((t, e))
        times, _, _, surv = km_table(t, e)
        xs = np.concatenate(([0.0], np.repeat(times, 2), [t.max()]))
        ys = np.concatenate(([1.0, 1.0], np.repeat(surv, 2)))[: len(xs)]
        ax.plot(xs, ys, color=COLORS[k % 3], label=f"{arm}: mean {km_restricted_mean(t, e).mean:.0f} months")
        censored = t[~e]
        at = np.interp(censored, np.concatenate(([0.0], times)), np.concatenate(([1.0], surv))) if len(times) else \
            np.ones_like(censored)
        ax.plot(censored, at, "|", color=COLORS[k % 3], markersize=8)
        ticks = np.arange(0, data["AVAL"].max() + 1e-9, 12)
        risk.text(-4, k, arm[:18], ha="right", va="center", fontsize=8)
        for tick in ticks:
            risk.text(tick, k, str(int((t >= tick).sum())), ha="center", va="center", fontsize=8)
    if len(groups) == 2:
        p = logrank_p(groups[0][0], groups[0][1], groups[1][0], groups[1][1])
        ax.text(0.02, 0.05, f"log-rank p = {format_pvalue(p)}", transform=ax.transAxes)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("Probability")
    ax.set_title(title or paramcd)
    ax.legend(frameon=False, loc="upper right")
    risk.set_ylim(-0.5, len(arms) - 0.5)
    risk.set_yticks([])
    risk.set_xlabel("Months from screening (V1)")
    risk.set_title("Number at risk", fontsize=9, loc="left")
    _save(fig, path)


def figure_forest(km_ard: pd.DataFrame, arms: list[str], path: Path) -> None:
    """Difference in restricted mean survival (first arm minus second, months) by subgroup with 95 % CI."""
    rows = []
    for row_id, part in km_ard.groupby("row_id", sort=False):
        stat = part.set_index(["group1_level", "stat_name"])["stat"].astype(float)
        try:
            diff = stat[(arms[0], "rmst")] - stat[(arms[1], "rmst")]
            se = np.sqrt(stat[(arms[0], "rmst_se")] ** 2 + stat[(arms[1], "rmst_se")] ** 2)
        except KeyError:
            continue
        p = part.loc[part["stat_name"] == "pvalue", "stat_fmt"]
        rows.append((row_id, diff, se, p.iloc[0] if len(p) else ""))
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(rows) + 1.2))
    for k, (_label, diff, se, p) in enumerate(rows):
        y = len(rows) - k
        ax.errorbar(diff, y, xerr=1.96 * se, fmt="s", color=COLORS[0], capsize=3)
        ax.text(diff + 1.96 * se + 1, y, f"p = {p}", va="center", fontsize=8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_yticks(range(len(rows), 0, -1), [r[0] for r in rows])
    ax.set_xlabel(f"Difference in mean survival, {arms[0]} minus {arms[1]} (months, 95% CI)")
    ax.set_title("Survival by subgroup")
    _save(fig, path)


def figure_csf(csf_ard: pd.DataFrame, path: Path) -> None:
    """One panel per analyte: mean (SE) at the two visits of the paired CSF analysis (read from its
    ARD), titled with the paired t p value."""
    analytes = sorted(csf_ard["variable"].unique())
    columns = 4
    rows = -(-len(analytes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.6 * rows), squeeze=False)
    for ax, analyte in zip(axes.flat, analytes, strict=False):
        part = csf_ard[csf_ard["variable"] == analyte]
        means, errors, labels = [], [], []
        for visit in ("V_FIRST", "V_SECOND"):
            cells = part[part["variable_level"].str.startswith(f"{visit}=")].set_index("stat_name")
            if cells.empty:
                continue
            means.append(float(cells.loc["mean", "stat"]))
            errors.append(float(cells.loc["se", "stat"]))
            labels.append("before" if visit == "V_FIRST" else "after")
        ax.errorbar(range(len(means)), means, yerr=errors, marker="o", capsize=4, color=COLORS[0])
        ax.set_xticks(range(len(means)), labels)
        ax.set_xlim(-0.5, len(means) - 0.5)
        p = part.loc[part["stat_name"] == "pvalue", "stat_fmt"]
        p_text = "" if p.empty else (f"p {p.iloc[0]}" if p.iloc[0].startswith("<") else f"p = {p.iloc[0]}")
        ax.set_title(f"{analyte}  ({p_text})" if p_text else analyte, fontsize=9)
        ax.set_ylabel("ng/L", fontsize=8)
    for ax in list(axes.flat)[len(analytes):]:
        ax.set_visible(False)
    fig.suptitle("CSF cytokines before and after the first MSC injection: mean (SE), paired t test")
    fig.tight_layout()
    _save(fig, path)


def figure_change_regression(groups: dict[str, pd.DataFrame], x: str, y: str, path: Path) -> None:
    """Scatter of the change in `y` against the change in `x` per responder group (ard.changes_by_responder),
    each group in its own colour with its least-squares line and R squared."""
    from cdisc_als.stats.models import linear_regression

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for color, (label, members) in zip(COLORS, groups.items(), strict=False):
        fit = linear_regression(members[x], members[y])
        ax.scatter(members[x], members[y], color=color, s=22, label=f"{label} (n = {fit.n}, R² = {fit.r2:.3f})")
        grid = np.linspace(members[x].min(), members[x].max(), 20)
        ax.plot(grid, fit.intercept + fit.slope * grid, color=color, linewidth=1)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.axvline(0, color="grey", linewidth=0.6)
    ax.set_xlabel(f"Change in {x}, ng/L")
    ax.set_ylabel(f"Change in {y}, ng/L")
    ax.set_title(f"Change in {y} against change in {x} by responder status")
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def render_figures(adam: dict[str, pd.DataFrame], km_ard: pd.DataFrame | None, arms: list[str],
                   out: Path, csf_ard: pd.DataFrame | None = None,
                   regression: tuple[dict, dict] | None = None) -> list[Path]:
    """Write every figure whose inputs are present; `regression` is the catalogue output holding a
    regression row and that row (x, y and the responder dataset, PARAMCD and flag)."""
    written = []
    if csf_ard is not None and not csf_ard.empty:
        figure_csf(csf_ard, out / "csf_cytokines.png")
        written.append(out / "csf_cytokines.png")
    if regression:
        from cdisc_als.tlf.ard import changes_by_responder, filter_population

        output, spec = regression
        source = spec.get("dataset", output["dataset"])
        if source in adam and spec["responder"]["dataset"] in adam:
            data = filter_population(adam[source], output.get("population"))
            target = out / f"regression_{spec['y'].lower()}_{spec['x'].lower()}.png"
            figure_change_regression(changes_by_responder(data, adam, spec), spec["x"], spec["y"], target)
            written.append(target)
    if "ADQS" in adam:
        fits = None
        try:
            from cdisc_als.stats.models import piecewise_mixed_model

            data = adam["ADQS"]
            data = data[(data["PARAMCD"] == "ALSR1TOT") & (data["FASFL"] == "Y") & (data["ANL01FL"] == "Y")
                        & data["AVISITN"].isin([-3, 0, 1, 2, 3, 4, 6])].rename(columns={"AVISITN": "MONTH"})
            fits = {f.group: (f.lead, f.post) for f in piecewise_mixed_model(data, "TRTP")}
        except (ValueError, np.linalg.LinAlgError):
            fits = None
        figure_mean_change(adam["ADQS"], out / "figure2_alsfrs_change.png", fits=fits)
        written.append(out / "figure2_alsfrs_change.png")
    if "ADTTE" in adam:
        for paramcd, title in (("TTDEATH", "Survival from screening"),
                               ("TTDTRACH", "Tracheostomy-free survival from screening")):
            target = out / f"km_{paramcd.lower()}.png"
            figure_km(adam["ADTTE"], paramcd, target, title=title)
            written.append(target)
    if km_ard is not None and len(arms) == 2:
        figure_forest(km_ard, arms, out / "forest_survival.png")
        written.append(out / "forest_survival.png")
    return written
