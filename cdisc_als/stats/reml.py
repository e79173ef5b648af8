"""REML fit of a random-coefficients linear mixed model, with the same bits on every machine.

Model (Laird & Ware 1982): for subject i, y_i = X_i beta + X_i u_i + e_i with u_i ~ N(0, G), G
unstructured, and e_i ~ N(0, sigma2 I): every fixed effect also varies by subject (random
intercept and slopes). This is SAS PROC MIXED with RANDOM <all effects> / SUBJECT=id TYPE=UN, and
R lme(y ~ x, random = ~ x | id).

Fitted by the REML EM algorithm (Laird, Lange & Stram 1987, JASA 82:97-105). With
V_i = X_i G X_i' + sigma2 I, W_i = V_i^-1, M = sum X_i' W_i X_i, beta = M^-1 sum X_i' W_i y_i,
r_i = y_i - X_i beta and P_i = W_i - W_i X_i M^-1 X_i' W_i, one step is
    G      <- mean over subjects of  u_i u_i' + G - G X_i' P_i X_i G,   u_i = G X_i' W_i r_i
    sigma2 <- sum over subjects of   e_i'e_i + sigma2 (n_i - sigma2 tr P_i), / N,  e_i = sigma2 W_i r_i
until no parameter moves by more than `tol` (relative). The SEs of beta are sqrt(diag M^-1) at the
estimate (model-based, as SAS and lme print).

Why not a general optimiser: statsmodels' MixedLM stops at different points, even at different
local optima, depending on the BLAS kernels of the machine (seen on the sample study). This EM
uses only +, -, *, / and square roots, which IEEE 754 rounds correctly on every machine, adds with
math.fsum (correctly rounded, so the order of the subjects does not matter), and never calls
BLAS or LAPACK: the same data give the same bits on any machine, numpy build or Python version.
Subjects with the same design matrix are pooled into their count, mean and centred cross-products,
which is all a step needs, so its cost does not grow with the number of subjects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Matrix = list[list[float]]


@dataclass(frozen=True)
class RemlFit:
    """Fixed effects (in the column order of X) with their SEs, G, sigma2 and how the EM ended."""

    beta: tuple[float, ...]
    se: tuple[float, ...]
    g: tuple[tuple[float, ...], ...]
    sigma2: float
    iterations: int
    converged: bool


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    cols = list(zip(*b, strict=True))
    return [[math.fsum(x * y for x, y in zip(row, col, strict=True)) for col in cols] for row in a]


def _transpose(a: Matrix) -> Matrix:
    return [list(col) for col in zip(*a, strict=True)]


def _matvec(a: Matrix, v: Sequence[float]) -> list[float]:
    return [math.fsum(x * y for x, y in zip(row, v, strict=True)) for row in a]


def _inverse(a: Matrix) -> Matrix:
    """Gauss-Jordan inverse with partial pivoting; ValueError when (numerically) singular."""
    n = len(a)
    work = [list(row) + [1.0 if i == j else 0.0 for j in range(n)] for i, row in enumerate(a)]
    scale = max((abs(x) for row in a for x in row), default=0.0)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(work[r][col]))
        if abs(work[pivot][col]) <= 1e-13 * scale:
            raise ValueError("singular matrix")
        work[col], work[pivot] = work[pivot], work[col]
        lead = work[col][col]
        work[col] = [x / lead for x in work[col]]
        for r in range(n):
            if r != col and work[r][col] != 0.0:
                factor = work[r][col]
                work[r] = [x - factor * y for x, y in zip(work[r], work[col], strict=True)]
    return [row[n:] for row in work]


def _symmetric(a: Matrix) -> Matrix:
    n = len(a)
    return [[(a[i][j] + a[j][i]) / 2.0 for j in range(n)] for i in range(n)]


def _sum_matrices(parts: list[Matrix]) -> Matrix:
    rows, cols = len(parts[0]), len(parts[0][0])
    return [[math.fsum(part[i][j] for part in parts) for j in range(cols)] for i in range(rows)]


@dataclass
class _Group:
    """Subjects sharing one design matrix X: their count, mean response and centred cross-products.

    These are sufficient for the EM: with r_i = y_i - X beta, sum r_i r_i' = C + m d d' where
    d = mean(y) - X beta, so a step costs the same for 30 subjects or 30,000.
    """

    x: Matrix
    m: int
    mean: list[float]
    cross: Matrix                  # sum over subjects of (y_i - mean)(y_i - mean)'


def _groups(data: list[tuple[Matrix, list[float]]]) -> list[_Group]:
    members: dict[tuple, list[list[float]]] = {}
    designs: dict[tuple, Matrix] = {}
    for x, y in data:
        key = tuple(tuple(row) for row in x)
        members.setdefault(key, []).append(y)
        designs[key] = x
    out = []
    for key, ys in members.items():
        n = len(ys[0])
        mean = [math.fsum(y[k] for y in ys) / len(ys) for k in range(n)]
        cross = [[math.fsum((y[a] - mean[a]) * (y[b] - mean[b]) for y in ys) for b in range(n)] for a in range(n)]
        out.append(_Group(designs[key], len(ys), mean, cross))
    return out


class _Pattern:
    """W = V^-1, X'W and X'WX of one design matrix X, for the current G and sigma2."""

    def __init__(self, x: Matrix, g: Matrix, sigma2: float):
        self.xt = _transpose(x)
        v = _matmul(_matmul(x, g), self.xt)
        for k in range(len(x)):
            v[k][k] += sigma2
        self.w = _inverse(v)
        self.xtw = _matmul(self.xt, self.w)
        self.xtwx = _matmul(self.xtw, x)


def _start(subjects: list[tuple[Matrix, list[float]]], p: int) -> tuple[Matrix, float]:
    """G and sigma2 to start from: the spread of per-subject least-squares fits and their residuals."""
    fits, rss, dof = [], [], 0
    solved: dict[tuple, tuple[Matrix, Matrix | None]] = {}     # (X', (X'X)^-1 or None) per design matrix
    for x, y in subjects:
        if len(y) <= p:
            continue
        key = tuple(tuple(row) for row in x)
        if key not in solved:
            xt = _transpose(x)
            try:
                solved[key] = (xt, _inverse(_matmul(xt, x)))
            except ValueError:
                solved[key] = (xt, None)
        xt, inverse = solved[key]
        if inverse is None:
            continue
        coef = _matvec(inverse, _matvec(xt, y))
        fits.append(coef)
        resid = [yy - f for yy, f in zip(y, _matvec(x, coef), strict=True)]
        rss.append(math.fsum(r * r for r in resid))
        dof += len(y) - p
    values = [yy for _, y in subjects for yy in y]
    mean = math.fsum(values) / len(values)
    total = math.fsum((v - mean) * (v - mean) for v in values) / max(len(values) - 1, 1)
    sigma2 = math.fsum(rss) / dof if dof and math.fsum(rss) > 0 else max(total / 2.0, 1e-6)
    g = [[0.0] * p for _ in range(p)]
    if len(fits) >= 2:
        centre = [math.fsum(f[j] for f in fits) / len(fits) for j in range(p)]
        g = [[math.fsum((f[a] - centre[a]) * (f[b] - centre[b]) for f in fits) / (len(fits) - 1)
              for b in range(p)] for a in range(p)]
    for j in range(p):                     # keep every direction open: EM cannot leave a zero variance
        g[j][j] += 0.01 * g[j][j] + 1e-4 * sigma2
    return g, sigma2


def fit_random_coefficients(subjects: Sequence[tuple[Sequence[Sequence[float]], Sequence[float]]],
                            tol: float = 1e-10, max_iter: int = 20_000) -> RemlFit:
    """REML estimate of beta, G and sigma2 for subjects given as (X rows, y) pairs (see the module doc).

    Needs at least two subjects and more observations than columns of X; raises ValueError otherwise
    or when the fixed-effects design is singular.
    """
    data = [([[float(v) for v in row] for row in x], [float(v) for v in y]) for x, y in subjects if len(y)]
    if len(data) < 2:
        raise ValueError("a mixed model needs at least two subjects with data")
    p = len(data[0][0][0])
    if sum(len(y) for _, y in data) <= p:
        raise ValueError("a mixed model needs more observations than fixed effects")
    groups = _groups(data)
    g, sigma2 = _start(data, p)
    iterations, converged = 0, False
    while iterations < max_iter and not converged:
        iterations += 1
        new_g, new_s = _em_step(groups, g, sigma2)
        moved = max(max(abs(a - b) / max(1.0, abs(b)) for ra, rb in zip(new_g, g, strict=True)
                        for a, b in zip(ra, rb, strict=True)), abs(new_s - sigma2) / max(1.0, sigma2))
        converged = moved <= tol
        g, sigma2 = new_g, new_s
    beta, m_inv = _fixed_effects(groups, [_Pattern(grp.x, g, sigma2) for grp in groups])
    se = tuple(math.sqrt(m_inv[j][j]) if m_inv[j][j] > 0 else math.nan for j in range(p))
    return RemlFit(tuple(beta), se, tuple(tuple(row) for row in g), sigma2, iterations, converged)


def _em_step(groups: list[_Group], g: Matrix, sigma2: float) -> tuple[Matrix, float]:
    """One REML EM step: the new G and sigma2 from the current ones (formulas in the module doc)."""
    p = len(g)
    patterns = [_Pattern(grp.x, g, sigma2) for grp in groups]
    beta, m_inv = _fixed_effects(groups, patterns)
    parts_g, parts_s = [], []
    for grp, pat in zip(groups, patterns, strict=True):
        # X'PX = X'WX - X'WX M^-1 X'WX, and tr P = tr W - tr(W X M^-1 X'W)
        xpx = [[a - b for a, b in zip(r1, r2, strict=True)]
               for r1, r2 in zip(pat.xtwx, _matmul(_matmul(pat.xtwx, m_inv), pat.xtwx), strict=True)]
        gxpxg = _matmul(_matmul(g, xpx), g)
        correction = _matmul(_matmul(_transpose(pat.xtw), m_inv), pat.xtw)
        trace_p = math.fsum(pat.w[k][k] - correction[k][k] for k in range(len(grp.x)))
        # sum over the group's subjects of r r', of u u' (u = G X'W r) and of e'e (e = sigma2 W r)
        d = [a - b for a, b in zip(grp.mean, _matvec(grp.x, beta), strict=True)]
        rr = [[c + grp.m * (d[a] * d[b]) for b, c in enumerate(row)] for a, row in enumerate(grp.cross)]
        gxtw = _matmul(g, pat.xtw)
        uu = _matmul(_matmul(gxtw, rr), _transpose(gxtw))
        wrrw = _matmul(_matmul(pat.w, rr), pat.w)
        ee = sigma2 * sigma2 * math.fsum(wrrw[k][k] for k in range(len(grp.x)))
        parts_g.append([[uu[a][b] + grp.m * (g[a][b] - gxpxg[a][b]) for b in range(p)] for a in range(p)])
        parts_s.append(ee + grp.m * (sigma2 * (len(grp.x) - sigma2 * trace_p)))
    subjects = sum(grp.m for grp in groups)
    n_obs = sum(grp.m * len(grp.x) for grp in groups)
    new_g = _symmetric([[v / subjects for v in row] for row in _sum_matrices(parts_g)])
    return new_g, math.fsum(parts_s) / n_obs


def _fixed_effects(groups: list[_Group], patterns: list[_Pattern]) -> tuple[list[float], Matrix]:
    """GLS beta and M^-1 = (sum X' W X)^-1 for the current G and sigma2."""
    try:
        m_inv = _inverse(_sum_matrices([[[grp.m * v for v in row] for row in pat.xtwx]
                                        for grp, pat in zip(groups, patterns, strict=True)]))
    except ValueError:
        raise ValueError("the fixed effects cannot be estimated from these data (every subject's "
                         "times leave one column of X undetermined)") from None
    xtwy = [[grp.m * v for v in _matvec(pat.xtw, grp.mean)] for grp, pat in zip(groups, patterns, strict=True)]
    total = [math.fsum(v[j] for v in xtwy) for j in range(len(m_inv))]
    return _matvec(m_inv, total), m_inv
