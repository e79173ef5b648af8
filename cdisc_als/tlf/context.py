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

from cdisc_als.columnar import factorized
from cdisc_als.findings import Finding
from cdisc_als.sdtm.conditions import condition_mask
from cdisc_als.study import Arm, Study
from cdisc_als.tlf.filters import distinct_number_texts, number_text, number_texts, value_texts

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
    _cache: dict = field(default_factory=dict, repr=False)   # per (kind, dataset, column): see _cached

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

    def frame(self, dataset: str, variables=(), columns=None) -> pd.DataFrame:
        """The dataset with any of `variables` it lacks merged from ADSL by USUBJID, text as text (record-level
        datasets hold theirs as categoricals, run.read_adam). `columns`: only these of the dataset's own
        columns (and the merged variables), so that a large dataset is not decoded whole for a few."""
        name = dataset.upper()
        base = self.adam[name]
        if columns is not None:
            base = base[[c for c in dict.fromkeys(columns) if c in base.columns]]
        return self._with_adsl(name, decoded(base), variables, np.arange(len(base)))

    def own_columns(self, dataset: str) -> list[str]:
        """The dataset's own columns (KeyError when the study has no such dataset)."""
        return list(self.adam[dataset.upper()].columns)

    def select(self, dataset: str, cond: dict[str, Any] | None, subjects: pd.DataFrame | None = None,
               variables=()) -> pd.DataFrame:
        """frame(dataset, variables) restricted to the USUBJIDs of `subjects` (when given) and to the records
        where `cond` holds (condition variables the dataset lacks taken from ADSL by USUBJID), in one pass:
        the condition is tested on each column's distinct values (kept for the next call) and the records
        are copied once."""
        name = dataset.upper()
        base = self.adam[name]
        mask = np.ones(len(base), dtype=bool)
        if subjects is not None:
            codes, distinct = self._cached("codes", name, SUBJECT, lambda: factorized(base[SUBJECT]))
            wanted = subjects[SUBJECT]
            hit = np.append(pd.Series(distinct, dtype=object).isin(wanted).to_numpy(dtype=bool),
                            bool(pd.Series([np.nan]).isin(wanted).iloc[0]))
            mask &= hit[codes]
        if cond:
            mask &= condition_mask(cond, lambda column: self.texts(name, column))
        return self._with_adsl(name, decoded(base[mask]), variables, np.flatnonzero(mask))

    def texts(self, dataset: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, distinct texts) of a column of the dataset as catalogue filters compare it, for every
        record of the dataset; a column the dataset lacks comes from ADSL by USUBJID (missing text for a
        subject ADSL does not hold)."""
        name = dataset.upper()
        base = self.adam[name]
        if column in base.columns:
            return self._cached("texts", name, column, lambda: value_texts(base[column]))
        if self._takes_from_adsl(name, base) and column in self.adam["ADSL"].columns:
            def from_adsl() -> tuple[np.ndarray, np.ndarray]:
                codes, texts = self.texts("ADSL", column)
                rows = self._subject_rows(name)
                return np.where(rows < 0, len(texts), codes[rows]), np.append(texts, "")
            return self._cached("texts", name, column, from_adsl)
        raise KeyError(f"filter variable {column!r} is not in the data")

    def _takes_from_adsl(self, name: str, frame: pd.DataFrame) -> bool:
        return self.has("ADSL") and name != "ADSL" and SUBJECT in frame.columns

    def _subject_rows(self, dataset: str) -> np.ndarray:
        """For each record of the dataset, the row of its subject in ADSL (its first row), -1 when none."""
        def rows() -> np.ndarray:
            adsl = self.adam["ADSL"]
            first = np.flatnonzero(~adsl[SUBJECT].duplicated(keep="first").to_numpy())
            where = pd.Index(adsl[SUBJECT].to_numpy()[first]).get_indexer(self.adam[dataset][SUBJECT].to_numpy())
            return np.where(where < 0, -1, first[np.maximum(where, 0)]) if len(first) else np.full(len(where), -1)
        return self._cached("subject_rows", dataset, SUBJECT, rows)

    def _cached(self, kind: str, dataset: str, column: str, compute):
        key = (kind, dataset, column)
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _with_adsl(self, name: str, frame: pd.DataFrame, variables, positions: np.ndarray) -> pd.DataFrame:
        """frame (the records of dataset `name` at `positions`) with any of `variables` it lacks merged from
        ADSL by USUBJID, as merge(how='left', validate='many_to_one') on ADSL's first record per subject
        gives them (index: the positions), without copying the frame's own columns again."""
        missing = [v for v in dict.fromkeys(variables) if v and v not in frame.columns]
        if not (missing and self._takes_from_adsl(name, frame)):
            return frame
        adsl = self.adam["ADSL"]
        take = [v for v in missing if v in adsl.columns]
        if not take:
            return frame
        joined = adsl[[SUBJECT, *take]].drop_duplicates(SUBJECT).set_index(SUBJECT).reindex(frame[SUBJECT].to_numpy())
        out = frame.copy(deep=False)
        for column in take:
            out[column] = joined[column].to_numpy()
        out.index = pd.RangeIndex(len(out)) if len(positions) == len(self.adam[name]) else pd.Index(positions)
        return out

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
        present = values[number_texts(values).str.strip() != ""]
        companion = numeric_companion(variable)
        if companion in frame.columns and frame[companion].notna().any():
            order = (frame.loc[present.index, [variable, companion]].dropna().drop_duplicates(variable)
                     .sort_values([companion, variable]))
            ordered = [number_text(v) for v in order[variable]]
            return ordered + sorted(distinct_number_texts(present) - set(ordered))
        texts = sorted(distinct_number_texts(present), key=_natural)
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
        values = distinct_number_texts(subjects[treatment]) - {""} if treatment in subjects else set()
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
        labels = [lab for lab in labels if lab in distinct_number_texts(subjects[treatment])]
        arms = []
        for k, label in enumerate(labels, start=1):
            code = k
            if companion in frame:
                codes = frame.loc[number_texts(frame[treatment]) == label, companion].dropna()
                code = codes.iloc[0] if len(codes) else k
            # an arm of the data, not of a study spec: its code is the data's (0 for a placebo is common),
            # outside the 1-99 a study spec allows, so it is not validated as one
            arms.append(Arm.model_construct(armcd=number_text(code), arm=label,
                                            trt_code=int(code) if float(code).is_integer() else k, treated=True))
        return arms


def decoded(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its categorical columns as text (object), the other columns shared, not copied."""
    coded = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not coded:
        return frame
    out = frame.copy(deep=False)
    for column in coded:
        out[column] = frame[column].to_numpy(dtype=object)
    return out


def _natural(text: str) -> tuple:
    """Sort key that puts numbers in numeric order ('2' before '10')."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def data_precision(values) -> int:
    from cdisc_als.stats.descriptive import decimals_of

    return decimals_of(np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float))
