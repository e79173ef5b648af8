"""Kaplan-Meier restricted mean (SPSS "mean survival time") with its standard error, and log-rank.

Kept dependency-light (numpy/scipy) because the simulator calls it thousands of times; the TLF
stage uses the same functions, and lifelines is the cross-check in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special


@dataclass(frozen=True)
class KMMean:
    mean: float
    se: float
    tau: float
    n: int
    events: int


def km_table(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct event times, numbers at risk, deaths and S(t) just after each event time.

    Censorings tied with deaths count as at risk at that time (censored just after), as SPSS,
    SAS and lifelines do.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    times = np.unique(time[event])
    if times.size == 0:
        empty = np.array([], dtype=float)
        return empty, empty, empty, empty
    sorted_time = np.sort(time)
    at_risk = time.size - np.searchsorted(sorted_time, times, side="left")
    deaths = _count_at(np.sort(time[event]), times).astype(float)
    surv = np.cumprod(1.0 - deaths / at_risk)
    return times, at_risk.astype(float), deaths, surv


def _count_at(sorted_values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """How many of the sorted values equal each point (binary search: O((n + m) log n))."""
    return np.searchsorted(sorted_values, points, side="right") - np.searchsorted(sorted_values, points, side="left")


def km_restricted_mean(time: np.ndarray, event: np.ndarray, tau: float | None = None,
                       sas_correction: bool = False) -> KMMean:
    """Area under the KM curve up to tau (default: the group's largest time) and its SE.

    Rule: mean = sum of S(t_i) (t_{i+1} - t_i) over the step function from 0 to tau. The variance
    is the Greenwood-type delta-method sum over event times t_i < tau of A_i^2 d_i / (n_i (n_i - d_i)),
    where A_i is the area under S from t_i to tau (Klein & Moeschberger 4.5). SAS PROC LIFETEST
    multiplies it by m / (m - 1) (m = number of events): pass sas_correction=True for that.
    Example: times 10, 15, 23, 30, 35, 52, 100+ give mean 37.857, SE 10.739.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    tau = float(time.max()) if tau is None else float(tau)
    times, at_risk, deaths, surv = km_table(time, event)
    keep = times <= tau
    times, at_risk, deaths, surv = times[keep], at_risk[keep], deaths[keep], surv[keep]
    grid = np.concatenate(([0.0], times, [tau]))
    steps = np.concatenate(([1.0], surv))
    areas = steps * np.diff(grid)
    mean = float(areas.sum())
    right_area = np.cumsum(areas[::-1])[::-1][1:]  # area to the right of each event time
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk - deaths > 0, right_area ** 2 * deaths / (at_risk * (at_risk - deaths)), 0.0)
    var = float(terms.sum())
    m = float(deaths.sum())
    if sas_correction and m > 1:
        var *= m / (m - 1)
    return KMMean(mean=mean, se=float(np.sqrt(var)), tau=tau, n=int(time.size), events=int(m))


def logrank_p(time1: np.ndarray, event1: np.ndarray, time2: np.ndarray, event2: np.ndarray) -> float:
    """Two-sided p of the log-rank (Mantel-Cox) test, chi-square with 1 df."""
    time = np.concatenate((np.asarray(time1, float), np.asarray(time2, float)))
    event = np.concatenate((np.asarray(event1, bool), np.asarray(event2, bool)))
    group = np.concatenate((np.zeros(len(time1), bool), np.ones(len(time2), bool)))
    times = np.unique(time[event])
    if times.size == 0:
        return 1.0
    order = np.sort(time)
    order1 = np.sort(time[~group])
    n_all = time.size - np.searchsorted(order, times, side="left")
    n_1 = (~group).sum() - np.searchsorted(order1, times, side="left")
    d_all = _count_at(np.sort(time[event]), times).astype(float)
    d_1 = _count_at(np.sort(time[event & ~group]), times).astype(float)
    expected = d_all * n_1 / n_all
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n_all > 1, d_all * (n_1 / n_all) * (1 - n_1 / n_all) * (n_all - d_all) / (n_all - 1), 0.0)
    stat = (d_1.sum() - expected.sum()) ** 2 / var.sum() if var.sum() > 0 else 0.0
    return float(special.chdtrc(1, stat))


@dataclass(frozen=True)
class KMCurve:
    """Kaplan-Meier estimate at each distinct event time with Greenwood variance of S(t)."""

    times: np.ndarray
    at_risk: np.ndarray
    deaths: np.ndarray
    surv: np.ndarray
    var: np.ndarray          # Greenwood: S^2 * sum d / (n (n - d))


