"""Analysis Results Metadata (Define-XML ARM 1.0 extension) of the ADaM define.xml.

mappings/metadata/analysis_results.yaml names the outputs of the TLF catalogue (mappings/tlf/outputs.yaml)
to describe, the reason and purpose of their analyses and the method text of each row type. Each output is
one arm:ResultDisplay (its title, the rendered table as a document) and each of its rows one
arm:AnalysisResult: the analysis dataset with a where clause (the row's `where` and the output's
population, on the variables the dataset holds), the analysis variables (the row's variable and the
treatment variable; AVAL and CNSR for time-to-event rows), the method (documentation, pointing at the
Analysis Results Data file) and the program that computes it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from cdisc_als import __version__
from cdisc_als.export.columns import item_group_oid, item_oid

ARM_FILE = "analysis_results.yaml"


def load_analysis_results(mappings: str | Path) -> dict | None:
    """analysis_results.yaml of a mappings folder with the catalogue outputs it names (None when absent)."""
    path = Path(mappings) / "metadata" / ARM_FILE
    if not path.is_file():
        return None
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    catalogue = yaml.safe_load((Path(mappings) / spec.get("catalogue", "tlf/outputs.yaml")).read_text(encoding="utf-8"))
    outputs = {o["id"]: o for o in (catalogue or {}).get("outputs", [])}
    missing = [d["output"] for d in spec.get("displays", []) if d["output"] not in outputs]
    if missing:
        raise ValueError(f"{path}: outputs {missing} are not in the catalogue {spec.get('catalogue')}")
    return {**spec, "outputs": outputs}


def _value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def analysis_displays(spec: dict, datasets: list[dict], builder) -> tuple[list[dict], list[dict]]:
    """(ResultDisplays, document leaves) for the define.xml context; rows whose dataset is not in the
    folder are left out."""
    variables = {d["name"]: {v["name"] for v in d["variables"]} for d in datasets}
    displays, leaves = [], {}
    for display in spec.get("displays", []):
        output = spec["outputs"][display["output"]]
        oid = display["output"]
        table_leaf = f"LF.{oid}.TABLE"
        ard_leaf = f"LF.{oid}.ARD"
        leaves[table_leaf] = {"id": table_leaf, "href": spec["table"].format(output=oid, output_lower=oid.lower()),
                              "title": f"{output['title']} (RTF)"}
        leaves[ard_leaf] = {"id": ard_leaf, "href": spec["ard"].format(output=oid, output_lower=oid.lower()),
                            "title": f"Analysis Results Data of {oid}"}
        results = []
        for row in output.get("rows", []):
            dataset = row.get("dataset", output["dataset"])
            if dataset not in variables:
                continue
            held = variables[dataset]
            conditions = [(k, _value(v)) for k, v in {**row.get("where", {}), **output.get("population", {})}.items()
                          if k in held]
            analysis_vars = ["AVAL", "CNSR"] if row.get("type") == "km" else [row.get("variable", "AVAL")]
            analysis_vars = [v for v in dict.fromkeys([*analysis_vars, output.get("treatment", "")]) if v in held]
            purpose = ("PRIMARY OUTCOME MEASURE" if row["id"] in display.get("primary_rows", [])
                       else display.get("purpose", "SECONDARY OUTCOME MEASURE"))
            method = spec.get("methods", {}).get(row.get("type", ""), "")
            footnotes = " ".join(output.get("footnotes", []))
            results.append({
                "oid": f"AR.{oid}.{row['id']}", "description": row.get("label", row["id"]),
                "parameter_oid": item_oid(dataset, "PARAMCD") if "PARAMCD" in row.get("where", {}) else None,
                "reason": display.get("reason", "SPECIFIED IN SAP"), "purpose": purpose,
                "dataset_oid": item_group_oid(dataset), "dataset": dataset,
                "where_oid": builder.where_clause(dataset, conditions) if conditions else None,
                "where_text": " and ".join(f"{k} = {v}" for k, v in conditions),
                "variables": [item_oid(dataset, v) for v in analysis_vars], "variable_names": analysis_vars,
                "documentation": " ".join(t for t in (method, footnotes) if t), "document": ard_leaf,
                "context": f"Python, cdisc_als {__version__}",
                "code": f"{spec.get('program', 'cdisc-als tlf')}  # output {oid}, row {row['id']}; "
                        f"{spec.get('modules', '')}".strip("; ")})
        if results:
            displays.append({"oid": f"RD.{oid}", "name": oid, "description": output["title"], "document": table_leaf,
                             "results": results})
    used = {r["document"] for d in displays for r in d["results"]} | {d["document"] for d in displays}
    return displays, [leaf for key, leaf in leaves.items() if key in used]
