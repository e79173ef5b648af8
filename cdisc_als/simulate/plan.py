"""The subject plan: one wide row per screened subject, the common ground of both simulator modes.

The calibrated sample study (sample.py) and the scale mode (scale.py) each fill a plan; the
table writers (tables.py) turn any plan into the raw EDC tables described in docs/raw-data.md.
Dates are numpy datetime64[D]; missing measurements are NaN; missing dates are NaT.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from cdisc_als.study import load_study

VISITS = tuple(range(1, 11))
MEASURE_VISITS = (1, 5, 9, 10)          # AALS, FVC and SF-36 are collected at these visits
ALSFRS = "ALS"
AALS = "AALS"
FVC = "FVC"                              # % predicted, in tenths (integer) -> /10 when written
SF36 = "SF36"                            # total score, in tenths -> /10 when written

ROLE_FAS = "FAS"
ROLE_WITHDRAWN = "WITHDRAWN BEFORE V5"
ROLE_EARLY_DEATH = "DIED BEFORE V3"
ROLE_EARLY_SAE = "SAE BEFORE V5"
ROLE_SCREEN_FAILURE = "SCREEN FAILURE"

# last visit attended by role, per arm (None: all visits, up to death)
LAST_VISIT = {
    (ROLE_WITHDRAWN, "MSC"): 3,
    (ROLE_WITHDRAWN, "CONTROL"): 2,
    (ROLE_EARLY_DEATH, "CONTROL"): 2,
    (ROLE_EARLY_SAE, "CONTROL"): 3,
    (ROLE_SCREEN_FAILURE, ""): 1,
}

DAY = np.timedelta64(1, "D")

# Eligibility dates every simulated subject keeps (docs/simulator.md): riluzole taken for at least
# RILUZOLE_MIN_DAYS at informed consent (inclusion criterion) and started on or after the diagnosis, so
# the diagnosis is at least DIAGNOSIS_MARGIN_DAYS before consent; symptom onset precedes the diagnosis.
# A screen failure for SF_SHORT_RILUZOLE started riluzole within RILUZOLE_MIN_DAYS of consent.
RILUZOLE_MIN_DAYS = 90
DIAGNOSIS_MARGIN_DAYS = RILUZOLE_MIN_DAYS
SF_SHORT_RILUZOLE = "RILUZOLE LESS THAN 3 MONTHS"


@cache
def survival_cutoff() -> np.datetime64:
    """The survival cut-off of the study spec (study.yaml survival.cutoff_date): follow-up ends there."""
    return np.datetime64(load_study().survival_cutoff, "D")


def check_history_dates(plan: pd.DataFrame) -> list[str]:
    """Subjects whose disease history breaks the simulator's guarantees: symptom onset before the
    diagnosis, the diagnosis at least DIAGNOSIS_MARGIN_DAYS before informed consent (ICDT).
    Returns one message per offending subject (an empty list when every subject keeps them)."""
    onset, diagnosis, consent = (plan[c].to_numpy().astype("datetime64[D]") for c in ("ONSETDT", "DIAGDT", "ICDT"))
    late = ~(diagnosis <= consent - DIAGNOSIS_MARGIN_DAYS * DAY)
    early = ~(onset < diagnosis)
    return [f"subject {s}: onset {o}, diagnosis {d}, consent {c}"
            for s, o, d, c, bad in zip(plan["SUBJID"], onset, diagnosis, consent, late | early, strict=True) if bad]


def empty_plan(n: int) -> pd.DataFrame:
    """A plan frame with every column present and nothing filled in."""
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    nan = np.full(n, np.nan)
    cols: dict[str, object] = {
        "SUBJID": [""] * n, "SITEID": ["01"] * n, "SEX": [""] * n, "AGE": np.zeros(n, dtype=np.int64),
        "RACE": ["ASIAN"] * n, "ETHNIC": ["NOT HISPANIC OR LATINO"] * n, "ICDT": nat.copy(),
        "ROLE": [""] * n, "SFREASON": [""] * n, "ARM": [""] * n, "RANDDT": nat.copy(),
        "BULBAR": np.zeros(n, dtype=bool), "ELESC": [""] * n, "FAMHIST": ["SPORADIC"] * n,
        "ONSETDT": nat.copy(), "ONSET_PARTIAL": [""] * n, "DIAGDT": nat.copy(), "WEIGHT": nan.copy(),
        "HEIGHT": nan.copy(), "V9_CONTACT": ["IN PERSON"] * n, "GOODRESP4": np.zeros(n, dtype=bool),
        "DTHDT": nat.copy(), "DTHCAUSE": [""] * n, "TRACHDT": nat.copy(), "PEGDT": nat.copy(),
        "NIVDT": nat.copy(), "OTHERMSCDT": nat.copy(), "LASTDT": nat.copy(),
        "ENDSTAT": [""] * n, "ENDDT": nat.copy(), "CSF_V6_MISSING": np.zeros(n, dtype=bool),
    }
    for v in VISITS:
        cols[f"VISDT_{v}"] = nat.copy()
        cols[f"{ALSFRS}_{v}"] = nan.copy()
    for measure in (AALS, FVC, SF36):
        for v in MEASURE_VISITS:
            cols[f"{measure}_{v}"] = nan.copy()
    return pd.DataFrame(cols)


def interpolate_alsfrs(plan: pd.DataFrame, rng: np.random.Generator) -> None:
    """Fill V2-V4 and V6-V8 ALSFRS-R totals between the anchored V1, V5 and V9 values.

    Lead-in visits lie on the line from V1 to V5 (V4 two days before V5 equals V5 give or take
    a point); follow-up visits on the line from V5 to V9, plus rounding noise; totals stay in 0-48
    and only visits the subject attended get a value.
    """
    v1, v5, v9 = (plan[f"{ALSFRS}_{v}"].to_numpy(float) for v in (1, 5, 9))
    n = len(plan)
    lead = {2: 1 / 3, 3: 2 / 3}
    for v, frac in lead.items():
        value = np.where(np.isnan(v5), v1 + (rng.normal(-1.2, 1.0, n)) * v * 0.5, v1 + (v5 - v1) * frac)
        _set_total(plan, v, value + rng.normal(0, 0.6, n))
    _set_total(plan, 4, v5 + rng.choice([0, 0, 0, 1, -1], n))
    for v, month in {6: 1, 7: 2, 8: 3}.items():
        _set_total(plan, v, v5 + (v9 - v5) * month / 4 + rng.normal(0, 0.6, n))


def _set_total(plan: pd.DataFrame, visit: int, value: np.ndarray) -> None:
    attended = ~pd.isna(plan[f"VISDT_{visit}"]).to_numpy()
    clipped = np.clip(np.rint(value), 0, 48)
    plan[f"{ALSFRS}_{visit}"] = np.where(attended & ~np.isnan(value), clipped, np.nan)
