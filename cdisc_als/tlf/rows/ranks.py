"""Rank rows: two-group comparisons of per-subject ranks (CAFS and ALS/SURV, stats/cafs.py) and the
worst-rank analysis of an endpoint that death leaves missing (stats/worst_rank.py).

rank_comparison: the row's records hold one rank per subject (`variable`, default AVAL; e.g. ADCAFS
  CAFSR{m} or ALSSR{m}).  scores: {where, variable}: the summed pairwise scores of the same dataset
  (CAFSS{m}), which adds the Finkelstein-Schoenfeld test.  continuity: the 0.5 continuity correction
  of the rank-sum Z (default true, SAS NPAR1WAY).
worst_rank: the row's records hold the endpoint (`variable`, default AVAL; `higher_is_better`,
  default true). A subject of the population without a value who died within `deaths_by_month`
  months of `origin` (default RFSTDT) is ranked below every value, an earlier death (`death_date`,
  default DTHDT; both from ADSL) worse; months of the study spec's month length (365.25 / 12 days
  without a spec). Subjects with neither a value nor such a death are not ranked (n_missing).
Both: per arm n and mean (the mean rank; 1 = worst); per arm other than the `reference` arm (the arm
code; default the untreated arm, else the first) the Wilcoxon rank-sum Z (statistic) and p (pvalue)
of that arm against the reference, as the hazard ratios of time-to-event rows. ARD variable: the
records' PARAMCD (the scores' PARAMCD for the Finkelstein-Schoenfeld statistics).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cdisc_als.stats.cafs import cafs_comparison
from cdisc_als.stats.worst_rank import worst_rank_scores, worst_rank_test
from cdisc_als.tlf.ard import decimals_fmt
from cdisc_als.tlf.context import SUBJECT
from cdisc_als.tlf.filters import apply_filter, condition_columns, number_text, to_condition
from cdisc_als.tlf.rows import LayoutContext, RowContext, RowType, display_lines, emit_block, row_type
from cdisc_als.tlf.rows.survival import reference_arm

DAYS_PER_MONTH = 365.25 / 12
RANK_SUM = "Wilcoxon rank-sum (normal approximation{})"
SCORE_TEST = "Finkelstein-Schoenfeld"


def _variable_name(frame: pd.DataFrame, where, fallback: str) -> str:
    """The records' PARAMCD; without records the PARAMCD the filter names, else `fallback`."""
    if "PARAMCD" in frame and len(frame):
        return "|".join(dict.fromkeys(frame["PARAMCD"].astype(str)))
    named = where.get("PARAMCD") if isinstance(where, dict) else None
    return str(named) if isinstance(named, (str, int, float)) else fallback


def _one_per_subject(ctx: RowContext, frame: pd.DataFrame, column: str) -> pd.Series:
    """The column by subject (the first record when a subject has several: reported)."""
    if ctx.mock or not len(frame):
        return pd.Series(dtype=float)
    repeated = frame[SUBJECT].duplicated()
    if repeated.any():
        ctx.finding("TLF-RANK-DUPLICATE", f"{int(repeated.sum())} subject(s) have more than one record: the first "
                                          f"counts", column, ", ".join(map(str, frame.loc[repeated, SUBJECT].head(5))))
    first = frame[~repeated]
    return pd.Series(pd.to_numeric(first[column], errors="coerce").to_numpy(float), index=first[SUBJECT])


def _people(ctx: RowContext) -> pd.DataFrame:
    """The population's subjects with their column (arm label)."""
    if SUBJECT not in ctx.subjects:
        return pd.DataFrame({SUBJECT: [], "_ARM": []})
    people = ctx.subjects[[SUBJECT, ctx.treatment]].drop_duplicates(SUBJECT)
    return pd.DataFrame({SUBJECT: people[SUBJECT], "_ARM": people[ctx.treatment].map(number_text)})


def _tests(ctx: RowContext, variable: str, arms: np.ndarray, compare) -> None:
    """statistic, pvalue and method of every arm against the reference arm (compare(first, second))."""
    reference = reference_arm(ctx)
    for arm in (a.arm for a in ctx.arms if a.arm != reference):
        result = compare(arm, reference) if not ctx.mock else None
        z, p = (result.z, result.p) if result is not None else (math.nan, math.nan)
        why = "" if not math.isnan(z) else "an arm without ranked subjects, or no variance"
        ctx.add("statistic", z, "xx.xx", arm=arm, variable=variable, warning=why, label="Z")
        ctx.add("pvalue", p, "p.xxx", arm=arm, variable=variable, warning=why)


