"""Simulated daily use of non-invasive ventilation (the raw table `niv`: SUBJID, NIVDT, HOURS).

A pure function of the subjects' NIV periods and a seeded numpy Generator; nothing else is read.
Model (plausible, not fitted to a data set): NIV starts as night-time use (first-day hours ~ N(7.5,
1.5), at least 2) and grows along (day / growth days)^shape, shape ~ U(1, 3), plus N(0, 1) hours a
day. A period that ends with death or tracheostomy (respiratory failure) grows to 21 hours and ends
with a dependence phase of Exponential(mean 45) days (at most the whole period) of near-continuous
use, 24 - |N(0, 0.8)| hours: most such subjects reach permanent assisted ventilation. A period that
ends alive (last contact or cut-off) grows to U(6, 24) hours on its last day. About 3 % of the days
before dependence the ventilator is not used (0 hours) and about 2 % of all days have no record
(download gaps). Hours are clipped to 0-24 and rounded to 0.1.

`niv_periods` derives the periods from the written raw tables (procedures, survival), and `niv_table`
writes the raw table; the simulator calls it with a generator of its own (simulate/run.py), so the
daily records never shift the random draws of another table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RESPIRATORY_END = frozenset({"DEATH", "TRACHEOSTOMY"})
COLUMNS = ["SUBJID", "NIVDT", "HOURS"]
NIV_PROCEDURE = "NON-INVASIVE VENTILATION"
TRACHEOSTOMY = "TRACHEOSTOMY"
PERIOD_COLUMNS = ["SUBJID", "START", "END", "END_REASON"]


def _complete_dates(values: pd.Series) -> pd.Series:
    """'YYYY-MM-DD' strings as timestamps; partial, empty or invalid dates as NaT."""
    text = values.fillna("").astype(str)
    return pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), format="%Y-%m-%d", errors="coerce")


def _first_date(procedures: pd.DataFrame, name: str) -> pd.Series:
    dates = procedures.loc[procedures["PROC"] == name].assign(DATE=lambda f: _complete_dates(f["PROCDT"]))
    return dates.dropna(subset=["DATE"]).groupby("SUBJID")["DATE"].min()


def niv_periods(procedures: pd.DataFrame, survival: pd.DataFrame, cutoff: np.datetime64 | str) -> pd.DataFrame:
    """NIV periods from the raw tables `procedures` (SUBJID, PROC, PROCDT) and `survival` (SUBJID,
    CONTACTDT, STATUS, DEATHDT), one per subject with a complete NIV procedure date, by SUBJID.

    START: the (first) NIV procedure date. END: the earlier of the tracheostomy (END_REASON
    TRACHEOSTOMY) and death (DEATH) dates; without either, the earlier of the last ALIVE contact and
    the cut-off (ALIVE). Partial dates are not used; a subject without any end date gets END NaT (no
    records from simulate_niv_use)."""
    start = _first_date(procedures, NIV_PROCEDURE)
    trach = _first_date(procedures, TRACHEOSTOMY).reindex(start.index)
    death = survival.assign(DATE=_complete_dates(survival["DEATHDT"])).dropna(subset=["DATE"])
    death = death.groupby("SUBJID")["DATE"].min().reindex(start.index)
    alive = survival.loc[survival["STATUS"] == "ALIVE"].assign(DATE=lambda f: _complete_dates(f["CONTACTDT"]))
    alive = alive.groupby("SUBJID")["DATE"].max().reindex(start.index).clip(upper=pd.Timestamp(cutoff))
    trach_first = trach.notna() & ~(death < trach)
    end = trach.where(trach_first, death).fillna(alive)
    reason = np.where(trach_first, "TRACHEOSTOMY", np.where(death.notna(), "DEATH", "ALIVE"))
    return pd.DataFrame({"SUBJID": start.index, "START": start.to_numpy(), "END": end.to_numpy(),
                         "END_REASON": reason})[PERIOD_COLUMNS].sort_values("SUBJID", kind="stable").reset_index(drop=True)


def niv_table(procedures: pd.DataFrame, survival: pd.DataFrame, cutoff: np.datetime64 | str,
              rng: np.random.Generator) -> pd.DataFrame:
    """The raw table `niv` (SUBJID, NIVDT, HOURS as text with one decimal) of the periods of
    niv_periods, simulated with rng, in subject and date order."""
    daily = simulate_niv_use(niv_periods(procedures, survival, cutoff), rng)
    daily = daily.sort_values(["SUBJID", "NIVDT"], kind="stable").reset_index(drop=True)
    return daily.assign(HOURS=[f"{h:.1f}" for h in daily["HOURS"]])[COLUMNS]


def simulate_niv_use(periods: pd.DataFrame, rng: np.random.Generator, unused_day_rate: float = 0.03,
                     gap_day_rate: float = 0.02) -> pd.DataFrame:
    """Daily NIV records for each period of `periods` (SUBJID, START and END dates, END_REASON in
    DEATH / TRACHEOSTOMY / ALIVE): one row per recorded day from START to END inclusive, in subject and
    date order (model in the module docstring). A period with END before START gives no rows."""
    missing = [c for c in ("SUBJID", "START", "END", "END_REASON") if c not in periods.columns]
    if missing:
        raise KeyError(f"simulate_niv_use: periods lack required column(s) {missing}")
    parts = []
    for subject, start, end, reason in zip(periods["SUBJID"], pd.to_datetime(periods["START"]),
                                           pd.to_datetime(periods["END"]), periods["END_REASON"], strict=True):
        if pd.isna(start) or pd.isna(end) or end < start:
            continue
        days = (end - start).days + 1
        first = max(2.0, rng.normal(7.5, 1.5))
        respiratory = reason in RESPIRATORY_END
        dependent = min(days, int(round(rng.exponential(45.0)))) if respiratory else 0
        growing = days - dependent
        last = 21.0 if respiratory else rng.uniform(6.0, 24.0)
        shape = rng.uniform(1.0, 3.0)
        progress = np.arange(growing) / max(growing - 1, 1)
        rising = first + (last - first) * progress ** shape + rng.normal(0.0, 1.0, growing)
        rising = np.where(rng.random(growing) < unused_day_rate, 0.0, rising)
        plateau = 24.0 - np.abs(rng.normal(0.0, 0.8, dependent))
        hours = np.concatenate([rising, plateau])
        recorded = rng.random(days) >= gap_day_rate
        dates = pd.date_range(start, periods=days, freq="D")[recorded]
        parts.append(pd.DataFrame({"SUBJID": subject, "NIVDT": dates.strftime("%Y-%m-%d"),
                                   "HOURS": np.round(np.clip(hours[recorded], 0.0, 24.0), 1)}))
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)[COLUMNS]
