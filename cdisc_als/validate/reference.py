"""Standard facts the rules need, read from the metadata folder (never typed into rule code).

- metadata/domains.csv: the SDTMIG domains with their general observation class, the variables
  that identify a record (rows with an empty domain give the default of a class; '--' stands for
  the domain prefix), whether results carry units, whether a baseline is expected, and whether the
  domain holds history (events before the study), and whether FDA expects EPOCH in it.
- metadata/unitless_tests.csv: tests whose numeric results have no unit (pH, specific gravity).
- metadata/ts_parameters.csv: the Trial Summary parameters FDA's Technical Conformance Guide and
  the SDTMIG expect, with their conditions, value formats and expected dictionaries.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from cdisc_als.resources import mappings_dir


@dataclass(frozen=True)
class DomainInfo:
    domain: str
    cls: str
    record_key: tuple[str, ...]
    unit_results: bool
    baseline_expected: bool
    history: bool
    epoch_expected: bool


@dataclass(frozen=True)
class TsParameter:
    code: str
    when: tuple[tuple[str, tuple[str, ...]], ...]   # (TSPARMCD, accepted TSVAL values) all of which must hold
    optional: bool
    severity: str
    missing_p21: str
    value_format: str
    format_p21: str
    single_p21: str
    vcdref: tuple[str, ...]
    vcdref_p21: str


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _condition(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    parts = []
    for clause in filter(None, text.split(";")):
        code, _, values = clause.partition("=")
        parts.append((code.strip(), tuple(v.strip() for v in values.split("|"))))
    return tuple(parts)


@dataclass(frozen=True)
class Reference:
    domains: dict[str, DomainInfo] = field(default_factory=dict)
    class_defaults: dict[str, DomainInfo] = field(default_factory=dict)
    unitless: frozenset[tuple[str, str]] = frozenset()
    ts_parameters: tuple[TsParameter, ...] = ()

    @classmethod
    def load(cls, folder: str | Path | None = None) -> Reference:
        base = mappings_dir(folder) / "metadata"
        domains, defaults = {}, {}
        for row in _rows(base / "domains.csv"):
            info = DomainInfo(row["domain"], row["class"], tuple(row["record_key"].split()),
                              row["unit_results"] == "Y", row["baseline_expected"] == "Y", row["history"] == "Y",
                              row.get("epoch_expected", "Y") == "Y")
            (domains if row["domain"] else defaults)[row["domain"] or row["class"]] = info
        unitless = frozenset((r["domain"], r["testcd"]) for r in _rows(base / "unitless_tests.csv"))
        ts = tuple(TsParameter(r["tsparmcd"], _condition("" if r["when"] == "optional" else r["when"]),
                               r["when"] == "optional", r["severity"] or "error", r["missing_p21"],
                               r["value_format"], r["format_p21"], r["single_p21"],
                               tuple(filter(None, r["vcdref"].split("|"))), r["vcdref_p21"])
                   for r in _rows(base / "ts_parameters.csv"))
        return cls(domains, defaults, unitless, ts)

    def info(self, domain: str) -> DomainInfo | None:
        return self.domains.get(domain)

    def domain_class(self, domain: str) -> str:
        info = self.domains.get(domain)
        return info.cls if info else ""

    def record_key(self, domain: str, cls: str = "") -> list[str]:
        """The variables identifying a record of the domain ('--' replaced by the domain prefix)."""
        info = self.domains.get(domain)
        key = info.record_key if info and info.record_key else ()
        if not key:
            default = self.class_defaults.get(cls or (info.cls if info else ""))
            key = default.record_key if default else ()
        return [k.replace("--", domain) for k in key]

    def flag(self, domain: str, name: str) -> bool:
        info = self.domains.get(domain)
        return bool(info and getattr(info, name))
