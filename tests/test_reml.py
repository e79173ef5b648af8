"""REML EM of the random-coefficients mixed model: published values, cross-check, machine independence."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pandas as pd
import pytest

from cdisc_als.stats.reml import fit_random_coefficients

# Potthoff & Roy (1964) orthodontic growth data: distance (mm) at ages 8, 10, 12, 14 of 16 boys and
# 11 girls (R nlme::Orthodont, subjects M01-M16 then F01-F11)
ORTHODONT = [
    26, 25, 29, 31, 21.5, 22.5, 23, 26.5, 23, 22.5, 24, 27.5, 25.5, 27.5, 26.5, 27, 20, 23.5, 22.5, 26,
    24.5, 25.5, 27, 28.5, 22, 22, 24.5, 26.5, 24, 21.5, 24.5, 25.5, 23, 20.5, 31, 26, 27.5, 28, 31, 31.5,
    23, 23, 23.5, 25, 21.5, 23.5, 24, 28, 17, 24.5, 26, 29.5, 22.5, 25.5, 25.5, 26, 23, 24.5, 26, 30,
    22, 21.5, 23.5, 25, 21, 20, 21.5, 23, 21, 21.5, 24, 25.5, 20.5, 24, 24.5, 26, 23.5, 24.5, 25, 26.5,
    21.5, 23, 22.5, 23.5, 20, 21, 21, 22.5, 21.5, 22.5, 23, 25, 23, 23, 23.5, 24, 20, 21, 22, 21.5,
    16.5, 19, 19, 19.5, 24.5, 25, 28, 28,
]
AGES = (8, 10, 12, 14)


def _orthodont() -> list[tuple[list[list[float]], list[float]]]:
    return [([[1.0, age] for age in AGES], ORTHODONT[4 * i: 4 * i + 4]) for i in range(27)]


def test_orthodont_matches_the_published_lme_fit():
    # Pinheiro & Bates (2000), lme(distance ~ age, Orthodont, random = ~ age | Subject), REML:
    # (Intercept) 16.761111 (SE 0.7752461), age 0.660185 (SE 0.0712533); random effects SD 2.3270339
    # (intercept) and 0.2264276 (age), correlation -0.609, residual SD 1.3100399
    fit = fit_random_coefficients(_orthodont())
    assert fit.converged
    assert fit.beta == pytest.approx((16.761111, 0.660185), abs=1e-6)
    assert fit.se == pytest.approx((0.7752461, 0.0712533), abs=1e-6)
    sd = (fit.g[0][0] ** 0.5, fit.g[1][1] ** 0.5)
    assert sd == pytest.approx((2.3270339, 0.2264276), rel=1e-5)
    assert fit.g[0][1] / (sd[0] * sd[1]) == pytest.approx(-0.609, abs=5e-4)
    assert fit.sigma2 ** 0.5 == pytest.approx(1.3100399, rel=1e-5)


def test_the_order_of_subjects_does_not_change_a_single_bit():
    subjects = _orthodont()
    shuffled = subjects[:]
    random.Random(4).shuffle(shuffled)
    assert fit_random_coefficients(subjects) == fit_random_coefficients(shuffled)


def _piecewise(seed: int) -> list[tuple[list[tuple[float, float, float]], list[float]]]:
    """An unbalanced piecewise design: some subjects miss the last visit or a follow-up visit."""
    rng = np.random.default_rng(seed)
    subjects = []
    for s in range(30):
        b0, b1, b2 = rng.normal(36, 4), rng.normal(-1.4, 0.8), rng.normal(-0.7, 0.5)
        months = [-3, 0, 1, 2, 3, 4, 6]
        if s % 7 == 0:
            months = months[:-1]
        if s % 11 == 3:
            months.remove(2)
        values = [round(b0 + b1 * min(t, 0) + b2 * max(t, 0) + rng.normal(0, 1.2)) for t in months]
        subjects.append(([(1.0, min(t, 0), max(t, 0)) for t in months], [float(v) for v in values]))
    return subjects


def test_unbalanced_piecewise_fit_agrees_with_statsmodels():
    import statsmodels.formula.api as smf

    subjects = _piecewise(7)
    rows = [{"ID": i, "lead": x[1], "post": x[2], "Y": y} for i, (design, values) in enumerate(subjects)
            for x, y in zip(design, values, strict=True)]
    frame = pd.DataFrame(rows)
    model = smf.mixedlm("Y ~ lead + post", frame, groups=frame["ID"], re_formula="~ lead + post")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = max((model.fit(reml=True, method=m) for m in ("powell", "cg", "lbfgs")), key=lambda r: r.llf)
    fit = fit_random_coefficients(subjects)
    assert fit.converged
    assert fit.beta == pytest.approx(tuple(reference.fe_params), abs=2e-4)
    # statsmodels' SEs come from the joint information of all parameters; ours are sqrt(diag M^-1)
    assert fit.se == pytest.approx(tuple(reference.bse_fe), rel=5e-3)
    assert fit.sigma2 == pytest.approx(reference.scale, rel=1e-3)


def test_too_little_data_is_an_error_not_a_number():
    with pytest.raises(ValueError, match="two subjects"):
        fit_random_coefficients([([[1.0, 0.0], [1.0, 1.0]], [3.0, 4.0])])
    with pytest.raises(ValueError, match="more observations"):
        fit_random_coefficients([([[1.0, 0.0]], [3.0]), ([[1.0, 1.0]], [4.0])])
    no_post = [([[1.0, -3.0, 0.0], [1.0, 0.0, 0.0]], [30.0 + i, 28.0]) for i in range(4)]
    with pytest.raises(ValueError, match="fixed effects cannot be estimated"):
        fit_random_coefficients(no_post)
