"""Building blocks of the BDS datasets (ADQS, ADRE, ADLB): analysis visits, baseline, slopes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.adam import derive as d
from cdisc_als.sdtm.fast import map_values
from cdisc_als.study import MissingItemRule, Study

ALSFRS_ITEMS = [f"ALSR1{i:02d}" for i in range(1, 13)]


def to_date(series: pd.Series) -> pd.Series:
    """The date of ISO 8601 values (their first 10 characters) as datetime64; NaT when shorter (partial) or
    missing. Parsed once per distinct value."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype(str).str.slice(0, 10)
    parsed = pd.to_datetime(text.where(text.str.len() == 10, None), format="%Y-%m-%d", errors="coerce")
    dates = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    return pd.Series(dates[codes], index=series.index, name=series.name)


def alsfrs_items(qs: pd.DataFrame) -> pd.DataFrame:
    """ALSFRS-R item records with item 5 as ALSR105 (5b when present, else 5a)."""
    items = qs[qs["QSCAT"] == "ALSFRS-R"].copy()
    items["PARAMCD"] = items["QSTESTCD"].replace({"ALSR105A": "ALSR105", "ALSR105B": "ALSR105"})
    items["AVAL"] = items["QSSTRESN"]
    # 5b after 5a within an administration (QSTESTCD order), so keep="last" prefers 5b
    items = items.sort_values(["USUBJID", "VISITNUM", "QSTESTCD"], kind="stable")
    items = items.drop_duplicates(["USUBJID", "VISITNUM", "PARAMCD"], keep="last")
    return items[items["PARAMCD"].isin(ALSFRS_ITEMS)]


def alsfrs_totals(qs: pd.DataFrame, missing_rule: MissingItemRule) -> pd.DataFrame:
    """ALSFRS-R total per administration (qs: the QS domain, or the item records of alsfrs_items) = sum
    of the 12 items. Missing items follow study.yaml analysis.alsfrs_missing_item_rule:
    any_missing_total_missing -> the total is missing; prorate_one -> one missing item is imputed by
    the mean of the other 11, total = 12 x mean rounded half up (two or more missing: missing)."""
    items = qs if "PARAMCD" in qs.columns else alsfrs_items(qs)
    grouped = items.groupby(["USUBJID", "VISITNUM"])
    totals = grouped.agg(AVAL=("AVAL", "sum"), N=("AVAL", "count"), QSDTC=("QSDTC", "first")).reset_index()
    if MissingItemRule(missing_rule) is MissingItemRule.PRORATE_ONE:
        prorated = np.floor(12 * totals["AVAL"] / totals["N"].clip(lower=1) + 0.5)
        totals["AVAL"] = np.where(totals["N"] == 12, totals["AVAL"], np.where(totals["N"] == 11, prorated, np.nan))
    else:
        totals["AVAL"] = totals["AVAL"].where(totals["N"] == 12)
    return totals


def visit_values(records: pd.DataFrame, by: str) -> pd.DataFrame:
    """Wide table: one row per `by`, one column per VISITNUM, AVAL values (first record per visit)."""
    data = records.dropna(subset=["AVAL"]).drop_duplicates([by, "VISITNUM"])
    return data.pivot(index=by, columns="VISITNUM", values="AVAL")


def visit_anchor(sv: pd.DataFrame, study: Study) -> pd.Series:
    """USUBJID -> the date that is day 1 of the visit schedule: the baseline visit's date, or (for
    subjects who never reached it) the first visit's date moved by that visit's nominal months."""
    base = study.baseline_visit
    first = study.first_visit
    dates = sv.assign(D=to_date(sv["SVSTDTC"]))
    anchor = dates[dates["VISITNUM"] == base.visitnum].groupby("USUBJID")["D"].min()
    start = dates[dates["VISITNUM"] == first.visitnum].groupby("USUBJID")["D"].min()
    shift = pd.Timedelta(days=-study.target_day(first))
    return anchor.combine_first(start + shift)


def analysis_visits(records: pd.DataFrame, date_col: str, anchor: pd.Series, study: Study) -> pd.DataFrame:
    """AVISIT/AVISITN by the windows of study.yaml: the visit whose target day (Study.target_day: nominal
    month x month_length_days from the anchor, no day 0) is nearest the record's day, within
    window_days; else UNSCHEDULED."""
    out = records.copy(deep=False)          # the columns below are new arrays: the input is never written
    date = to_date(out[date_col])
    day = d.study_day(date, map_values(out["USUBJID"], anchor))
    targets = np.array([study.target_day(v) for v in study.visits], float)
    windows = np.array([v.window_days for v in study.visits], float)
    dist = np.abs(day.to_numpy()[:, None] - targets[None, :])
    dist = np.where(dist <= windows[None, :], dist, np.inf)
    best = np.argmin(dist, axis=1)
    found = np.isfinite(dist[np.arange(len(out)), best]) if len(out) else np.zeros(0, bool)
    names = np.array([v.visit for v in study.visits], dtype=object)
    months = np.array([v.month for v in study.visits], float)
    out["AVISIT"] = np.where(found, names[best], "UNSCHEDULED")
    out["AVISITN"] = np.where(found, months[best], np.nan)
    out["ADT"] = date
    out["ADY"] = day
    out["_DIST"] = np.where(found, dist[np.arange(len(out)), best] if len(out) else 0, np.inf)
    return out


