"""Slope parameters of BDS datasets, defined by the `source` column of parameters.csv.

Grammar (parsed with regular expressions, never evaluated):
  slope(X, lead-in)     (X at the baseline visit - X at the first visit) / nominal months between them
  slope(X, {m})         (X at the month-m visit - X at the baseline visit) / m   (per slope month)
  change(A, B)          A - B, per subject (e.g. follow-up slope - lead-in slope)
  improvement(A, B)     100 (A - B) / |B|, missing when B >= 0; responder criteria CRITy/CRITyFL at the
                        study.yaml analysis.responder_thresholds; a subject who died by month m without a
                        value is a poor responder (CRITyFL = 'N')
X, A and B are PARAMCDs of the same dataset; slopes use the analysis record (ANL01FL = 'Y') of each
visit and the nominal months of the visit schedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_als.adam import bds
from cdisc_als.adam import derive as d
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.study import Study

FUNCTION = re.compile(r"\s*(slope|change|improvement)\(\s*([A-Z][A-Z0-9]{0,7})\s*,\s*([A-Za-z0-9\-.]+)\s*\)\s*")
SLOPE_COLUMNS = ["USUBJID", "PARAMCD", "AVAL", "AVISIT", "AVISITN", "ASTDT", "AENDT"]


@dataclass(frozen=True)
class SlopeSpec:
    paramcd: str
    kind: str          # slope | change | improvement
    first: str         # X, or A
    second: str        # 'lead-in', the month, or B

    @property
    def month(self) -> float | None:
        try:
            return float(self.second)
        except ValueError:
            return None


def slope_specs(parameters: dict[str, Parameter]) -> list[SlopeSpec]:
    """The parameters whose source is a slope function, in parameters.csv order."""
    out = []
    for code, parameter in parameters.items():
        match = FUNCTION.fullmatch(parameter.source)
        if match:
            out.append(SlopeSpec(code, *match.groups()))
    return out


def _wide(analysis: dict[str, pd.DataFrame], paramcd: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, dates) by subject and analysis visit of one parameter; `analysis` holds the analysis
    records (ANL01FL = Y, scheduled visit) split by PARAMCD."""
    recs = analysis.get(paramcd, pd.DataFrame(columns=["USUBJID", "AVISITN", "AVAL", "ADT"]))
    values = recs.pivot_table(index="USUBJID", columns="AVISITN", values="AVAL", aggfunc="first")
    dates = recs.pivot_table(index="USUBJID", columns="AVISITN", values="ADT", aggfunc="first")
    return values, dates


def _two_point(analysis: dict[str, pd.DataFrame], spec: SlopeSpec, study: Study,
               wide: dict[str, tuple[pd.DataFrame, pd.DataFrame]] | None = None) -> pd.DataFrame:
    """The two-point slope parameter of `spec`; `wide` caches _wide per parameter (several slopes of one
    parameter pivot it once)."""
    wide = {} if wide is None else wide
    if spec.first not in wide:
        wide[spec.first] = _wide(analysis, spec.first)
    values, dates = wide[spec.first]
    base = study.baseline_visit.month
    if spec.second == "lead-in":
        start, end, avisit, avisitn = study.first_visit.month, base, "LEAD-IN", 100.0
    else:
        start, end = base, float(spec.second)
        avisit, avisitn = f"MONTH {base:g}-{end:g}", 100.0 + end
    if start not in values.columns or end not in values.columns:
        return pd.DataFrame(columns=SLOPE_COLUMNS)
    slope = d.two_point_slope(values[start], values[end], end - start).dropna()
    out = pd.DataFrame({"USUBJID": slope.index, "AVAL": slope.to_numpy()})
    out["PARAMCD"], out["AVISIT"], out["AVISITN"] = spec.paramcd, avisit, avisitn
    out["ASTDT"] = out["USUBJID"].map(dates[start]) if start in dates else pd.NaT
    out["AENDT"] = out["USUBJID"].map(dates[end]) if end in dates else pd.NaT
    return out


