"""The Study object: study.yaml parsed and checked, handed to every stage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cdisc_als.resources import mappings_dir


class StudyConfigError(ValueError):
    """study.yaml is missing a key or holds a value of the wrong kind."""


@dataclass(frozen=True)
class Arm:
    armcd: str
    arm: str
    trt_code: int
    treated: bool


@dataclass(frozen=True)
class Visit:
    visitnum: float
    visit: str
    label: str
    month: float
    window_days: int
    epoch: str
    baseline: bool = False


@dataclass(frozen=True)
class Study:
    """Everything a stage needs to know about the study, from study.yaml."""

    study_id: str
    title: str
    registry_id: str
    country: str
    arms: tuple[Arm, ...]
    visits: tuple[Visit, ...]
    epochs: tuple[str, ...]
    month_length_days: float
    survival_cutoff: dt.date
    survival_origin_visit: str
    age_cut: int
    usubjid_pattern: str
    source: Path
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    reference_outputs: Path | None = None     # reference file to reconcile the outputs with (optional)

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

    @property
    def baseline_visit(self) -> Visit:
        return next(v for v in self.visits if v.baseline)

    def usubjid(self, site_id: str, subject_id: str) -> str:
        return self.usubjid_pattern.format(study_id=self.study_id, site_id=site_id, subject_id=subject_id)


def _require(node: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(node, dict) or key not in node:
        raise StudyConfigError(f"{where}: missing key '{key}'")
    value = node[key]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in _as_tuple(kind):
        names = "/".join(k.__name__ for k in _as_tuple(kind))
        raise StudyConfigError(f"{where}: key '{key}' must be {names}, got {value!r}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _parse_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise StudyConfigError(f"{where}: '{value}' is not an ISO 8601 date (YYYY-MM-DD)") from exc


def load_study(path: str | Path | None = None) -> Study:
    """Read and check study.yaml (default: the project's mappings/study.yaml)."""
    path = Path(path) if path else mappings_dir() / "study.yaml"
    where = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StudyConfigError(f"{where}: file not found") from exc
    except yaml.YAMLError as exc:
        raise StudyConfigError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise StudyConfigError(f"{where}: top level must be a mapping of keys")

    arms = []
    for i, node in enumerate(_require(doc, "arms", list, where)):
        at = f"{where}: arms[{i}]"
        arms.append(Arm(_require(node, "armcd", str, at), _require(node, "arm", str, at),
                        _require(node, "trt_code", int, at), _require(node, "treated", bool, at)))
    if len({a.armcd for a in arms}) != len(arms):
        raise StudyConfigError(f"{where}: arms: duplicate armcd")

    visits = []
    for i, node in enumerate(_require(doc, "visits", list, where)):
        at = f"{where}: visits[{i}]"
        visits.append(Visit(
            visitnum=float(_require(node, "visitnum", (int, float), at)),
            visit=_require(node, "visit", str, at),
            label=str(node.get("label", "")),
            month=float(_require(node, "month", (int, float), at)),
            window_days=_require(node, "window_days", int, at),
            epoch=_require(node, "epoch", str, at),
            baseline=bool(node.get("baseline", False)),
        ))
    if sum(v.baseline for v in visits) != 1:
        raise StudyConfigError(f"{where}: visits: exactly one visit must have 'baseline: true'")
    if len({v.visit for v in visits}) != len(visits) or len({v.visitnum for v in visits}) != len(visits):
        raise StudyConfigError(f"{where}: visits: duplicate visit name or visitnum")

    epochs = tuple(_require(e, "epoch", str, f"{where}: epochs[{i}]")
                   for i, e in enumerate(_require(doc, "epochs", list, where)))
    for v in visits:
        if v.epoch not in epochs:
            raise StudyConfigError(f"{where}: visits: {v.visit} has epoch '{v.epoch}' not listed under 'epochs'")

    refs = _require(doc, "reference_dates", dict, where)
    month_len = float(_require(refs, "month_length_days", (int, float), f"{where}: reference_dates"))
    surv = _require(doc, "survival", dict, where)
    cutoff = _parse_date(_require(surv, "cutoff_date", (str, dt.date), f"{where}: survival"),
                         f"{where}: survival.cutoff_date")
    origin = _require(surv, "origin_visit", str, f"{where}: survival")
    if origin not in {v.visit for v in visits}:
        raise StudyConfigError(f"{where}: survival.origin_visit '{origin}' is not a visit in 'visits'")
    analysis = doc.get("analysis", {}) or {}
    reference_outputs = doc.get("reference_outputs")
    if reference_outputs is not None and not isinstance(reference_outputs, str):
        raise StudyConfigError(f"{where}: key 'reference_outputs' must be a file path, got {reference_outputs!r}")

    return Study(
        study_id=_require(doc, "study_id", str, where),
        title=str(doc.get("title", "")),
        registry_id=str(doc.get("registry_id", "")),
        country=_require(doc, "country", str, where),
        arms=tuple(arms),
        visits=tuple(sorted(visits, key=lambda v: v.visitnum)),
        epochs=epochs,
        month_length_days=month_len,
        survival_cutoff=cutoff,
        survival_origin_visit=origin,
        age_cut=int(analysis.get("age_cut", 54)),
        usubjid_pattern=str(doc.get("usubjid_pattern", "{study_id}-{site_id}-{subject_id}")),
        source=path,
        raw=doc,
        reference_outputs=path.parent / reference_outputs if reference_outputs else None,
    )
