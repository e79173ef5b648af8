"""The catalogue of mapping rules: each maps one target variable from raw columns, vectorised.

A rule is a mapping in the domain spec, e.g. `{rule: ct, from: SEX, codelist: SEX}`. Every rule
returns the target values for all source rows and a list of (row position, message) problems
that become findings (an unmapped term, an unparseable date); a problem never raises.

Rules:
  assign     copy a raw column                              {from}
  hardcode   a constant (placeholders.py: $study_id, $domain, ... replaced)   {value}
  ct         collected value -> submission value of a codelist, synonyms and decodes accepted,
             case-insensitive; unmapped values are findings   {from, codelist, output: value|decode}
  map        sponsor mapping table, unmapped -> finding      {from, values: {raw: target}, default}
  date       raw (partial) date -> ISO 8601                  {from, time}
  number     text -> number; not a number -> finding         {from}
  usubjid    the study's USUBJID pattern from site and subject
  visitnum   visit name -> VISITNUM of study.yaml            {from}
  arm        raw arm value -> the study.yaml arm's code or label (raw_value, else armcd; case-insensitive);
             not an arm of the study -> finding               {from, output: armcd|arm}
  delta_day  --DY from a day offset (PRO-ACT *_Delta)        {from}
  concat     text built from literals and raw columns       {parts: ["ALSFRS-R ", {from: VISIT}]}
  condition  apply `then` where a parsed condition holds, else `else` (blank by default)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cdisc_als.metadata import Metadata
from cdisc_als.sdtm.conditions import evaluate
from cdisc_als.sdtm.dates import day_from_delta, to_iso8601
from cdisc_als.sdtm.fast import filled, map_values, on_unique
from cdisc_als.sdtm.placeholders import substitute
from cdisc_als.study import Study

Problems = list[tuple[int, str, str, str]]   # (row position, column, value, message)


@dataclass
class RuleContext:
    study: Study
    metadata: Metadata
    domain: str
    sites: dict[str, str]          # subject -> site (from the subject table)
    subject_column: str = "SUBJID"
    usubjids: dict[str, str] = field(default_factory=dict)   # subject -> USUBJID, filled as met (shareable)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        raise KeyError(f"raw column {name!r} is not in the source table")
    column = frame[name]
    if column.dtype == object and pd.api.types.infer_dtype(column, skipna=False) in ("string", "empty"):
        return column                               # text already (raw cells always are): nothing to convert
    return column.fillna("").astype(str)


def rule_assign(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    return _col(frame, spec["from"]), []


def rule_hardcode(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    value = substitute(spec["value"], ctx.study, ctx.domain)
    return pd.Series(filled(len(frame), value), index=frame.index, dtype=object), []


def rule_ct(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    codelist = ctx.metadata.codelist(spec["codelist"])
    source = _col(frame, spec["from"])
    lookup = codelist.lookup()
    mapped = on_unique(source, lambda s: s.str.upper().map(lookup))
    if spec.get("output", "value") == "decode":
        decodes = {t.value: (t.decode or t.value) for t in codelist.terms}
        mapped = map_values(mapped, decodes)
    bad = mapped.isna() & (source != "")
    problems = [(int(i), spec["from"], source.iloc[i], f"not in codelist {codelist.id}"
                 + ("" if codelist.extensible else " (non-extensible)"))
                for i in np.nonzero(bad.to_numpy())[0]]
    return mapped.fillna(""), problems


def rule_map(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    source = _col(frame, spec["from"])
    table = {str(k): ("" if v is None else str(v)) for k, v in (spec.get("values") or {}).items()}
    mapped = map_values(source, table)
    if "default" in spec:
        return mapped.fillna(str(spec["default"])), []
    bad = mapped.isna() & (source != "")
    problems = [(int(i), spec["from"], source.iloc[i], "no mapping for this value")
                for i in np.nonzero(bad.to_numpy())[0]]
    return mapped.fillna(""), problems


def rule_date(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    source = _col(frame, spec["from"])
    if spec.get("time"):
        time = _col(frame, spec["time"])
        source = source.where(time == "", source + "T" + time)
    codes, uniques = pd.factorize(source)
    iso_unique, error_unique = to_iso8601(pd.Series(uniques, dtype=object))
    iso = pd.Series(iso_unique.to_numpy(dtype=object)[codes], index=source.index) if len(source) else source.copy()
    error = pd.Series(error_unique.to_numpy(dtype=object)[codes], index=source.index) if len(source) else source.copy()
    problems = [(int(i), spec["from"], source.iloc[i], error.iloc[i]) for i in np.nonzero((error != "").to_numpy())[0]]
    return iso, problems


def rule_number(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    source = _col(frame, spec["from"])
    number = on_unique(source, lambda s: pd.to_numeric(s.where(s != "", None), errors="coerce").astype("float64"))
    bad = number.isna() & (source != "")
    problems = [(int(i), spec["from"], source.iloc[i], "not a number") for i in np.nonzero(bad.to_numpy())[0]]
    return number.astype("float64"), problems


def rule_usubjid(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    subject = _col(frame, spec.get("from", ctx.subject_column))
    codes, uniques = pd.factorize(subject)          # text: no missing values
    distinct = pd.Series(uniques, dtype=object)
    no_site = distinct.map(ctx.sites).isna().to_numpy()
    ids = np.array([usubjid_of(ctx, j) for j in uniques], dtype=object)
    out = pd.Series(ids[codes] if len(uniques) else np.array([], dtype=object), index=subject.index, dtype=object)
    problems = [(int(i), spec.get("from", ctx.subject_column), subject.iloc[i], "subject not in the subject table")
                for i in np.nonzero(no_site[codes])[0]] if no_site.any() else []
    return out, problems


def usubjid_of(ctx: RuleContext, subject: str) -> str:
    """The subject's USUBJID (study.yaml's pattern with its site; '' for a subject without a site), built once
    per subject and kept in ctx.usubjids (any context with study, sites and usubjids)."""
    if subject not in ctx.usubjids:
        ctx.usubjids[subject] = ctx.study.usubjid(ctx.sites[subject], subject) if subject in ctx.sites else ""
    return ctx.usubjids[subject]


def rule_visitnum(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    source = _col(frame, spec["from"])
    numbers = {v.visit.upper(): v.visitnum for v in ctx.study.visits}
    out = on_unique(source, lambda s: s.str.upper().map(numbers))
    bad = out.isna() & (source != "")
    problems = [(int(i), spec["from"], source.iloc[i], "not a visit of study.yaml") for i in np.nonzero(bad.to_numpy())[0]]
    return out.astype("float64"), problems


def rule_arm(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    source = _col(frame, spec["from"])
    output = spec.get("output", "armcd")
    if output not in ("armcd", "arm"):
        raise KeyError(f"rule arm: output must be armcd or arm, not {output!r}")
    table = {a.raw.upper(): getattr(a, output) for a in ctx.study.arms}
    out = on_unique(source, lambda s: s.str.upper().map(table))
    bad = out.isna() & (source != "")
    problems = [(int(i), spec["from"], source.iloc[i],
                 f"not an arm of study.yaml (raw values: {sorted(a.raw for a in ctx.study.arms)})")
                for i in np.nonzero(bad.to_numpy())[0]]
    return out.fillna(""), problems


def rule_delta_day(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    source = _col(frame, spec["from"])
    out = day_from_delta(source.where(source != "", None))
    bad = out.isna() & (source != "")
    problems = [(int(i), spec["from"], source.iloc[i], "day offset is not a whole number")
                for i in np.nonzero(bad.to_numpy())[0]]
    return out, problems


def rule_concat(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    """The parts joined, once per distinct combination of the columns' values (one text object each)."""
    pieces = [_col(frame, part["from"]).to_numpy() if isinstance(part, dict) else str(part) for part in spec["parts"]]
    combination = np.zeros(len(frame), dtype=np.int64)
    for piece in pieces:
        if isinstance(piece, np.ndarray):
            codes, uniques = pd.factorize(piece)        # text: no missing values
            combination, _ = pd.factorize(combination * len(uniques) + codes)
    distinct, first = np.unique(combination, return_index=True)
    texts = np.array(["".join(p if isinstance(p, str) else p[row] for p in pieces) for row in first] + [""],
                     dtype=object)
    return pd.Series(texts[np.searchsorted(distinct, combination)] if len(frame) else texts[:0], index=frame.index,
                     dtype=object), []


