"""ADCAFS: the combined function-and-survival ranks of CAFS and ALS/SURV, one record per subject and
parameter (BDS); the parameters are the `cafs(...)`, `rank(...)` and `alssurv(...)` rows of
parameters.csv, one set per month m of study.yaml analysis.slope_months.

Population: randomized subjects with a baseline value of the function parameter (X, the ALSFRS-R
total ALSR1TOT). Outcome of a subject at month m:
  DIED        death by month m (ADSL.DTHDT <= RFSTDT + m x month length, as the responder rule);
              TIME = months from RFSTDT to death
  COMPLETED   alive with an analysis value of X at the month-m visit; CHANGE = its CHG, TIME = m
  LEFT ALIVE  alive, without the month-m value but with an earlier post-baseline value; CHANGE = the
              CHG of the last one, TIME = its visit month
  (alive without any post-baseline value: not evaluable, no record)

CAFS (Berry JD et al., Amyotroph Lateral Scler Frontotemporal Degener 2013;14:162-168,
doi:10.3109/21678421.2012.762930): each subject is compared with every other subject and scores +1
(better), -1 (worse) or 0: both died, the later death is better (same time: 0); one died, the other is
better; neither died, the smaller decline of X (higher CHANGE) is better (equal: 0). A LEFT ALIVE
subject is compared by its last change (the paper's abstract does not state the rule for withdrawals;
this is the treatment ALS/SURV was built to replace). CAFSS = the sum of a subject's scores; CAFSR =
the rank of CAFSS, 1 = worst, ties share the mean rank (a higher mean rank is a better group outcome).

ALS/SURV (Goutman SA et al., Amyotroph Lateral Scler Frontotemporal Degener 2019;20:576-583,
doi:10.1080/21678421.2019.1643375), from the three ordering properties the paper states:
  1. subjects who reach the end point (DIED or COMPLETED) are ordered from the shortest survival to the
     last death, then from the worst to the best function (CHANGE); ties share a position;
  2. a subject who left alive at month w is compared, at w, with every subject still followed then
     (not dead by w: completers, later deaths and subjects who left at or after w): it is above q of
     them, q = the number whose change at w (their last value at or before w) is worse than its own,
     plus half of those equal (or without a value by w); it is above every subject who died by w;
  3. it keeps that relative position among them in the final order (placed between the q-th and the
     (q+1)-th of them, or level with the (q+1/2)-th when q ends in a half), the latest leavers placed
     first, so the order of the subjects who reached the end point is never changed.
ALSSR = the rank in that order, 1 = worst, ties share the mean rank.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from cdisc_als.adam.slopes import dead_by_month
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.study import Study

DIED, COMPLETED, LEFT = "DIED", "COMPLETED", "LEFT ALIVE"
FUNCTION = re.compile(r"\s*(cafs|alssurv|rank)\(\s*([A-Z][A-Z0-9]{0,7})\s*(?:,\s*([0-9.]+)\s*)?\)\s*")


def _outcome_order(outcomes: pd.DataFrame) -> np.ndarray:
    """One number per subject that orders the outcomes worst first: deaths by time of death, then the
    others by CHANGE (the CAFS comparison is a total preorder, so it is a sort)."""
    died = (outcomes["STATUS"] == DIED).to_numpy()
    time = outcomes["TIME"].to_numpy(float)
    change = outcomes["CHANGE"].to_numpy(float)
    if np.isnan(time[died]).any() or np.isnan(change[~died]).any():
        raise ValueError("CAFS outcomes need TIME for every death and CHANGE for every other subject")
    if not died.any() or died.all():
        return np.where(died, time, change)
    offset = time[died].max() + 1.0 - change[~died].min()
    return np.where(died, time, change + offset)


def cafs_scores(outcomes: pd.DataFrame) -> pd.Series:
    """The CAFS sum of pairwise scores of every subject (index of `outcomes`; columns STATUS, TIME,
    CHANGE): +1 for each subject it beats, -1 for each it loses to, 0 for ties (rules in the module
    docstring). The comparisons order the subjects totally (deaths by time, then the others by change),
    so the sum is computed as 2 x mid-rank - (n + 1) instead of over the n^2 pairs."""
    missing = [c for c in ("STATUS", "TIME", "CHANGE") if c not in outcomes.columns]
    if missing:
        raise KeyError(f"cafs_scores: outcomes lack required column(s) {missing}")
    ranks = worst_first_ranks(_outcome_order(outcomes))
    return pd.Series(2 * ranks - (len(outcomes) + 1), index=outcomes.index, name="CAFSS")


def worst_first_ranks(values) -> np.ndarray:
    """Ranks 1..n of the values, 1 = the lowest (worst), ties share the mean rank."""
    return rankdata(np.asarray(values, dtype=float), method="average")


def _changes_at(trajectory: pd.DataFrame, months) -> dict[float, pd.Series]:
    """month -> (USUBJID -> the change at the last trajectory month on or before it)."""
    wide = trajectory.pivot_table(index="USUBJID", columns="MONTH", values="CHANGE", aggfunc="last")
    wide = wide.sort_index(axis=1).ffill(axis=1)
    out = {}
    for month in months:
        upto = [m for m in wide.columns if m <= month + 1e-9]
        out[month] = wide[upto[-1]] if upto else pd.Series(dtype=float)
    return out


def als_surv_ranks(outcomes: pd.DataFrame, trajectory: pd.DataFrame) -> pd.Series:
    """ALS/SURV ranks (1 = worst, ties share the mean rank) of the subjects of `outcomes` (USUBJID,
    STATUS, TIME, CHANGE); `trajectory` holds USUBJID, MONTH, CHANGE of every post-baseline assessment
    (the changes at the time a subject left are read from it). Rules in the module docstring."""
    missing = [c for c in ("USUBJID", "STATUS", "TIME", "CHANGE") if c not in outcomes.columns]
    missing += [f"trajectory.{c}" for c in ("USUBJID", "MONTH", "CHANGE") if c not in trajectory.columns]
    if missing:
        raise KeyError(f"als_surv_ranks: missing required column(s) {missing}")
    ended = outcomes[outcomes["STATUS"] != LEFT]
    ids = ended["USUBJID"].tolist()
    position = list(worst_first_ranks(_outcome_order(ended)))
    died_at = np.where(ended["STATUS"] == DIED, ended["TIME"], np.inf).tolist()
    leavers = outcomes[outcomes["STATUS"] == LEFT].sort_values(["TIME", "USUBJID"], ascending=[False, True])
    changes = _changes_at(trajectory, leavers["TIME"].unique())
    for subject, left_at, change in zip(leavers["USUBJID"], leavers["TIME"], leavers["CHANGE"], strict=True):
        placed = np.asarray(position)
        gone = np.asarray(died_at) <= left_at
        order = np.argsort(placed[~gone], kind="stable")
        ladder = placed[~gone][order]
        others = changes[left_at].reindex(np.asarray(ids, dtype=object)[~gone][order]).to_numpy(float)
        beaten = np.sum(others < change) + 0.5 * np.sum(~(others < change) & ~(others > change))
        floor = placed[gone].max() if gone.any() else (ladder[0] - 1.0 if ladder.size else 0.0)
        steps = np.concatenate([[floor], ladder, [(ladder[-1] if ladder.size else floor) + 1.0]])
        where = beaten + 0.5
        lower = int(math.floor(where))
        upper = min(lower + 1, steps.size - 1)
        position.append(steps[lower] + (where - lower) * (steps[upper] - steps[lower]))
        ids.append(subject)
        died_at.append(np.inf)
    final = dict(zip(ids, worst_first_ranks(position), strict=True))
    return pd.Series([final[s] for s in outcomes["USUBJID"]], index=outcomes.index, name="ALSSR")


def derive_cafs_outcomes(adsl: pd.DataFrame, bds: pd.DataFrame, paramcd: str, month: float,
                         study: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(outcomes, trajectory) at month m for the CAFS population (module docstring) from ADSL (USUBJID,
    RFSTDT, DTHDT) and the analysis records of `paramcd` in a BDS dataset (USUBJID, PARAMCD, AVISITN,
    ANL01FL, ABLFL, CHG, ADT)."""
    missing = [c for c in ("USUBJID", "PARAMCD", "AVISITN", "ANL01FL", "ABLFL", "CHG", "ADT") if c not in bds.columns]
    missing += [f"ADSL.{c}" for c in ("USUBJID", "RFSTDT", "DTHDT") if c not in adsl.columns]
    if missing:
        raise KeyError(f"derive_cafs_outcomes: missing required column(s) {missing}")
    records = bds[(bds["PARAMCD"] == paramcd) & (bds["ANL01FL"] == "Y")]
    population = set(records.loc[(records["ABLFL"] == "Y"), "USUBJID"])
    base = study.baseline_visit.month
    post = records[(records["AVISITN"] > base) & (records["AVISITN"] <= month + 1e-9) & records["CHG"].notna()
                   & records["USUBJID"].isin(population)]
    trajectory = pd.DataFrame({"USUBJID": post["USUBJID"], "MONTH": post["AVISITN"], "CHANGE": post["CHG"],
                               "ADT": post["ADT"]}).sort_values(["USUBJID", "MONTH"]).reset_index(drop=True)
    subjects = adsl[adsl["USUBJID"].isin(population)]
    dead = subjects["USUBJID"].isin(dead_by_month(subjects, month, study)).to_numpy()
    last = trajectory.groupby("USUBJID").tail(1).set_index("USUBJID")
    known = subjects["USUBJID"].isin(last.index).to_numpy()
    keep = subjects[dead | known]
    dead, lasted = dead[dead | known], last.reindex(keep["USUBJID"])
    death_months = ((keep["DTHDT"] - keep["RFSTDT"]).dt.days / study.month_length_days).to_numpy()
    completed = np.abs(lasted["MONTH"].to_numpy(float) - month) < 1e-9
    outcomes = pd.DataFrame({
        "USUBJID": keep["USUBJID"].to_numpy(),
        "STATUS": np.where(dead, DIED, np.where(completed, COMPLETED, LEFT)),
        "TIME": np.where(dead, death_months, lasted["MONTH"].to_numpy(float)),
        "CHANGE": np.where(dead, np.nan, lasted["CHANGE"].to_numpy(float)),
        "ADT": np.where(dead, keep["DTHDT"].to_numpy(), lasted["ADT"].to_numpy())})
    outcomes["ADT"] = pd.to_datetime(outcomes["ADT"])
    return outcomes, trajectory


