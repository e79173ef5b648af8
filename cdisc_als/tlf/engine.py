"""Compute a catalogue table as ARD: population, columns, then every row through its row type.

Population: evaluated on ADSL when ADSL holds every variable of the condition (the subjects and the
column N), else on the output's dataset. A row's records are the subjects' records of its dataset
(variables it lacks merged from ADSL) filtered by the row's `where`. A row with `subgroup: VAR` is
computed once per level of VAR (group2 of the ARD), with the level's subjects as denominators.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cdisc_als.findings import Finding
from cdisc_als.study import Arm
from cdisc_als.tlf.ard import COLUMNS, TOTAL, ArdBuilder, duplicate_keys
from cdisc_als.tlf.context import SUBJECT, StudyData, adsl_treatment
from cdisc_als.tlf.filters import apply_filter, condition_columns, number_texts, to_condition
from cdisc_als.tlf.rows import PLACEHOLDER, RowContext, load_row_types

POPULATION_ROW = "POPULATION"


def population_subjects(output: dict[str, Any], data: StudyData, extra: list[str] = ()) -> pd.DataFrame:
    """One row per subject of the output's population with the treatment variable (named as in the
    output) and `extra` subject-level variables."""
    cond = to_condition(output.get("population"), f"output {output['id']}: population")
    treatment = output["treatment"]
    needed = condition_columns(cond)
    if data.has("ADSL") and needed <= set(data.adam["ADSL"].columns):
        adsl = data.adam["ADSL"]
        source = (output.get("denominator") or {}).get("treatment") or adsl_treatment(treatment, adsl.columns)
        subjects = apply_filter(adsl, cond)
        if source in subjects and source != treatment:
            subjects = subjects.assign(**{treatment: subjects[source]})
        return subjects
    return data.select(output["dataset"], cond, None, [*needed, treatment, *extra]).drop_duplicates(SUBJECT)


def output_arms(output: dict[str, Any], data: StudyData, subjects: pd.DataFrame) -> list[Arm]:
    arms, problems = data.arms(subjects, output["treatment"], output.get("arms"), f"output {output['id']}")
    if problems:
        from cdisc_als.tlf.catalogue import CatalogueError

        raise CatalogueError(problems)
    return arms


def _empty_frame(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("AVAL", "CNSR", "CHG", "AVISITN") else object)
                         for c in dict.fromkeys(columns)})


def _resolve_label(label: str, records: pd.DataFrame, data: StudyData, dataset: str) -> str:
    """A row label with {VARIABLE} placeholders filled from the row's records (decoded; several values
    joined with '/'), so subgroup texts such as '<54' come from the data, not the catalogue."""
    def value(name: str) -> str:
        if name not in records:
            return name
        texts = [data.decode(dataset, name, v) for v in dict.fromkeys(number_texts(records[name])) if v]
        return "/".join(texts)

    return PLACEHOLDER.sub(lambda m: value(m.group(1)), label)


def _row_records(data: StudyData, dataset: str, cond: dict[str, Any] | None, subjects: pd.DataFrame,
                 treatment: str, needed: list[str]) -> pd.DataFrame:
    """A row's records: the dataset's records of the population's subjects where the row's condition holds,
    with the variables it lacks from ADSL; the subjects' treatment replaces the records' own when the
    dataset is ADSL or lacks it (also in ADSL)."""
    upper = dataset.upper()
    if SUBJECT not in data.adam[upper].columns or SUBJECT not in subjects:
        return data.select(dataset, cond, None, needed)
    from_subjects = upper == "ADSL" or treatment not in data.columns(dataset)
    if from_subjects and treatment in condition_columns(cond):     # the condition reads the subjects' treatment
        frame = data.frame(dataset, needed)
        frame = frame[frame[SUBJECT].isin(subjects[SUBJECT])]
        frame = frame.drop(columns=[treatment], errors="ignore").merge(subjects[[SUBJECT, treatment]], on=SUBJECT,
                                                                       how="left")
        return apply_filter(frame, cond)
    records = data.select(dataset, cond, subjects, needed)
    if from_subjects:
        records = records.drop(columns=[treatment], errors="ignore").merge(subjects[[SUBJECT, treatment]],
                                                                           on=SUBJECT, how="left")
    return records


def compute_table(output: dict[str, Any], data: StudyData, mock: bool = False) -> pd.DataFrame:
    """The ARD of one catalogue table (mock: the structure of a shell, computed without data)."""
    types = load_row_types()
    treatment = output["treatment"]
    subgroup_vars = [r["subgroup"] for r in output["rows"] if r.get("subgroup")]
    subjects = population_subjects(output, data, subgroup_vars) if not mock else _empty_frame([SUBJECT, treatment])
    arms = output_arms(output, data, subjects)
    columns = [a.arm for a in arms] + ([TOTAL] if output.get("total") else [])
    if TOTAL in [a.arm for a in arms]:
        raise ValueError(f"output {output['id']}: an arm is named '{TOTAL}', which names the total column")
    header = ArdBuilder(output["id"], POPULATION_ROW, "population", treatment)
    pieces = []
    for row in output["rows"]:
        kind = types[row["type"]]
        dataset = row.get("dataset", output["dataset"])
        cond = to_condition(row.get("where"), f"output {output['id']}, row {row['id']}: where")
        needed = [treatment, *kind.variables(row), *condition_columns(cond), *subgroup_vars,
              *PLACEHOLDER.findall(str(row.get("label", "")))]
        records = _empty_frame(needed) if mock else _row_records(data, dataset, cond, subjects, treatment, needed)
        builder = ArdBuilder(output["id"], row["id"], kind.context, treatment)
        label_vars = PLACEHOLDER.findall(str(row.get("label", "")))
        if label_vars and not mock:
            builder.add("row_label", _resolve_label(str(row["label"]), records, data, dataset), "text",
                        label="Row label")
        scopes = [("", "", records, subjects)]
        if row.get("subgroup") and not mock:
            var = row["subgroup"]
            levels = data.ordered_levels(subjects if var in subjects else records, dataset, var)
            scopes = [(var, level,
                       records[number_texts(records[var]) == level] if var in records else records.iloc[0:0],
                       subjects[number_texts(subjects[var]) == level] if var in subjects else subjects)
                      for level in levels]
        for var, level, part, people in scopes:
            ctx = RowContext(output, row, dataset, part, people, arms, columns, treatment, data, builder, var, level,
                             mock)
            if var:
                label = data.decode(dataset, var, level)
                ctx.add("label", label, "text", variable=var, level=level, label="Subgroup")
                for column in columns:
                    ctx.add("N", ctx.population_n(column), "xx", arm=column, variable=var, level=level)
            kind.compute(ctx)
        pieces.append(builder.frame())
    for column in columns:
        part = subjects[number_texts(subjects[treatment]).isin([a.arm for a in arms] if column == TOTAL
                                                                  else [column])] if treatment in subjects else subjects
        header.add("N", int(part[SUBJECT].nunique()) if SUBJECT in part else len(part), "xx", arm=column,
                   variable=treatment)
    ard = pd.concat([header.frame(), *pieces], ignore_index=True) if pieces else header.frame()
    dupes = duplicate_keys(ard)
    if len(dupes):
        data.findings.append(Finding(output["dataset"], None, "", "", "TLF-ARD-KEY",
                                     f"output {output['id']}: {len(dupes)} ARD rows share a key", "error"))
    return ard[COLUMNS]
