"""Long-term survival and tracheostomy dates whose Kaplan-Meier summaries follow the paper.

Time runs from V1 (screening) in months = (days + 1) / 30.4375 to death, or is censored at the
cut-off date (2018-02-28) or earlier when the subject started another MSC therapy. A subject may
have a tracheostomy before death or censoring; tracheostomy-free survival ends at the earlier
of tracheostomy and death. The in-trial deaths are fixed by the caller. A simulated annealing
over death, censoring and tracheostomy days moves the SPSS-style restricted means, their SEs and
the log-rank p values towards the published ones (overall and in the age < 54 subgroup).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cdisc_als.reference import ReferenceCell
from cdisc_als.rounding import format_pvalue
from cdisc_als.stats.km import km_restricted_mean, logrank_p

MONTH_DAYS = 30.4375
DEATH, CUTOFF, OTHER_MSC = 0, 1, 2


@dataclass
class SurvivalPlan:
    """Per FAS subject: end day (from V1), how it ends, and tracheostomy day (-1 when none)."""

    end_day: np.ndarray
    end_kind: np.ndarray
    trach_day: np.ndarray


@dataclass(frozen=True)
class SurvivalInputs:
    is_msc: np.ndarray          # bool per subject
    young: np.ndarray           # age < 54
    cutoff_day: np.ndarray      # days from V1 to the survival cut-off
    min_day: np.ndarray         # earliest possible end (after the last trial visit)
    fixed_death_day: dict[int, int]


def _months(days: np.ndarray) -> np.ndarray:
    return (days + 1.0) / MONTH_DAYS


def summarise(inputs: SurvivalInputs, plan: SurvivalPlan) -> dict[str, float]:
    """Restricted means, SEs and log-rank p values of survival and tracheostomy-free survival."""
    t = _months(plan.end_day.astype(float))
    e = plan.end_kind == DEATH
    has_trach = plan.trach_day >= 0
    tf_days = np.where(has_trach, np.minimum(plan.trach_day, plan.end_day), plan.end_day)
    tf = _months(tf_days.astype(float))
    tf_e = e | has_trach
    out: dict[str, float] = {}
    for label, time, event in (("os", t, e), ("tf", tf, tf_e)):
        for subset, mask in (("all", np.ones_like(e)), ("young", inputs.young)):
            for arm, arm_mask in (("MSC", inputs.is_msc), ("CONTROL", ~inputs.is_msc)):
                sel = mask & arm_mask
                km = km_restricted_mean(time[sel], event[sel])
                out[f"{label}.{subset}.{arm}.mean"] = km.mean
                out[f"{label}.{subset}.{arm}.se"] = km.se
            a = mask & inputs.is_msc
            b = mask & ~inputs.is_msc
            out[f"{label}.{subset}.p"] = logrank_p(time[a], event[a], time[b], event[b])
    return out


def _interval_loss(value: float, target: float, half: float, scale: float) -> float:
    return max(0.0, abs(value - target) - half * 0.8) / scale


def _p_loss(p: float, printed: str) -> float:
    return 0.0 if format_pvalue(p) == printed else abs(p - float(printed)) / 0.01 + 0.2


# catalogue row of the survival output -> summary prefix; ARD statistic -> summary statistic
SUMMARY_ROWS = {"OS": "os.all", "OS_LT54": "os.young", "TFS": "tf.all", "TFS_LT54": "tf.young"}
SUMMARY_STATS = {"rmst": "mean", "rmst_se": "se", "pvalue": "p"}
SCALE = {"rmst": 1.0, "rmst_se": 0.5}


def survival_loss(summary: dict[str, float], targets: Sequence[ReferenceCell]) -> float:
    """Distance of the summaries from the published values (0 when all print as published).

    targets: the reference cells of the survival output; the per-arm restricted means and SEs add
    how far they lie outside their rounding box (arm by arm), then the log-rank p values."""
    loss = 0.0
    per_arm = [cell for cell in targets if cell.arm and cell.row in SUMMARY_ROWS and cell.stat in SCALE]
    for arm in dict.fromkeys(cell.arm for cell in per_arm):
        for cell in (c for c in per_arm if c.arm == arm):
            value = summary[f"{SUMMARY_ROWS[cell.row]}.{arm}.{SUMMARY_STATS[cell.stat]}"]
            half = 0.5 / 10 ** cell.decimals
            loss += _interval_loss(value, float(cell.value), half, SCALE[cell.stat])
    for cell in targets:
        if not cell.arm and cell.row in SUMMARY_ROWS and cell.stat == "pvalue":
            loss += _p_loss(summary[f"{SUMMARY_ROWS[cell.row]}.p"], cell.value)
    return loss


def initial_plan(inputs: SurvivalInputs, rng: np.random.Generator) -> SurvivalPlan:
    """Weibull death times (controls a little worse), early censoring for a few, some tracheostomies."""
    n = inputs.is_msc.size
    scale = np.where(inputs.is_msc, 2000.0, 1750.0)
    death = np.rint(scale * rng.weibull(1.6, n)).astype(np.int64)
    death = np.maximum(death, inputs.min_day)
    end_day = np.minimum(death, inputs.cutoff_day)
    end_kind = np.where(death < inputs.cutoff_day, DEATH, CUTOFF)
    early = rng.random(n) < np.where(inputs.is_msc, 0.12, 0.3)
    early_day = np.rint(rng.uniform(500, 1600, n)).astype(np.int64)
    switch = early & (early_day < end_day)
    end_day = np.where(switch, early_day, end_day)
    end_kind = np.where(switch, OTHER_MSC, end_kind)
    trach = rng.random(n) < 0.25
    trach_day = np.where(trach, np.maximum(inputs.min_day, end_day - rng.integers(60, 700, n)), -1)
    for i, day in inputs.fixed_death_day.items():
        end_day[i], end_kind[i], trach_day[i] = day, DEATH, -1
    return SurvivalPlan(end_day.astype(np.int64), end_kind.astype(np.int64), trach_day.astype(np.int64))


def _propose(plan: SurvivalPlan, inputs: SurvivalInputs, i: int, rng: random.Random) -> None:
    lo, hi = int(inputs.min_day[i]), int(inputs.cutoff_day[i])
    move = rng.random()
    if move < 0.45:
        if plan.end_kind[i] == CUTOFF:
            plan.end_kind[i] = DEATH
            plan.end_day[i] = rng.randint(lo, hi - 1)
        else:
            plan.end_day[i] = min(hi - 1, max(lo, plan.end_day[i] + int(rng.gauss(0, 120))))
    elif move < 0.6:
        plan.end_kind[i], plan.end_day[i] = CUTOFF, hi
    elif move < 0.75:
        plan.end_kind[i], plan.end_day[i] = OTHER_MSC, rng.randint(max(lo, 450), hi - 1)
    elif plan.trach_day[i] >= 0 and move < 0.85:
        plan.trach_day[i] = -1
    else:
        plan.trach_day[i] = rng.randint(lo, max(lo, int(plan.end_day[i]) - 1))
    if plan.trach_day[i] >= plan.end_day[i]:
        plan.trach_day[i] = -1


def solve_survival(inputs: SurvivalInputs, targets: Sequence[ReferenceCell], seed: int,
                   iterations: int = 200_000) -> tuple[SurvivalPlan, dict[str, float], float]:
    """Anneal towards the published survival numbers; returns the best plan, its summary and loss."""
    np_rng = np.random.default_rng(seed)
    rng = random.Random(seed)
    plan = initial_plan(inputs, np_rng)
    loss = survival_loss(summarise(inputs, plan), targets)
    best = (loss, SurvivalPlan(plan.end_day.copy(), plan.end_kind.copy(), plan.trach_day.copy()))
    free = [i for i in range(inputs.is_msc.size) if i not in inputs.fixed_death_day]
    for it in range(iterations):
        if best[0] == 0:
            break
        temp = 1.0 * (0.002 / 1.0) ** (it / iterations)
        i = rng.choice(free)
        saved = (plan.end_day[i], plan.end_kind[i], plan.trach_day[i])
        _propose(plan, inputs, i, rng)
        new_loss = survival_loss(summarise(inputs, plan), targets)
        if new_loss <= loss or rng.random() < math.exp(-(new_loss - loss) / temp):
            loss = new_loss
            if loss < best[0]:
                best = (loss, SurvivalPlan(plan.end_day.copy(), plan.end_kind.copy(), plan.trach_day.copy()))
        else:
            plan.end_day[i], plan.end_kind[i], plan.trach_day[i] = saved
    best_plan = best[1]
    return best_plan, summarise(inputs, best_plan), best[0]
