"""Stage-shift counts: subjects by baseline stage and stage at a visit, per group (King's or MiToS
stages of ADQS; death is stage 5). The rows are data for a shift table (ARD-style, one row per group,
baseline level and visit level), the table itself is the catalogue's."""

from __future__ import annotations

import pandas as pd

MISSING = "Missing"


def stage_shift(frame: pd.DataFrame, group: str = "TRTP", baseline: str = "BASE", value: str = "AVAL",
                levels: list[float] | None = None) -> pd.DataFrame:
    """Counts of subjects by `group`, baseline stage and stage (one record per subject in `frame`, e.g.
    the analysis records of one stage parameter at one visit). Every combination of the groups present
    and the levels (the stages present when not given, then 'Missing' for a missing stage) is listed,
    zero counts included; columns: group, BASE, AVAL, N, N_BASE (subjects of the group with that
    baseline level) and PCT (100 N / N_BASE, NaN when N_BASE is 0)."""
    missing = [c for c in (group, baseline, value) if c not in frame.columns]
    if missing:
        raise KeyError(f"stage_shift: frame lacks required column(s) {missing}")
    if "USUBJID" in frame.columns and frame["USUBJID"].duplicated().any():
        raise ValueError("stage_shift: more than one record per subject")
    found = sorted(set(frame[baseline].dropna()) | set(frame[value].dropna()))
    order = [*(levels if levels is not None else found), MISSING]
    labelled = frame.assign(_B=frame[baseline].astype(object).where(frame[baseline].notna(), MISSING),
                            _V=frame[value].astype(object).where(frame[value].notna(), MISSING))
    counts = labelled.groupby([group, "_B", "_V"]).size()
    groups = list(dict.fromkeys(frame[group].tolist()))
    index = pd.MultiIndex.from_product([groups, order, order], names=[group, baseline, value])
    out = counts.reindex(index, fill_value=0).rename("N").reset_index()
    out["N_BASE"] = out.groupby([group, baseline])["N"].transform("sum")
    out["PCT"] = (100 * out["N"] / out["N_BASE"]).where(out["N_BASE"] > 0)
    return out
