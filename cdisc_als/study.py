"""The study specification: study.yaml parsed into typed, immutable objects handed to every stage.

Every setting a stage uses lives here, stated once: arms, the visit schedule with its windows and
epochs, the month length, the time-to-event origin, survival cut-off and definition of permanent
assisted ventilation, the ALSFRS-R missing-item rule, responder thresholds, slope months,
adverse-event windows, subgroup cut points and the plausible date range. `docs/study-spec.md`
lists every key with its type, default, allowed values and the outputs it changes.

The models are pydantic v2 models (already installed as a dependency of pandera): unknown keys are
errors (`extra="forbid"`), values are checked by type and range, and cross-field rules (one baseline
visit, windows that do not overlap, visits that exist) run after the fields parse. Every problem is
collected and reported at once with its key path, the value and what is allowed
(`StudyConfigError.problems`); the CLI prints them and exits 2. YAML is read with `yaml.safe_load`
only.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, StringConstraints, ValidationError, model_validator

from cdisc_als.resources import mappings_dir
from cdisc_als.spec_base import PATTERN_TEXT, Code, Label, Name, Text
from cdisc_als.spec_base import SpecModel as _Spec
from cdisc_als.study_design import TrialDesign, design_problems


class StudyConfigError(ValueError):
    """study.yaml is not a valid study specification; `problems` lists every problem (key path: message)."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s) in the study specification:\n  "
                         + "\n  ".join(problems))


class MissingItemRule(enum.StrEnum):
    """How an ALSFRS-R total is formed when items are missing (ADSL and ADQS alike)."""

    ANY_MISSING_TOTAL_MISSING = "any_missing_total_missing"   # total missing if any of the 12 items is missing
    PRORATE_ONE = "prorate_one"                               # one missing item imputed by the mean of the other 11


class Arm(_Spec):
    """A treatment arm: DM.ARMCD/ARM, ADSL.TRT01P/TRT01PN; `raw_value` is the code the raw data carry."""

    armcd: Code
    arm: Label
    trt_code: int = Field(ge=0, le=999)
    treated: bool
    raw_value: Text | None = None

    @property
    def raw(self) -> str:
        return self.raw_value if self.raw_value is not None else self.armcd


class Visit(_Spec):
    """A scheduled visit; `month` is nominal months from the baseline visit (negative before it)."""

    visitnum: float
    visit: Label
    label: Text = ""
    month: float = Field(ge=-120, le=240)
    window_days: int = Field(ge=0, le=366)
    epoch: Label
    baseline: bool = False


class Epoch(_Spec):
    epoch: Label
    start: Text = ""
    end: Text = ""


class PermanentVentilation(_Spec):
    """Permanent assisted ventilation (PAV), an event of the ADTTE parameters whose source has a
    `PAV(...)` token: non-invasive ventilation of at least `min_hours_per_day` hours on each of at
    least `min_consecutive_days` consecutive calendar days; the event date is the first day of the
    first such run. Protocols differ (22 h/day for 7 or for 10 days are common), so it is a setting."""

    min_hours_per_day: float = Field(default=22.0, gt=0, le=24)
    min_consecutive_days: int = Field(default=7, ge=1, le=366)


class Survival(_Spec):
    """Time-to-event settings: ADTTE.STARTDT is the origin visit's date; events after the cut-off are
    censored at the cut-off; `permanent_ventilation` defines the PAV event."""

    origin_visit: Label
    cutoff_date: dt.date
    permanent_ventilation: PermanentVentilation = PermanentVentilation()


class AeWindow(_Spec):
    """An ADAE window flag: Y when the AE starts on or before the subject's `visit` (or its end of trial
    participation when it left before that visit)."""

    flag: Name
    visit: Label
    label: Text = ""


class Subgroup(_Spec):
    """An ADSL grouping variable cut from a numeric ADSL variable: `variable` holds the level text
    (e.g. '<54', '>=54'), `variable`N its number 1..k; a value equal to a cut point goes up."""

    variable: Name
    source: Name
    cuts: tuple[float, ...] = Field(min_length=1)
    label: Text = ""

    @model_validator(mode="after")
    def _increasing(self) -> Subgroup:
        if any(b <= a for a, b in zip(self.cuts, self.cuts[1:], strict=False)):
            raise ValueError(f"cuts must increase strictly, got {self.cuts}")
        if len(self.variable) > 7:
            raise ValueError(f"variable '{self.variable}' must have at most 7 characters (its numeric "
                             f"companion '{self.variable}N' must fit 8)")
        return self

    def levels(self) -> list[str]:
        """Level texts in order: '<c1', '>=c1 to <c2', ..., '>=ck' (cut points printed as given)."""
        cuts = [f"{c:g}" for c in self.cuts]
        if len(cuts) == 1:
            return [f"<{cuts[0]}", f">={cuts[0]}"]
        middle = [f">={a} to <{b}" for a, b in zip(cuts, cuts[1:], strict=False)]
        return [f"<{cuts[0]}", *middle, f">={cuts[-1]}"]


