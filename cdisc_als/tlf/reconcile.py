"""Reconcile the ARD with the published tables (cdisc_als/simulate/published.yaml), cell by cell at the
printed precision: matched, differing (both values shown), and the paper's documented inconsistencies
flagged as such (the `deviations` of published.yaml). Survival cells that the sample study's search
reaches only approximately are flagged `approximate` with the reason (published.yaml survival.sample_note)."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from cdisc_als.rounding import format_number
from cdisc_als.simulate.calibrate import published

ARM_KEYS = ("MSC", "CONTROL")


def _ard_value(ard: pd.DataFrame, row_id: str, stat: str, arm_index: int | None, arms: list[str],
               level: str = "") -> str | None:
    sel = (ard["row_id"] == row_id) & (ard["stat_name"] == stat)
    if arm_index is None:
        sel &= ard["group1_level"] == ""
    else:
        sel &= ard["group1_level"] == arms[arm_index]
    if level:
        sel &= ard["variable_level"] == level
    hit = ard.loc[sel, "stat_fmt"]
    return None if hit.empty else str(hit.iloc[0])


def _known(row_id: str, cell: str) -> dict[str, Any] | None:
    for dev in published()["deviations"]:
        cells = dev["cell"] if isinstance(dev["cell"], list) else [dev["cell"]]
        if dev["row"] == row_id and cell in cells:
            return dev
    return None


def _add_survival(add, survival: dict[str, Any], ard: pd.DataFrame, arms: list[str]) -> None:
    """Restricted mean survival (SE) in whole months and log-rank p: overall, tracheostomy-free, age < 54."""
    for k, arm in enumerate(ARM_KEYS):
        mean, se = survival["overall"][arm]
        add("survival", "OS", f"{arm} mean", str(mean), _ard_value(ard, "OS", "rmst", k, arms))
        add("survival", "OS", f"{arm} se", str(se), _ard_value(ard, "OS", "rmst_se", k, arms))
        add("survival", "OS_LT54", f"{arm} mean", str(survival["age_lt54"][arm]),
            _ard_value(ard, "OS_LT54", "rmst", k, arms))
        add("survival", "TFS_LT54", f"{arm} mean", str(survival["age_lt54_tracheostomy_free"][arm]),
            _ard_value(ard, "TFS_LT54", "rmst", k, arms))
    for row, printed in (("OS", survival["overall"]["p"]), ("TFS", survival["tracheostomy_free_p"]),
                         ("OS_LT54", survival["age_lt54"]["p"]), ("TFS_LT54", survival["age_lt54_tracheostomy_free"]["p"])):
        add("survival", row, "p", printed, _ard_value(ard, row, "pvalue", None, arms))


def reconcile(ard: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """One line per published cell: table, row, cell, published, ours, status."""
    pub = published()
    lines: list[dict] = []

    def add(table: str, row: str, cell: str, printed: Any, ours: str | None, dev_cell: str | None = None,
            approximate: str = "") -> None:
        """One cell; a difference is a known inconsistency when published.yaml lists it, or `approximate`
        (with that reason) for cells the sample data reach only approximately."""
        text = printed if isinstance(printed, str) else str(printed)
        status, note = ("match", "") if ours == text else ("differs", "")
        dev = _known(row, dev_cell or cell)
        if status == "differs" and dev is not None:
            status, note = "known inconsistency", dev["reason"]
        elif status == "differs" and approximate:
            status, note = "approximate", approximate
        lines.append({"table": table, "row": row, "cell": cell, "published": text, "ours": ours or "", "status": status,
                      "note": note})

    for table in ("table1", "table3"):
        for row in pub[table]["continuous"]:
            dp = row["dp"]
            for k, arm in enumerate(ARM_KEYS):
                mean, sd = row[arm]
                add(table, row["id"], f"{arm} mean", format_number(mean, dp),
                    _ard_value(ard, row["id"], "mean", k, arms), f"{arm}_mean")
                add(table, row["id"], f"{arm} sd", format_number(sd, dp), _ard_value(ard, row["id"], "sd", k, arms))
                if "n" in row:
                    add(table, row["id"], f"{arm} n", str(row["n"][k]), _ard_value(ard, row["id"], "n", k, arms),
                        f"{arm}_n")
            for cell in ("diff", "se", "lcl", "ucl"):
                if cell in row:
                    add(table, row["id"], cell, format_number(row[cell], 2), _ard_value(ard, row["id"], cell, None, arms))
            add(table, row["id"], "p", row["p"], _ard_value(ard, row["id"], "pvalue", None, arms))
    for row in pub["table1"]["categorical"]:
        for level, counts in row["levels"].items():
            for k, arm in enumerate(ARM_KEYS):
                add("table1", row["id"], f"{arm} {level} n", str(counts[k]),
                    _ard_value(ard, row["id"], "n", k, arms, level))
        add("table1", row["id"], "p", row["p"], _ard_value(ard, row["id"], "pvalue", None, arms))
    for row in pub["table3"]["responders"]["rows"]:
        for k, arm in enumerate(ARM_KEYS):
            add("table3", row["id"], f"{arm} n", str(row[arm]), _ard_value(ard, row["id"], "n", k, arms))
            add("table3", row["id"], f"{arm} pct", str(row["pct"][k]), _ard_value(ard, row["id"], "pct", k, arms),
                f"{arm}_pct")
        if not row["id"].endswith("LT50"):
            add("table3", row["id"], "p", row["p"], _ard_value(ard, row["id"], "pvalue", None, arms))
    t2 = pub.get("table2")
    if t2 is not None and (ard["output_id"] == "T2").any():
        for row in t2["any_ae"]:
            rid = f"ANYAE{row['window']}"
            for k, arm in enumerate(ARM_KEYS):
                add("table2", rid, f"{arm} n", str(row[arm]), _ard_value(ard, rid, "n", k, arms))
            add("table2", rid, "p", row["p"], _ard_value(ard, rid, "pvalue", None, arms))
        for window in (4, 6):
            rid = f"ADR{window}"
            for k, arm in enumerate(ARM_KEYS):
                expected = t2["adr"][arm]
                add("table2", rid, f"{arm} events", str(expected["events"]), _ard_value(ard, rid, "events", k, arms))
                add("table2", rid, f"{arm} n", str(expected["participants"]), _ard_value(ard, rid, "n", k, arms))
        for row in t2["sae"]:
            rid = f"SAE{row['window']}"
            for k, arm in enumerate(ARM_KEYS):
                expected = row[arm]
                add("table2", rid, f"{arm} events", str(expected["events"]), _ard_value(ard, rid, "events", k, arms))
                add("table2", rid, f"{arm} n", str(expected["participants"]), _ard_value(ard, rid, "n", k, arms))
                if "pct" in expected:
                    add("table2", rid, f"{arm} pct", str(expected["pct"]), _ard_value(ard, rid, "pct", k, arms),
                        f"{arm}_pct")
    survival = pub.get("survival")
    if survival is not None and (ard["output_id"] == "KM").any():
        _add_survival(functools.partial(add, approximate=survival.get("sample_note", "")), survival, ard, arms)
    lmm = pub.get("mixed_model")
    if lmm is not None and (ard["output_id"] == "LMM").any():
        for k, arm in enumerate(ARM_KEYS):
            slope, se = lmm["post_slope"][arm]
            add("figure2", "LMMPOST", f"{arm} slope", format_number(slope, 2),
                _ard_value(ard, "LMMPOST", "estimate", k, arms))
            add("figure2", "LMMPOST", f"{arm} se", format_number(se, 2), _ard_value(ard, "LMMPOST", "se", k, arms))
        add("figure2", "LMMPOST", "p", lmm["post_slope"]["p"], _ard_value(ard, "LMMPOST", "pvalue", None, arms))
    return pd.DataFrame(lines)
