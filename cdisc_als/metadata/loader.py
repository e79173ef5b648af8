"""Dataset, variable and codelist metadata: the one source of labels, types, lengths and terminology.

Files (mappings folder): metadata/datasets.csv, metadata/variables.csv and codelists.yaml. The
loader checks everything an XPT v5 file and a define.xml will need (names <= 8 characters,
labels <= 40, ASCII, types, lengths, core, codelist references, key variables) and reports every
problem at once.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from cdisc_als.metadata.parameters import Parameters, load_parameters
from cdisc_als.resources import mappings_dir

if TYPE_CHECKING:
    from cdisc_als.study import Study

NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}")
C_CODE = re.compile(r"C\d+")
CORES = ("Req", "Exp", "Perm", "Cond")
ORIGINS = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor")


class MetadataError(ValueError):
    """The metadata files break a rule; `problems` lists every one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} metadata problem(s):\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Term:
    value: str
    c_code: str | None = None
    decode: str | None = None
    synonyms: tuple[str, ...] = ()
    extended: bool = False


@dataclass(frozen=True)
class Codelist:
    id: str
    name: str
    c_code: str | None
    extensible: bool
    sponsor: bool
    terms: tuple[Term, ...]
    complete: bool = False      # every term of the CDISC codelist is carried (checkable on any study)
    from_study: str | None = None   # terms come from the study spec: "arms" or "subgroup <VARIABLE>"

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(t.value for t in self.terms)

    def lookup(self) -> dict[str, str]:
        """Collected value (submission value, decode or synonym, case-insensitive) -> submission value."""
        table: dict[str, str] = {}
        for term in self.terms:
            for key in (term.value, term.decode, *term.synonyms):
                if key:
                    table.setdefault(key.upper(), term.value)
        return table


@dataclass(frozen=True)
class Variable:
    dataset: str
    name: str
    label: str
    type: str          # "Char" or "Num"
    length: int
    core: str
    codelist: str | None
    origin: str
    order: int


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    class_: str
    structure: str
    keys: tuple[str, ...]
    standard: str
    variables: tuple[Variable, ...] = ()

    def variable(self, name: str) -> Variable:
        for var in self.variables:
            if var.name == name:
                return var
        raise KeyError(f"{self.name}.{name} is not in the metadata")

    @property
    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


@dataclass(frozen=True)
class Metadata:
    datasets: dict[str, Dataset]
    codelists: dict[str, Codelist]
    source: Path = field(default=Path("."))
    parameters: Parameters = field(default_factory=lambda: Parameters(()))

    def dataset(self, name: str) -> Dataset:
        try:
            return self.datasets[name.upper()]
        except KeyError as exc:
            raise KeyError(f"dataset {name!r} is not in the metadata ({', '.join(self.datasets)})") from exc

    def codelist(self, codelist_id: str) -> Codelist:
        return self.codelists[codelist_id]

    def for_study(self, study: Study) -> Metadata:
        """The metadata with study-derived codelists filled: `from_study: arms` -> the arm labels in study
        order; `from_study: subgroup AGEGR1` -> that subgroup's level texts."""
        codelists = dict(self.codelists)
        for cl_id, codelist in self.codelists.items():
            if codelist.from_study:
                codelists[cl_id] = replace(codelist, terms=tuple(Term(v) for v in _study_terms(codelist, study)))
        return replace(self, codelists=codelists)

    @property
    def sdtm(self) -> list[str]:
        return [d for d, ds in self.datasets.items() if ds.standard.startswith("SDTM")]

    @property
    def adam(self) -> list[str]:
        return [d for d, ds in self.datasets.items() if ds.standard.startswith("ADaM")]


def _study_terms(codelist: Codelist, study: Study) -> list[str]:
    kind, _, name = (codelist.from_study or "").partition(" ")
    if kind == "arms":
        return [a.arm for a in study.arms]
    if kind == "armcd":
        return [a.armcd for a in study.arms]
    group = next((s for s in study.analysis.subgroups if s.variable == name), None)
    return group.levels() if group is not None else []


STUDY_SOURCES = re.compile(r"arms|armcd|subgroup [A-Z][A-Z0-9_]{0,7}")


def _ascii(text: str) -> bool:
    """Printable ASCII: no characters beyond ASCII and no control characters (NUL, tab, \\x01...)."""
    return text.isascii() and text.isprintable()