def _per_arm(ctx: RowContext, people: pd.DataFrame, ranks: pd.Series, variable: str, dp: int) -> None:
    for column in ctx.columns:
        mine = ranks[ctx.in_column(people.rename(columns={"_ARM": ctx.treatment}), column).index]
        mine = mine.dropna()
        ctx.add("n", int(mine.size), "xx", arm=column, variable=variable)
        ctx.add("mean", float(mine.mean()) if mine.size else None, decimals_fmt(dp), arm=column, variable=variable,
                warning="" if mine.size else "no ranked subject", label="Mean rank")


def _rank_compute(ctx: RowContext) -> None:
    column = ctx.row.get("variable", "AVAL")
    variable = _variable_name(ctx.data, ctx.row.get("where"), column)
    people = _people(ctx).reset_index(drop=True)
    ranks = people[SUBJECT].map(_one_per_subject(ctx, ctx.data, column)).astype(float)
    _per_arm(ctx, people, ranks, variable, int(ctx.row.get("decimals", 1)))
    continuity = bool(ctx.row.get("continuity", True))
    groups = people["_ARM"].to_numpy(object)
    method = RANK_SUM.format(", continuity correction" if continuity else "")
    ctx.add("method", method, "text", variable=variable)
    _tests(ctx, variable, groups, lambda a, b: cafs_comparison(ranks, groups, a, b, None, continuity).rank_sum)
    spec = ctx.row.get("scores")
    if spec:
        frame = ctx.study.frame(ctx.dataset, [spec["variable"], *condition_columns(_where(spec))]) \
            if not ctx.mock else ctx.data
        frame = frame[frame[SUBJECT].isin(people[SUBJECT])] if SUBJECT in frame else frame
        frame = apply_filter(frame, _where(spec))
        score_name = _variable_name(frame, spec.get("where"), f"{spec['variable']} (scores)")
        score_name = score_name if score_name != variable else f"{score_name} (scores)"     # keep ARD keys unique
        scores = people[SUBJECT].map(_one_per_subject(ctx, frame, spec["variable"])).astype(float)
        ctx.add("method", SCORE_TEST, "text", variable=score_name)
        _tests(ctx, score_name, groups,
               lambda a, b: cafs_comparison(ranks, groups, a, b, scores, continuity).score_test)


def _where(spec: dict):
    return to_condition(spec.get("where"), "scores: where")


