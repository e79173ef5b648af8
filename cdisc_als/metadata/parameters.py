"""ADaM parameters: mappings/metadata/parameters.csv, the one source of PARAMCD, PARAM, PARCAT1, unit,
source and derivation text, read by ADaM (PARAM/PARCAT1 of every record), define.xml (methods and
value-level metadata) and the TLF catalogue.

Columns: dataset, paramcd, param, parcat1, unit, source, derivation. Placeholders, filled from the
study specification when the parameters of a study are resolved:
  {m}        one parameter per month of study.yaml analysis.slope_months (e.g. ALSR1SF{m} -> ALSR1SF4)
  {origin}   the time-to-event origin visit, "<label> (<visit>)" (PARAM and derivation only)
PARAMN is the parameter's position among its dataset's resolved parameters.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdisc_als.study import Study

COLUMNS = ("dataset", "paramcd", "param", "parcat1", "unit", "source", "derivation")
PARAMCD = re.compile(r"[A-Z][A-Z0-9]{0,7}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Parameter:
    dataset: str
    paramcd: str
    param: str
    parcat1: str = ""
    unit: str = ""
    source: str = ""
    derivation: str = ""

    @property
    def per_month(self) -> bool:
        return "{m}" in self.paramcd


@dataclass(frozen=True)
class Parameters:
    """The parameters of parameters.csv (templates unexpanded) and their resolution for one study."""

    items: tuple[Parameter, ...]
    source: Path | None = None

    def resolve(self, dataset: str, study: Study) -> dict[str, Parameter]:
        """PARAMCD -> Parameter for one dataset, placeholders filled from the study, in file order."""
        origin = study.survival_origin
        origin_text = f"{origin.label} ({origin.visit})" if origin.label else origin.visit
        out: dict[str, Parameter] = {}
        for item in self.items:
            if item.dataset != dataset.upper():
                continue
            months = study.analysis.slope_months if item.per_month else (None,)
            for month in months:
                fill = {"m": f"{month:g}" if month is not None else "", "origin": origin_text}
                resolved = replace(item, **{k: _fill(getattr(item, k), fill)
                                            for k in ("paramcd", "param", "source", "derivation")})
                out[resolved.paramcd] = resolved
        return out

    def check(self, study: Study) -> list[str]:
        """Problems of the resolved parameters of a study (PARAMCD over 8 characters, PARAM over 200)."""
        problems = []
        for dataset in sorted({p.dataset for p in self.items}):
            for code, item in self.resolve(dataset, study).items():
                if not PARAMCD.fullmatch(code):
                    problems.append(f"parameters.csv: {dataset} PARAMCD {code!r} (from the study's slope months) must "
                                    "be 1-8 upper-case letters or digits; shorten the code in parameters.csv")
                if len(item.param) > 200:
                    problems.append(f"parameters.csv: {dataset} {code} PARAM is over 200 characters")
        return problems

    def datasets(self) -> list[str]:
        return list(dict.fromkeys(p.dataset for p in self.items))


def _fill(text: str, values: dict[str, str]) -> str:
    return text.replace("{m}", values["m"]).replace("{origin}", values["origin"])


def load_parameters(path: Path, problems: list[str]) -> Parameters:
    """Read parameters.csv; problems (file row: message) are appended to `problems`."""
    if not path.is_file():
        return Parameters((), None)
    items = []
    seen: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            problems.append(f"{path.name}: missing column(s) {missing}; expected {list(COLUMNS)}")
            return Parameters((), path)
        for line, row in enumerate(reader, start=2):
            where = f"{path.name} row {line}"
            values = {c: (row.get(c) or "").strip() for c in COLUMNS}
            bad = [c for c, v in values.items() if CONTROL.search(v) or not v.isascii()]
            if bad:
                problems.append(f"{where}: column(s) {bad} hold control or non-ASCII characters")
            template = values["paramcd"].replace("{m}", "0")
            if not PARAMCD.fullmatch(template):
                problems.append(f"{where}: paramcd {values['paramcd']!r} must be 1-8 upper-case letters or digits "
                                "(optionally with the {m} placeholder)")
            if not values["param"]:
                problems.append(f"{where}: {values['paramcd']} has no param text")
            if "{m}" in values["paramcd"] and "{m}" not in values["param"]:
                problems.append(f"{where}: {values['paramcd']} is per slope month but its param has no {{m}}")
            key = (values["dataset"].upper(), values["paramcd"])
            if key in seen:
                problems.append(f"{where}: duplicate parameter {key[0]}.{key[1]}")
            seen.add(key)
            items.append(Parameter(values["dataset"].upper(), values["paramcd"], values["param"], values["parcat1"],
                                   values["unit"], values["source"], values["derivation"]))
    return Parameters(tuple(items), path)
