"""SDTM derivations run after the rules: --SEQ, --DY, EPOCH, --LOBXFL and DM reference dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.sdtm.dates import date_part, study_day
from cdisc_als.sdtm.fast import map_values
from cdisc_als.study import Study


def derive_seq(frame: pd.DataFrame, domain: str, sort: list[str]) -> pd.DataFrame:
    """Sort by `sort` (USUBJID first) and number records 1, 2, ... within each USUBJID as --SEQ."""
    keys = [k for k in sort if k in frame.columns] or ["USUBJID"]
    out = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    out[f"{domain}SEQ"] = (out.groupby("USUBJID", sort=False).cumcount() + 1).astype("float64")
    return out


def derive_study_day(frame: pd.DataFrame, pairs: dict[str, str], reference: pd.Series) -> pd.DataFrame:
    """--DY for each (--DTC -> --DY) pair from DM.RFSTDTC (reference: USUBJID -> RFSTDTC); no day 0."""
    ref = map_values(frame["USUBJID"], reference).fillna("")
    for dtc, dy in pairs.items():
        frame[dy] = study_day(frame[dtc], ref)
    return frame


def derive_epoch(frame: pd.DataFrame, date_var: str, visit_dates: pd.DataFrame, study: Study) -> pd.DataFrame:
    """EPOCH of each record: the epoch of the subject's latest visit on or before the record's date.

    Dates before the first visit fall in the first visit's epoch; dates after the last scheduled
    visit fall in the study's last epoch (long-term follow-up) when there is one. Records without
    a full date take the epoch of their VISITNUM when they have one, else stay blank.
    """
    epochs = {v.visitnum: v.epoch for v in study.visits}
    last_epoch = study.epochs[-1].epoch
    last_visit = max(epochs)
    dates = date_part(frame[date_var]) if date_var in frame.columns else pd.Series(pd.NaT, index=frame.index)
    out = pd.Series("", index=frame.index, dtype=object)
    known = dates.notna() & frame["USUBJID"].isin(visit_dates["USUBJID"])
    if known.any():
        rec = pd.DataFrame({"USUBJID": frame.loc[known, "USUBJID"], "DATE": dates[known], "_I": frame.index[known]})
        vis = visit_dates.dropna(subset=["DATE"]).sort_values("DATE")
        matched = pd.merge_asof(rec.sort_values("DATE"), vis, on="DATE", by="USUBJID", direction="backward")
        first = vis.groupby("USUBJID")["VISITNUM"].min()
        visitnum = matched["VISITNUM"].fillna(matched["USUBJID"].map(first))
        epoch = visitnum.map(epochs)
        # max per subject: a repeated last visit must not make the lookup ambiguous (InvalidIndexError)
        last_date = vis[vis["VISITNUM"] == last_visit].groupby("USUBJID")["DATE"].max()
        after = matched["DATE"] > matched["USUBJID"].map(last_date)
        epoch = epoch.where(~after.fillna(False), last_epoch)
        out.loc[matched["_I"].to_numpy()] = epoch.fillna("").to_numpy()
    if "VISITNUM" in frame.columns:
        by_visit = map_values(pd.to_numeric(frame["VISITNUM"], errors="coerce"), epochs).fillna("")
        out = out.where(out != "", by_visit)
    frame["EPOCH"] = out
    return frame


def derive_lobxfl(frame: pd.DataFrame, flag: str, date_var: str, by: list[str], result: str,
                  reference: pd.Series) -> pd.DataFrame:
    """--LOBXFL = 'Y' on the last record with a result on or before RFSTDTC, per USUBJID and `by`."""
    ref = date_part(map_values(frame["USUBJID"], reference).fillna(""))
    dates = date_part(frame[date_var])
    has_result = frame[result].fillna("").astype(str) != ""
    eligible = has_result & dates.notna() & ref.notna() & (dates <= ref)
    frame[flag] = ""
    if eligible.any():
        cand = frame[eligible].assign(_D=dates[eligible])
        last = cand.sort_values([*by, "_D"], kind="stable").groupby(["USUBJID", *by], sort=False).tail(1).index
        frame.loc[last, flag] = "Y"
    return frame


def visit_dates_from_sv(sv: pd.DataFrame) -> pd.DataFrame:
    """USUBJID, VISITNUM, DATE (datetime) of each visit held (from SV)."""
    return pd.DataFrame({"USUBJID": sv["USUBJID"], "VISITNUM": pd.to_numeric(sv["VISITNUM"]),
                         "DATE": date_part(sv["SVSTDTC"])})


def first_or_last(frame: pd.DataFrame, date_col: str, keep: str) -> pd.Series:
    """USUBJID -> earliest ('first') or latest ('last') non-blank ISO date of a column."""
    data = frame[frame[date_col].fillna("") != ""][["USUBJID", date_col]]
    if data.empty:
        return pd.Series(dtype=object)
    ordered = data.sort_values(date_col)
    pick = ordered.groupby("USUBJID")[date_col]
    return pick.first() if keep == "first" else pick.last()


def max_date(*series: pd.Series) -> pd.Series:
    """Per USUBJID the latest of several USUBJID -> ISO date series (text comparison of full dates)."""
    combined = pd.concat([s for s in series if len(s)], axis=1)
    return combined.apply(lambda row: max([v for v in row if isinstance(v, str) and v], default=""), axis=1)


def numeric_or_blank(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("float64").where(lambda s: ~np.isnan(s))
