"""Freeman-Halton exact test of an r x c table (the r x c extension of Fisher's exact test).

Rule: with the row and column totals fixed, a table has the multivariate hypergeometric probability
P = prod(r_i!) prod(c_j!) / (N! prod(x_ij!)). The two-sided p is the sum of P over every table with
the observed margins whose P is not larger than the observed table's (relative tolerance 1e-7, as R's
fisher.test). Every table is enumerated, column by column, so the test is only run when the number
of tables is small; `count_tables` tells beforehand (dynamic programming over the remaining row
totals), and TooManyTables is raised above the limit so the caller can fall back and say so.

Hand example: rows (3, 3), columns (3, 2, 1), observed first row (3, 0, 0). The six tables with
these margins have probabilities 1, 6, 3, 3, 6, 1 in 20 (first rows (3,0,0), (2,1,0), (2,0,1),
(1,2,0), (1,1,1), (0,2,1)); those not more probable than 1/20 are (3,0,0) and (0,2,1): p = 0.1.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np


class TooManyTables(Exception):
    """The exact enumeration would exceed the limit; `count` is the number of tables (or a lower bound
    ending in '+' when even counting them was stopped)."""

    def __init__(self, count: int | str):
        super().__init__(f"{count} tables")
        self.count = count


def _compositions(total: int, bounds: tuple[int, ...]):
    """Every tuple x with sum(x) = total and 0 <= x_i <= bounds_i."""
    if len(bounds) == 1:
        if total <= bounds[0]:
            yield (total,)
        return
    rest = sum(bounds[1:])
    for first in range(max(0, total - rest), min(total, bounds[0]) + 1):
        for tail in _compositions(total - first, bounds[1:]):
            yield (first, *tail)


def count_tables(rows: tuple[int, ...], cols: tuple[int, ...], max_steps: int = 200_000) -> int:
    """Number of non-negative integer tables with these row and column totals; TooManyTables when
    counting them takes more than `max_steps` steps (the table is then far too large anyway)."""
    steps = 0

    @cache
    def count(j: int, remaining: tuple[int, ...]) -> int:
        nonlocal steps
        if j == len(cols) - 1:
            return 1
        total = 0
        for column in _compositions(cols[j], remaining):
            steps += 1
            if steps > max_steps:
                raise TooManyTables(f"more than {max_steps}")
            total += count(j + 1, tuple(r - x for r, x in zip(remaining, column, strict=True)))
        return total

    return count(0, tuple(rows))


def freeman_halton_p(table, max_tables: int = 200_000) -> float:
    """Two-sided exact p of the r x c table (see the module docstring)."""
    x = np.asarray(table, dtype=int)
    rows = tuple(int(v) for v in x.sum(axis=1))
    cols = tuple(int(v) for v in x.sum(axis=0))
    n_tables = count_tables(rows, cols)
    if n_tables > max_tables:
        raise TooManyTables(n_tables)
    log_fact = [math.lgamma(k + 1) for k in range(sum(rows) + 1)]
    constant = sum(log_fact[r] for r in rows) + sum(log_fact[c] for c in cols) - log_fact[sum(rows)]
    observed = constant - sum(log_fact[v] for v in x.flat)
    limit = observed + 1e-7 * max(1.0, abs(observed))
    total = 0.0

    def walk(j: int, remaining: tuple[int, ...], partial: float) -> None:
        nonlocal total
        if j == len(cols) - 1:
            log_p = constant - partial - sum(log_fact[r] for r in remaining)
            if log_p <= limit:
                total += math.exp(log_p)
            return
        for column in _compositions(cols[j], remaining):
            walk(j + 1, tuple(r - v for r, v in zip(remaining, column, strict=True)),
                 partial + sum(log_fact[v] for v in column))

    walk(0, rows, 0.0)
    return min(1.0, total)
