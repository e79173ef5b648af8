"""What the TLF stage knows about a study: its ADaM frames, arms, labels and decodes.

* Datasets are found by name in any case; a variable that an analysis dataset lacks is taken from
  ADSL by USUBJID (the ADaM convention of carrying subject-level variables).
* Arms (the table columns): the study spec's arms in study order when the spec describes the data
  (every treatment value in the population is one of its arm labels), otherwise the data's treatment
  values ordered by their numeric companion (TRT01PN for TRT01P, TRTAN for TRTA, ...); a catalogue
  restricts arms by code (ARMCD of the spec, or the numeric code for arms taken from the data).
* Labels come from the XPT variable labels, else the metadata; decodes of coded values from the
  codelist the metadata names for the variable (mappings/codelists.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cdisc_als.findings import Finding
from cdisc_als.study import Arm, Study
from cdisc_als.tlf.filters import number_text

SUBJECT = "USUBJID"


def numeric_companion(variable: str) -> str:
    """TRT01P -> TRT01PN, AGEGR1 -> AGEGR1N (the ADaM naming of a text variable's numeric code)."""
    return variable + "N" if len(variable) < 8 else variable[:7] + "N"


def adsl_treatment(variable: str, adsl_columns) -> str:
    """The ADSL variable that holds a record-level treatment for the denominators: itself when ADSL
    has it, TRT01A for TRTA and TRT01P for TRTP otherwise."""
    if variable in adsl_columns:
        return variable
    return {"TRTA": "TRT01A", "TRTP": "TRT01P"}.get(variable, variable)


@dataclass
class StudyData:
    """The ADaM frames of one run with the study spec and metadata used to read them."""

    adam: dict[str, pd.DataFrame]
    study: Study | None = None
    metadata: Any = None            # cdisc_als.metadata.Metadata or None
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.adam = {name.upper(): frame for name, frame in self.adam.items()}

    # ----- datasets and variables
    def has(self, dataset: str) -> bool:
        return dataset.upper() in self.adam

    def columns(self, dataset: str) -> set[str]:
        cols = set(self.adam[dataset.upper()].columns) if self.has(dataset) else set()
        if self.has("ADSL"):
            cols |= set(self.adam["ADSL"].columns)
        return cols

    def frame(self, dataset: str, variables=()) -> pd.DataFrame:
        """The dataset with any of `variables` it lacks merged from ADSL by USUBJID."""
        frame = self.adam[dataset.upper()]
        missing = [v for v in dict.fromkeys(variables) if v and v not in frame.columns]
        if missing and self.has("ADSL") and dataset.upper() != "ADSL" and SUBJECT in frame.columns:
            adsl = self.adam["ADSL"]
            take = [v for v in missing if v in adsl.columns]
            if take:
                frame = frame.merge(adsl[[SUBJECT, *take]].drop_duplicates(SUBJECT), on=SUBJECT, how="left",
                                    validate="many_to_one")
        return frame

    # ----- labels and decodes
    def label(self, dataset: str, variable: str) -> str:
        for name in (dataset.upper(), "ADSL"):
            labels = self.adam[name].attrs.get("labels", {}) if self.has(name) else {}
            if labels.get(variable):
                return str(labels[variable])
        if self.metadata is not None:
            for name in (dataset.upper(), "ADSL"):
                try:
                    return self.metadata.dataset(name).variable(variable).label
                except KeyError:
                    continue
        return variable

    def codelist(self, dataset: str, variable: str):
        if self.metadata is None:
            return None
        for name in (dataset.upper(), "ADSL"):
            try:
                var = self.metadata.dataset(name).variable(variable)
            except KeyError:
                continue
            if var.codelist and var.codelist in self.metadata.codelists:
                return self.metadata.codelist(var.codelist)
        return None

    def decode(self, dataset: str, variable: str, value: Any) -> str:
        text = number_text(value)
        codelist = self.codelist(dataset, variable)
        if codelist is not None:
            for term in codelist.terms:
                if term.value == text and term.decode:
                    return term.decode
        return text

    def ordered_levels(self, frame: pd.DataFrame, dataset: str, variable: str) -> list[str]:
        """Distinct non-blank values, ordered by the numeric companion, else the codelist, else as text."""
        values = frame[variable]
        present = values[values.map(number_text).str.strip() != ""]
        companion = numeric_companion(variable)
        if companion in frame.columns and frame[companion].notna().any():
            order = (frame.loc[present.index, [variable, companion]].dropna().drop_duplicates(variable)
                     .sort_values([companion, variable]))
            ordered = [number_text(v) for v in order[variable]]
            return ordered + sorted({number_text(v) for v in present} - set(ordered))
        texts = sorted({number_text(v) for v in present}, key=_natural)
        codelist = self.codelist(dataset, variable)
        if codelist is not None:
            rank = {v: k for k, v in enumerate(codelist.values)}
            texts.sort(key=lambda v: (rank.get(v, len(rank)), _natural(v)))
        return texts

    # ----- arms
    def arms(self, subjects: pd.DataFrame, treatment: str, codes: list | str | None,
             where: str) -> tuple[list[Arm], list[str]]:
        """Columns of an output and the problems found (unknown arm codes). `codes` restricts the arms by
        code (a list), or to the arms whose study-spec flag `treated` is true (`treated`) or false
        (`untreated`), so a catalogue survives a renaming of the arm codes."""
        values = {number_text(v) for v in subjects[treatment]} - {""} if treatment in subjects else set()
        spec_arms = list(self.study.arms) if self.study is not None else []
        if spec_arms and values <= {a.arm for a in spec_arms}:
            arms = spec_arms
        else:
            arms = self._arms_from_data(subjects, treatment)
        if not codes:
            return arms, []
        if isinstance(codes, str):
            if codes not in ("treated", "untreated"):
                return arms, [f"{where}: arms must be a list of arm codes, 'treated' or 'untreated', not {codes!r}"]
            chosen = [a for a in arms if a.treated == (codes == "treated")]
            return chosen, [] if chosen else [f"{where}: no {codes} arm in the study ({', '.join(a.armcd for a in arms)})"]
        chosen, problems = [], []
        for code in codes:
            text = number_text(code)
            hit = [a for a in arms if text in (a.armcd, number_text(a.trt_code))]
            if hit:
                chosen.append(hit[0])
            else:
                problems.append(f"{where}: arm code {text!r} is not an arm of the study "
                                f"({', '.join(a.armcd for a in arms) or 'no arms in the data'})")
        return chosen, problems

    def _arms_from_data(self, subjects: pd.DataFrame, treatment: str) -> list[Arm]:
        if treatment not in subjects:
            return []
        companion = numeric_companion(treatment)
        frame = subjects
        if companion not in frame and self.has("ADSL"):
            adsl = self.adam["ADSL"]
            source = adsl_treatment(treatment, adsl.columns)
            if numeric_companion(source) in adsl:
                pairs = adsl[[source, numeric_companion(source)]].rename(
                    columns={source: treatment, numeric_companion(source): companion})
                frame = pd.concat([frame[[treatment]], pairs], ignore_index=True)
        labels = self.ordered_levels(frame, "ADSL", treatment) if treatment in frame else []
        labels = [lab for lab in labels if lab in {number_text(v) for v in subjects[treatment]}]
        arms = []
        for k, label in enumerate(labels, start=1):
            code = k
            if companion in frame:
                codes = frame.loc[frame[treatment].map(number_text) == label, companion].dropna()
                code = codes.iloc[0] if len(codes) else k
            # an arm of the data, not of a study spec: its code is the data's (0 for a placebo is common),
            # outside the 1-99 a study spec allows, so it is not validated as one
            arms.append(Arm.model_construct(armcd=number_text(code), arm=label,
                                            trt_code=int(code) if float(code).is_integer() else k, treated=True))
        return arms


def _natural(text: str) -> tuple:
    """Sort key that puts numbers in numeric order ('2' before '10')."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def data_precision(values) -> int:
    from cdisc_als.stats.descriptive import decimals_of

    return decimals_of(np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float))
