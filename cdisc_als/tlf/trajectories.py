"""Figure of individual trajectories by arm with deaths marked (a spaghetti plot; kind: figure,
type: trajectories): one panel per arm (the output's columns), one line per subject of `variable`
against time, and a cross at each death.

variable:  the value drawn (e.g. AVAL of the ALSFRS-R total records the entry's `where` selects)
time:      the date of each record (default ADT);  origin: the date of time 0 (default RFSTDT, ADSL)
death:     the date of death (default DTHDT, ADSL);  time_unit: days, weeks, months (default; the
           study spec's month length) or years;  max_time: the end of the axis (deaths after it are
           counted, not drawn)
A subject who died is drawn with a dotted line from its last value to the cross at the time of death
(the cross sits at the last value; at the foot of the panel for a subject without any value). The ARD
gives per arm the subjects with a value, the points drawn, the deaths, those drawn, and those after
the axis; records without a time or value are left out and counted (`records_left_out`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.collections import LineCollection

from cdisc_als.tlf.ard import ArdBuilder
from cdisc_als.tlf.context import SUBJECT, StudyData
from cdisc_als.tlf.figures import COLORS, _param, _png, _records, figure
from cdisc_als.tlf.filters import number_text
from cdisc_als.tlf.rows.ranks import DAYS_PER_MONTH, as_days

UNIT_DAYS = {"days": 1.0, "weeks": 7.0, "years": 365.25}


def names(output: dict) -> tuple[str, str, str, str]:
    """(variable, time, origin, death) of a trajectories entry."""
    return output["variable"], output.get("time", "ADT"), output.get("origin", "RFSTDT"), output.get("death", "DTHDT")


def _subject_lines(points: pd.DataFrame) -> list[np.ndarray]:
    """The (x, y) points of each subject (records sorted by subject), subjects in record order."""
    if not len(points):
        return []
    subjects = points[SUBJECT].to_numpy()
    starts = np.flatnonzero(subjects[1:] != subjects[:-1]) + 1
    return np.split(points[["x", "y"]].to_numpy(), starts)


def _unit(output: dict, data: StudyData) -> tuple[str, float]:
    unit = str(output.get("time_unit", "months")).lower()
    if unit == "months":
        return unit, data.study.month_length_days if data.study is not None else DAYS_PER_MONTH
    if unit not in UNIT_DAYS:
        raise ValueError(f"output {output['id']}: time_unit {unit!r} is not days, weeks, months or years")
    return unit, UNIT_DAYS[unit]


@figure("trajectories")
def trajectories_figure(output: dict, data: StudyData, ards: dict, catalogue) -> tuple[bytes, pd.DataFrame]:
    variable, time, origin, death = names(output)
    frame, subjects, arms = _records(output, data, [variable, time, origin, "PARAM"])
    treatment = output["treatment"]
    unit, per_unit = _unit(output, data)
    people = data.frame("ADSL") if data.has("ADSL") else frame
    people = people.drop_duplicates(SUBJECT).set_index(SUBJECT)
    start = pd.Series(as_days(people[origin]), index=people.index)
    death_time = (pd.Series(as_days(people[death]), index=people.index) - start) / per_unit
    x = (as_days(frame[time]) - frame[SUBJECT].map(start).to_numpy(float)) / per_unit
    y = pd.to_numeric(frame[variable], errors="coerce").to_numpy(float)
    points = pd.DataFrame({SUBJECT: frame[SUBJECT].to_numpy(), "arm": frame[treatment].map(number_text).to_numpy(),
                           "x": x, "y": y})
    usable = points["x"].notna() & points["y"].notna()
    points = points[usable].sort_values([SUBJECT, "x"], kind="stable")
    ard = ArdBuilder(output["id"], "TRAJECTORIES", "continuous", treatment)
    ard.add("records_left_out", int((~usable).sum()), "xx", variable=variable, label="Records without a time or value")
    limit = float(output["max_time"]) if output.get("max_time") is not None else None
    deaths_all = death_time.dropna()
    upper = max([points["x"].max() if len(points) else 0.0, *(deaths_all if limit is None else [])], default=0.0)
    upper = limit if limit is not None else upper
    lower = min(points["x"].min() if len(points) else 0.0, 0.0)
    low_y, high_y = (np.nanmin(y), np.nanmax(y)) if np.isfinite(y).any() else (0.0, 1.0)
    fig, axes = plt.subplots(1, max(len(arms), 1), figsize=(4.6 * max(len(arms), 1) + 0.6, 4.8), sharey=True,
                             squeeze=False)
    for k, (ax, arm) in enumerate(zip(axes.flat, arms, strict=False)):
        members = subjects.loc[subjects[treatment].map(number_text) == arm.arm, SUBJECT]
        mine = points[points["arm"] == arm.arm]
        color = COLORS[k % len(COLORS)]
        lines = _subject_lines(mine)
        opacity = float(np.clip(15.0 / max(len(lines), 1), 0.08, 0.55))       # many subjects: fainter lines
        ax.add_collection(LineCollection(lines, colors=color, linewidths=0.8 if len(lines) <= 100 else 0.5,
                                         alpha=opacity))
        if len(lines) <= 100:
            ax.plot(mine["x"], mine["y"], ".", color=color, markersize=2.5, alpha=0.6)
        died = death_time.reindex(members).dropna()
        drawn = died if limit is None else died[died <= limit]
        last = mine.groupby(SUBJECT).tail(1).set_index(SUBJECT)
        with_value = drawn[drawn.index.isin(last.index)]
        if len(with_value):                 # one dotted segment per death, from the last value to the death
            ends = last.loc[with_value.index]
            segments = np.stack([np.column_stack([ends["x"].to_numpy(float), with_value.to_numpy(float)]),
                                 np.column_stack([ends["y"].to_numpy(float)] * 2)], axis=-1)
            ax.add_collection(LineCollection(segments, colors="grey", linewidths=0.7, linestyles=":", zorder=2))
        ax.plot(with_value, last.loc[with_value.index, "y"], "x", color="black", markersize=6, mew=1.4)
        without = drawn[~drawn.index.isin(last.index)]
        if len(without):
            ax.plot(without, np.zeros(len(without)), "x", color="black", markersize=6, mew=1.4,
                    transform=ax.get_xaxis_transform(), clip_on=False)
        for name, number, text in (("n", mine[SUBJECT].nunique(), "Subjects with a value"),
                                   ("points", len(mine), "Values drawn"), ("deaths", len(died), "Deaths"),
                                   ("deaths_drawn", len(drawn), "Deaths marked"),
                                   ("deaths_after_axis", len(died) - len(drawn), "Deaths after the axis")):
            ard.add(name, int(number), "xx", arm=arm.arm, variable=variable, label=text)
        after = f"; {len(died) - len(drawn)} later" if len(died) > len(drawn) else ""
        ax.set_title(f"{arm.arm}\n(n = {mine[SUBJECT].nunique()}, deaths = {len(died)}{after})", fontsize=9)
        ax.set_xlim(lower - 0.02 * (upper - lower), upper + 0.03 * (upper - lower or 1))
        ax.set_ylim(low_y - 0.04 * (high_y - low_y or 1), high_y + 0.04 * (high_y - low_y or 1))
        ax.axvline(0, color="grey", linewidth=0.6)
        ax.grid(alpha=0.2)
        ax.set_xlabel(str(output.get("x_label") or f"Time from {data.label('ADSL', origin)} ({unit})"), fontsize=9)
    axes.flat[0].set_ylabel(str(output.get("y_label") or _param(frame) or data.label(output["dataset"], variable)),
                            fontsize=9)
    axes.flat[0].plot([], [], "x", color="black", label="death")
    axes.flat[0].legend(frameon=False, fontsize=8, loc="lower left")
    fig.tight_layout()
    return _png(fig), ard.frame()