def _load_codelists(path: Path, problems: list[str]) -> dict[str, Codelist]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("codelists"), dict):
        problems.append(f"{path}: expected a top-level 'codelists' mapping")
        return {}
    out = {}
    for cl_id, node in doc["codelists"].items():
        where = f"{path}: codelists.{cl_id}"
        if isinstance(node, dict) and node.get("from_study") is not None:
            if not STUDY_SOURCES.fullmatch(str(node["from_study"])):
                problems.append(f"{where}: from_study {node['from_study']!r} must be 'arms', 'armcd' or "
                                "'subgroup <VARIABLE>'")
            node = {**node, "terms": []}
        paired = node.get("paired_with") if isinstance(node, dict) else None
        if paired is not None:
            source = doc["codelists"].get(paired)
            if not isinstance(source, dict) or not isinstance(source.get("terms"), list):
                problems.append(f"{where}: paired_with {paired!r} is not a codelist with terms")
                continue
            node = {**node, "terms": [{"value": t.get("decode") or t.get("value"), "c_code": t.get("c_code")}
                                      for t in source["terms"] if isinstance(t, dict)]}
        if not isinstance(node, dict) or not isinstance(node.get("terms"), list):
            problems.append(f"{where}: needs a 'terms' list")
            continue
        terms = []
        for i, term in enumerate(node["terms"]):
            if isinstance(term, str):
                term = {"value": term}
            if not isinstance(term, dict) or "value" not in term:
                problems.append(f"{where}.terms[{i}]: needs a 'value'")
                continue
            value = str(term["value"])
            code = term.get("c_code")
            if code is not None and not C_CODE.fullmatch(str(code)):
                problems.append(f"{where}.terms[{i}]: c_code {code!r} is not of the form C12345")
            if not _ascii(value) or len(value.encode()) > 200:
                problems.append(f"{where}.terms[{i}]: value {value!r} is not ASCII or is over 200 bytes")
            terms.append(Term(value, code, term.get("decode"), tuple(str(s) for s in term.get("synonyms", []) or []),
                              bool(term.get("extended", False))))
        values = [t.value for t in terms]
        if len(values) != len(set(values)):
            problems.append(f"{where}: duplicate term values")
        code = node.get("c_code")
        if code is not None and not C_CODE.fullmatch(str(code)):
            problems.append(f"{where}: c_code {code!r} is not of the form C12345")
        out[cl_id] = Codelist(cl_id, str(node.get("name", cl_id)), code, bool(node.get("extensible", False)),
                              bool(node.get("sponsor", False)), tuple(terms), bool(node.get("complete", False)),
                              node.get("from_study"))
    return out


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_metadata(folder: str | Path | None = None, study: Study | None = None) -> Metadata:
    """Load and check the metadata of the mappings folder (default: the project's own); with a study,
    study-derived codelists are filled and the study's parameters are checked."""
    base = Path(folder) if folder else mappings_dir()
    problems: list[str] = []
    parameters = load_parameters(base / "metadata" / "parameters.csv", problems)
    if study is not None:
        problems += parameters.check(study)
    codelists = _load_codelists(base / "codelists.yaml", problems)
    ds_path = base / "metadata" / "datasets.csv"
    var_path = base / "metadata" / "variables.csv"
    variables: dict[str, list[Variable]] = {}
    for line, row in enumerate(_read_csv(var_path), start=2):
        where = f"{var_path.name} row {line}"
        name, ds, label = row.get("variable", ""), row.get("dataset", ""), row.get("label", "")
        if not NAME.fullmatch(name):
            problems.append(f"{where}: variable name {name!r} must be 1-8 upper-case letters/digits/_ starting with a letter")
        if len(label) > 40 or not label or not _ascii(label):
            problems.append(f"{where}: {ds}.{name} label {label!r} must be 1-40 ASCII characters")
        vtype = row.get("type", "")
        if vtype not in ("Char", "Num"):
            problems.append(f"{where}: {ds}.{name} type {vtype!r} must be Char or Num")
        try:
            length = int(row.get("length", ""))
        except ValueError:
            length = 0
        if not (1 <= length <= 200) or (vtype == "Num" and length != 8):
            problems.append(f"{where}: {ds}.{name} length {row.get('length')!r} must be 1-200 (Num: 8)")
        core = row.get("core", "")
        if core not in CORES:
            problems.append(f"{where}: {ds}.{name} core {core!r} must be one of {CORES}")
        origin = row.get("origin", "")
        if origin not in ORIGINS:
            problems.append(f"{where}: {ds}.{name} origin {origin!r} must be one of {ORIGINS}")
        codelist = row.get("codelist") or None
        if codelist and codelist not in codelists:
            problems.append(f"{where}: {ds}.{name} refers to codelist {codelist!r}, not in codelists.yaml")
        variables.setdefault(ds, []).append(Variable(ds, name, label, vtype, length, core, codelist, origin,
                                                     int(row.get("order") or 0)))
    datasets = {}
    for line, row in enumerate(_read_csv(ds_path), start=2):
        where = f"{ds_path.name} row {line}"
        name = row.get("dataset", "")
        if not NAME.fullmatch(name):
            problems.append(f"{where}: dataset name {name!r} must be 1-8 upper-case letters/digits")
        label = row.get("label", "")
        if len(label) > 40 or not label or not _ascii(label):
            problems.append(f"{where}: dataset {name} label {label!r} must be 1-40 ASCII characters")
        vars_ = sorted(variables.pop(name, []), key=lambda v: v.order)
        names = [v.name for v in vars_]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"{var_path.name}: dataset {name} has duplicate variables {duplicates}")
        keys = tuple(row.get("keys", "").split())
        missing = [k for k in keys if k not in names]
        if missing:
            problems.append(f"{where}: dataset {name} key variables {missing} are not among its variables")
        if not vars_:
            problems.append(f"{where}: dataset {name} has no variables in {var_path.name}")
        datasets[name] = Dataset(name, label, row.get("class", ""), row.get("structure", ""), keys,
                                 row.get("standard", ""), tuple(vars_))
    for orphan in variables:
        problems.append(f"{var_path.name}: variables for dataset {orphan!r}, which is not in {ds_path.name}")
    if problems:
        raise MetadataError(problems)
    metadata = Metadata(datasets, codelists, base, parameters)
    return metadata.for_study(study) if study is not None else metadata


def default_metadata() -> Metadata:
    """The project's metadata for its own study spec (mappings/study.yaml): the default of callers that
    were given no metadata."""
    from cdisc_als.study import load_study

    return load_metadata(None, load_study())
