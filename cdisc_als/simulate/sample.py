"""The calibrated sample study: 71 screened, 64 randomized, data that print the published tables.

Roles (trial.md): MSC 33 = 32 in the full analysis set + 1 withdrawal before V5; CONTROL 31 = 27
in the FAS + 2 withdrawals + 1 death (cardiac arrest) before V3 + 1 SAE (ankle fracture) before
V5; 7 screen failures. The FAS values come from calibrate.solve_all (block index 0-31 MSC,
32-58 CONTROL); survival from survival.solve_survival; AEs from ae.sample_adverse_events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.simulate import calibrate as cal
from cdisc_als.simulate.lmm import SlopeTarget, tune_followup_visits
from cdisc_als.simulate.plan import (
    AALS,
    ALSFRS,
    DAY,
    DIAGNOSIS_MARGIN_DAYS,
    FVC,
    LAST_VISIT,
    ROLE_EARLY_DEATH,
    ROLE_EARLY_SAE,
    ROLE_FAS,
    ROLE_SCREEN_FAILURE,
    ROLE_WITHDRAWN,
    SF36,
    SF_SHORT_RILUZOLE,
    VISITS,
    empty_plan,
    interpolate_alsfrs,
    survival_cutoff,
)
from cdisc_als.simulate.survival import DEATH, OTHER_MSC, SurvivalInputs, solve_survival

N_SCREENED = 71
FIRST_V1 = np.datetime64("2011-12-05")
LAST_V1 = np.datetime64("2012-11-22")
SCREEN_FAILURE_REASONS = (
    "ALSFRS-R TOTAL BELOW 31", "ALSFRS-R TOTAL BELOW 31", "DISEASE DURATION OVER 5 YEARS",
    SF_SHORT_RILUZOLE, "AGE OVER 75", "EL ESCORIAL POSSIBLE ONLY", "CONSENT WITHDRAWN",
)
# non-FAS randomized subjects: (arm, role, sex)
EXCLUDED = (("MSC", ROLE_WITHDRAWN, "M"), ("CONTROL", ROLE_WITHDRAWN, "M"), ("CONTROL", ROLE_WITHDRAWN, "F"),
            ("CONTROL", ROLE_EARLY_DEATH, "M"), ("CONTROL", ROLE_EARLY_SAE, "M"))


def _visit_offsets(rng: np.random.Generator, n: int) -> dict[int, np.ndarray]:
    """Days from V1 of each visit (V5 about 91 days after V1, V6 26 days after V5, ...)."""
    v5 = 91 + rng.integers(-3, 4, n)
    return {1: np.zeros(n, dtype=np.int64), 2: 30 + rng.integers(-3, 4, n), 3: v5 - 28, 4: v5 - 2, 5: v5,
            6: v5 + 26, 7: v5 + 61 + rng.integers(-3, 4, n), 8: v5 + 91 + rng.integers(-3, 4, n),
            9: v5 + 122 + rng.integers(-3, 4, n), 10: v5 + 183 + rng.integers(-4, 5, n)}


def _fas_masks() -> tuple[np.ndarray, np.ndarray]:
    n = cal.N_MSC + cal.N_CTL
    return np.arange(n) < cal.N_MSC, np.arange(n) >= cal.N_MSC


def build_sample_plan(seed: int) -> tuple[pd.DataFrame, dict[str, object]]:
    """Plan of the calibrated sample study; returns the plan and a log of what the searches reached."""
    rng = np.random.default_rng([seed, 7])
    plan = empty_plan(N_SCREENED)

    # screening order: 7 screen failures among 71; randomized subjects get FAS block rows or roles
    sf_positions = np.sort(rng.choice(N_SCREENED, size=7, replace=False))
    randomized_positions = np.setdiff1d(np.arange(N_SCREENED), sf_positions)
    fas_index = np.full(N_SCREENED, -1)
    roles = [("FAS", i) for i in range(cal.N_MSC + cal.N_CTL)] + [("EXCL", j) for j in range(len(EXCLUDED))]
    order = rng.permutation(len(roles))
    plan["SUBJID"] = [f"{i + 1:03d}" for i in range(N_SCREENED)]
    span = int((LAST_V1 - FIRST_V1).astype(int))
    v1_days = np.rint(np.linspace(0, span, N_SCREENED)).astype(np.int64)
    v1_days[1:-1] += rng.integers(-2, 3, N_SCREENED - 2)
    v1 = FIRST_V1 + np.sort(v1_days).astype("timedelta64[D]")
    offsets = _visit_offsets(rng, N_SCREENED)
    is_msc_fas, _ = _fas_masks()
    solution = cal.solve_all(seed, _min_diagnosis_days(randomized_positions, order, roles, offsets[5]))

    sex_fas = _fas_sexes(rng)
    bulbar_fas = _fas_onsets(rng)
    ages_fas = solution["baseline"][:, 0]
    onset_days = solution["baseline"][:, 1]
    diag_days = solution["baseline"][:, 2]

    for pos, role_idx in zip(randomized_positions, order, strict=True):
        kind, idx = roles[role_idx]
        if kind == "FAS":
            fas_index[pos] = idx
            plan.loc[pos, ["ROLE", "ARM", "SEX"]] = [ROLE_FAS, "MSC" if is_msc_fas[idx] else "CONTROL", sex_fas[idx]]
            plan.loc[pos, "BULBAR"] = bool(bulbar_fas[idx])
            plan.loc[pos, "AGE"] = int(ages_fas[idx])
        else:
            arm, role, sex = EXCLUDED[idx]
            plan.loc[pos, ["ROLE", "ARM", "SEX"]] = [role, arm, sex]
            plan.loc[pos, "BULBAR"] = bool(rng.random() < 0.25)
    plan.loc[sf_positions, "ROLE"] = ROLE_SCREEN_FAILURE
    plan.loc[sf_positions, "SFREASON"] = list(SCREEN_FAILURE_REASONS)
    plan.loc[sf_positions, "SEX"] = rng.choice(["M", "F"], 7).tolist()
    plan.loc[sf_positions, "BULBAR"] = rng.random(7) < 0.3
    _excluded_ages(plan, rng)

    # visits attended
    plan["ICDT"] = v1
    for v in VISITS:
        attended = np.array([_attends(plan.at[i, "ROLE"], plan.at[i, "ARM"], v) for i in range(N_SCREENED)])
        plan[f"VISDT_{v}"] = np.where(attended, v1 + offsets[v].astype("timedelta64[D]"), np.datetime64("NaT"))
    plan["RANDDT"] = np.where(plan["ROLE"] != ROLE_SCREEN_FAILURE, plan["VISDT_2"].to_numpy(), np.datetime64("NaT"))

    fas_rows = np.nonzero(fas_index >= 0)[0]
    fas_of_row = fas_index[fas_rows]
    v5 = plan.loc[fas_rows, "VISDT_5"].to_numpy().astype("datetime64[D]")
    plan.loc[fas_rows, "ONSETDT"] = v5 - onset_days[fas_of_row].astype("timedelta64[D]")
    plan.loc[fas_rows, "DIAGDT"] = v5 - diag_days[fas_of_row].astype("timedelta64[D]")
    _fill_fas_measures(plan, fas_rows, fas_of_row, solution)
    _fill_other_subjects(plan, rng, fas_index)
    _deaths_and_roles(plan, fas_rows, fas_of_row, rng)
    interpolate_alsfrs(plan, rng)
    tune_followup_visits(plan, fas_rows, plan.loc[fas_rows, "ARM"].to_numpy(), _published_post_slopes())
    _fill_descriptors(plan, rng)
    plan["GOODRESP4"] = False
    good = _good_responders(solution["alsfrs"])
    plan.loc[fas_rows, "GOODRESP4"] = good[fas_of_row]
    msc_rows = fas_rows[is_msc_fas[fas_of_row]]
    plan.loc[rng.choice(msc_rows, 4, replace=False), "CSF_V6_MISSING"] = True

    survival_log = _fill_survival(plan, fas_rows, fas_of_row, seed, rng)
    _fill_disease_procedures(plan, rng)
    plan["FASIDX"] = fas_index
    return plan, {"survival": survival_log}


def _min_diagnosis_days(positions: np.ndarray, order: np.ndarray, roles: list[tuple[str, int]],
                        v5_offset: np.ndarray) -> np.ndarray:
    """Per FAS block index, the fewest days from diagnosis to V5 that keep the diagnosis
    DIAGNOSIS_MARGIN_DAYS before informed consent (V1): (V5 - V1) + the margin."""
    bound = np.zeros(cal.N_MSC + cal.N_CTL, dtype=np.int64)
    for pos, role_idx in zip(positions, order, strict=True):
        kind, idx = roles[role_idx]
        if kind == "FAS":
            bound[idx] = int(v5_offset[pos]) + DIAGNOSIS_MARGIN_DAYS
    return bound


def _published_post_slopes() -> dict[str, SlopeTarget]:
    """Per-arm post-treatment slope (SE) of the paper's post hoc mixed model."""
    ref = cal.reference()
    return {arm: SlopeTarget(float(ref.value("LMM", "LMMPOST", "estimate", arm)),
                             float(ref.value("LMM", "LMMPOST", "se", arm))) for arm in cal.ARMS}