def rule_condition(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    mask = evaluate(spec["when"], frame).to_numpy()
    where_then, where_else = np.nonzero(mask)[0], np.nonzero(~mask)[0]
    then_values, then_problems = apply_rule(frame[mask], spec["then"], ctx)
    problems = [(int(where_then[p]), c, v, m) for p, c, v, m in then_problems]
    if spec.get("else"):
        else_values, else_problems = apply_rule(frame[~mask], spec["else"], ctx)
        problems += [(int(where_else[p]), c, v, m) for p, c, v, m in else_problems]
    else:
        blank = np.nan if _is_numeric(then_values) else ""
        else_values = pd.Series([blank] * len(where_else), index=frame.index[~mask], dtype=then_values.dtype)
    pieces = [part for part in (then_values, else_values) if len(part)]
    out = pd.concat(pieces).reindex(frame.index) if pieces else then_values.reindex(frame.index)
    return out, problems


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series)


RULES: dict[str, Callable[[pd.DataFrame, dict[str, Any], RuleContext], tuple[pd.Series, Problems]]] = {
    "assign": rule_assign, "hardcode": rule_hardcode, "ct": rule_ct, "map": rule_map, "date": rule_date,
    "number": rule_number, "usubjid": rule_usubjid, "visitnum": rule_visitnum, "delta_day": rule_delta_day,
    "concat": rule_concat, "condition": rule_condition, "arm": rule_arm,
}
REQUIRED = {"assign": ("from",), "hardcode": ("value",), "ct": ("from", "codelist"), "map": ("from", "values"),
            "date": ("from",), "number": ("from",), "usubjid": (), "visitnum": ("from",), "delta_day": ("from",),
            "concat": ("parts",), "condition": ("when", "then"), "arm": ("from",)}


def apply_rule(frame: pd.DataFrame, spec: dict[str, Any], ctx: RuleContext) -> tuple[pd.Series, Problems]:
    """Run one rule on the source rows; row positions in problems are positions in `frame`."""
    return RULES[spec["rule"]](frame, spec, ctx)
