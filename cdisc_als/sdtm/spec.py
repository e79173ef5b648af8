"""Domain mapping specs (mappings/sdtm/<DOMAIN>.yaml): loaded with yaml.safe_load and checked.

A spec names its domain, one or more raw sources (table, optional `where` condition, optional
`unless_subject_in` {table, where} that skips the rows of subjects with a matching row in another raw
table, optional `transpose` of wide columns into one record each, one rule per target variable,
optional `supp` qualifiers) and the derivations to run afterwards (`derive`: seq, study_day, epoch,
lobxfl, dm_reference, visit_date, participation_end) and the record order (`sort`). Every problem is
reported with file and key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cdisc_als.findings import CONTROL, printable
from cdisc_als.io import read_yaml
from cdisc_als.metadata import Metadata
from cdisc_als.sdtm.conditions import ConditionError, check_condition
from cdisc_als.sdtm.rules import REQUIRED, RULES

DERIVATIONS = ("seq", "study_day", "epoch", "lobxfl", "dm_reference", "visit_date", "participation_end")


class MappingSpecError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} mapping spec problem(s):\n  " + "\n  ".join(problems))


@dataclass
class Source:
    table: str
    variables: dict[str, dict[str, Any]]
    where: dict[str, Any] | None = None
    transpose: dict[str, Any] | None = None
    supp: list[dict[str, Any]] = field(default_factory=list)
    unless_subject_in: dict[str, Any] | None = None


@dataclass
class DomainSpec:
    domain: str
    sources: list[Source]
    derive: dict[str, Any]
    sort: list[str]
    path: Path
    parameters: list[dict[str, Any]] = field(default_factory=list)


def _check_rule(rule: Any, where: str, problems: list[str]) -> None:
    if not isinstance(rule, dict) or rule.get("rule") not in RULES:
        problems.append(f"{where}: needs 'rule' set to one of {', '.join(RULES)}")
        return
    for key in REQUIRED[rule["rule"]]:
        if key not in rule:
            problems.append(f"{where}: rule '{rule['rule']}' needs '{key}'")
    if rule["rule"] == "condition":
        try:
            check_condition(rule.get("when"), f"{where}.when")
        except ConditionError as exc:
            problems.append(str(exc))
        _check_rule(rule.get("then"), f"{where}.then", problems)
        if rule.get("else") is not None:
            _check_rule(rule["else"], f"{where}.else", problems)


def _control_characters(node: Any, where: str) -> list[str]:
    """Every text of the spec holding a control character (NUL, tab, line break, \\x01...), by key path:
    such text would reach XPT, XML and RTF outputs."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _control_characters(k, where) + _control_characters(v, f"{where}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _control_characters(v, f"{where}[{i}]")]
    if isinstance(node, str) and CONTROL.search(node):
        return [f"{where}: '{printable(node)}' contains a control character"]
    return []


def load_domain_spec(path: Path, metadata: Metadata, raw_tables: set[str] | None = None) -> DomainSpec:
    """Read one domain spec and check rules, conditions and target variables against the metadata."""
    problems: list[str] = []
    try:
        doc = read_yaml(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingSpecError([f"{path.name}: cannot be read as UTF-8 text: {exc}"]) from exc
    except yaml.YAMLError as exc:
        raise MappingSpecError([f"{path.name}: not valid YAML: {exc}"]) from exc
    if not isinstance(doc, dict) or "domain" not in doc or not isinstance(doc.get("sources"), list):
        raise MappingSpecError([f"{path.name}: needs 'domain' and a 'sources' list"])
    problems += _control_characters(doc, path.name)
    domain = str(doc["domain"]).upper()
    dataset_name = str(doc.get("dataset", domain)).upper()
    try:
        dataset = metadata.dataset(dataset_name)
    except KeyError:
        raise MappingSpecError([f"{path.name}: dataset {dataset_name} is not in the metadata"]) from None
    known = set(dataset.variable_names)
    sources = []
    for i, node in enumerate(doc["sources"]):
        where = f"{path.name}: sources[{i}]"
        if not isinstance(node, dict) or "table" not in node or not isinstance(node.get("variables"), dict):
            problems.append(f"{where}: needs 'table' and a 'variables' mapping")
            continue
        if raw_tables is not None and node["table"] not in raw_tables:
            problems.append(f"{where}: table {node['table']!r} is not in the raw data model")
        for var, rule in node["variables"].items():
            if var not in known:
                problems.append(f"{where}.variables.{var}: not a variable of {dataset_name} in the metadata")
            _check_rule(rule, f"{where}.variables.{var}", problems)
        if node.get("where") is not None:
            try:
                check_condition(node["where"], f"{where}.where")
            except ConditionError as exc:
                problems.append(str(exc))
        unless = node.get("unless_subject_in")
        if unless is not None:
            if not isinstance(unless, dict) or "table" not in unless or set(unless) - {"table", "where"}:
                problems.append(f"{where}.unless_subject_in: needs 'table' and optionally 'where'")
            else:
                if raw_tables is not None and unless["table"] not in raw_tables:
                    problems.append(f"{where}.unless_subject_in: table {unless['table']!r} is not in the raw data model")
                if unless.get("where") is not None:
                    try:
                        check_condition(unless["where"], f"{where}.unless_subject_in.where")
                    except ConditionError as exc:
                        problems.append(str(exc))
        transpose = node.get("transpose")
        if transpose is not None and (not isinstance(transpose, dict) or not isinstance(transpose.get("columns"), list)):
            problems.append(f"{where}.transpose: needs a 'columns' list")
        for j, supp in enumerate(node.get("supp", []) or []):
            if not isinstance(supp, dict) or not {"qnam", "qlabel", "value"} <= set(supp):
                problems.append(f"{where}.supp[{j}]: needs qnam, qlabel and value (a rule)")
                continue
            if len(str(supp["qnam"])) > 8 or len(str(supp["qlabel"])) > 40:
                problems.append(f"{where}.supp[{j}]: qnam <= 8 and qlabel <= 40 characters")
            _check_rule(supp["value"], f"{where}.supp[{j}].value", problems)
        sources.append(Source(node["table"], node["variables"], node.get("where"), transpose, node.get("supp") or [],
                              unless))
    derive = doc.get("derive") or {}
    for name in derive:
        if name not in DERIVATIONS:
            problems.append(f"{path.name}: derive.{name} is not one of {', '.join(DERIVATIONS)}")
    sort = [str(s) for s in doc.get("sort", [])]
    if problems:
        raise MappingSpecError(problems)
    parameters = doc.get("parameters") or []
    if not isinstance(parameters, list) or any(not isinstance(p, dict) for p in parameters):
        raise MappingSpecError([f"{path.name}: 'parameters' must be a list of mappings"])
    return DomainSpec(dataset_name, sources, derive, sort, path, parameters)


def load_domain_specs(folder: Path, metadata: Metadata, raw_tables: set[str] | None = None) -> list[DomainSpec]:
    """Every <DOMAIN>.yaml of a folder, DM first (the other domains need its reference dates)."""
    specs, problems = [], []
    for path in sorted(folder.glob("*.yaml")):
        try:
            specs.append(load_domain_spec(path, metadata, raw_tables))
        except MappingSpecError as exc:
            problems += exc.problems
    if problems:
        raise MappingSpecError(problems)
    return sorted(specs, key=lambda s: (s.domain != "DM", s.domain != "SV", s.domain))
