"""Descriptive statistics, ROC AUC, simple linear regression and the piecewise linear mixed model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats


def describe(values) -> dict[str, float]:
    """n, mean, SD, SE, median, min, max of the non-missing values (SD with n - 1)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "se": math.nan, "median": math.nan,
                "min": math.nan, "max": math.nan}
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    return {"n": n, "mean": float(x.mean()), "sd": sd, "se": sd / math.sqrt(n) if n > 1 else math.nan,
            "median": float(np.median(x)), "min": float(x.min()), "max": float(x.max())}


def roc_auc(negative, positive) -> float:
    """Area under the ROC curve of positive vs negative values (Mann-Whitney U / n1 n2; ties count 1/2)."""
    neg = np.asarray(negative, dtype=float)
    pos = np.asarray(positive, dtype=float)
    neg, pos = neg[~np.isnan(neg)], pos[~np.isnan(pos)]
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    return float(u / (pos.size * neg.size))


@dataclass(frozen=True)
class Regression:
    slope: float
    intercept: float
    r2: float
    p: float
    n: int


def linear_regression(x, y) -> Regression:
    """Least-squares y = a + b x; R squared and the two-sided p of b (t on n - 2 df)."""
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    keep = ~np.isnan(a) & ~np.isnan(b)
    n = int(keep.sum())
    if n < 3 or np.ptp(a[keep]) == 0:
        nan = math.nan
        return Regression(nan, nan, nan, nan, n)
    fit = stats.linregress(a[keep], b[keep])
    p = float(fit.pvalue) if n > 2 and np.ptp(b[keep]) > 0 else math.nan
    return Regression(float(fit.slope), float(fit.intercept), float(fit.rvalue ** 2), p, n)


@dataclass(frozen=True)
class SlopeEstimate:
    group: str
    lead: float
    lead_se: float
    post: float
    post_se: float
    n_subjects: int
    converged: bool = True
    method: str = ""          # optimiser of the kept fit
    llf: float = math.nan     # REML log-likelihood of the kept fit
    note: str = ""            # what went wrong, when something did


OPTIMISERS = ("lbfgs", "bfgs", "cg", "nm", "powell")


