"""Define-XML 2.1 (and a readable HTML rendering) generated from the metadata and the XPT files.

Datasets and variables come from the metadata layer, restricted to what the XPT files of the folder
hold; lengths are the files' lengths; codelists carry their C-codes with sponsor extensions
marked (def:ExtendedValue); value-level metadata describe QS/LB/RE results by test code and ADaM
AVAL by parameter; every derived variable points to a MethodDef; def:leaf references the XPT file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyreadstat
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cdisc_als import __version__
from cdisc_als.io import atomic_write_text
from cdisc_als.metadata import Metadata
from cdisc_als.resources import TEMPLATES_DIR
from cdisc_als.study import Study

FIXED_CREATED = "2000-01-01T00:00:00"
VALUE_LEVEL = {"QS": ("QSTESTCD", ["QSSTRESN", "QSORRES"]), "LB": ("LBTESTCD", ["LBSTRESN"]),
               "RE": ("RETESTCD", ["RESTRESN"]), "ADQS": ("PARAMCD", ["AVAL"]), "ADRE": ("PARAMCD", ["AVAL"]),
               "ADLB": ("PARAMCD", ["AVAL"]), "ADTTE": ("PARAMCD", ["AVAL"])}
METHODS = {
    "--SEQ": "Sequential number of the records of a subject after sorting by the domain keys.",
    "--DY": "Date of the record minus DM.RFSTDTC, plus 1 on or after RFSTDTC (no day 0).",
    "EPOCH": "Epoch of the subject's latest visit on or before the record's date (study.yaml visit epochs).",
    "--LOBXFL": "Y on the last non-missing record on or before DM.RFSTDTC per subject and test.",
    "RFSTDTC": "Date of VISIT 5 (baseline); randomization date for subjects who left before V5.",
}


@dataclass(frozen=True)
class StandardInfo:
    name: str
    version: str
    ct_set: str
    ct_version: str
    purpose: str


SDTM = StandardInfo("SDTMIG", "3.4", "SDTM", "2025-03-28", "Tabulation")
ADAM = StandardInfo("ADaMIG", "1.3", "ADaM", "2025-09-26", "Analysis")


def _method_text(dataset: str, variable: str) -> str:
    generic = "--" + variable[2:] if len(variable) > 2 and variable[:2] == dataset[:2] else variable
    text = METHODS.get(generic) or METHODS.get(variable)
    if text:
        return text
    if dataset.startswith("AD"):
        return f"Derived by cdisc_als ({dataset.lower()}): see the derivation docstrings of cdisc_als/adam."
    return f"Derived by the mapping spec mappings/sdtm/{dataset}.yaml."


def _data_type(kind: str, values) -> str:
    if kind == "Char":
        return "text"
    finite = [v for v in values if v == v]
    return "integer" if all(float(v).is_integer() for v in finite) else "float"


def build_context(folder: Path, study: Study, metadata: Metadata, standard: StandardInfo) -> dict:
    datasets, items, value_lists, where_clauses, methods, used_codelists = [], [], [], [], [], set()
    for path in sorted(folder.glob("*.xpt")):
        name = path.stem.upper()
        meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
        if meta_name not in metadata.datasets:
            continue
        dmeta = metadata.dataset(meta_name)
        if (standard is ADAM) != dmeta.standard.startswith("ADaM"):
            continue
        frame, info = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
        formats = info.original_variable_types or {}
        variables = []
        for col in info.column_names:
            try:
                var = dmeta.variable(col)
            except KeyError:
                continue
            oid = f"IT.{name}.{col}"
            method = f"MT.{name}.{col}" if var.origin == "Derived" else None
            text = _method_text(name, col) if method else None
            if method:
                methods.append({"oid": method, "name": f"Algorithm for {name}.{col}", "text": text})
            value_list = None
            test_var, targets = VALUE_LEVEL.get(name, (None, []))
            if col in targets and test_var in frame.columns:
                value_list = f"VL.{name}.{col}"
                vl_items = []
                for test in sorted({t for t in frame[test_var].dropna().astype(str) if t}):
                    wc = f"WC.{name}.{test_var}.{test}"
                    if wc not in {w["oid"] for w in where_clauses}:
                        where_clauses.append({"oid": wc, "item_oid": f"IT.{name}.{test_var}", "value": test})
                    vl_oid = f"{oid}.{test}"
                    rows = frame.loc[frame[test_var] == test, col]
                    kind = "Num" if var.type == "Num" else "Char"
                    items.append({"oid": vl_oid, "name": col, "label": f"{var.label} ({test})",
                                  "data_type": _data_type(kind, rows.tolist()),
                                  "length": 8 if kind == "Num" else max(1, int(rows.astype(str).str.len().max() or 1)),
                                  "codelist": None, "origin": var.origin, "source": None, "value_list": None,
                                  "display": None})
                    vl_items.append({"item_oid": vl_oid, "where_oid": wc, "where_text": f"{test_var} = {test}",
                                     "label": f"{var.label} ({test})"})
                value_lists.append({"oid": value_list, "refs": vl_items})
            length = (info.variable_storage_width or {}).get(col) if var.type == "Char" else 8
            display = "DATE9." if str(formats.get(col, "")).startswith("DATE") else None
            item = {"oid": oid, "name": col, "label": var.label, "length": length,
                    "data_type": _data_type(var.type, frame[col].tolist() if var.type == "Num" else []),
                    "codelist": var.codelist if var.codelist in metadata.codelists else None,
                    "origin": var.origin, "source": "Investigator" if var.origin == "Collected" else None,
                    "value_list": value_list, "display": display}
            if item["codelist"]:
                used_codelists.add(item["codelist"])
            items.append(item)
            key = dmeta.keys.index(col) + 1 if col in dmeta.keys else None
            variables.append({**item, "mandatory": "Yes" if var.core == "Req" else "No", "key": key,
                              "method": method, "method_text": text})
        datasets.append({"name": name, "label": info.file_label or dmeta.label, "class_": dmeta.class_ or "FINDINGS",
                         "structure": dmeta.structure, "keys": " ".join(dmeta.keys), "file": path.name,
                         "domain": name[:2] if not name.startswith(("AD", "SUPP")) else
                         (name[4:] if name.startswith("SUPP") else None),
                         "repeating": "No" if name in ("DM", "ADSL") else "Yes",
                         "reference": "Yes" if name in ("TS",) else "No", "variables": variables})
    codelists = []
    for cl_id in sorted(used_codelists):
        cl = metadata.codelist(cl_id)
        codelists.append({"id": cl.id, "name": cl.name, "c_code": cl.c_code, "sponsor": cl.sponsor,
                          "use_decode": any(t.decode for t in cl.terms),
                          "terms": [{"value": t.value, "decode": t.decode, "c_code": t.c_code,
                                     "extended": t.extended or (cl.sponsor and cl.c_code is None and False)}
                                    for t in cl.terms]})
    return {"study": study, "standard": standard, "datasets": datasets, "items": items, "codelists": codelists,
            "value_lists": value_lists, "where_clauses": where_clauses, "methods": methods, "version": __version__,
            "created": FIXED_CREATED, "file_oid": f"DEF.{study.study_id}.{standard.name}"}


def _environment(templates: Path) -> Environment:
    return Environment(loader=FileSystemLoader(str(templates)), autoescape=select_autoescape(["xml", "html", "j2"]),
                       keep_trailing_newline=True)


def write_define(folder: str | Path, study: Study, metadata: Metadata, standard: StandardInfo,
                 templates: Path = TEMPLATES_DIR) -> tuple[Path, Path]:
    """Write define.xml and define.html into the folder of the XPT files they describe."""
    folder = Path(folder)
    context = build_context(folder, study, metadata, standard)
    env = _environment(templates)
    xml_path, html_path = folder / "define.xml", folder / "define.html"
    atomic_write_text(xml_path, env.get_template("define.xml.j2").render(**context))
    atomic_write_text(html_path, env.get_template("define.html.j2").render(**context))
    return xml_path, html_path