class Analysis(_Spec):
    alsfrs_missing_item_rule: MissingItemRule = MissingItemRule.ANY_MISSING_TOTAL_MISSING
    responder_thresholds: tuple[float, ...] = Field(default=(50.0, 75.0, 100.0), min_length=1, max_length=9)
    slope_months: tuple[float, ...] = (4.0, 6.0)
    ae_windows: tuple[AeWindow, ...] = ()
    subgroups: tuple[Subgroup, ...] = ()

    @model_validator(mode="after")
    def _checks(self) -> Analysis:
        if any(b <= a for a, b in zip(self.responder_thresholds, self.responder_thresholds[1:], strict=False)):
            raise ValueError(f"responder_thresholds must increase strictly, got {self.responder_thresholds}")
        if any(m <= 0 for m in self.slope_months) or len(set(self.slope_months)) != len(self.slope_months):
            raise ValueError(f"slope_months must be distinct months after baseline (> 0), got {self.slope_months}")
        for name, items in (("ae_windows", [w.flag for w in self.ae_windows]),
                            ("subgroups", [s.variable for s in self.subgroups])):
            if len(set(items)) != len(items):
                raise ValueError(f"{name}: duplicate names {items}")
        return self


class PlausibleDates(_Spec):
    """Collected dates outside [earliest, latest] are implausible (a warning; analysis windows ignore them)."""

    earliest: dt.date = dt.date(1900, 1, 1)
    latest: dt.date | None = None

    @model_validator(mode="after")
    def _order(self) -> PlausibleDates:
        if self.latest is not None and self.latest <= self.earliest:
            raise ValueError(f"latest ({self.latest}) must be after earliest ({self.earliest})")
        return self


class Study(_Spec):
    """Everything a stage needs to know about the study, from study.yaml."""

    study_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,19}$")]
    title: Text = ""
    registry_id: Text = ""
    sponsor: Text = ""
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    site_ids: tuple[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,10}$")], ...] = Field(min_length=1)
    usubjid_pattern: Text = "{study_id}-{site_id}-{subject_id}"
    arms: tuple[Arm, ...] = Field(min_length=1)
    visits: tuple[Visit, ...] = Field(min_length=1)
    epochs: tuple[Epoch, ...] = Field(min_length=1)
    month_length_days: float = Field(default=30.4375, ge=28, le=31)
    survival: Survival
    analysis: Analysis = Analysis()
    plausible_dates: PlausibleDates = PlausibleDates()
    trial_design: TrialDesign | None = None
    reference_outputs: Path | None = None      # reference file to reconcile the outputs with (optional)
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _sorted_visits(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("visits"), list):
            visits = data["visits"]
            if all(isinstance(v, dict) and isinstance(v.get("visitnum"), int | float) for v in visits):
                data = {**data, "visits": sorted(visits, key=lambda v: v["visitnum"])}
        return data

    @model_validator(mode="after")
    def _cross_checks(self) -> Study:
        problems = _cross_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -- lookups ---------------------------------------------------------------------------------
    def arm(self, armcd: str) -> Arm:
        for arm in self.arms:
            if arm.armcd == armcd:
                return arm
        raise KeyError(f"unknown arm code {armcd!r}; study.yaml defines {[a.armcd for a in self.arms]}")

    def visit(self, name: str) -> Visit:
        for visit in self.visits:
            if visit.visit == name:
                return visit
        raise KeyError(f"unknown visit {name!r}; study.yaml defines {[v.visit for v in self.visits]}")

    def visit_at_month(self, month: float) -> Visit | None:
        return next((v for v in self.visits if v.month == month), None)

    @property
    def baseline_visit(self) -> Visit:
        return next(v for v in self.visits if v.baseline)

    @property
    def first_visit(self) -> Visit:
        return self.visits[0]

    @property
    def survival_cutoff(self) -> dt.date:
        return self.survival.cutoff_date

    @property
    def survival_origin(self) -> Visit:
        return self.visit(self.survival.origin_visit)

    @property
    def plausible_latest(self) -> dt.date:
        return self.plausible_dates.latest or self.survival.cutoff_date

    def target_day(self, visit: Visit) -> int:
        """Nominal study day of a visit: month x month length (rounded half up) from the baseline
        visit, day 1 being the baseline visit's day (no day 0)."""
        days = _round_half_up(visit.month * self.month_length_days)
        return days + 1 if visit.month >= 0 else days

    def months(self, days: Any) -> Any:
        """Days -> months of `month_length_days` (scalars, numpy arrays or pandas Series)."""
        return days / self.month_length_days

    def usubjid(self, site_id: str, subject_id: str) -> str:
        return self.usubjid_pattern.format(study_id=self.study_id, site_id=site_id, subject_id=subject_id)