def _moment_start(model, part: pd.DataFrame, subject: str, value: str):
    """Starting values from simple moments: OLS fixed effects, and the covariance of per-subject OLS
    coefficients (minus nothing: a deliberately rough but positive definite start) as the random
    effects covariance, relative to the residual variance."""
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    x = np.column_stack([np.ones(len(part)), part["lead"], part["post"]])
    y = part[value].to_numpy(float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = float(np.var(y - x @ beta, ddof=3)) or 1.0
    coefs = []
    for _, rows in part.groupby(subject):
        xs = np.column_stack([np.ones(len(rows)), rows["lead"], rows["post"]])
        if len(rows) >= 3 and np.linalg.matrix_rank(xs) == 3:
            coefs.append(np.linalg.lstsq(xs, rows[value].to_numpy(float), rcond=None)[0])
    cov = np.cov(np.array(coefs).T) if len(coefs) > 3 else np.eye(3)
    cov = cov + np.eye(3) * 1e-3 * max(1.0, float(np.trace(cov)))
    return MixedLMParams.from_components(fe_params=beta, cov_re=cov / residual)


def _best_reml_fit(model, start):
    """Fit with the optimisers in turn, from moment-based and then default starting values; keep the
    converged fit with the largest REML log-likelihood. Stops as soon as two different optimisers
    agree on the maximum (log-likelihood within 1e-4), which is the evidence that it is one.
    Returns (fit or None, method, note)."""
    import warnings

    best, best_method, tried, agreed = None, "", [], False
    attempts = [(start, m) for m in OPTIMISERS] if start is not None else []
    attempts += [(None, m) for m in OPTIMISERS]
    for start_params, method in attempts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # convergence chatter; convergence is checked below
            try:
                fit = model.fit(reml=True, method=method, start_params=start_params, maxiter=2000)
            except (ValueError, np.linalg.LinAlgError) as exc:
                tried.append(f"{method}: {exc}"[:80])
                continue
        if not (bool(getattr(fit, "converged", False)) and np.all(np.isfinite(np.asarray(fit.bse_fe)))):
            continue
        label = method + (" (moment start)" if start_params is not None else "")
        if best is not None and abs(fit.llf - best.llf) < 1e-4 and method not in best_method:
            agreed = True
        if best is None or fit.llf > best.llf + 1e-9:
            best, best_method = fit, label
        if agreed:
            break
    if best is None:
        return None, "", "no optimiser converged" + (f" ({'; '.join(tried)})" if tried else "")
    return best, best_method, "" if agreed else "only one optimiser reached this maximum"


def _single_fit(model):
    """lbfgs, then powell from where it stopped (statsmodels' method list); convergence checked."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = model.fit(reml=True, method=["lbfgs", "powell"])
        except (ValueError, np.linalg.LinAlgError) as exc:
            return None, "", f"no optimiser converged ({exc})"[:200]
    if not (bool(getattr(fit, "converged", False)) and np.all(np.isfinite(np.asarray(fit.bse_fe)))):
        return None, "", "lbfgs/powell did not converge"
    return fit, "lbfgs, powell", ""


def piecewise_mixed_model(data: pd.DataFrame, group: str, subject: str = "USUBJID", time: str = "MONTH",
                          value: str = "AVAL", knot: float = 0.0, thorough: bool = False) -> list[SlopeEstimate]:
    """Piecewise linear mixed model per group (arm-specific covariance, REML): fixed intercept,
    slope before the knot (lead) and after it (post), random intercept and both slopes per subject
    (unstructured). Fitting each arm alone equals SAS RANDOM ... GROUP=arm with all fixed effects
    arm-specific. Every optimiser of statsmodels is tried from the default and from moment-based
    starting values; the converged fit with the largest REML log-likelihood is kept, and a group
    where none converged is returned with NaN estimates, converged=False and the reason.
    thorough=False keeps the single lbfgs-then-powell fit the calibrated simulator was tuned with
    (its convergence is still checked); the TLF stage uses thorough=True."""
    import statsmodels.formula.api as smf

    out = []
    frame = data.dropna(subset=[value, time]).copy()
    frame["lead"] = np.minimum(frame[time] - knot, 0.0)
    frame["post"] = np.maximum(frame[time] - knot, 0.0)
    for level, part in frame.groupby(group, sort=True):
        n_subjects = part[subject].nunique()
        model = smf.mixedlm(f"{value} ~ lead + post", part, groups=part[subject], re_formula="~ lead + post")
        if thorough:
            try:
                start = _moment_start(model, part, subject, value)
            except (ValueError, np.linalg.LinAlgError):
                start = None
            fit, method, note = _best_reml_fit(model, start)
        else:
            fit, method, note = _single_fit(model)
        if fit is None:
            nan = math.nan
            out.append(SlopeEstimate(str(level), nan, nan, nan, nan, n_subjects, False, "", nan, note))
            continue
        out.append(SlopeEstimate(str(level), float(fit.params["lead"]), float(fit.bse["lead"]),
                                 float(fit.params["post"]), float(fit.bse["post"]), n_subjects, True, method,
                                 float(fit.llf)))
    return out


def slope_difference(first: SlopeEstimate, second: SlopeEstimate) -> dict[str, float]:
    """Difference of the post-treatment slopes, its SE and the t test on n1 + n2 - 2 df (the paper's 57)."""
    diff = first.post - second.post
    se = math.sqrt(first.post_se ** 2 + second.post_se ** 2)
    df = first.n_subjects + second.n_subjects - 2
    if not (se > 0 and df > 0):
        return {"diff": diff, "se": se, "t": math.nan, "df": df, "p": math.nan}
    t = diff / se
    return {"diff": diff, "se": se, "t": t, "df": df, "p": float(2 * special.stdtr(df, -abs(t)))}
