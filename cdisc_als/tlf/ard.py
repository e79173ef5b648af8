"""Analysis Results Data: every output computed as one row per statistic, then rendered or compared.

Columns: output_id, group1 (treatment variable), group1_level (arm; '' for between-arm statistics),
variable (ADaM variable or PARAMCD), variable_level (category, visit or flag value), stat_name
(n, N, pct, mean, sd, diff, se, lcl, ucl, pvalue, ...), stat (unrounded), stat_fmt (as printed:
SAS half-up rounding, p to 4 decimals then 3), and row_id (the output row the statistic belongs to).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cdisc_als.resources import mappings_dir
from cdisc_als.rounding import format_number, format_percent, format_pvalue
from cdisc_als.stats.models import describe
from cdisc_als.stats.tests import chi2_or_fisher, student_pooled

COLUMNS = ["output_id", "group1", "group1_level", "variable", "variable_level", "stat_name", "stat", "stat_fmt",
           "row_id"]


def load_catalogue(path: str | Path | None = None) -> list[dict[str, Any]]:
    path = Path(path) if path else mappings_dir() / "tlf" / "outputs.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(doc["outputs"])


def filter_population(frame: pd.DataFrame, conditions: dict[str, Any] | None) -> pd.DataFrame:
    """Rows where every listed variable equals its value (numbers compared as numbers)."""
    mask = pd.Series(True, index=frame.index)
    for variable, value in (conditions or {}).items():
        column = frame[variable]
        mask &= (column == value) if not isinstance(value, str) else (column.astype(str) == value)
    return frame[mask]


def _row(output: dict, treatment: str, arm: str, variable: str, level: str, name: str, value: float, text: str,
         row_id: str) -> dict:
    return {"output_id": output["id"], "group1": treatment, "group1_level": arm, "variable": variable,
            "variable_level": level, "stat_name": name, "stat": value, "stat_fmt": text, "row_id": row_id}


def _continuous(output, spec, data, treatment, arms) -> list[dict]:
    rows, groups = [], []
    for arm in arms:
        values = data.loc[data[treatment] == arm, spec["variable"]].dropna()
        d = describe(values)
        groups.append(d)
        dp = spec.get("dp", 1)
        for stat in ("n", "mean", "sd"):
            text = str(d[stat]) if stat == "n" else format_number(d[stat], dp)
            rows.append(_row(output, treatment, arm, spec["variable"], "", stat, d[stat], text, spec["id"]))
    if len(arms) == 2 and all(g["n"] > 1 for g in groups):
        res = student_pooled(groups[0]["n"], groups[0]["mean"], groups[0]["sd"],
                             groups[1]["n"], groups[1]["mean"], groups[1]["sd"])
        dp = spec.get("dp", 1) if spec.get("dp", 1) > 1 else 2
        for stat in ("diff", "se", "lcl", "ucl"):
            rows.append(_row(output, treatment, "", spec["variable"], "", stat, getattr(res, stat),
                             format_number(getattr(res, stat), dp), spec["id"]))
        rows.append(_row(output, treatment, "", spec["variable"], "", "pvalue", res.p, format_pvalue(res.p), spec["id"]))
    elif len(arms) > 2 and all(g["n"] > 1 for g in groups):
        from scipy import stats as sps

        samples = [data.loc[data[treatment] == arm, spec["variable"]].dropna() for arm in arms]
        p = float(sps.f_oneway(*samples).pvalue)      # one-way ANOVA, as PROC GLM for more than two arms
        rows.append(_row(output, treatment, "", spec["variable"], "", "pvalue", p, format_pvalue(p), spec["id"]))
    return rows


def _counts(output, spec, data, treatment, arms, levels, population) -> list[dict]:
    rows, table = [], []
    for level in levels:
        counts = []
        for arm in arms:
            total = int((population[treatment] == arm).sum())
            n = int(((data[treatment] == arm) & (data[spec["variable"]].astype(str) == level)).sum())
            counts.append((n, total))
            rows.append(_row(output, treatment, arm, spec["variable"], level, "n", n, str(n), spec["id"]))
            rows.append(_row(output, treatment, arm, spec["variable"], level, "N", total, str(total), spec["id"]))
            rows.append(_row(output, treatment, arm, spec["variable"], level, "pct", 100 * n / total if total else None,
                             format_percent(n, total), spec["id"]))
        table.append(counts)
    if len(arms) >= 2:
        if len(levels) == 1:
            matrix = [[n for n, _ in table[0]], [total - n for n, total in table[0]]]
        else:
            matrix = [[n for n, _ in counts] for counts in table]
        res = chi2_or_fisher(matrix)
        rows.append(_row(output, treatment, "", spec["variable"], "", "pvalue", res.p, format_pvalue(res.p), spec["id"]))
        rows.append(_row(output, treatment, "", spec["variable"], "", "method", None, res.method, spec["id"]))
    return rows


def _ae_incidence(output, spec, data, treatment, arms, denominators) -> list[dict]:
    """Events and participants (n, %) per arm overall and by SOC and PT, most frequent first."""
    rows = []
    groups = [("ANY", "", data)]
    if spec.get("by_term", True):
        for soc, part in sorted(data.groupby("AEBODSYS"), key=lambda kv: (-kv[1]["USUBJID"].nunique(), kv[0])):
            groups.append(("SOC", soc, part))
            for pt, sub in sorted(part.groupby("AEDECOD"), key=lambda kv: (-kv[1]["USUBJID"].nunique(), kv[0])):
                groups.append(("PT", f"{soc} / {pt}", sub))
    for kind, level, part in groups:
        variable = {"ANY": spec["id"], "SOC": "AEBODSYS", "PT": "AEDECOD"}[kind]
        for arm in arms:
            arm_rows = part[part[treatment] == arm]
            events, subjects, total = len(arm_rows), arm_rows["USUBJID"].nunique(), denominators.get(arm, 0)
            rows.append(_row(output, treatment, arm, variable, level, "events", events, str(events), spec["id"]))
            rows.append(_row(output, treatment, arm, variable, level, "n", subjects, str(subjects), spec["id"]))
            rows.append(_row(output, treatment, arm, variable, level, "N", total, str(total), spec["id"]))
            rows.append(_row(output, treatment, arm, variable, level, "pct", 100 * subjects / total if total else None,
                             format_percent(subjects, total), spec["id"]))
        if kind == "ANY" and len(arms) >= 2:
            with_event = [part.loc[part[treatment] == arm, "USUBJID"].nunique() for arm in arms]
            res = chi2_or_fisher([with_event, [denominators.get(arm, 0) - n for arm, n in zip(arms, with_event,
                                                                                             strict=True)]])
            rows.append(_row(output, treatment, "", variable, "", "pvalue", res.p, format_pvalue(res.p), spec["id"]))
    return rows


def _km(output, spec, data, treatment, arms) -> list[dict]:
    """Kaplan-Meier restricted mean (to each group's largest time, SPSS style) with SE, events and log-rank p."""
    from cdisc_als.stats.km import km_restricted_mean, logrank_p

    rows = []
    event = data["CNSR"] == 0
    per_arm = []
    for arm in arms:
        sel = data[treatment] == arm
        km = km_restricted_mean(data.loc[sel, "AVAL"].to_numpy(), event[sel].to_numpy())
        per_arm.append(sel)
        for name, value, text in (("n", km.n, str(km.n)), ("events", km.events, str(km.events)),
                                  ("rmst", km.mean, format_number(km.mean, spec.get("dp", 0))),
                                  ("rmst_se", km.se, format_number(km.se, spec.get("dp", 0)))):
            rows.append(_row(output, treatment, arm, spec["where"]["PARAMCD"], spec.get("subgroup_label", ""), name,
                             value, text, spec["id"]))
    if len(arms) >= 2:
        if len(arms) == 2:
            a, b = per_arm
            p = logrank_p(data.loc[a, "AVAL"], event[a], data.loc[b, "AVAL"], event[b])
        else:
            from lifelines.statistics import multivariate_logrank_test

            p = float(multivariate_logrank_test(data["AVAL"], data[treatment], event).p_value)
        rows.append(_row(output, treatment, "", spec["where"]["PARAMCD"], spec.get("subgroup_label", ""), "pvalue", p,
                         format_pvalue(p), spec["id"]))
    return rows


def _paired(output, spec, data, treatment) -> list[dict]:
    """Per parameter: mean (SE) at the two visits, paired t of the change, ROC AUC after vs before."""
    from cdisc_als.stats.models import roc_auc
    from cdisc_als.stats.tests import paired_t

    rows = []
    first, second = spec["visits"]
    for paramcd, part in data.groupby("PARAMCD", sort=True):
        wide = part.pivot_table(index="USUBJID", columns="AVISITN", values="AVAL", aggfunc="first")
        if first not in wide or second not in wide:
            continue
        both = wide[[first, second]].dropna()
        for visit, column in (("V_FIRST", first), ("V_SECOND", second)):
            d = describe(both[column])
            for stat in ("n", "mean", "se"):
                text = str(d[stat]) if stat == "n" else format_number(d[stat], spec.get("dp", 1))
                rows.append(_row(output, treatment, "", paramcd, f"{visit}={column:g}", stat, d[stat], text, spec["id"]))
        if len(both) > 2:
            res = paired_t(both[first], both[second])
            rows.append(_row(output, treatment, "", paramcd, "change", "diff", res.diff,
                             format_number(res.diff, spec.get("dp", 1)), spec["id"]))
            rows.append(_row(output, treatment, "", paramcd, "change", "pvalue", res.p, format_pvalue(res.p), spec["id"]))
            auc = roc_auc(both[first], both[second])
            rows.append(_row(output, treatment, "", paramcd, "change", "auc", auc, format_number(auc, 3), spec["id"]))
    return rows


def changes_by_responder(data: pd.DataFrame, adam: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Subjects' changes (CHG, one column per PARAMCD) in good and poor responders: the responder flag
    (Y / N) is read from spec["responder"] (dataset, PARAMCD, flag); a group is kept when at least 3
    subjects have both spec["x"] and spec["y"]."""
    change = data[data["CHG"].notna()].pivot_table(index="USUBJID", columns="PARAMCD", values="CHG", aggfunc="first")
    resp = adam[spec["responder"]["dataset"]]
    resp = resp[resp["PARAMCD"] == spec["responder"]["PARAMCD"]].set_index("USUBJID")[spec["responder"]["flag"]]
    groups = {}
    if spec["x"] not in change or spec["y"] not in change:
        return groups
    for group, flag in (("good responders", "Y"), ("poor responders", "N")):
        members = change[change.index.map(resp) == flag].dropna(subset=[spec["x"], spec["y"]])
        if len(members) >= 3:
            groups[group] = members
    return groups


def _regression(output, spec, data, treatment, adam) -> list[dict]:
    """Linear regression of the change in y on the change in x, in good and poor responders."""
    from cdisc_als.stats.models import linear_regression

    rows = []
    for group, members in changes_by_responder(data, adam, spec).items():
        fit = linear_regression(members[spec["x"]], members[spec["y"]])
        for stat, value, text in (("n", fit.n, str(fit.n)), ("estimate", fit.slope, format_number(fit.slope, 3)),
                                  ("r2", fit.r2, format_number(fit.r2, 3)), ("pvalue", fit.p, format_pvalue(fit.p))):
            rows.append(_row(output, treatment, "", f"{spec['y']}~{spec['x']}", group, stat, value, text, spec["id"]))
    return rows


def _mixed_model(output, spec, data, treatment, arms) -> list[dict]:
    """Piecewise linear mixed model per arm (post-treatment slope, SE) and the slope difference t test."""
    from cdisc_als.stats.models import piecewise_mixed_model, slope_difference

    frame = data[data["AVISITN"].isin(spec.get("visits", [-3, 0, 1, 2, 3, 4, 6]))].rename(columns={"AVISITN": "MONTH"})
    fits = {f.group: f for f in piecewise_mixed_model(frame, treatment)}
    rows = []
    for arm in arms:
        fit = fits.get(arm)
        if fit is None:
            continue
        for stat, value in (("estimate", fit.post), ("se", fit.post_se), ("lead_estimate", fit.lead),
                            ("lead_se", fit.lead_se), ("n", fit.n_subjects)):
            text = str(value) if stat == "n" else format_number(value, 2)
            rows.append(_row(output, treatment, arm, "ALSR1TOT", "post-treatment slope", stat, value, text, spec["id"]))
    if len(arms) == 2 and all(a in fits for a in arms):
        diff = slope_difference(fits[arms[0]], fits[arms[1]])
        for stat in ("diff", "se"):
            rows.append(_row(output, treatment, "", "ALSR1TOT", "post-treatment slope", stat, diff[stat],
                             format_number(diff[stat], 2), spec["id"]))
        rows.append(_row(output, treatment, "", "ALSR1TOT", "post-treatment slope", "pvalue", diff["p"],
                         format_pvalue(diff["p"]), spec["id"]))
    return rows


def compute_output(output: dict[str, Any], adam: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The ARD of one catalogue output from ADaM frames (population, treatment and rows from the catalogue)."""
    treatment = output["treatment"]
    rows: list[dict] = []
    adsl = adam.get("ADSL")
    for spec in output["rows"]:
        frame = filter_population(adam[spec.get("dataset", output["dataset"])], output.get("population"))
        data = filter_population(frame, spec.get("where"))
        arms = sorted(frame[treatment].dropna().unique(), key=str)
        if "arms" in output:
            arms = output["arms"]
        if spec["type"] == "continuous":
            rows += _continuous(output, spec, data, treatment, arms)
        elif spec["type"] == "ae_incidence":
            subjects = filter_population(adsl, output.get("population")) if adsl is not None else frame
            arm_var = output.get("denominator_treatment", "TRT01A")
            denominators = subjects.groupby(arm_var)["USUBJID"].nunique().to_dict()
            rows += _ae_incidence(output, spec, data, treatment, arms, denominators)
        elif spec["type"] == "km":
            rows += _km(output, spec, data, treatment, arms)
        elif spec["type"] == "mixed_model":
            rows += _mixed_model(output, spec, data, treatment, arms)
        elif spec["type"] == "paired":
            rows += _paired(output, spec, data, treatment)
        elif spec["type"] == "regression":
            rows += _regression(output, spec, data, treatment, adam)
        else:
            levels = spec.get("levels") or [spec["level"]]
            population = frame.drop_duplicates("USUBJID") if "USUBJID" in frame else frame
            if spec["type"] == "responder" and adsl is not None:
                population = filter_population(adsl, output.get("population")).rename(
                    columns={"TRT01P": treatment} if treatment not in adsl else {})
            rows += _counts(output, spec, data, treatment, arms, levels, population)
    return pd.DataFrame(rows, columns=COLUMNS)