def km_curve(time: np.ndarray, event: np.ndarray) -> KMCurve:
    times, at_risk, deaths, surv = km_table(time, event)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk - deaths > 0, deaths / (at_risk * (at_risk - deaths)), np.inf)
        var = np.where(surv > 0, surv ** 2 * np.cumsum(terms), 0.0)
    return KMCurve(times, at_risk, deaths, surv, var)


def survival_at(curve: KMCurve, t: float) -> float:
    """S(t) of the step function (1 before the first event time)."""
    k = np.searchsorted(curve.times, t, side="right")
    return 1.0 if k == 0 else float(curve.surv[k - 1])


def _loglog_band(curve: KMCurve, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) confidence limits of S(t) at the event times (SAS CONFTYPE=LOGLOG)."""
    z = float(special.ndtri(1 - alpha / 2))
    s = curve.surv
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(curve.var) / (s * np.abs(np.log(s)))
        lower = s ** np.exp(z * se)
        upper = s ** np.exp(-z * se)
    defined = (s > 0) & (s < 1) & np.isfinite(se)
    lower = np.where(defined, lower, np.where(s >= 1, 1.0, 0.0))
    upper = np.where(defined, upper, np.where(s >= 1, 1.0, 0.0))
    return lower, upper


def _first_time_at_or_below(times: np.ndarray, values: np.ndarray, level: float) -> float:
    hit = np.nonzero(values <= level + 1e-12)[0]
    return float(times[hit[0]]) if hit.size else math.nan


def km_quantile(curve: KMCurve, q: float) -> float:
    """Time at which S(t) first falls to 1 - q or below (median: q = 0.5). When S equals 1 - q exactly
    on a flat stretch, the midpoint of that stretch (SAS PROC LIFETEST); NaN when never reached."""
    level = 1.0 - q
    hit = np.nonzero(curve.surv <= level + 1e-12)[0]
    if not hit.size:
        return math.nan
    k = hit[0]
    if abs(curve.surv[k] - level) < 1e-12 and k + 1 < curve.times.size:
        return float((curve.times[k] + curve.times[k + 1]) / 2)
    return float(curve.times[k])


def km_quantile_ci(curve: KMCurve, q: float = 0.5, alpha: float = 0.05) -> tuple[float, float]:
    """Brookmeyer-Crowley style limits of a KM quantile by inverting the log(-log) pointwise band:
    the lower limit is the first time the band's lower limit falls to 1 - q, the upper limit the
    first time its upper limit does (NaN, printed NE, when that never happens)."""
    if not curve.times.size:
        return math.nan, math.nan
    lower_band, upper_band = _loglog_band(curve, alpha)
    level = 1.0 - q
    return (_first_time_at_or_below(curve.times, lower_band, level),
            _first_time_at_or_below(curve.times, upper_band, level))


def km_rate_ci(curve: KMCurve, t: float, alpha: float = 0.05) -> tuple[float, float, float]:
    """S(t) with its log(-log) 95 % confidence limits."""
    k = np.searchsorted(curve.times, t, side="right")
    if k == 0:
        return 1.0, math.nan, math.nan
    lower, upper = _loglog_band(curve, alpha)
    return float(curve.surv[k - 1]), float(lower[k - 1]), float(upper[k - 1])


@dataclass(frozen=True)
class LogRank:
    chi2: float
    df: int
    p: float
    undefined: str = ""


def logrank_k(time, event, group, strata=None) -> LogRank:
    """k-sample log-rank (Mantel-Cox) test, stratified when `strata` is given: per stratum and
    distinct event time, observed minus expected events per group and their hypergeometric
    covariance d (n - d) / (n - 1) * n_j / n * (delta_jl - n_l / n) are summed over times and strata;
    chi-square = U' V^-1 U on the first k - 1 groups, k - 1 df (SAS PROC LIFETEST STRATA / GROUP=)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    group = np.asarray(group)
    strata = np.zeros(time.size) if strata is None else np.asarray(strata)
    levels = list(dict.fromkeys(group.tolist()))
    k = len(levels)
    if k < 2:
        return LogRank(math.nan, 0, math.nan, "fewer than two groups with subjects")
    gidx = pd.factorize(pd.Series(group, dtype=object), use_na_sentinel=False)[0]   # first-seen order, as levels
    u_terms, v_terms = [np.zeros((1, k))], [np.zeros((1, k, k))]
    for stratum in dict.fromkeys(strata.tolist()):
        sel = strata == stratum
        u_part, v_part = _logrank_terms(time[sel], event[sel], gidx[sel], k)
        u_terms.append(u_part)
        v_terms.append(v_part)
    # the terms added in the order of the strata and event times, one after the other (as a loop would)
    u = np.cumsum(np.concatenate(u_terms), axis=0)[-1]
    v = np.cumsum(np.concatenate(v_terms), axis=0)[-1]
    u, v = u[:-1], v[:-1, :-1]
    if not np.all(np.isfinite(v)) or np.linalg.matrix_rank(v) < k - 1:
        return LogRank(math.nan, k - 1, math.nan, "no events to compare, or a group without subjects at risk")
    chi2 = float(u @ np.linalg.solve(v, u))
    return LogRank(chi2, k - 1, float(special.chdtrc(k - 1, chi2)))


