"""Descriptive statistics of one sample, as SAS PROC MEANS / UNIVARIATE print them.

Every statistic that is undefined for the sample (SD of one value, geometric mean of a
non-positive value, ...) is NaN together with a reason, never a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

STATISTICS = ("n", "mean", "sd", "se", "median", "q1", "q3", "min", "max", "geom_mean", "cv",
              "mean_lcl", "mean_ucl")


@dataclass
class Summary:
    """Statistics of the non-missing values and, per statistic, why it is undefined (if it is)."""

    values: dict[str, float] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.values[name]


def quantile_sas5(x: np.ndarray, p: float) -> float:
    """Quantile by SAS's default definition (QNTLDEF=5, the empirical distribution with averaging):
    with n p = j + g, the j-th order statistic when g > 0 gives x(j+1), when g = 0 (x(j) + x(j+1)) / 2.
    Example: 1, 2, 3, 4 -> Q1 = 1.5, median = 2.5, Q3 = 3.5."""
    xs = np.sort(x)
    n = xs.size
    np_ = n * p
    j = math.floor(np_ + 1e-12)
    g = np_ - j
    if g > 1e-12:
        return float(xs[min(j, n - 1)])
    if j == 0:
        return float(xs[0])
    return float((xs[j - 1] + xs[min(j, n - 1)]) / 2)


def summarise(values, alpha: float = 0.05) -> Summary:
    """n, mean, SD (n - 1), SE, median and quartiles (SAS definition 5), min, max, geometric mean,
    CV (%) and the t confidence interval of the mean, over the non-missing values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    out = Summary({"n": n})
    nan = math.nan
    if n == 0:
        for name in STATISTICS[1:]:
            out.values[name] = nan
            out.undefined[name] = "no non-missing value"
        return out
    mean = float(x.mean())
    out.values.update(mean=mean, median=quantile_sas5(x, 0.5), q1=quantile_sas5(x, 0.25),
                      q3=quantile_sas5(x, 0.75), min=float(x.min()), max=float(x.max()))
    if n > 1:
        sd = float(x.std(ddof=1))
        se = sd / math.sqrt(n)
        q = float(special.stdtrit(n - 1, 1 - alpha / 2))
        out.values.update(sd=sd, se=se, mean_lcl=mean - q * se, mean_ucl=mean + q * se)
        if mean != 0:
            out.values["cv"] = 100.0 * sd / abs(mean)
        else:
            out.values["cv"] = nan
            out.undefined["cv"] = "mean is zero"
    else:
        for name in ("sd", "se", "mean_lcl", "mean_ucl", "cv"):
            out.values[name] = nan
            out.undefined[name] = "needs at least 2 values"
    if (x > 0).all():
        out.values["geom_mean"] = float(np.exp(np.log(x).mean()))
    else:
        out.values["geom_mean"] = nan
        out.undefined["geom_mean"] = "a value is zero or negative"
    return out


def decimals_of(values, limit: int = 4) -> int:
    """The precision the values were collected at: the fewest decimals (up to `limit`) that
    represent every non-missing value, e.g. 25.1, 30.25 -> 2; 64, 71 -> 0."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    for k in range(limit + 1):
        scaled = x * 10.0 ** k
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return k
    return limit
