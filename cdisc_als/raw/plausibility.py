"""Plausibility rules (warnings): dates a study cannot hold, and events in the wrong order of a life.

  RAW-DATE-IMPLAUSIBLE  a date outside study.yaml `plausible_dates` (earliest .. latest, default latest:
                        the survival cut-off); a partial date only when every day it may stand for is
                        outside the range
  RAW-BEFORE-CONSENT    a date of tables.yaml `timeline.after_consent` before the informed consent date
  RAW-AFTER-DEATH       a date of `timeline.before_death` after the subject's date of death

A partial date counts as the span of days it may stand for (2012-03 = 1 to 31 March), and a rule
fires only when the whole span breaks it. The values are kept; the analysis decides what to do with
them (ADaM analysis windows ignore implausible dates and say so).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cdisc_als.findings import WARNING, Finding
from cdisc_als.plausible import date_bounds, outside
from cdisc_als.raw.spec import RawSpec


def _date_columns(spec: RawSpec, name: str, frame: pd.DataFrame) -> list[str]:
    return [c.name for c in spec.tables[name].columns if c.type in ("date", "partial_date") and c.name in frame]


def implausible_dates(spec: RawSpec, frames: dict[str, pd.DataFrame], files: dict[str, str],
                      earliest: dt.date, latest: dt.date) -> list[Finding]:
    """RAW-DATE-IMPLAUSIBLE for every date column of every table."""
    out = []
    for name, frame in frames.items():
        for column in _date_columns(spec, name, frame):
            bad = outside(frame[column], earliest, latest)
            out += [Finding(files[name], int(r), column, v, "RAW-DATE-IMPLAUSIBLE",
                            f"outside the study's plausible dates {earliest} to {latest}", WARNING)
                    for r, v in zip(frame.loc[bad, "_ROW"], frame.loc[bad, column], strict=True)]
    return out


def _date_sources(spec: RawSpec, frames: dict[str, pd.DataFrame], sources: tuple[str, ...]):
    """(table, column, frame, earliest, latest) of every `table.column` source that was read."""
    for source in sources:
        table, column = source.split(".")
        frame = frames.get(table)
        if frame is None or column not in frame or spec.subject_column not in frame:
            continue
        low, high = date_bounds(frame[column])
        yield table, column, frame, low, high


def _subject_dates(spec: RawSpec, frames: dict[str, pd.DataFrame], sources: tuple[str, ...],
                   pick: str) -> pd.Series:
    """SUBJID -> the earliest ('low') or latest ('high') bound of the dates of `sources`."""
    parts = [pd.DataFrame({"S": frame[spec.subject_column], "D": low if pick == "low" else high})
             for _table, _column, frame, low, high in _date_sources(spec, frames, sources)]
    if not parts:
        return pd.Series(dtype="datetime64[ns]")
    data = pd.concat(parts).dropna(subset=["D"])
    grouped = data.groupby("S")["D"]
    return grouped.min() if pick == "low" else grouped.max()


def timeline_findings(spec: RawSpec, frames: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Finding]:
    """RAW-BEFORE-CONSENT and RAW-AFTER-DEATH from tables.yaml `timeline`."""
    timeline = spec.timeline
    if not timeline:
        return []
    consent = _subject_dates(spec, frames, timeline.get("consent", ()), "low")
    death = _subject_dates(spec, frames, timeline.get("death", ()), "high")
    out = []
    for rule, sources, limit, breaks, text in (
            ("RAW-BEFORE-CONSENT", timeline.get("after_consent", ()), consent, "before", "before informed consent"),
            ("RAW-AFTER-DEATH", timeline.get("before_death", ()), death, "after", "after the subject's death")):
        if limit.empty:
            continue
        for table, column, frame, low, high in _date_sources(spec, frames, sources):
            bound = frame[spec.subject_column].map(limit)
            bad = (high < bound) if breaks == "before" else (low > bound)
            bad = bad.fillna(False).astype(bool)
            out += [Finding(files[table], int(r), column, v, rule,
                            f"{text} ({b.date().isoformat()})", WARNING)
                    for r, v, b in zip(frame.loc[bad, "_ROW"], frame.loc[bad, column], bound[bad], strict=True)]
    return out