def _logrank_terms(t: np.ndarray, e: np.ndarray, g: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct event time tau of one stratum (ascending): observed minus expected events per group,
    d_j - d n_j / n, and the covariance d (n - d) / (n - 1) (diag(n_j / n) - (n_j / n)(n_j / n)') (times
    with a single subject at risk add nothing to it); n, n_j at risk (t >= tau) and d, d_j dying at tau
    counted by binary search in the sorted times, so the cost is O(n log n)."""
    known = ~np.isnan(t)                   # a record without a time is never at risk nor an event
    t, e, g = t[known], e[known], g[known]
    taus = np.unique(t[e])
    n = t.size - np.searchsorted(np.sort(t), taus, side="left")
    d = _count_at(np.sort(t[e]), taus)
    n_j = np.zeros((taus.size, k))
    d_j = np.zeros((taus.size, k))
    for j in range(k):
        mine = g == j
        n_j[:, j] = mine.sum() - np.searchsorted(np.sort(t[mine]), taus, side="left")
        d_j[:, j] = _count_at(np.sort(t[mine & e]), taus)
    u = d_j - d[:, None] * n_j / n[:, None]
    several = n > 1
    n, d, frac = n[several], d[several], n_j[several] / n[several, None]
    spread = 0.0 - frac[:, :, None] * frac[:, None, :]
    diagonal = np.arange(k)
    spread[:, diagonal, diagonal] = frac - frac * frac
    v = (d * (n - d) / (n - 1))[:, None, None] * spread
    return u, v


@dataclass(frozen=True)
class HazardRatio:
    hr: float
    lcl: float
    ucl: float
    p: float
    undefined: str = ""


def cox_hazard_ratios(time, event, group, reference, strata=None, alpha: float = 0.05) -> dict[str, HazardRatio]:
    """Hazard ratio of every group against `reference` from a Cox model with one indicator per
    non-reference group (lifelines CoxPHFitter, Efron ties; stratified baseline when `strata` is
    given), with Wald confidence limits and p. A group without events has no finite ratio (NE)."""
    import warnings

    import pandas as pd
    from lifelines import CoxPHFitter

    frame = pd.DataFrame({"T": np.asarray(time, float), "E": np.asarray(event, bool).astype(int),
                          "G": np.asarray(group)})
    others = [g for g in dict.fromkeys(frame["G"].tolist()) if g != reference]
    out: dict[str, HazardRatio] = {}
    nan = math.nan
    if reference not in set(frame["G"]) or not others:
        return {g: HazardRatio(nan, nan, nan, nan, "no reference group") for g in others}
    columns = []
    for k, g in enumerate(others):
        frame[f"g{k}"] = (frame["G"] == g).astype(float)
        columns.append(f"g{k}")
    no_events = {g for g in others if frame.loc[frame["G"] == g, "E"].sum() == 0}
    if frame.loc[frame["G"] == reference, "E"].sum() == 0 or no_events == set(others):
        return {g: HazardRatio(nan, nan, nan, nan, "no events in a compared group") for g in others}
    fit_cols = ["T", "E", *columns]
    if strata is not None:
        frame["S"] = np.asarray(strata)
        fit_cols.append("S")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cph = CoxPHFitter(alpha=alpha).fit(frame[fit_cols], "T", "E", strata=["S"] if strata is not None else None)
        except Exception as exc:  # lifelines raises ConvergenceError and linear-algebra errors
            return {g: HazardRatio(nan, nan, nan, nan, f"Cox model did not converge: {exc}"[:200]) for g in others}
    summary = cph.summary
    for k, g in enumerate(others):
        if g in no_events:
            out[g] = HazardRatio(nan, nan, nan, nan, "no events in this group: the hazard ratio is not estimable")
            continue
        row = summary.loc[f"g{k}"]
        out[g] = HazardRatio(float(row["exp(coef)"]), float(row[f"exp(coef) lower {100 * (1 - alpha):g}%"]),
                             float(row[f"exp(coef) upper {100 * (1 - alpha):g}%"]), float(row["p"]))
    return out