def _round_half_up(value: float) -> int:
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def _cross_problems(study: Study) -> list[str]:
    """Rules between fields (each message starts with the key path)."""
    problems = []
    for key, values in (("arms: armcd", [a.armcd for a in study.arms]), ("arms: arm", [a.arm for a in study.arms]),
                        ("arms: trt_code", [a.trt_code for a in study.arms]),
                        ("arms: raw_value", [a.raw for a in study.arms]),
                        ("visits: visit", [v.visit for v in study.visits]),
                        ("visits: visitnum", [v.visitnum for v in study.visits]),
                        ("epochs: epoch", [e.epoch for e in study.epochs])):
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            problems.append(f"{key}: duplicate value(s) {duplicates}")
    baselines = [v.visit for v in study.visits if v.baseline]
    if len(baselines) != 1:
        problems.append(f"visits: exactly one visit must have 'baseline: true', found {len(baselines)} {baselines}")
    elif study.baseline_visit.month != 0:
        problems.append(f"visits: the baseline visit {study.baseline_visit.visit} must have month 0, "
                        f"got {study.baseline_visit.month:g}")
    epochs = {e.epoch for e in study.epochs}
    for k, v in enumerate(study.visits):
        if v.epoch not in epochs:
            problems.append(f"visits[{k}].epoch: '{v.epoch}' of {v.visit} is not listed under 'epochs' {sorted(epochs)}")
    months = [v.month for v in study.visits]
    if months != sorted(months):
        problems.append("visits: nominal months must increase with visitnum, got "
                        + ", ".join(f"{v.visit}={v.month:g}" for v in study.visits))
    spans = [(study.target_day(v) - v.window_days, study.target_day(v) + v.window_days, v) for v in study.visits]
    for (lo1, hi1, a), (lo2, _hi2, b) in zip(spans, spans[1:], strict=False):
        if lo2 <= hi1:
            problems.append(f"visits: the windows of {a.visit} (days {lo1} to {hi1}) and {b.visit} "
                            f"(from day {lo2}) overlap; shorten window_days")
    names = {v.visit for v in study.visits}
    if study.survival.origin_visit not in names:
        problems.append(f"survival.origin_visit: '{study.survival.origin_visit}' is not a visit in 'visits' "
                        f"{[v.visit for v in study.visits]}")
    for k, window in enumerate(study.analysis.ae_windows):
        if window.visit not in names:
            problems.append(f"analysis.ae_windows[{k}].visit: '{window.visit}' is not a visit in 'visits'")
    for month in study.analysis.slope_months:
        if study.visit_at_month(month) is None:
            problems.append(f"analysis.slope_months: no visit has month {month:g} (months: "
                            f"{[f'{m:g}' for m in months]})")
    latest = study.plausible_latest
    if not study.plausible_dates.earliest < study.survival.cutoff_date <= latest:
        problems.append(f"survival.cutoff_date: {study.survival.cutoff_date} must lie in the plausible date range "
                        f"{study.plausible_dates.earliest} to {latest}")
    problems += design_problems(study.trial_design, [a.armcd for a in study.arms], [v.visit for v in study.visits],
                                [e.epoch for e in study.epochs])
    try:
        study.usubjid(study.site_ids[0], "001")
    except (KeyError, IndexError, ValueError) as exc:
        problems.append(f"usubjid_pattern: '{study.usubjid_pattern}' may use only {{study_id}}, {{site_id}} and "
                        f"{{subject_id}} ({exc})")
    return problems


def _format_error(error: dict[str, Any]) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key (misspelt, or not a setting of this version)"
    elif error["type"] == "missing":
        message = "missing key"
    elif error["type"] == "string_pattern_mismatch":
        message = PATTERN_TEXT.get(error["ctx"]["pattern"], f"must match {error['ctx']['pattern']}")
    elif error["type"] == "enum":
        message = f"must be one of {error['ctx']['expected']}"
    message = re.sub(r"^Value error, ", "", message)
    value = error.get("input")
    shown = "" if error["type"] in ("missing", "model_type") or isinstance(value, dict | list) else f" (got {value!r})"
    return f"{path or '(top level)'}: {message}{shown}"


def parse_study(doc: Any, source: str = "study.yaml") -> Study:
    """A Study from a parsed YAML document; every problem at once in a StudyConfigError."""
    if not isinstance(doc, dict):
        raise StudyConfigError(source, ["(top level): must be a mapping of keys"])
    try:
        return Study.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            if error["type"] == "value_error" and not error["loc"]:
                problems += error["msg"].removeprefix("Value error, ").split("\n")
            else:
                problems.append(_format_error(error))
        raise StudyConfigError(source, problems) from None


def load_study(path: str | Path | None = None) -> Study:
    """Read and check study.yaml (default: the project's mappings/study.yaml)."""
    path = Path(path) if path else mappings_dir() / "study.yaml"
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyConfigError(where, ["file not found"]) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise StudyConfigError(where, [f"cannot be read as UTF-8 text: {exc}"]) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StudyConfigError(where, [f"not valid YAML: {exc}"]) from None
    study = parse_study(doc, where)
    reference = study.reference_outputs
    if reference is not None and not reference.is_absolute():
        reference = path.parent / reference           # relative to the study.yaml's folder
    return study.model_copy(update={"source": path, "reference_outputs": reference})
