"""Split questionnaire totals into item scores that sum to them exactly.

ALSFRS-R: every subject gets one fixed order in which the 48 "deficit units" (4 per item) are
lost, drawn with onset-specific weights (bulbar onset loses speech, salivation and swallowing
first; limb onset loses items 4-9 first; respiratory items are lost late). The item scores of a
visit with total T are 4 minus the number of each item's units among the first 48 - T units,
so a decline adds units and an improvement gives back the most recent ones, and every visit
total is reproduced exactly.

AALS: the five subscores start at their normal minima and share the excess over 30 in fixed
per-subject proportions (largest-remainder rounding keeps the sum exact).
"""

from __future__ import annotations

import numpy as np

ALSFRS_ITEMS = ("Q01", "Q02", "Q03", "Q04", "Q05", "Q06", "Q07", "Q08", "Q09", "Q10", "Q11", "Q12")
#                 speech salivation swallow handwrite cut dress turn walk stairs dyspnea orthopnea resp-ins
_BULBAR_WEIGHTS = np.array([6.0, 4.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 0.6, 0.4, 0.3])
_LIMB_WEIGHTS = np.array([0.8, 0.5, 0.7, 3.0, 3.0, 3.0, 2.5, 3.5, 4.0, 0.8, 0.5, 0.3])

AALS_PARTS = ("BULBAR", "RESP", "STRENGTH", "UEFUNC", "LEFUNC")
AALS_MIN = np.array([6, 3, 9, 7, 5])
AALS_MAX = np.array([30, 15, 54, 35, 30])


def deficit_orders(bulbar_onset: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per subject, the item index (0-11) of each of the 48 deficit units in the order they are lost."""
    n = bulbar_onset.size
    weights = np.where(bulbar_onset[:, None], _BULBAR_WEIGHTS, _LIMB_WEIGHTS)  # n x 12
    units = np.repeat(np.arange(12), 4)                                         # 48 unit slots
    unit_weight = np.repeat(weights, 4, axis=1)                                 # n x 48
    # the k-th unit of an item comes after its (k-1)-th: add the unit rank to an exponential key
    rank = np.tile(np.arange(4), 12)
    keys = (rng.exponential(1.0, (n, 48)) + rank * 0.9) / unit_weight
    order = np.argsort(keys, axis=1, kind="stable")
    return units[order]


def split_alsfrs(totals: np.ndarray, subject_row: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Item scores (rows x 12) for totals (0-48) of visits belonging to subjects subject_row."""
    totals = np.asarray(totals, dtype=np.int64)
    deficits = 48 - totals
    lost = orders[subject_row]                                   # rows x 48
    taken = np.arange(48)[None, :] < deficits[:, None]           # first `deficit` units are lost
    counts = np.zeros((totals.size, 12), dtype=np.int64)
    for item in range(12):
        counts[:, item] = ((lost == item) & taken).sum(axis=1)
    return 4 - counts


def split_aals(totals: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """AALS subscores (rows x 5) summing to totals (30-164), in proportion to shares (rows x 5)."""
    totals = np.asarray(totals, dtype=np.int64)
    room = AALS_MAX - AALS_MIN
    excess = totals - AALS_MIN.sum()
    raw = shares / shares.sum(axis=1, keepdims=True) * excess[:, None]
    parts = np.minimum(np.floor(raw).astype(np.int64), room)
    remainder = excess - parts.sum(axis=1)
    frac = np.where(parts < room, raw - np.floor(raw), -1.0)
    for _ in range(int(remainder.max(initial=0))):
        pick = np.argmax(frac, axis=1)
        add = remainder > 0
        rows = np.nonzero(add)[0]
        parts[rows, pick[rows]] += 1
        frac[rows, pick[rows]] = np.where(parts[rows, pick[rows]] < room[pick[rows]], -0.5, -1.0)
        remainder = remainder - add
    return parts + AALS_MIN
