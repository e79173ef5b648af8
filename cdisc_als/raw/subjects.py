"""Root causes about subjects, reported once with their consequences counted.

A subject's rows in the other tables hang on its row in the subject table. When that row is missing
or rejected, the rows are rejected too, and one finding per subject says why and how many rows of
which tables it cost (RAW-UNKNOWN-SUBJECT, RAW-SUBJECT-REJECTED), instead of one finding per row.
When a subject's arm value is unusable, the RAW-ARM finding says how many of its rows are mapped
without an arm (the subject is in no randomized analysis population).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cdisc_als.findings import ERROR, REJECTED, Finding
from cdisc_als.raw.spec import RawSpec

MAX_ROWS_LISTED = 5


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_LISTED])
    return shown + (f" and {len(rows) - MAX_ROWS_LISTED} more" if len(rows) > MAX_ROWS_LISTED else "")


def _per_file(hits: pd.DataFrame) -> str:
    parts = [f"{file} {len(rows)} (row {_rows_text(sorted(rows))})" if len(rows) == 1 else
             f"{file} {len(rows)} (rows {_rows_text(sorted(rows))})"
             for file, rows in hits.groupby("file", sort=False)["row"].apply(list).items()]
    return "; ".join(parts)


def orphan_rows(spec: RawSpec, frames: dict[str, pd.DataFrame], files: dict[str, str],
                rejected: dict[str, dict[int, str]]) -> list[Finding]:
    """Reject the rows of subjects without a usable subject-table row (adds to `rejected`, one entry
    per row with the reason) and return one finding per subject."""
    subject_col = spec.subject_column
    subject_frame = frames.get(spec.subject_table)
    if subject_frame is None:
        return _no_subject_table(spec, frames, files, rejected)
    subject_file = files[spec.subject_table]
    dropped = rejected.get(spec.subject_table, {})
    usable = subject_frame[~subject_frame["_ROW"].isin(dropped)]
    valid = set(usable[subject_col]) - {""}
    if not valid:
        return _no_subject_table(spec, {n: f for n, f in frames.items() if n != spec.subject_table}, files, rejected)
    rejected_at = {s: int(r) for s, r in zip(subject_frame[subject_col], subject_frame["_ROW"], strict=True)
                   if s and int(r) in dropped and s not in valid}
    parts = []
    for name, frame in frames.items():
        if name == spec.subject_table or subject_col not in frame:
            continue
        table_dropped = rejected.setdefault(name, {})
        mask = (frame[subject_col] != "") & ~frame[subject_col].isin(valid) & ~frame["_ROW"].isin(table_dropped)
        hits = frame.loc[mask, [subject_col, "_ROW"]]
        for subject, row in zip(hits[subject_col], hits["_ROW"], strict=True):
            where = (f"its row {rejected_at[subject]} in {subject_file} was rejected" if subject in rejected_at
                     else f"not in {subject_file}")
            table_dropped[int(row)] = f"subject {subject}: {where}"
        parts.append(pd.DataFrame({"subject": hits[subject_col].to_numpy(), "file": files[name],
                                   "row": hits["_ROW"].astype(int).to_numpy()}))
    if not parts:
        return []
    orphans = pd.concat(parts, ignore_index=True)
    out = []
    for subject, hits in orphans.groupby("subject", sort=False):
        n = len(hits)
        noun = "row" if n == 1 else "rows"
        if subject in rejected_at:
            out.append(Finding(subject_file, rejected_at[subject], subject_col, subject, "RAW-SUBJECT-REJECTED",
                               f"the subject's row is rejected, so its {n} {noun} in other tables are not mapped: "
                               f"{_per_file(hits)}", ERROR, REJECTED))
        else:
            first = hits.iloc[0]
            out.append(Finding(first["file"], int(first["row"]), subject_col, subject, "RAW-UNKNOWN-SUBJECT",
                               f"subject is not in {subject_file}: its {n} {noun} are not mapped: {_per_file(hits)}",
                               ERROR, REJECTED))
    return out


def _no_subject_table(spec: RawSpec, frames: dict[str, pd.DataFrame], files: dict[str, str],
                      rejected: dict[str, dict[int, str]]) -> list[Finding]:
    """Without a usable subject table no row can be given a subject: every row is rejected, one finding."""
    subject_file = files.get(spec.subject_table, f"{spec.subject_table}.csv")
    reason = f"no usable subject table ({subject_file} missing, empty, unreadable or without a usable row)"
    counts = {}
    for name, frame in frames.items():
        table_dropped = rejected.setdefault(name, {})
        fresh = [int(r) for r in frame["_ROW"] if int(r) not in table_dropped]
        for row in fresh:
            table_dropped[row] = reason
        if fresh:
            counts[files[name]] = len(fresh)
    if not counts:
        return []
    listed = "; ".join(f"{file} {n}" for file, n in counts.items())
    return [Finding(subject_file, None, spec.subject_column, "", "RAW-SUBJECT-TABLE",
                    f"{reason}: the {sum(counts.values())} rows of the other tables cannot be given a subject "
                    f"and are not mapped ({listed})", ERROR, REJECTED)]


def arm_consequences(spec: RawSpec, frames: dict[str, pd.DataFrame], files: dict[str, str],
                     findings: list[Finding]) -> list[Finding]:
    """RAW-ARM findings of the subject table, each with the number of the subject's rows that are mapped
    without an arm."""
    subject_frame = frames.get(spec.subject_table)
    if subject_frame is None or spec.subject_column not in subject_frame:
        return findings
    subject_of_row = dict(zip(subject_frame["_ROW"].astype(int), subject_frame[spec.subject_column], strict=True))
    counts: dict[str, int] = {}
    for frame in frames.values():
        if spec.subject_column in frame:
            for subject, n in frame[spec.subject_column].value_counts().items():
                counts[subject] = counts.get(subject, 0) + int(n)
    out = []
    for f in findings:
        if (f.rule == "RAW-ARM" and f.file == files[spec.subject_table] and f.row is not None
                and int(f.row) in subject_of_row):
            subject = subject_of_row[int(f.row)]
            f = replace(f, message=f"{f.message}; subject {subject} and its {counts.get(subject, 1)} rows are mapped "
                                   "without an arm and are in no randomized analysis population")
        out.append(f)
    return out
