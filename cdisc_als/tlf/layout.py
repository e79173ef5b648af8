"""Table layout from ARD: the rows and cells every renderer prints (and shells with placeholders).

A layout is a title, column headers (one per arm, then difference and p), body rows (label, indent,
cells) and footnotes. Renderers read layouts only; layouts read ARD only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Layout:
    output_id: str
    title: str
    columns: list[str]
    rows: list[tuple[str, int, list[str]]] = field(default_factory=list)   # (label, indent, cells)
    footnotes: list[str] = field(default_factory=list)


def _get(ard: pd.DataFrame, row_id: str, stat: str, arm: str = "", variable: str | None = None,
         level: str | None = None) -> str:
    sel = (ard["row_id"] == row_id) & (ard["stat_name"] == stat) & (ard["group1_level"] == arm)
    if variable is not None:
        sel &= ard["variable"] == variable
    if level is not None:
        sel &= ard["variable_level"] == level
    hit = ard.loc[sel, "stat_fmt"]
    return "" if hit.empty else str(hit.iloc[0])


def _placeholder(dp: int) -> str:
    return "xx" + ("." + "x" * dp if dp else "")


def build_layout(output: dict, ard: pd.DataFrame | None) -> Layout:
    """The printed table of a catalogue output; ard=None gives the mock shell (placeholders, no data)."""
    arms = output.get("arms", [])
    shell = ard is None
    counts = {arm: "" for arm in arms}
    if not shell and (ard["stat_name"] == "N").any():
        for arm in arms:
            n = ard.loc[(ard["group1_level"] == arm) & (ard["stat_name"] == "N"), "stat_fmt"]
            counts[arm] = f" (N = {n.iloc[0]})" if len(n) else ""
    columns = [f"{arm}{'' if shell else counts[arm]}" for arm in arms]
    has_diff = any(r["type"] == "continuous" for r in output["rows"]) and output["id"] != "T1"
    columns += (["Difference (SE, 95% CI)"] if has_diff else []) + ["p"]
    if output.get("columns"):
        columns = list(output["columns"])
    layout = Layout(output["id"], output["title"], columns, footnotes=list(output.get("footnotes", [])))
    for spec in output["rows"]:
        label, kind, rid = spec.get("label", spec["id"]), spec["type"], spec["id"]
        if kind == "continuous":
            dp = spec.get("dp", 1)
            if shell:
                cells = [f"{_placeholder(dp)} ({_placeholder(dp)})" for _ in arms]
                diff = f"{_placeholder(2)} ({_placeholder(2)}, {_placeholder(2)} to {_placeholder(2)})"
                p = "x.xxx"
            else:
                cells = [f"{_get(ard, rid, 'mean', a)} ({_get(ard, rid, 'sd', a)})" for a in arms]
                if has_diff:
                    cells = [f"{_get(ard, rid, 'n', a)}, {c}" for a, c in zip(arms, cells, strict=True)]
                diff = (f"{_get(ard, rid, 'diff')} ({_get(ard, rid, 'se')}, {_get(ard, rid, 'lcl')} to "
                        f"{_get(ard, rid, 'ucl')})")
                p = _get(ard, rid, "pvalue")
            layout.rows.append((label, 0, cells + ([diff] if has_diff else []) + [p]))
        elif kind in ("categorical", "responder"):
            levels = spec.get("levels") or [spec["level"]]
            p = "x.xxx" if shell else _get(ard, rid, "pvalue")
            for k, level in enumerate(levels):
                cells = ["xx (xx%)" if shell else f"{_get(ard, rid, 'n', a, level=level)} "
                         f"({_get(ard, rid, 'pct', a, level=level)}%)" for a in arms]
                text = label if len(levels) == 1 else (f"{label}: {level}")
                layout.rows.append((text, 0, cells + ([""] if has_diff else []) + [p if k == 0 else ""]))
        elif kind == "ae_incidence":
            _ae_rows(layout, spec, ard, arms, shell)
        elif kind == "paired":
            _paired_rows(layout, spec, ard, shell)
        elif kind == "regression":
            for group in ("good responders", "poor responders"):
                if shell:
                    cells = ["xx", "x.xxx", "x.xxx", "x.xxx"]
                else:
                    var = f"{spec['y']}~{spec['x']}"
                    cells = [_get(ard, rid, s, variable=var, level=group) for s in ("n", "estimate", "r2", "pvalue")]
                layout.rows.append((f"{label}: {group}", 0, cells))
        elif kind == "mixed_model":
            cells = (["x.xx (x.xx)" for _ in arms] + ["x.xxx"]) if shell else \
                [f"{_get(ard, rid, 'estimate', a)} ({_get(ard, rid, 'se', a)})" for a in arms] + [_get(ard, rid, "pvalue")]
            layout.rows.append((label, 0, cells))
        elif kind == "km":
            cells = ["xx (xx)" if shell else f"{_get(ard, rid, 'rmst', a)} ({_get(ard, rid, 'rmst_se', a)})"
                     for a in arms]
            p = "x.xxx" if shell else _get(ard, rid, "pvalue")
            layout.rows.append((label, 0, cells + [p]))
    return layout


def _paired_rows(layout: Layout, spec: dict, ard: pd.DataFrame | None, shell: bool) -> None:
    if shell:
        layout.rows.append(("<parameter>", 0, ["xx", "xx.x (xx.x)", "xx.x (xx.x)", "x.xxx", "x.xxx"]))
        return
    rid = spec["id"]
    first, second = spec["visits"]
    for paramcd in dict.fromkeys(ard.loc[ard["row_id"] == rid, "variable"]):
        def at(stat: str, level: str, code: str = paramcd) -> str:
            return _get(ard, rid, stat, variable=code, level=level)
        v1, v2 = f"V_FIRST={first:g}", f"V_SECOND={second:g}"
        layout.rows.append((paramcd, 0, [at("n", v1), f"{at('mean', v1)} ({at('se', v1)})",
                                         f"{at('mean', v2)} ({at('se', v2)})", at("pvalue", "change"),
                                         at("auc", "change")]))


def _ae_rows(layout: Layout, spec: dict, ard: pd.DataFrame | None, arms: list[str], shell: bool) -> None:
    rid, label = spec["id"], spec.get("label", spec["id"])

    def cell(arm: str, variable: str, level: str) -> str:
        if shell:
            return "xx; xx (xx%)"
        return (f"{_get(ard, rid, 'events', arm, variable, level)}; {_get(ard, rid, 'n', arm, variable, level)} "
                f"({_get(ard, rid, 'pct', arm, variable, level)}%)")

    p = "x.xxx" if shell else _get(ard, rid, "pvalue", variable=rid)
    layout.rows.append((label, 0, [cell(a, rid, "") for a in arms] + [p]))
    if shell or not spec.get("by_term", True):
        return
    terms = ard[(ard["row_id"] == rid) & ard["variable"].isin(["AEBODSYS", "AEDECOD"]) & (ard["stat_name"] == "n")]
    for (variable, level), _ in terms.groupby(["variable", "variable_level"], sort=False):
        text = level.split(" / ")[-1]
        layout.rows.append((text, 1 if variable == "AEBODSYS" else 2, [cell(a, variable, level) for a in arms] + [""]))