def flag_analysis_records(frame: pd.DataFrame) -> pd.DataFrame:
    """ANL01FL = 'Y' on one record per USUBJID/PARAMCD/AVISIT (nearest to the target day, first date)."""
    order = ["USUBJID", "PARAMCD", "AVISITN", "_DIST", "ADT"]
    scheduled = np.flatnonzero((frame["AVISIT"] != "UNSCHEDULED").to_numpy())
    first = _first_in_groups(frame, scheduled, order)
    if first is None:                       # missing keys or other kinds of values: pandas' sort and groupby
        keys = frame[order].take(scheduled).set_axis(scheduled)
        ordered = keys.sort_values(order)
        first = ordered.groupby(["USUBJID", "PARAMCD", "AVISITN"], sort=False).head(1).index.to_numpy()
    flag = np.full(len(frame), "", dtype=object)
    flag[first] = "Y"
    frame = frame.copy(deep=False)          # ANL01FL is a new array: the input is never written
    frame["ANL01FL"] = flag
    return frame


def _first_in_groups(frame: pd.DataFrame, rows: np.ndarray, order: list[str]) -> np.ndarray | None:
    """Positions (among `rows`) of the first record of each group of order[:3] when sorted by `order`
    (text keys by their sorted distinct values, dates as numbers); None when a key has missing values or
    is neither text, number nor date."""
    sortable = []
    for name in order:
        values = frame[name].to_numpy()[rows]
        if values.dtype == object:
            codes, uniques = pd.factorize(values, sort=True)
            if (codes < 0).any() or not all(isinstance(u, str) for u in uniques):
                return None
            values = codes
        elif values.dtype.kind == "M":
            if np.isnat(values).any():
                return None
            values = values.view(np.int64)
        elif values.dtype.kind not in "fiu" or (values.dtype.kind == "f" and np.isnan(values).any()):
            return None
        sortable.append(values)
    ranked = np.lexsort(sortable[::-1])
    group = [v[ranked] for v in sortable[:3]]
    starts = np.ones(len(ranked), dtype=bool)
    if len(ranked):
        starts[1:] = np.any([g[1:] != g[:-1] for g in group], axis=0)
    return rows[ranked[starts]]


def add_baseline(frame: pd.DataFrame, baseline_month: float = 0.0) -> pd.DataFrame:
    """ABLFL/BASE/CHG/PCHG per USUBJID and PARAMCD from the analysis record at the baseline visit."""
    mask = (frame["AVISITN"] == baseline_month) & (frame["ANL01FL"] == "Y")
    frame = frame.copy(deep=False)          # _POST is a new array: the input is never written
    frame["_POST"] = frame["AVISITN"] > baseline_month
    out = d.derive_baseline(frame, ["USUBJID", "PARAMCD"], mask)
    del out["_POST"]
    return out


def slope_records(wide: pd.DataFrame, dates: pd.DataFrame, start_visit: float, end_visit: float, months: float,
                  paramcd: str, param: str, avisit: str, avisitn: float) -> pd.DataFrame:
    """One record per subject with a two-point slope (points/month) between two visits."""
    if start_visit not in wide.columns or end_visit not in wide.columns:
        return pd.DataFrame(columns=["USUBJID", "PARAMCD", "PARAM", "AVAL", "AVISIT", "AVISITN", "ASTDT", "AENDT"])
    slope = d.two_point_slope(wide[start_visit], wide[end_visit], months).dropna()
    out = pd.DataFrame({"USUBJID": slope.index, "AVAL": slope.to_numpy()})
    out["PARAMCD"], out["PARAM"], out["AVISIT"], out["AVISITN"] = paramcd, param, avisit, avisitn
    out["ASTDT"] = out["USUBJID"].map(dates.get(start_visit, pd.Series(dtype="datetime64[ns]")))
    out["AENDT"] = out["USUBJID"].map(dates.get(end_visit, pd.Series(dtype="datetime64[ns]")))
    return out


def combine_slopes(first: pd.DataFrame, second: pd.DataFrame, op, paramcd: str, param: str) -> pd.DataFrame:
    """A parameter computed from two slope parameters of the same subject (change, % improvement)."""
    merged = first.merge(second, on="USUBJID", suffixes=("_F", "_L"))
    out = pd.DataFrame({"USUBJID": merged["USUBJID"], "AVAL": op(merged["AVAL_F"], merged["AVAL_L"]).to_numpy()})
    out["PARAMCD"], out["PARAM"] = paramcd, param
    out["AVISIT"], out["AVISITN"] = merged["AVISIT_F"].to_numpy(), merged["AVISITN_F"].to_numpy()
    out["ASTDT"] = merged[["ASTDT_F", "ASTDT_L"]].min(axis=1).to_numpy()
    out["AENDT"] = merged[["AENDT_F", "AENDT_L"]].max(axis=1).to_numpy()
    return out