def as_days(values: pd.Series) -> np.ndarray:
    """Dates as days (SAS numeric dates as they are; datetimes as days since 1960-01-01)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(float)
    stamps = pd.to_datetime(values, errors="coerce")
    return ((stamps - pd.Timestamp("1960-01-01")).dt.days).to_numpy(float)


def _worst_compute(ctx: RowContext) -> None:
    column = ctx.row.get("variable", "AVAL")
    variable = _variable_name(ctx.data, ctx.row.get("where"), column)
    people = _people(ctx).reset_index(drop=True)
    values = people[SUBJECT].map(_one_per_subject(ctx, ctx.data, column)).astype(float).to_numpy()
    death_date, origin = ctx.row.get("death_date", "DTHDT"), ctx.row.get("origin", "RFSTDT")
    source = ctx.study.adam["ADSL"] if ctx.study.has("ADSL") and not ctx.mock else ctx.data
    dates = source.drop_duplicates(SUBJECT).set_index(SUBJECT) if SUBJECT in source else pd.DataFrame()
    death = np.full(len(people), np.nan)
    if len(people) and {death_date, origin} <= set(dates.columns):
        lookup = pd.Series(as_days(dates[death_date]) - as_days(dates[origin]), index=dates.index)
        death = people[SUBJECT].map(lookup).astype(float).to_numpy()
    spec = ctx.study.study
    window = float(ctx.row["deaths_by_month"]) * (spec.month_length_days if spec is not None else DAYS_PER_MONTH)
    died = np.isnan(values) & (death <= window)
    death_before = np.where(died, death, np.nan)
    higher = bool(ctx.row.get("higher_is_better", True))
    scores = worst_rank_scores(values, death_before, higher) if len(people) else np.array([])
    ranks = pd.Series(scores, index=people.index)
    dp = int(ctx.row.get("decimals", 1))
    _per_arm(ctx, people, ranks, variable, dp)
    for col in ctx.columns:
        idx = ctx.in_column(people.rename(columns={"_ARM": ctx.treatment}), col).index.to_numpy()
        has_value = ~np.isnan(values[idx]) if idx.size else np.array([], bool)
        ctx.add("n_value", int(has_value.sum()), "xx", arm=col, variable=variable, label="n with a value")
        ctx.add("n_died", int(died[idx].sum()) if idx.size else 0, "xx", arm=col, variable=variable,
                label="n died before the assessment (ranked worst)")
        ctx.add("n_missing", int(np.isnan(ranks.to_numpy()[idx]).sum()) if idx.size else 0, "xx", arm=col,
                variable=variable, label="n not ranked")
    groups = people["_ARM"].to_numpy(object)
    continuity = bool(ctx.row.get("continuity", True))
    ctx.add("method", RANK_SUM.format(", continuity correction" if continuity else "") + " of worst-rank scores",
            "text", variable=variable)
    _tests(ctx, variable, groups,
           lambda a, b: worst_rank_test(values, death_before, groups, a, b, higher, continuity))


RANK_LINES = [("n", "{n}"), ("Mean rank", "{mean}"), ("Wilcoxon rank-sum Z (p)", "{statistic} ({pvalue})")]
WORST_LINES = [("n with a value", "{n_value}"), ("n died before the assessment, ranked worst", "{n_died}"),
               ("n not ranked (no value, alive)", "{n_missing}"), ("Mean rank", "{mean}"),
               ("Wilcoxon rank-sum Z (p)", "{statistic} ({pvalue})")]


def _variable_of(lay: LayoutContext) -> str:
    return next(iter(lay.ard.loc[lay.ard["stat_name"] == "n", "variable"]), "")


def _rank_layout(lay: LayoutContext) -> None:
    variable = _variable_of(lay)
    emit_block(lay, lay.label, display_lines(lay.row, RANK_LINES), variable=variable)
    methods = lay.ard[(lay.ard["stat_name"] == "method") & (lay.ard["stat_fmt"] == SCORE_TEST)]
    for score_name in methods["variable"]:
        lay.line("Finkelstein-Schoenfeld Z (p)", lay.indent + 1,
                 lay.cells("{statistic} ({pvalue})", variable=str(score_name)))


def _worst_layout(lay: LayoutContext) -> None:
    emit_block(lay, lay.label, display_lines(lay.row, WORST_LINES), variable=_variable_of(lay))


def _rank_check(row: dict) -> list[str]:
    spec = row.get("scores")
    if spec is not None and (not isinstance(spec, dict) or "variable" not in spec):
        return ["'scores' must be {where: ..., variable: ...}"]
    return []


def _worst_check(row: dict) -> list[str]:
    months = row.get("deaths_by_month")
    if not isinstance(months, (int, float)) or isinstance(months, bool) or months <= 0:
        return [f"'deaths_by_month' must be a number of months above 0, got {months!r}"]
    return []


COMMON = frozenset({"variable", "reference", "continuity", "decimals"})

row_type(RowType(
    name="rank_comparison", keys=COMMON | {"scores"}, required=(), statistics=frozenset(),
    compute=_rank_compute, layout=_rank_layout,
    variables=lambda row: [row.get("variable", "AVAL"), SUBJECT, *(
        [row["scores"]["variable"], *condition_columns(_where(row["scores"]))] if row.get("scores") else [])],
    context="rank", check=_rank_check))

row_type(RowType(
    name="worst_rank", keys=COMMON | {"deaths_by_month", "death_date", "origin", "higher_is_better"},
    required=("deaths_by_month",), statistics=frozenset(), compute=_worst_compute, layout=_worst_layout,
    variables=lambda row: [row.get("variable", "AVAL"), SUBJECT, row.get("death_date", "DTHDT"),
                           row.get("origin", "RFSTDT")],
    context="rank", check=_worst_check))
