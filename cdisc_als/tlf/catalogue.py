"""The output catalogue (mappings/tlf/*.yaml): the whole definition of every table, figure and listing.

Loading checks the catalogue's form (keys, row types, statistics, filters, ids) and, given the
data, its content (datasets in any case, variables, arm codes, levels present); every problem is
collected and reported at once with the output id and row, as CatalogueError (the CLI exits 2).
Problems that do not stop an output (an arm or a listed level absent from the data) are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cdisc_als.resources import mappings_dir
from cdisc_als.sdtm.conditions import ConditionError
from cdisc_als.tlf.context import SUBJECT, numeric_companion
from cdisc_als.tlf.filters import condition_columns, distinct_number_texts, to_condition
from cdisc_als.tlf.rows import COMMON_ROW_KEYS, load_row_types

TOP_KEYS = {"outputs", "defaults", "data_cutoff", "program"}
OUTPUT_KEYS = {"id", "kind", "number", "title", "population", "population_label", "dataset", "treatment", "arms",
               "footnotes", "percent_decimals", "percent"}
TABLE_KEYS = OUTPUT_KEYS | {"rows", "total", "test_column", "difference", "columns", "denominator", "test",
                            "time_unit", "test_label", "difference_label"}
LISTING_KEYS = (OUTPUT_KEYS - {"treatment", "arms", "percent_decimals", "percent"}) | {"columns", "sort", "where"}
FIGURE_KEYS = {
    "km": {"where", "time_unit", "tick_every", "x_label", "pvalue", "strata"},
    "forest": {"where", "subgroups", "estimate", "reference", "x_label", "tau"},
    "mean_over_visits": {"where", "variable", "x", "x_label", "y_label", "error", "fit", "panel_by", "visits", "test"},
    "scatter": {"x", "y", "group", "x_label", "y_label"},
    "trajectories": {"where", "variable", "time", "origin", "death", "time_unit", "max_time", "x_label", "y_label"},
}
FIGURE_REQUIRED = {"trajectories": ("variable",)}
RESERVED_ROW_IDS = {"POPULATION"}


class CatalogueError(ValueError):
    """The catalogue has problems; `problems` lists every one (output id and row named)."""

    def __init__(self, problems: list[str], source: str = "catalogue"):
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} catalogue problem(s):\n  " + "\n  ".join(problems))


@dataclass
class Catalogue:
    outputs: list[dict[str, Any]]
    source: Path
    defaults: dict[str, Any] = field(default_factory=dict)
    data_cutoff: str = ""
    program: str = ""
    warnings: list[str] = field(default_factory=list)

    def output(self, output_id: str) -> dict[str, Any]:
        return next(o for o in self.outputs if o["id"] == output_id)


def _where(output: dict, row: dict | None = None) -> str:
    text = f"output {output.get('id', '?')}"
    return text + (f", row {row.get('id', '?')}" if row is not None else "")


def _unknown(node: dict, allowed: set[str], where: str) -> list[str]:
    return [f"{where}: unknown key '{k}' (allowed: {', '.join(sorted(allowed))})" for k in node if k not in allowed]


def _check_filter(spec: Any, where: str, problems: list[str]) -> None:
    try:
        to_condition(spec, where)
    except ConditionError as exc:
        problems.append(str(exc))


def _check_row(output: dict, row: Any, ids: set[str], problems: list[str]) -> None:
    types = load_row_types()
    if not isinstance(row, dict):
        problems.append(f"{_where(output)}: a row must be a mapping, got {row!r}")
        return
    where = _where(output, row)
    if "id" not in row:
        problems.append(f"{where}: a row needs an 'id'")
    elif row["id"] in ids or row["id"] in RESERVED_ROW_IDS:
        problems.append(f"{where}: row id '{row['id']}' is used twice or reserved")
    ids.add(row.get("id"))
    kind = row.get("type")
    if kind not in types:
        problems.append(f"{where}: unknown row type {kind!r} (known: {', '.join(sorted(types))})")
        return
    spec = types[kind]
    problems += _unknown(row, set(COMMON_ROW_KEYS | spec.keys), where)
    problems += [f"{where}: row type '{kind}' needs '{k}'" for k in spec.required if k not in row]
    stats = row.get("stats", [])
    if not isinstance(stats, list):
        problems.append(f"{where}: 'stats' must be a list")
    else:
        problems += [f"{where}: unknown statistic '{s}' for a {kind} row (known: {', '.join(sorted(spec.statistics))})"
                     for s in stats if s not in spec.statistics]
    if spec.check is not None:
        problems += [f"{where}: {problem}" for problem in spec.check(row)]
    _check_filter(row.get("where"), f"{where}: where", problems)
    for axis in ("x", "y", "group"):
        if isinstance(row.get(axis), dict):
            _check_filter(row[axis].get("where"), f"{where}: {axis}.where", problems)


def check_form(doc: Any, source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Outputs of a parsed catalogue and every problem of its form."""
    if not isinstance(doc, dict) or not isinstance(doc.get("outputs"), list):
        return [], [f"{source}: the catalogue needs a top-level 'outputs:' list"]
    problems = _unknown(doc, TOP_KEYS, "catalogue")
    if not isinstance(doc.get("defaults") or {}, dict):
        problems.append("catalogue: 'defaults' must be a mapping")
    else:
        problems += _unknown(doc.get("defaults") or {}, TABLE_KEYS - {"id", "rows", "title", "number"}, "defaults")
    outputs, seen = [], set()
    for k, output in enumerate(doc["outputs"]):
        if not isinstance(output, dict):
            problems.append(f"outputs[{k}]: an output must be a mapping")
            continue
        where = _where(output)
        if "id" not in output:
            problems.append(f"outputs[{k}]: an output needs an 'id'")
        elif output["id"] in seen:
            problems.append(f"{where}: id used twice")
        seen.add(output.get("id"))
        kind = output.get("kind", "table")
        if kind == "table":
            problems += _unknown(output, TABLE_KEYS, where)
            ids: set[str] = set()
            rows = output.get("rows")
            if not isinstance(rows, list) or not rows:
                problems.append(f"{where}: a table needs a non-empty 'rows' list")
                rows = []
            for row in rows:
                _check_row(output, row, ids, problems)
            kinds = [load_row_types().get(r.get("type")) for r in rows if isinstance(r, dict)]
            known = [k for k in kinds if k is not None]
            custom = [k.name for k in known if k.custom_columns]
            own_headers = len({k.name for k in known}) == 1 and known[0].headers is not None
            if own_headers and len({repr(r.get("levels")) for r in rows}) > 1:
                problems.append(f"{where}: the rows of a {known[0].name} table print the same columns: give them "
                                f"the same 'levels'")
            if custom and (len(custom) != len(rows) or not (output.get("columns") or own_headers)):
                problems.append(f"{where}: rows of type {', '.join(sorted(set(custom)))} print their own columns: "
                                f"put them in a table of their own with 'columns:'")
        elif kind == "listing":
            problems += _unknown(output, LISTING_KEYS, where)
            if not output.get("columns"):
                problems.append(f"{where}: a listing needs 'columns'")
            _check_filter(output.get("where"), f"{where}: where", problems)
        elif kind == "figure":
            figure = output.get("type")
            if figure not in FIGURE_KEYS:
                problems.append(f"{where}: unknown figure type {figure!r} (known: {', '.join(sorted(FIGURE_KEYS))})")
            else:
                problems += _unknown(output, OUTPUT_KEYS | {"type"} | FIGURE_KEYS[figure], where)
                problems += [f"{where}: a {figure} figure needs '{k}'" for k in FIGURE_REQUIRED.get(figure, ())
                             if k not in output]
            _check_filter(output.get("where"), f"{where}: where", problems)
        else:
            problems.append(f"{where}: unknown kind {kind!r} (table, figure or listing)")
        for key in ("dataset", "title"):
            if key not in output:
                problems.append(f"{where}: needs '{key}'")
        if kind != "listing" and "treatment" not in output:
            problems.append(f"{where}: needs 'treatment' (the variable whose values are the columns)")
        _check_filter(output.get("population"), f"{where}: population", problems)
        output = dict(output, kind=kind, dataset=str(output.get("dataset", "")).upper())
        if "rows" in output and isinstance(output["rows"], list):
            output["rows"] = [dict(r, dataset=str(r["dataset"]).upper()) if isinstance(r, dict) and "dataset" in r else r
                              for r in output["rows"]]
        outputs.append(output)
    return outputs, problems


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and check the form of a catalogue (default: mappings/tlf/outputs.yaml)."""
    path = Path(path) if path else mappings_dir() / "tlf" / "outputs.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError([f"{path}: file not found"], str(path)) from exc
    except yaml.YAMLError as exc:
        raise CatalogueError([f"not valid YAML: {exc}"], str(path)) from exc
    outputs, problems = check_form(doc, str(path))
    if problems:
        raise CatalogueError(problems, str(path))
    defaults = dict(doc.get("defaults") or {})
    allowed = {"table": TABLE_KEYS, "listing": LISTING_KEYS}
    outputs = [{**{k: v for k, v in defaults.items() if k in allowed.get(o["kind"], OUTPUT_KEYS)},
                **o} for o in outputs]
    return Catalogue(outputs, path, defaults, str(doc.get("data_cutoff", "") or ""),
                     str(doc.get("program", "") or ""))


def _row_variables(output: dict, row: dict) -> list[str]:
    types = load_row_types()
    names = list(types[row["type"]].variables(row))
    for key in ("where",):
        names += sorted(condition_columns(to_condition(row.get(key), "")))
    if row.get("subgroup"):
        names.append(row["subgroup"])
    return names


def _in(dataset: str) -> str:
    return dataset if dataset == "ADSL" else f"{dataset} (nor in ADSL)"


def check_against_data(catalogue: Catalogue, data) -> None:
    """Every problem of the catalogue's content against the ADaM data (a tlf.context.StudyData):
    missing datasets and variables are errors (CatalogueError), unknown arm codes too; arms and listed
    levels without data are warnings (catalogue.warnings)."""
    from cdisc_als.tlf.rows.categorical import levels_of

    problems, warnings = [], []
    for output in catalogue.outputs:
        where = _where(output)
        datasets = [output["dataset"]] + [r.get("dataset", output["dataset"]) for r in output.get("rows", [])]
        missing = [d for d in dict.fromkeys(datasets) if not data.has(d)]
        if missing:
            problems.append(f"{where}: dataset(s) {', '.join(missing)} not in the ADaM folder "
                            f"({', '.join(sorted(data.adam)) or 'none'})")
            continue
        columns = data.columns(output["dataset"])
        needed = sorted(condition_columns(to_condition(output.get("population"), "")))
        needed += [output["treatment"]] if output["kind"] != "listing" else []
        needed += sorted(condition_columns(to_condition(output.get("where"), "")))
        if output["kind"] == "listing":
            needed += [c["variable"] if isinstance(c, dict) else c for c in output["columns"]]
            needed += list(output.get("sort", []))
        if output["kind"] == "figure":
            from cdisc_als.tlf.figures import figure_variables

            needed += figure_variables(output)
        problems += [f"{where}: variable '{v}' is not in {_in(output['dataset'])}" for v in needed if v not in columns]
        for row in output.get("rows", []):
            row_columns = data.columns(row.get("dataset", output["dataset"]))
            problems += [f"{_where(output, row)}: variable '{v}' is not in {_in(row.get('dataset', output['dataset']))}"
                         for v in _row_variables(output, row) if v not in row_columns]
            if row["type"] == "categorical" and isinstance(row.get("levels"), list) and row["variable"] in row_columns:
                frame = data.frame(row.get("dataset", output["dataset"]), [row["variable"]],
                                   columns=[SUBJECT, row["variable"], numeric_companion(row["variable"])])
                present = distinct_number_texts(frame[row["variable"]])
                absent = [v for v, _ in levels_of(data, output["dataset"], frame, row) if v not in present]
                warnings += [f"{_where(output, row)}: level {v!r} of {row['variable']} is not in the data (its counts are 0)"
                             for v in absent]
        if output.get("arms") and output["treatment"] in columns:
            subjects = data.frame(output["dataset"], [output["treatment"]],
                                  columns=[SUBJECT, output["treatment"], numeric_companion(output["treatment"])])
            arms, arm_problems = data.arms(subjects, output["treatment"], output["arms"], where)
            problems += arm_problems
            present = distinct_number_texts(subjects[output["treatment"]])
            warnings += [f"{where}: arm {a.armcd} ({a.arm}) has no data (its columns are 0)" for a in arms
                         if a.arm not in present]
    catalogue.warnings = warnings
    if problems:
        raise CatalogueError(problems, str(catalogue.source))
