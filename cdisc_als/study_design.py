"""The trial design part of the study specification (study.yaml `trial_design:`), typed and immutable.

It is the one source of the SDTM trial design datasets and of the terminology versions:
  terminologies   name -> version of every terminology a coded value refers to; "CDISC CT" (SDTM
                  controlled terminology) is TSVCDVER of every CDISC-coded TS value and the CT
                  standard of define.xml; "CDISC ADaM CT" the ADaM one
  elements        TE: one element per code (ETCD, ELEMENT, TESTRL, TEENRL, TEDUR), its EPOCH and how
                  a subject's actual start of the element is found (SE): the date of a visit or a DM
                  reference date
  arms            TA: the ordered elements of each arm of `arms`, and the branch (TABRANCH)
  criteria        TI: inclusion and exclusion criteria (IETESTCD, IECAT, IETEST, TIRL)
  trial_summary   TS: one entry per parameter value, given literally, taken from another part of the
                  spec or from the data (`source`), or null with a null flavour; coded values name the
                  CDISC codelist of codelists.yaml they come from (TSVALCD = the term's C-code) or give
                  their code and terminology

docs/study-spec.md ("Trial design and trial summary") lists every key.
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from cdisc_als.spec_base import Code, Label, Name, ShortCode, SpecModel, Text

CDISC_CT = "CDISC CT"
ADAM_CT = "CDISC ADaM CT"
ISO_DURATION = r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$"   # at least one part: see Element
DM_DATES = ("RFICDTC", "RFSTDTC", "RFXSTDTC", "RFENDTC", "RFXENDTC")


class NullFlavor(enum.StrEnum):
    """ISO 21090 null flavours allowed in TS.TSVALNF."""

    NI = "NI"
    NA = "NA"
    UNK = "UNK"
    NASK = "NASK"
    ASKU = "ASKU"
    NAV = "NAV"
    MSK = "MSK"
    OTH = "OTH"
    PINF = "PINF"
    NINF = "NINF"


class TsSource(enum.StrEnum):
    """Where a TS value comes from when it is not written in `trial_summary` itself."""

    TITLE = "study.title"
    SPONSOR = "study.sponsor"
    REGISTRY_ID = "study.registry_id"
    COUNTRY = "study.country"
    NUMBER_OF_ARMS = "arms.count"                   # number of arms of `arms`
    CUTOFF = "survival.cutoff_date"                 # ISO 8601 date
    LENGTH = "visits.length"                        # first to last scheduled visit, ISO 8601 months (P9M)
    RANDOMIZED = "data.randomized_subjects"         # DM subjects with a planned arm
    FIRST_CONSENT = "data.first_consent"            # earliest DM.RFICDTC
    LAST_PARTICIPATION = "data.last_participation"  # latest DM.RFPENDTC


class Terminology(SpecModel):
    """A terminology or reference a coded value comes from; `version` is TSVCDVER ('' for an unversioned
    reference such as a registry)."""

    name: Label
    version: Text = ""


class ElementStart(SpecModel):
    """How a subject's start of an element is found: the date of a visit (`visit`) or a DM date (`date`)."""

    visit: Label | None = None
    date: Literal["RFICDTC", "RFSTDTC", "RFXSTDTC", "RFENDTC", "RFXENDTC"] | None = None

    @model_validator(mode="after")
    def _one(self) -> ElementStart:
        if (self.visit is None) == (self.date is None):
            raise ValueError("give exactly one of 'visit' (a visit of `visits`) or 'date' (one of "
                             f"{', '.join(DM_DATES)})")
        return self


class Element(SpecModel):
    """A trial element (TE) and its epoch (TA.EPOCH, SE.EPOCH)."""

    etcd: ShortCode
    element: Label
    epoch: Label
    start: ElementStart
    start_rule: Label                        # TESTRL
    end_rule: Text = ""                      # TEENRL
    duration: Annotated[str, StringConstraints(pattern=ISO_DURATION)] | None = None   # TEDUR, e.g. P3M

    @model_validator(mode="after")
    def _duration(self) -> Element:
        if self.duration is not None and self.duration.rstrip("T") in ("P", ""):
            raise ValueError(f"{self.etcd}: duration {self.duration!r} has no amount (ISO 8601, e.g. P3M or P2W)")
        return self


class ArmPath(SpecModel):
    """The elements of one arm in order (TA); `branch` (TABRANCH) sits on `branch_element`."""

    armcd: Code
    elements: tuple[ShortCode, ...] = Field(min_length=1)
    branch_element: ShortCode | None = None
    branch: Text = ""

    @model_validator(mode="after")
    def _branch(self) -> ArmPath:
        if bool(self.branch) != (self.branch_element is not None):
            raise ValueError("give 'branch' and 'branch_element' together")
        if self.branch_element is not None and self.branch_element not in self.elements:
            raise ValueError(f"branch_element {self.branch_element} is not among the arm's elements {self.elements}")
        if len(set(self.elements)) != len(self.elements):
            raise ValueError(f"an element may appear once per arm, got {self.elements}")
        return self


