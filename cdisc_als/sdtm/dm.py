"""DM reference dates and death, from lookups into other raw tables (configured in DM.yaml).

derive.dm_reference maps a DM variable to a lookup:
  {table, date, where (optional condition), pick: first|last}    one raw table
  {sources: [{table, date, where}, ...], pick: first|last}       several, the earliest/latest wins
  fallback: another lookup used where the first gives nothing
Afterwards DTHFL = 'Y' where DTHDTC is filled, and a subject randomized to an arm whose treatment
(study.yaml `treated: true`) was never given (no RFXSTDTC) gets blank ACTARMCD/ACTARM and
ARMNRS = 'ASSIGNED, NOT TREATED'.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cdisc_als.sdtm.conditions import evaluate
from cdisc_als.sdtm.dates import to_iso8601
from cdisc_als.sdtm.rules import usubjid_of

NOT_TREATED = "ASSIGNED, NOT TREATED"


def lookup_dates(spec: dict[str, Any], ctx) -> pd.Series:
    """USUBJID -> ISO date chosen by the lookup spec."""
    sources = spec.get("sources") or [spec]
    parts = []
    for src in sources:
        raw = ctx.raw[src["table"]]
        if src.get("where"):
            raw = raw[evaluate(src["where"], raw).to_numpy()]
        iso = _per_distinct(raw[src["date"]].fillna("").astype(str), lambda u: to_iso8601(u)[0].to_numpy(dtype=object))
        usubjid = _per_distinct(raw[ctx.subject_column], lambda u: np.array([usubjid_of(ctx, s) for s in u],
                                                                             dtype=object))
        parts.append(pd.DataFrame({"USUBJID": usubjid, "DTC": iso}))
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["USUBJID", "DTC"])
    data = data[(data["DTC"] != "") & (data["USUBJID"] != "")].sort_values("DTC")
    grouped = data.groupby("USUBJID")["DTC"]
    chosen = grouped.last() if spec.get("pick", "first") == "last" else grouped.first()
    if spec.get("fallback"):
        backup = lookup_dates(spec["fallback"], ctx)
        chosen = chosen.combine_first(backup)
    return chosen


def _per_distinct(values: pd.Series, func) -> np.ndarray:
    """func (distinct values -> results) spread back to every record; a missing value gives ''."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = np.append(func(pd.Series(uniques, dtype=object)), np.array([""], dtype=object))
    return results[codes]


def derive_dm_reference(data: pd.DataFrame, conf: dict[str, Any], ctx) -> pd.DataFrame:
    for variable, spec in conf.items():
        data[variable] = data["USUBJID"].map(lookup_dates(spec, ctx)).fillna("")
    if "DTHDTC" in data.columns:
        data["DTHFL"] = (data["DTHDTC"] != "").map({True: "Y", False: ""})
    treated = {a.armcd for a in ctx.study.arms if a.treated}
    if {"ARMCD", "RFXSTDTC", "ACTARMCD"} <= set(data.columns):
        never = data["ARMCD"].isin(treated) & (data["RFXSTDTC"] == "")
        data.loc[never, ["ACTARMCD", "ACTARM"]] = ""
        data.loc[never, "ARMNRS"] = NOT_TREATED
    return data