def dead_by_month(adsl: pd.DataFrame, month: float, study: Study) -> set[str]:
    """Subjects who died by month m: DTHDT <= RFSTDT + month x month_length_days (rounded half up)."""
    died = adsl.dropna(subset=["DTHDT"])
    days = int(month * study.month_length_days + 0.5)
    return set(died.loc[died["DTHDT"] <= died["RFSTDT"] + pd.Timedelta(days=days), "USUBJID"])


def _improvement(first: pd.DataFrame, second: pd.DataFrame, spec: SlopeSpec, month: float | None,
                 adsl: pd.DataFrame, study: Study, label: str) -> pd.DataFrame:
    out = bds.combine_slopes(first, second, d.slope_improvement, spec.paramcd, "")
    dead = dead_by_month(adsl, month, study) if month is not None else set()
    if dead:
        missing = second[~second["USUBJID"].isin(out["USUBJID"]) & second["USUBJID"].isin(dead)]
        avisit = first["AVISIT"].iloc[0] if len(first) else f"MONTH 0-{month:g}"
        extra = pd.DataFrame({"USUBJID": missing["USUBJID"], "AVAL": np.nan, "PARAMCD": spec.paramcd,
                              "AVISIT": avisit, "AVISITN": 100.0 + month, "ASTDT": missing["ASTDT"], "AENDT": pd.NaT})
        out = pd.concat([out, extra], ignore_index=True)
    force_no = out["USUBJID"].isin(dead) & out["AVAL"].isna()
    thresholds = list(study.analysis.responder_thresholds)
    flags = d.criterion_flags(out["AVAL"], thresholds, force_no=force_no)
    for k, (threshold, flag) in enumerate(zip(thresholds, flags, strict=True), start=1):
        out[f"CRIT{k}"] = f"{label} >= {threshold:g}"
        out[f"CRIT{k}FL"] = flag
    return out


def derive_slope_params(visits: pd.DataFrame, parameters: dict[str, Parameter], adsl: pd.DataFrame,
                        study: Study) -> pd.DataFrame:
    """Every slope-function parameter of `parameters` from the analysis-visit records (PARAMCD, AVAL,
    AVISITN, ANL01FL, ADT); one record per subject and parameter."""
    missing = [c for c in ("USUBJID", "PARAMCD", "AVAL", "AVISITN", "ANL01FL", "ADT") if c not in visits.columns]
    if missing:
        raise KeyError(f"derive_slope_params: visit records lack required column(s) {missing}")
    built: dict[str, pd.DataFrame] = {}
    specs = slope_specs(parameters)
    wanted = {spec.first for spec in specs if spec.kind == "slope"}
    analysis = visits.loc[visits["PARAMCD"].isin(wanted) & (visits["ANL01FL"] == "Y") & visits["AVISITN"].notna(),
                          ["USUBJID", "PARAMCD", "AVISITN", "AVAL", "ADT"]]
    by_parameter = dict(tuple(analysis.groupby("PARAMCD", sort=False)))
    wide: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    for spec in specs:
        if spec.kind == "slope":
            built[spec.paramcd] = _two_point(by_parameter, spec, study, wide)
            continue
        first, second = built.get(spec.first), built.get(spec.second)
        if first is None or second is None:
            raise KeyError(f"parameter {spec.paramcd}: {spec.kind}({spec.first}, {spec.second}) needs both "
                           "parameters defined above it in parameters.csv")
        if spec.kind == "change":
            built[spec.paramcd] = bds.combine_slopes(first, second, d.slope_change, spec.paramcd, "")
        else:
            month = next((s.month for s in slope_specs(parameters) if s.paramcd == spec.first), None)
            built[spec.paramcd] = _improvement(first, second, spec, month, adsl, study,
                                               parameters[spec.paramcd].param)
    parts = [frame for frame in built.values() if len(frame)]
    if not parts:
        return pd.DataFrame(columns=SLOPE_COLUMNS)
    return pd.concat(parts, ignore_index=True).drop(columns=["PARAM"], errors="ignore")