class Criterion(SpecModel):
    """An inclusion or exclusion criterion (TI)."""

    code: ShortCode                                  # IETESTCD
    category: Literal["INCLUSION", "EXCLUSION"]      # IECAT
    text: Label                                      # IETEST
    rule: Text = ""                                  # TIRL


class TsParameter(SpecModel):
    """One TS record: exactly one of value, source or null_flavor; a coded value names its CDISC codelist
    (`codelist`) or its code and terminology (`code`, `code_ref`); `code_ref` alone names the format
    standard of an uncoded value (e.g. ISO 8601 for a date)."""

    parmcd: ShortCode
    value: Text = ""
    source: TsSource | None = None
    null_flavor: NullFlavor | None = None
    codelist: Name | None = None
    code: Text = ""
    code_ref: Text = ""
    value_is_code: bool = False          # TSVALCD = TSVAL (a registry id, an ISO 3166 country code)

    @model_validator(mode="after")
    def _one_value(self) -> TsParameter:
        given = [k for k in ("value", "source", "null_flavor") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"{self.parmcd}: give exactly one of value, source or null_flavor (got {given or 'none'})")
        if self.codelist and (self.code or self.code_ref):
            raise ValueError(f"{self.parmcd}: a value coded from a CDISC codelist takes its code from the codelist; "
                             "drop code/code_ref")
        if self.value_is_code and (self.code or not self.code_ref):
            raise ValueError(f"{self.parmcd}: value_is_code needs code_ref and no code")
        if self.code and not self.code_ref:
            raise ValueError(f"{self.parmcd}: code {self.code!r} needs code_ref (the terminology it comes from)")
        return self


class TrialDesign(SpecModel):
    terminologies: tuple[Terminology, ...] = Field(min_length=1)
    elements: tuple[Element, ...] = Field(min_length=1)
    arms: tuple[ArmPath, ...] = Field(min_length=1)
    criteria: tuple[Criterion, ...] = ()
    trial_summary: tuple[TsParameter, ...] = ()

    def version(self, terminology: str) -> str:
        """The version of a terminology of `terminologies` ('' when it is not listed)."""
        return next((t.version for t in self.terminologies if t.name == terminology), "")

    def element(self, etcd: str) -> Element:
        return next(e for e in self.elements if e.etcd == etcd)

    def arm(self, armcd: str) -> ArmPath:
        return next(a for a in self.arms if a.armcd == armcd)


def design_problems(design: TrialDesign | None, arms: list[str], visits: list[str], epochs: list[str]) -> list[str]:
    """Rules between `trial_design` and the rest of the study spec (each message starts with its key path)."""
    if design is None:
        return []
    problems = []
    names = [t.name for t in design.terminologies]
    for key, values in (("trial_design.terminologies: name", names),
                        ("trial_design.elements: etcd", [e.etcd for e in design.elements]),
                        ("trial_design.elements: element", [e.element for e in design.elements]),
                        ("trial_design.arms: armcd", [a.armcd for a in design.arms]),
                        ("trial_design.criteria: code", [c.code for c in design.criteria])):
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            problems.append(f"{key}: duplicate value(s) {duplicates}")
    if not design.version(CDISC_CT):
        problems.append(f"trial_design.terminologies: must give the version of '{CDISC_CT}'")
    for k, element in enumerate(design.elements):
        if element.epoch not in epochs:
            problems.append(f"trial_design.elements[{k}].epoch: '{element.epoch}' is not listed under 'epochs' {epochs}")
        if element.start.visit is not None and element.start.visit not in visits:
            problems.append(f"trial_design.elements[{k}].start.visit: '{element.start.visit}' is not a visit in 'visits'")
    codes = {e.etcd for e in design.elements}
    for k, path in enumerate(design.arms):
        if path.armcd not in arms:
            problems.append(f"trial_design.arms[{k}].armcd: '{path.armcd}' is not an arm of 'arms' {arms}")
        unknown = [c for c in path.elements if c not in codes]
        if unknown:
            problems.append(f"trial_design.arms[{k}].elements: {unknown} are not elements of trial_design.elements")
    missing = [a for a in arms if a not in {p.armcd for p in design.arms}]
    if missing:
        problems.append(f"trial_design.arms: arms {missing} of 'arms' have no elements")
    for k, parameter in enumerate(design.trial_summary):
        if parameter.code_ref and parameter.code_ref not in names:
            problems.append(f"trial_design.trial_summary[{k}].code_ref: '{parameter.code_ref}' ({parameter.parmcd}) "
                            f"is not a terminology of trial_design.terminologies {names}")
    return problems