def parameters_read(parameters: dict[str, Parameter]) -> set[str]:
    """The codes of the BDS parameters that the cafs(X, m) and alssurv(X, m) sources of these parameters
    compare (the X); rank(P) reads ADCAFS's own parameters."""
    return {match.group(2) for match in map(FUNCTION.fullmatch, (p.source for p in parameters.values()))
            if match and match.group(1) != "rank"}


def build_adcafs(adsl: pd.DataFrame, adqs: pd.DataFrame, study: Study,
                 parameters: dict[str, Parameter]) -> pd.DataFrame:
    """The ADCAFS records of every parameter of `parameters`: AVAL, AVISIT/AVISITN ('MONTH 0-m', 100 + m
    as the slopes), ADT/ADY (death date or date of the compared assessment), OUTCOME, SURVMO (TIME) and
    ALSCHG (CHANGE)."""
    parts, scores = [], {}
    for code, parameter in parameters.items():
        match = FUNCTION.fullmatch(parameter.source)
        if not match:
            raise ValueError(f"ADCAFS parameter {code}: source {parameter.source!r} is not cafs(X, m), "
                             "alssurv(X, m) or rank(P)")
        kind, target, month_text = match.groups()
        if kind == "rank":
            if target not in scores:
                raise KeyError(f"parameter {code}: rank({target}) needs {target} defined above it in parameters.csv")
            source = scores[target]
            value = pd.Series(worst_first_ranks(source["AVAL"]), index=source.index)
            parts.append(source.assign(AVAL=value, PARAMCD=code))
            continue
        month = float(month_text)
        outcomes, trajectory = derive_cafs_outcomes(adsl, adqs, target, month, study)
        value = cafs_scores(outcomes) if kind == "cafs" else als_surv_ranks(outcomes, trajectory)
        frame = pd.DataFrame({"USUBJID": outcomes["USUBJID"], "PARAMCD": code, "AVAL": value.to_numpy(float),
                              "AVISIT": f"MONTH {study.baseline_visit.month:g}-{month:g}", "AVISITN": 100.0 + month,
                              "ADT": pd.to_datetime(outcomes["ADT"]), "OUTCOME": outcomes["STATUS"],
                              "SURVMO": outcomes["TIME"], "ALSCHG": outcomes["CHANGE"]})
        scores[code] = frame
        parts.append(frame)
    columns = ["USUBJID", "PARAMCD", "AVAL", "AVISIT", "AVISITN", "ADT", "OUTCOME", "SURVMO", "ALSCHG"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