def _level_counts(row: str, arm: str, levels: tuple[str, str]) -> list[int]:
    """Published Table 1 counts of two levels of a categorical row, for one arm."""
    return [int(cal.reference().value("T1", row, "n", arm, level)) for level in levels]


def _fas_sexes(rng: np.random.Generator) -> np.ndarray:
    sexes = np.empty(cal.N_MSC + cal.N_CTL, dtype=object)
    for arm, part in zip(cal.ARMS, (slice(None, cal.N_MSC), slice(cal.N_MSC, None)), strict=True):
        male, female = _level_counts("SEX", arm, ("M", "F"))
        sexes[part] = rng.permutation(["M"] * male + ["F"] * female)
    return sexes


def _fas_onsets(rng: np.random.Generator) -> np.ndarray:
    bulbar = np.zeros(cal.N_MSC + cal.N_CTL, dtype=bool)
    for arm, part in zip(cal.ARMS, (slice(None, cal.N_MSC), slice(cal.N_MSC, None)), strict=True):
        n_bulbar, n_limb = _level_counts("ONSET", arm, ("BULBAR", "LIMB"))
        bulbar[part] = rng.permutation([True] * n_bulbar + [False] * n_limb)
    return bulbar


def _excluded_ages(plan: pd.DataFrame, rng: np.random.Generator) -> None:
    """Ages of the 5 excluded randomized subjects make the 64-subject mean print 53.3."""
    randomized = plan["ROLE"] != ROLE_SCREEN_FAILURE
    excluded = randomized & (plan["ROLE"] != ROLE_FAS)
    need = int(round(53.3 * 64)) - int(plan.loc[randomized & ~excluded, "AGE"].sum())
    ages = np.full(5, need // 5)
    ages[: need - ages.sum()] += 1
    ages = ages + np.array([3, -3, 5, -5, 0])
    plan.loc[excluded, "AGE"] = ages
    sf = plan["ROLE"] == ROLE_SCREEN_FAILURE
    sf_ages = rng.integers(38, 72, sf.sum())
    sf_ages[list(plan.loc[sf, "SFREASON"]).index("AGE OVER 75")] = 77
    plan.loc[sf, "AGE"] = sf_ages


def _attends(role: str, arm: str, visit: int) -> bool:
    if role == ROLE_FAS:
        return not (arm == "CONTROL" and visit == 4)
    last = LAST_VISIT[(role, arm if role != ROLE_SCREEN_FAILURE else "")]
    return visit <= last and not (arm == "CONTROL" and visit == 4)


def _fill_fas_measures(plan: pd.DataFrame, rows: np.ndarray, idx: np.ndarray,
                       solution: dict[str, np.ndarray]) -> None:
    """Write the solved integer values at V1, V5, V9 and V10; missing cells follow the roles."""
    als = solution["alsfrs"][idx]            # v5, k, d4, d6
    dead = np.isin(idx, cal.MSC_DEAD + cal.CTL_DEAD)
    phone = np.isin(idx, cal.CTL_PHONE_V9)
    plan.loc[rows, f"{ALSFRS}_1"] = als[:, 0] - als[:, 1]
    plan.loc[rows, f"{ALSFRS}_5"] = als[:, 0]
    plan.loc[rows, f"{ALSFRS}_9"] = als[:, 0] + als[:, 2]
    plan.loc[rows, f"{ALSFRS}_10"] = np.where(dead, np.nan, als[:, 0] + als[:, 3])
    for name, measure, no_v1, no_v9 in (
        ("aals", AALS, cal.MSC_NO_AALS_V1, cal.CTL_PHONE_V9),
        ("fvc", FVC, cal.CTL_PHONE_V9, cal.MSC_NO_FVC_V9 + cal.CTL_PHONE_V9),
    ):
        b, k, d4 = solution[name][idx].T
        plan.loc[rows, f"{measure}_1"] = np.where(np.isin(idx, no_v1), np.nan, b - k)
        plan.loc[rows, f"{measure}_5"] = b
        plan.loc[rows, f"{measure}_9"] = np.where(np.isin(idx, no_v9), np.nan, b + d4)
    b, d4 = solution["sf36"][idx].T
    plan.loc[rows, f"{SF36}_5"] = b
    plan.loc[rows, f"{SF36}_9"] = np.where(phone, np.nan, b + d4)
    rng = np.random.default_rng(int(np.abs(als).sum()))
    plan.loc[rows, f"{SF36}_1"] = np.clip(b + np.rint(rng.normal(25, 40, len(rows))), 0, 1000)
    # V10 values of AALS, FVC and SF-36 (not analysed in the paper): the V5-V9 trend continued
    for measure, lo, hi, noise in ((AALS, 30, 164, 3), (FVC, 100, 1300, 30), (SF36, 0, 1000, 30)):
        base5 = plan.loc[rows, f"{measure}_5"].to_numpy(float)
        last = plan.loc[rows, f"{measure}_9"].to_numpy(float)
        last = np.where(np.isnan(last), base5, last)
        v10 = last + (last - base5) / 2 + rng.normal(0, noise, len(rows))
        plan.loc[rows, f"{measure}_10"] = np.where(dead, np.nan, np.clip(np.rint(v10), lo, hi))
    plan.loc[rows[phone], "V9_CONTACT"] = "TELEPHONE"


def _fill_other_subjects(plan: pd.DataFrame, rng: np.random.Generator, fas_index: np.ndarray) -> None:
    """Screening (and lead-in) values of the excluded subjects and screen failures."""
    others = np.nonzero(fas_index < 0)[0]
    n = len(others)
    v1 = rng.integers(32, 46, n)
    reasons = plan.loc[others, "SFREASON"].to_numpy()
    v1 = np.where(reasons == "ALSFRS-R TOTAL BELOW 31", rng.integers(24, 31, n), v1)
    plan.loc[others, f"{ALSFRS}_1"] = v1
    plan.loc[others, f"{AALS}_1"] = np.clip(np.rint(rng.normal(75, 18, n)), 32, 150)
    plan.loc[others, f"{FVC}_1"] = np.clip(np.rint(rng.normal(780, 180, n)), 300, 1250)
    plan.loc[others, f"{SF36}_1"] = np.clip(np.rint(rng.normal(470, 150, n)), 50, 950)
    # the diagnosis 0-14 months before consent - margin, symptom onset 2-18 months before the diagnosis
    consent = plan.loc[others, "ICDT"].to_numpy().astype("datetime64[D]")
    diagnosis = consent - (DIAGNOSIS_MARGIN_DAYS + rng.integers(0, 420, n)).astype("timedelta64[D]")
    onset = diagnosis - rng.integers(60, 540, n).astype("timedelta64[D]")
    long_sf = reasons == "DISEASE DURATION OVER 5 YEARS"
    onset[long_sf] = consent[long_sf] - 2009 * DAY          # 5.5 years before consent
    plan.loc[others, "DIAGDT"] = diagnosis
    plan.loc[others, "ONSETDT"] = onset


def _deaths_and_roles(plan: pd.DataFrame, rows: np.ndarray, idx: np.ndarray, rng: np.random.Generator) -> None:
    """In-trial deaths, withdrawals, the early SAE and trial disposition (ENDSTAT/ENDDT)."""
    for row, fas in zip(rows, idx, strict=True):
        v9 = plan.at[row, "VISDT_9"]
        v10 = plan.at[row, "VISDT_10"]
        if fas in cal.MSC_DEAD + cal.CTL_DEAD:
            death = plan.at[row, "VISDT_5"] + np.timedelta64(int(rng.integers(135, 170)), "D")
            plan.at[row, "DTHDT"] = death
            plan.at[row, "DTHCAUSE"] = "RESPIRATORY FAILURE"
            plan.at[row, "VISDT_10"] = np.datetime64("NaT")
            plan.at[row, "ENDSTAT"], plan.at[row, "ENDDT"] = "DEATH", death
        else:
            plan.at[row, "ENDSTAT"], plan.at[row, "ENDDT"] = "COMPLETED", v10
        assert pd.notna(v9)
    for row in np.nonzero(plan["ROLE"].to_numpy() != ROLE_FAS)[0]:
        role = plan.at[row, "ROLE"]
        if role == ROLE_SCREEN_FAILURE:
            plan.at[row, "ENDSTAT"], plan.at[row, "ENDDT"] = "SCREEN FAILURE", plan.at[row, "VISDT_1"]
        elif role == ROLE_WITHDRAWN:
            last = plan.at[row, f"VISDT_{LAST_VISIT[(role, plan.at[row, 'ARM'])]}"]
            plan.at[row, "ENDSTAT"], plan.at[row, "ENDDT"] = "WITHDRAWAL BY SUBJECT", last + np.timedelta64(12, "D")
        elif role == ROLE_EARLY_DEATH:
            death = plan.at[row, "VISDT_2"] + np.timedelta64(14, "D")
            plan.at[row, "DTHDT"], plan.at[row, "DTHCAUSE"] = death, "CARDIAC ARREST"
            plan.at[row, "ENDSTAT"], plan.at[row, "ENDDT"] = "DEATH", death
        elif role == ROLE_EARLY_SAE:
            plan.at[row, "ENDSTAT"] = "ADVERSE EVENT"
            plan.at[row, "ENDDT"] = plan.at[row, "VISDT_3"] + np.timedelta64(20, "D")


def _fill_descriptors(plan: pd.DataFrame, rng: np.random.Generator) -> None:
    n = len(plan)
    plan["ELESC"] = rng.choice(["CLINICALLY DEFINITE", "CLINICALLY PROBABLE",
                                "CLINICALLY PROBABLE - LABORATORY SUPPORTED"], n, p=[0.45, 0.4, 0.15])
    sf_possible = plan["SFREASON"] == "EL ESCORIAL POSSIBLE ONLY"
    plan.loc[sf_possible, "ELESC"] = "CLINICALLY POSSIBLE"
    male = plan["SEX"].to_numpy() == "M"
    plan["HEIGHT"] = np.round(np.where(male, rng.normal(171, 6, n), rng.normal(158, 5, n)), 0)
    plan["WEIGHT"] = np.round(np.where(male, rng.normal(66, 8, n), rng.normal(54, 6, n)), 1)
    # some onset dates are only known to the month: those written partially fall on the 15th,
    # the mid-month imputation day, so analyses of the partial date reproduce the full one
    onset = plan["ONSETDT"].to_numpy().astype("datetime64[D]")
    day = (onset - onset.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    plan["ONSET_PARTIAL"] = np.where(day == 15, "MONTH", "")


def _good_responders(als: np.ndarray) -> np.ndarray:
    """>= 50 % improvement in ALSFRS-R slope at month 4: 3 (V9 - V5) >= 2 (V5 - V1)."""
    return 3 * als[:, 2] >= 2 * als[:, 1]


def _fill_survival(plan: pd.DataFrame, rows: np.ndarray, idx: np.ndarray, seed: int,
                   rng: np.random.Generator) -> dict[str, float]:
    """Death / censoring / tracheostomy dates of the FAS from the survival search (origin V1)."""
    order = np.argsort(idx)
    rows, idx = rows[order], idx[order]
    v1 = plan.loc[rows, "VISDT_1"].to_numpy().astype("datetime64[D]")
    last_trial = np.where(pd.isna(plan.loc[rows, "VISDT_10"]), plan.loc[rows, "VISDT_9"],
                          plan.loc[rows, "VISDT_10"]).astype("datetime64[D]")
    fixed = {}
    for k, row in enumerate(rows):
        if pd.notna(plan.at[row, "DTHDT"]):
            fixed[k] = int((np.datetime64(plan.at[row, "DTHDT"], "D") - v1[k]).astype(int))
    inputs = SurvivalInputs(
        is_msc=idx < cal.N_MSC,
        young=plan.loc[rows, "AGE"].to_numpy() < 54,
        cutoff_day=(survival_cutoff() - v1).astype(int),
        min_day=(last_trial - v1).astype(int) + 30,
        fixed_death_day=fixed,
    )
    surv, summary, loss = solve_survival(inputs, cal.reference().output_cells("KM"), seed)
    end = v1 + surv.end_day.astype("timedelta64[D]")
    for k, row in enumerate(rows):
        if surv.end_kind[k] == DEATH:
            plan.at[row, "DTHDT"] = end[k]
            if not plan.at[row, "DTHCAUSE"]:
                plan.at[row, "DTHCAUSE"] = "RESPIRATORY FAILURE" if rng.random() < 0.8 else "PNEUMONIA"
        elif surv.end_kind[k] == OTHER_MSC:
            plan.at[row, "OTHERMSCDT"] = end[k]
        plan.at[row, "LASTDT"] = end[k]
        if surv.trach_day[k] >= 0:
            plan.at[row, "TRACHDT"] = v1[k] + np.timedelta64(int(surv.trach_day[k]), "D")
    for row in np.nonzero(plan["ROLE"].to_numpy() != ROLE_FAS)[0]:
        plan.at[row, "LASTDT"] = plan.at[row, "DTHDT"] if pd.notna(plan.at[row, "DTHDT"]) else plan.at[row, "ENDDT"]
    summary = {key: round(value, 4) for key, value in summary.items()}
    summary["loss"] = round(loss, 4)
    return summary


def _fill_disease_procedures(plan: pd.DataFrame, rng: np.random.Generator) -> None:
    """PEG and NIV starts for some FAS subjects, a few during the trial: both before death or the end of
    follow-up, NIV also before a tracheostomy (invasive ventilation replaces it)."""
    fas = np.nonzero(plan["ROLE"].to_numpy() == ROLE_FAS)[0]
    for row in fas:
        start = np.datetime64(plan.at[row, "VISDT_5"], "D")
        end = np.datetime64(plan.at[row, "LASTDT"], "D")
        span = int((end - start).astype(int))
        if span < 60:
            continue
        if rng.random() < 0.45:
            trach = plan.at[row, "TRACHDT"]
            niv_span = span if pd.isna(trach) else min(span, int((np.datetime64(trach, "D") - start).astype(int)))
            plan.at[row, "NIVDT"] = start + np.timedelta64(int(rng.integers(30, niv_span)), "D")
        if rng.random() < 0.35:
            plan.at[row, "PEGDT"] = start + np.timedelta64(int(rng.integers(30, span)), "D")
    # two bulbar-onset subjects have a gastrostomy during the trial (ALSFRS-R item 5b from then on)
    bulbar = [r for r in fas if plan.at[r, "BULBAR"]]
    for row in rng.choice(bulbar, 2, replace=False):
        plan.at[row, "PEGDT"] = np.datetime64(plan.at[row, "VISDT_6"], "D") + np.timedelta64(10, "D")

