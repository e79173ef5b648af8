"""Scale mode: realistic but uncalibrated studies of any size, fast (vectorised draws)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.simulate.plan import (
    AALS,
    ALSFRS,
    DAY,
    DIAGNOSIS_MARGIN_DAYS,
    FVC,
    MEASURE_VISITS,
    ROLE_FAS,
    ROLE_SCREEN_FAILURE,
    SF36,
    VISITS,
    empty_plan,
    interpolate_alsfrs,
    survival_cutoff,
)

START = np.datetime64("2011-12-05")
NIV_START_STREAM = 29          # default_rng([seed, NIV_START_STREAM]) draws the NIV starts and nothing else
VISIT_DAY = {1: 0, 2: 30, 3: 63, 4: 89, 5: 91, 6: 117, 7: 152, 8: 182, 9: 213, 10: 274}


def build_scale_plan(n_subjects: int, seed: int) -> pd.DataFrame:
    """n_subjects screened (about 10 % screen failures), 1:1 MSC/CONTROL, linear declines with noise."""
    rng = np.random.default_rng([seed, 11])
    plan = empty_plan(n_subjects)
    n = n_subjects
    width = len(str(n))
    plan["SUBJID"] = [f"{i + 1:0{max(width, 3)}d}" for i in range(n)]
    plan["SITEID"] = [f"{s:02d}" for s in rng.integers(1, 21, n)]
    sf = rng.random(n) < 0.1
    plan["ROLE"] = np.where(sf, ROLE_SCREEN_FAILURE, ROLE_FAS)
    plan["SFREASON"] = np.where(sf, "ALSFRS-R TOTAL BELOW 31", "")
    plan["ARM"] = np.where(sf, "", np.where(rng.random(n) < 0.5, "MSC", "CONTROL"))
    plan["SEX"] = np.where(rng.random(n) < 0.55, "M", "F")
    plan["AGE"] = np.clip(np.rint(rng.normal(54, 9, n)), 25, 75).astype(np.int64)
    plan["BULBAR"] = rng.random(n) < 0.25
    v1 = START + rng.integers(0, 720, n).astype("timedelta64[D]")
    plan["ICDT"] = v1
    jitter = rng.integers(-3, 4, (n, 10))
    died_in_trial = (~sf) & (rng.random(n) < 0.04)
    for v in VISITS:
        shift = VISIT_DAY[v] + (jitter[:, v - 1] if v not in (1, 4, 5) else np.zeros(n, dtype=np.int64))
        date = v1 + shift.astype("timedelta64[D]")
        attended = ~sf | (v == 1)
        attended &= ~((plan["ARM"].to_numpy() == "CONTROL") & (v == 4))
        attended &= ~(died_in_trial & (v == 10))
        plan[f"VISDT_{v}"] = np.where(attended, date, np.datetime64("NaT"))
    plan["RANDDT"] = np.where(sf, np.datetime64("NaT"), plan["VISDT_2"].to_numpy())
    msc = plan["ARM"].to_numpy() == "MSC"
    v1_total = np.where(sf, rng.integers(22, 31, n), rng.integers(31, 47, n))
    lead = np.minimum(np.rint(rng.normal(-4.2, 3.5, n)), -1)
    d4 = np.rint(rng.normal(np.where(msc, -1.7, -4.7), 3.0))
    d6 = np.rint(d4 * 1.5 + rng.normal(0, 1.5, n))
    v5 = np.clip(v1_total + lead, 0, 48)
    plan[f"{ALSFRS}_1"] = v1_total
    plan[f"{ALSFRS}_5"] = np.where(sf, np.nan, v5)
    plan[f"{ALSFRS}_9"] = np.where(sf, np.nan, np.clip(v5 + d4, 0, 48))
    plan[f"{ALSFRS}_10"] = np.where(sf | died_in_trial, np.nan, np.clip(v5 + d6, 0, 48))
    for measure, base, sd, slope, lo, hi in ((AALS, 85, 20, 4.2, 30, 164), (FVC, 720, 190, -14, 100, 1300),
                                             (SF36, 420, 160, -25, 0, 1000)):
        b = rng.normal(base, sd, n)
        for v in MEASURE_VISITS:
            value = np.clip(np.rint(b + slope * (VISIT_DAY[v] - 91) / 30.4 + rng.normal(0, sd * 0.1, n)), lo, hi)
            missing = pd.isna(plan[f"VISDT_{v}"]).to_numpy() | (sf & (v != 1))
            plan[f"{measure}_{v}"] = np.where(missing, np.nan, value)
    interpolate_alsfrs(plan, rng)
    # the diagnosis 0-23 months before consent - margin, symptom onset 2-16 months before the diagnosis
    diagnosis = v1 - (DIAGNOSIS_MARGIN_DAYS + rng.integers(0, 700, n)).astype("timedelta64[D]")
    plan["DIAGDT"] = diagnosis
    plan["ONSETDT"] = diagnosis - rng.integers(60, 500, n).astype("timedelta64[D]")
    plan["ELESC"] = rng.choice(["CLINICALLY DEFINITE", "CLINICALLY PROBABLE"], n)
    plan["HEIGHT"] = np.round(rng.normal(165, 8, n), 0)
    plan["WEIGHT"] = np.round(np.clip(rng.normal(62, 9, n), 35, 150), 1)
    plan["GOODRESP4"] = 3 * d4 >= 2 * lead
    plan["CSF_V6_MISSING"] = rng.random(n) < 0.1
    last_trial = np.where(died_in_trial, plan["VISDT_9"], plan["VISDT_10"]).astype("datetime64[D]")
    death_day = np.rint(rng.weibull(1.5, n) * 1900).astype(np.int64)
    cutoff = survival_cutoff()
    death = last_trial + np.maximum(death_day, 30).astype("timedelta64[D]")
    death = np.where(died_in_trial, last_trial + 20 * DAY, death)
    dies = (~sf) & (death < cutoff)
    plan["DTHDT"] = np.where(dies, death, np.datetime64("NaT"))
    plan["DTHCAUSE"] = np.where(dies, "RESPIRATORY FAILURE", "")
    plan["LASTDT"] = np.where(dies, death, np.where(sf, plan["VISDT_1"], cutoff))
    trach = dies & (rng.random(n) < 0.2)
    plan["TRACHDT"] = np.where(trach, death - rng.integers(30, 300, n).astype("timedelta64[D]"), np.datetime64("NaT"))
    plan["ENDSTAT"] = np.where(sf, "SCREEN FAILURE", np.where(died_in_trial, "DEATH", "COMPLETED"))
    plan["ENDDT"] = np.where(sf, plan["VISDT_1"], np.where(died_in_trial, plan["DTHDT"], plan["VISDT_10"]))
    plan["NIVDT"] = niv_starts(plan, np.random.default_rng([seed, NIV_START_STREAM]))
    return plan


def niv_starts(plan: pd.DataFrame, rng: np.random.Generator, share: float = 0.7,
               max_lead_days: int = 600) -> np.ndarray:
    """NIV start dates: a `share` of the subjects with a tracheostomy or death start NIV 1 to
    `max_lead_days` days (uniform) before the earlier of the two, and after V1; others get NaT.

    rng is a stream of its own (two uniform draws per subject), so the NIV starts shift no other draw."""
    n = len(plan)
    v1 = plan["VISDT_1"].to_numpy().astype("datetime64[D]")
    ends = np.stack([plan[c].to_numpy().astype("datetime64[D]") for c in ("TRACHDT", "DTHDT")])
    end = np.where(np.isnat(ends[0]), ends[1], np.where(np.isnat(ends[1]), ends[0], ends.min(axis=0)))
    uses, fraction = rng.random(n) < share, rng.random(n)
    room = np.where(np.isnat(end), 0, (end - v1).astype(np.int64) - 1)        # days strictly between V1 and end
    window = np.minimum(room, max_lead_days)
    lead = 1 + np.floor(fraction * np.maximum(window, 0)).astype(np.int64)
    start = end - lead * DAY
    return np.where(uses & (window >= 1), start, np.datetime64("NaT"))
