"""SDTM derivations run after the rules: --SEQ, --DY, EPOCH, --LOBXFL, --DTC from the visit date, DM reference
dates and the end of participation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.sdtm.dates import date_part, days_from
from cdisc_als.sdtm.fast import map_values
from cdisc_als.study import Study


def derive_seq(frame: pd.DataFrame, domain: str, sort: list[str]) -> pd.DataFrame:
    """Sort by `sort` (USUBJID first) and number records 1, 2, ... within each USUBJID as --SEQ."""
    keys = [k for k in sort if k in frame.columns] or ["USUBJID"]
    out = frame.sort_values(keys, kind="stable", ignore_index=True)
    subjects = out["USUBJID"].to_numpy()
    if keys[0] == "USUBJID" and len(out) and not pd.isna(subjects).any():
        # sorted by subject first: each subject's records are one run, numbered from its start
        starts = np.flatnonzero(np.concatenate(([True], subjects[1:] != subjects[:-1])))
        run = np.repeat(starts, np.diff(np.append(starts, len(out))))
        out[f"{domain}SEQ"] = (np.arange(len(out)) - run + 1).astype("float64")
    else:
        out[f"{domain}SEQ"] = (out.groupby("USUBJID", sort=False).cumcount() + 1).astype("float64")
    return out


def derive_study_day(frame: pd.DataFrame, pairs: dict[str, str], reference: pd.Series) -> pd.DataFrame:
    """--DY for each (--DTC -> --DY) pair from DM.RFSTDTC (reference: USUBJID -> RFSTDTC); no day 0."""
    ref = reference_dates(frame["USUBJID"], reference)
    for dtc, dy in pairs.items():
        frame[dy] = days_from(date_part(frame[dtc]), ref)
    return frame


def reference_dates(subjects: pd.Series, reference: pd.Series) -> np.ndarray:
    """The full date (datetime64, NaT when partial or unknown) of each record's subject in reference
    (USUBJID -> ISO date), looked up and converted once per subject."""
    codes, distinct = pd.factorize(subjects, use_na_sentinel=True)
    dates = date_part(pd.Series(distinct, dtype=object).map(reference).fillna("")).to_numpy()
    return np.append(dates, np.array(["NaT"], dtype="datetime64[ns]"))[codes]


def derive_epoch(frame: pd.DataFrame, date_var: str, visit_dates: pd.DataFrame, study: Study,
                 trial_end: pd.Series | None = None) -> pd.DataFrame:
    """EPOCH of each record: the epoch of the subject's latest visit on or before the record's date.

    Dates before the first visit fall in the first visit's epoch; dates after the last scheduled
    visit, or after the end of the subject's trial participation (trial_end: USUBJID -> DM.RFENDTC,
    e.g. a death found in the survival follow-up of a subject who withdrew), fall in the study's last
    epoch (long-term follow-up) when there is one. Records without a full date take the epoch of their
    VISITNUM when they have one, else stay blank.
    """
    epochs = {v.visitnum: v.epoch for v in study.visits}
    last_epoch = study.epochs[-1].epoch
    last_visit = max(epochs)
    dates = date_part(frame[date_var]) if date_var in frame.columns else pd.Series(pd.NaT, index=frame.index)
    out = np.full(len(frame), "", dtype=object)
    known = dates.notna() & frame["USUBJID"].isin(visit_dates["USUBJID"])
    if known.any():
        # subjects as integer codes: the as-of match and the lookups run on numbers, not on text
        positions = np.flatnonzero(known.to_numpy())
        held = visit_dates.dropna(subset=["DATE"]).sort_values("DATE")
        codes, subjects = pd.factorize(np.concatenate([held["USUBJID"].to_numpy(dtype=object),
                                                       frame["USUBJID"].to_numpy(dtype=object)[positions]]),
                                       use_na_sentinel=False)
        vis = pd.DataFrame({"_S": codes[:len(held)], "VISITNUM": held["VISITNUM"].to_numpy(),
                            "DATE": held["DATE"].to_numpy()})
        rec = pd.DataFrame({"_S": codes[len(held):], "DATE": dates.to_numpy()[positions], "_P": positions})
        matched = pd.merge_asof(rec.sort_values("DATE"), vis, on="DATE", by="_S", direction="backward")
        first = vis.groupby("_S")["VISITNUM"].min()
        visitnum = matched["VISITNUM"].fillna(matched["_S"].map(first))
        epoch = visitnum.map(epochs)
        # max per subject: a repeated last visit must not make the lookup ambiguous (InvalidIndexError)
        last_date = vis[vis["VISITNUM"] == last_visit].groupby("_S")["DATE"].max()
        after = matched["DATE"] > matched["_S"].map(last_date)
        if trial_end is not None and len(trial_end):
            ended = date_part(map_values(pd.Series(subjects, dtype=object), trial_end).fillna("")).to_numpy()
            after = after | (matched["DATE"] > ended[matched["_S"].to_numpy()])
        epoch = epoch.to_numpy(dtype=object).copy()
        epoch[after.fillna(False).to_numpy(dtype=bool)] = last_epoch    # the one text object, not a copy per record
        epoch = pd.Series(epoch)
        out[matched["_P"].to_numpy()] = epoch.fillna("").to_numpy()
    out = pd.Series(out, index=frame.index, dtype=object)
    if "VISITNUM" in frame.columns:
        by_visit = map_values(pd.to_numeric(frame["VISITNUM"], errors="coerce"), epochs).fillna("")
        out = out.where(out != "", by_visit)
    frame["EPOCH"] = out
    return frame


def derive_visit_date(frame: pd.DataFrame, date_var: str, visit_dates: pd.DataFrame) -> pd.DataFrame:
    """A blank --DTC of a record collected at a visit = the date of that visit (SV.SVSTDTC of the
    subject's VISITNUM), e.g. FADTC of history findings recorded on the screening visit's form."""
    if "VISITNUM" not in frame.columns:
        raise KeyError(f"derive visit_date: {date_var} needs VISITNUM in the domain")
    held = visit_dates.dropna(subset=["DATE"]).drop_duplicates(["USUBJID", "VISITNUM"])
    keys = pd.MultiIndex.from_frame(held[["USUBJID", "VISITNUM"]])
    dates = pd.Series(held["DATE"].dt.strftime("%Y-%m-%d").to_numpy(), index=keys)
    wanted = pd.MultiIndex.from_arrays([frame["USUBJID"], pd.to_numeric(frame["VISITNUM"], errors="coerce")])
    found = pd.Series(dates.reindex(wanted).to_numpy(), index=frame.index).fillna("")
    current = frame[date_var].fillna("").astype(str) if date_var in frame.columns else pd.Series("", index=frame.index)
    frame[date_var] = current.where(current != "", found)
    return frame


def derive_participation_end(dm: pd.DataFrame, variable: str, domains: dict[str, pd.DataFrame],
                             exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """DM.<variable> (RFPENDTC) = the latest full date of the subject anywhere in the SDTM: DM's own dates
    and every --DTC, --STDTC and --ENDTC of every other subject-level domain except `exclude` (history
    domains such as MH, whose dates are not contacts), so that no record of a subject (an AE that ends
    after the disposition date, a survival contact) lies after it."""
    columns = [(dm, c) for c in dm.columns if c.endswith("DTC") and c not in ("BRTHDTC",)]
    for name, frame in domains.items():
        if name == "DM" or name in exclude or "USUBJID" not in frame.columns:
            continue
        columns += [(frame, c) for c in frame.columns if c.endswith("DTC")]
    subjects, dates = [], []
    for frame, column in columns:       # the date text of each distinct value, then the records with a full date
        codes, uniques = pd.factorize(frame[column].fillna("").astype(str))
        day = pd.Series(uniques, dtype=object).str.slice(0, 10)
        full = np.flatnonzero((day.str.len() == 10).to_numpy()[codes])
        subjects.append(frame["USUBJID"].to_numpy()[full])
        dates.append(day.to_numpy(dtype=object)[codes[full]])
    ranks, ordered = pd.factorize(np.concatenate(dates) if dates else np.array([], dtype=object), sort=True)
    subject = np.concatenate(subjects) if subjects else np.array([], dtype=object)
    latest_rank = pd.Series(ranks, dtype=np.intp).groupby(subject).max()
    latest = pd.Series(np.asarray(ordered, dtype=object)[latest_rank.to_numpy()], index=latest_rank.index)
    dm[variable] = dm["USUBJID"].map(latest).fillna("")
    return dm


def derive_lobxfl(frame: pd.DataFrame, flag: str, date_var: str, by: list[str], result: str,
                  reference: pd.Series) -> pd.DataFrame:
    """--LOBXFL = 'Y' on the last record with a result on or before RFSTDTC, per USUBJID and `by`."""
    ref = pd.Series(reference_dates(frame["USUBJID"], reference), index=frame.index)
    dates = date_part(frame[date_var])
    has_result = frame[result].fillna("").astype(str) != ""
    eligible = has_result & dates.notna() & ref.notna() & (dates <= ref)
    frame[flag] = ""
    if eligible.any():
        cand = frame.loc[eligible, list(dict.fromkeys(["USUBJID", *by]))].assign(_D=dates[eligible])
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
