"""Integer data that print given summaries: simulated annealing over per-subject integer variables.

A *block* holds a few integer variables per subject (for example the ALSFRS-R total at V5 and
its changes to V1, V9 and V10). Published rows are linear combinations of those variables over a
subset of subjects, printed as mean (SD) at a number of decimals; two-group rows add a pooled
Student t test whose difference, SE, CI and p are printed too; responder rows are counts of
subjects for whom a linear combination is >= 0. Every statistic depends only on the sums and
sums of squares of the combinations, so each move (one variable of one subject changed by a
small step) updates them in O(1), and the loss counts how far each printed cell is from its
rounding box. The search stops at loss 0: every printed number is reproduced.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from cdisc_als.rounding import format_pvalue, sas_round
from cdisc_als.stats.tests import student_pooled as _student


@dataclass(frozen=True)
class SummaryRow:
    """Mean (SD) of (coef . x + offset) / scale over members, printed at dp decimals."""

    name: str
    members: tuple[int, ...]
    coef: dict[str, int]
    mean: float
    sd: float
    dp: int = 2
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class CountTarget:
    """Number of members with coef . x >= 0 must equal target; optionally no member exactly at 0."""

    name: str
    members: tuple[int, ...]
    coef: dict[str, int]
    target: int
    no_tie: bool = False


@dataclass(frozen=True)
class Bound:
    """lo <= coef . x <= hi for every member (plausibility: score ranges, inclusion criteria)."""

    members: tuple[int, ...]
    coef: dict[str, int]
    lo: float
    hi: float


@dataclass(frozen=True)
class StudentTarget:
    """Pooled-variance Student t of row `first` minus row `second`, printed at dp decimals."""

    name: str
    first: str
    second: str
    dp: int = 2
    diff: float | None = None
    se: float | None = None
    lcl: float | None = None
    ucl: float | None = None
    p: str | None = None


@dataclass
class Block:
    variables: tuple[str, ...]
    n_subjects: int
    rows: list[SummaryRow] = field(default_factory=list)
    counts: list[CountTarget] = field(default_factory=list)
    bounds: list[Bound] = field(default_factory=list)
    tests: list[StudentTarget] = field(default_factory=list)
    step: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, set[int]] = field(default_factory=dict)


def row_stats(n: int, s: int, q: int, scale: float, offset: float) -> tuple[float, float]:
    """Mean and SD of (x + offset) / scale from n, sum and sum of squares of the integer x."""
    mean = (s / n + offset) / scale
    var = (q - s * s / n) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(max(var, 0.0)) / scale


def student_pooled(n1: int, m1: float, s1: float, n2: int, m2: float, s2: float) -> dict[str, float]:
    """Pooled-variance Student t (cdisc_als.stats.tests) as a dict of its printed cells."""
    res = _student(n1, m1, s1, n2, m2, s2)
    return {"diff": res.diff, "se": res.se, "lcl": res.lcl, "ucl": res.ucl, "p": res.p, "sd_pooled": res.sd_pooled}


def _cell_loss(value: float, target: float, dp: int) -> float:
    if sas_round(value, dp) == sas_round(target, dp):
        return 0.0
    unit = 10.0 ** -dp
    return 1.0 + max(0.0, abs(value - target) - unit / 2) / unit


def _p_loss(p: float, target: str) -> float:
    if format_pvalue(p) == target:
        return 0.0
    centre = 0.0005 if target == "<0.001" else float(target)
    return 1.0 + abs(p - centre) / 0.001


class _State:
    """Sums, counts and losses of a block for the current integer matrix x."""

    def __init__(self, block: Block, x: list[list[int]]):
        self.block = block
        self.x = x
        var_index = {v: j for j, v in enumerate(block.variables)}
        self.var_index = var_index
        n_subj = block.n_subjects
        # affected[(i, j)] -> list of (kind, k, coefficient)
        self.affected: dict[tuple[int, int], list[tuple[str, int, int]]] = {}
        self.row_by_name = {r.name: k for k, r in enumerate(block.rows)}
        self.tests_by_row: dict[int, list[int]] = {}
        for t_k, test in enumerate(block.tests):
            for name in (test.first, test.second):
                self.tests_by_row.setdefault(self.row_by_name[name], []).append(t_k)
        for kind, items in (("row", block.rows), ("count", block.counts), ("bound", block.bounds)):
            for k, item in enumerate(items):
                for i in item.members:
                    for v, c in item.coef.items():
                        self.affected.setdefault((i, var_index[v]), []).append((kind, k, c))
        self.active = [[j for j in range(len(block.variables))
                        if (i, j) in self.affected and i not in block.fixed.get(block.variables[j], set())]
                       for i in range(n_subj)]
        self.members_of_var = [[i for i in range(n_subj) if j in self.active[i]]
                               for j in range(len(block.variables))]
        self.combo = {}  # (kind, k, i) -> current combination value
        self.row_s = [0] * len(block.rows)
        self.row_q = [0] * len(block.rows)
        self.count_val = [0] * len(block.counts)
        self.tie_val = [0] * len(block.counts)
        self.bound_viol = [0.0] * len(block.bounds)
        for k, r in enumerate(block.rows):
            for i in r.members:
                c = self._combo_of(r.coef, i)
                self.combo[("row", k, i)] = c
                self.row_s[k] += c
                self.row_q[k] += c * c
        for k, ct in enumerate(block.counts):
            for i in ct.members:
                c = self._combo_of(ct.coef, i)
                self.combo[("count", k, i)] = c
                self.count_val[k] += c >= 0
                self.tie_val[k] += c == 0
        for k, b in enumerate(block.bounds):
            for i in b.members:
                c = self._combo_of(b.coef, i)
                self.combo[("bound", k, i)] = c
                self.bound_viol[k] += _violation(c, b.lo, b.hi)
        self.row_loss = [self._row_loss(k) for k in range(len(block.rows))]
        self.test_loss = [self._test_loss(k) for k in range(len(block.tests))]
        self.count_losses = [self._count_loss(k) for k in range(len(block.counts))]

    def _combo_of(self, coef: dict[str, int], i: int) -> int:
        return sum(c * self.x[i][self.var_index[v]] for v, c in coef.items())

    def _row_values(self, k: int) -> tuple[int, float, float]:
        r = self.block.rows[k]
        n = len(r.members)
        mean, sd = row_stats(n, self.row_s[k], self.row_q[k], r.scale, r.offset)
        return n, mean, sd

    def _row_loss(self, k: int) -> float:
        r = self.block.rows[k]
        _, mean, sd = self._row_values(k)
        return _cell_loss(mean, r.mean, r.dp) + _cell_loss(sd, r.sd, r.dp)

    def _test_loss(self, k: int) -> float:
        """Loss of a test's printed cells; a flat 2 while its rows are still outside their boxes.

        Gating keeps the p-value landscape (which is symmetric in the difference) from pulling
        the group means towards mirrored solutions before the rows themselves are right.
        """
        t = self.block.tests[k]
        first, second = self.row_by_name[t.first], self.row_by_name[t.second]
        if self.row_loss[first] or self.row_loss[second]:
            return 2.0
        n1, m1, s1 = self._row_values(self.row_by_name[t.first])
        n2, m2, s2 = self._row_values(self.row_by_name[t.second])
        res = student_pooled(n1, m1, s1, n2, m2, s2)
        loss = 0.0
        for key in ("diff", "se", "lcl", "ucl"):
            target = getattr(t, key)
            if target is not None:
                loss += _cell_loss(res[key], target, t.dp)
        if t.p is not None:
            loss += _p_loss(res["p"], t.p)
        return min(loss, 4.0)

    def count_loss(self) -> float:
        return sum(self.count_losses)

    def total(self) -> float:
        return sum(self.row_loss) + sum(self.test_loss) + self.count_loss() + 5.0 * sum(self.bound_viol)

    def _count_loss(self, k: int) -> float:
        """|count - target| plus a small pull: how far the nearest members are from flipping."""
        ct = self.block.counts[k]
        gap = self.count_val[k] - ct.target
        loss = float(abs(gap)) + (self.tie_val[k] if ct.no_tie else 0)
        if gap:
            values = [self.combo[("count", k, i)] for i in ct.members]
            if gap < 0:
                near = sorted(-v for v in values if v < 0)[:-gap]
            else:
                near = sorted(v + 1 for v in values if v >= 0)[:gap]
            loss += 0.05 * sum(min(v, 10) for v in near)
        return loss

    def apply(self, i: int, j: int, delta: int, touched: set[tuple[str, int]]) -> float:
        """Change x[i][j] by delta and update the sums; return the change in bound loss."""
        self.x[i][j] += delta
        d_loss = 0.0
        for kind, k, c in self.affected[(i, j)]:
            key = (kind, k, i)
            old = self.combo[key]
            new = old + c * delta
            self.combo[key] = new
            if kind == "row":
                self.row_s[k] += new - old
                self.row_q[k] += new * new - old * old
                touched.add(("row", k))
            elif kind == "count":
                self.count_val[k] += (new >= 0) - (old >= 0)
                self.tie_val[k] += (new == 0) - (old == 0)
                touched.add(("count", k))
            else:
                b = self.block.bounds[k]
                change = _violation(new, b.lo, b.hi) - _violation(old, b.lo, b.hi)
                self.bound_viol[k] += change
                d_loss += 5.0 * change
        return d_loss

    def refresh(self, touched: set[tuple[str, int]]) -> tuple[float, dict[tuple[str, int], float]]:
        """Recompute the losses of touched rows, counts and tests; return (delta, previous losses)."""
        previous: dict[tuple[str, int], float] = {}
        delta = 0.0
        tests: set[int] = set()
        for kind, k in touched:
            if kind == "row":
                previous[(kind, k)] = self.row_loss[k]
                self.row_loss[k] = self._row_loss(k)
                delta += self.row_loss[k] - previous[(kind, k)]
                tests.update(self.tests_by_row.get(k, ()))
            else:
                previous[(kind, k)] = self.count_losses[k]
                self.count_losses[k] = self._count_loss(k)
                delta += self.count_losses[k] - previous[(kind, k)]
        for t in tests:
            previous[("test", t)] = self.test_loss[t]
            self.test_loss[t] = self._test_loss(t)
            delta += self.test_loss[t] - previous[("test", t)]
        return delta, previous

    def restore(self, previous: dict[tuple[str, int], float]) -> None:
        store = {"row": self.row_loss, "count": self.count_losses, "test": self.test_loss}
        for (kind, k), value in previous.items():
            store[kind][k] = value


def _violation(value: float, lo: float, hi: float) -> float:
    if value < lo:
        return lo - value
    if value > hi:
        return value - hi
    return 0.0


def solve_block(block: Block, start: Sequence[Sequence[int]], rng: random.Random,
                max_iterations: int = 3_000_000, t_start: float = 1.0, t_end: float = 0.01,
                sweep: int = 60_000) -> list[list[int]]:
    """Anneal the integer matrix `start` (subjects x variables) until every target of the block holds.

    Raises RuntimeError when no solution was found within max_iterations (the caller chose
    targets that cannot be printed, or bounds that are too tight).
    """
    x = [list(map(int, r)) for r in start]
    state = _State(block, x)
    loss = state.total()
    best = loss
    steps = [block.step.get(v, 1) for v in block.variables]
    movable = [j for j, members in enumerate(state.members_of_var) if members]
    # a start that already meets every count keeps meeting them: moves that break one are refused
    hard_counts = bool(block.counts) and state.count_loss() == 0
    it = 0
    while loss > 1e-12 and it < max_iterations:
        phase = (it % sweep) / sweep
        temp = t_start * (t_end / t_start) ** phase
        it += 1
        j = rng.choice(movable)
        members = state.members_of_var[j]
        first = rng.choice(members)
        kind = rng.random()
        if kind < 0.3 and len(members) > 1:
            # swap the values of two subjects: keeps that variable's sum and sum of squares
            other = rng.choice(members)
            gap = x[other][j] - x[first][j]
            if gap == 0:
                continue
            moves = [(first, j, gap), (other, j, -gap)]
        else:
            delta = rng.randint(1, steps[j]) * rng.choice((-1, 1))
            moves = [(first, j, delta)]
            if kind < 0.6 and len(members) > 1:
                other = rng.choice(members)
                if other != first:
                    moves.append((other, j, -delta))
        touched: set[tuple[str, int]] = set()
        d_loss = 0.0
        for i, jj, dd in moves:
            d_loss += state.apply(i, jj, dd, touched)
        d_more, previous = state.refresh(touched)
        d_loss += d_more
        if hard_counts and any(state.count_losses[k] for kind, k in touched if kind == "count"):
            d_loss = math.inf
        if d_loss <= 0 or (d_loss < math.inf and rng.random() < math.exp(-d_loss / temp)):
            loss += d_loss
            best = min(best, loss)
            continue
        for i, jj, dd in reversed(moves):
            state.apply(i, jj, -dd, set())
        state.restore(previous)
    loss = state.total()
    if loss > 1e-9:
        open_cells = [block.rows[k].name for k, v in enumerate(state.row_loss) if v]
        open_cells += [block.tests[k].name for k, v in enumerate(state.test_loss) if v]
        open_cells += [block.counts[k].name for k, v in enumerate(state.count_losses) if v]
        raise RuntimeError(f"annealer stopped after {it} moves with loss {loss:.3f} (best {best:.3f}); "
                           f"cells still off: {', '.join(open_cells) or 'bounds'}")
    return x


def block_report(block: Block, x: Sequence[Sequence[int]]) -> dict[str, dict[str, float]]:
    """Recompute every row, count and test of a block for matrix x (for logs and tests)."""
    state = _State(block, [list(r) for r in x])
    out: dict[str, dict[str, float]] = {}
    for k, r in enumerate(block.rows):
        n, mean, sd = state._row_values(k)
        out[r.name] = {"n": n, "mean": mean, "sd": sd}
    for k, ct in enumerate(block.counts):
        out[ct.name] = {"count": state.count_val[k], "ties": state.tie_val[k]}
    for t in block.tests:
        a, b = out[t.first], out[t.second]
        out[t.name] = student_pooled(int(a["n"]), a["mean"], a["sd"], int(b["n"]), b["mean"], b["sd"])
    return out
