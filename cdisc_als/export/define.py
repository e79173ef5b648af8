"""Define-XML 2.1 (define.xml, its stylesheet define2-1.xsl and a readable define.html) from the metadata,
the derivation texts and the XPT files of a folder.

Datasets and variables come from the metadata layer, restricted to what the XPT files of the folder
hold; lengths, data types and display formats are the files' (export/columns.py, shared with
Dataset-JSON). Every derived variable points to a MethodDef whose text is mappings/metadata/
derivations.csv (ADaM parameters: the `derivation` of parameters.csv); comments of that file become
CommentDefs on datasets and variables; predecessor variables name their source. Value-level metadata
describe every QS/LB/RE result by test code and every ADaM AVAL by parameter (PARAMCD), each with its
where clause, label, data type and method. The ADaM define carries Analysis Results Metadata
(export/define_arm.py). CreationDateTime is the run time, or SOURCE_DATE_EPOCH when set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cdisc_als import __version__
from cdisc_als.datasets_io import Column as FileColumn
from cdisc_als.datasets_io import DatasetFile
from cdisc_als.export.columns import (
    Column,
    dataset_columns,
    item_oid,
    metadata_version_oid,
    read_xpt,
    study_oid,
)
from cdisc_als.io import atomic_write_text
from cdisc_als.metadata import Metadata
from cdisc_als.metadata.derivations import Derivations, load_derivations
from cdisc_als.outputs import run_timestamp
from cdisc_als.resources import TEMPLATES_DIR
from cdisc_als.study import Study
from cdisc_als.study_design import ADAM_CT, CDISC_CT

STYLESHEET = "define2-1.xsl"
VALUE_LEVEL = {"QS": ("QSTESTCD", "QSTEST", ["QSORRES", "QSSTRESC", "QSSTRESN"]),
               "LB": ("LBTESTCD", "LBTEST", ["LBORRES", "LBSTRESC", "LBSTRESN"]),
               "RE": ("RETESTCD", "RETEST", ["REORRES", "RESTRESC", "RESTRESN"])}
ADAM_VALUE_LEVEL = ("PARAMCD", "PARAM", ["AVAL"])


@dataclass(frozen=True)
class StandardInfo:
    name: str
    version: str
    ct_set: str
    ct_terminology: str       # the name of its CT in the study spec's trial_design.terminologies
    ct_default: str           # the CT version when the study spec gives none
    purpose: str


SDTM = StandardInfo("SDTMIG", "3.4", "SDTM", CDISC_CT, "2025-03-28", "Tabulation")
ADAM = StandardInfo("ADaMIG", "1.3", "ADaM", ADAM_CT, "2025-09-26", "Analysis")


def creation_datetime() -> str:
    """ODM CreationDateTime: the run time, or SOURCE_DATE_EPOCH (reproducible builds), in UTC."""
    return run_timestamp().strftime("%Y-%m-%dT%H:%M:%S")


def ct_version(study: Study, standard: StandardInfo) -> str:
    design = study.trial_design
    return (design.version(standard.ct_terminology) if design else "") or standard.ct_default


class _Builder:
    """Collects the parts of one define.xml while the datasets are read."""

    def __init__(self, study: Study, metadata: Metadata, derivations: Derivations, standard: StandardInfo):
        self.study, self.metadata, self.derivations, self.standard = study, metadata, derivations, standard
        self.items: list[dict] = []
        self.methods: dict[str, dict] = {}
        self.comments: dict[str, dict] = {}
        self.value_lists: list[dict] = []
        self.where_clauses: dict[str, dict] = {}
        self.codelists: set[str] = set()
        self.missing: list[str] = []
        self._rows_by_code: dict[str, dict[str, np.ndarray]] = {}
        self._file: DatasetFile | None = None          # the file whose variables are being described

    def method(self, oid: str, name: str, text: str, where: str) -> str:
        if not text:
            self.missing.append(where)
            text = "No derivation text is given in mappings/metadata/derivations.csv."
        self.methods.setdefault(oid, {"oid": oid, "name": name, "text": text})
        return oid

    def comment(self, oid: str, text: str) -> str | None:
        if not text:
            return None
        self.comments.setdefault(oid, {"oid": oid, "text": text})
        return oid

    def where_clause(self, dataset: str, conditions: list[tuple[str, str]]) -> str:
        """OID of a where clause (each condition variable EQ value, all of them true)."""
        oid = "WC." + dataset + "." + ".".join(f"{var}.{value}" for var, value in conditions).replace(" ", "_")
        self.where_clauses.setdefault(oid, {"oid": oid, "checks": [{"item_oid": item_oid(dataset, var), "value": value}
                                                                   for var, value in conditions],
                                             "text": " and ".join(f"{var} = {value}" for var, value in conditions)})
        return oid

    def dataset(self, path: Path, file: DatasetFile | None = None) -> dict | None:
        """The define entry of one XPT file (read here unless the caller has read it), None when the metadata
        do not describe it in this standard."""
        name = path.stem.upper()
        meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
        if meta_name not in self.metadata.datasets:
            return None
        dmeta = self.metadata.dataset(meta_name)
        if (self.standard is ADAM) != dmeta.standard.startswith("ADaM"):
            return None
        file = file if file is not None else read_xpt(path)
        frame = file.frame
        known = [c.name for c in file.columns if c.name in dmeta.variable_names]
        labels = {c: dmeta.variable(c).label for c in known}
        columns = [c for c in dataset_columns(name, frame, file.columns, dmeta.keys, labels) if c.name in known]
        self._rows_by_code = {}
        self._file = file
        try:
            variables = [self._variable(name, meta_name, column, frame) for column in columns]
        finally:
            self._file = None
        return {"name": name, "label": file.label or dmeta.label, "class_name": dmeta.class_ or "FINDINGS",
                "structure": dmeta.structure, "key_variables": " ".join(k for k in dmeta.keys if k in known),
                "file": path.name, "domain": _domain(name), "repeating": "No" if name in ("DM", "ADSL") else "Yes",
                "reference": "Yes" if dmeta.class_ == "TRIAL DESIGN" else "No", "variables": variables,
                "records": len(frame), "comment": self.comment(f"COM.{name}", self.derivations.comment(name))}

    def _variable(self, name: str, meta_name: str, column: Column, frame: pd.DataFrame) -> dict:
        var = self.metadata.dataset(meta_name).variable(column.name)
        method = text = None
        if var.origin == "Derived":
            text = self.derivations.method(name, column.name)
            method = self.method(f"MT.{name}.{column.name}", f"Algorithm for {name}.{column.name}", text,
                                 f"{name}.{column.name}")
            text = self.methods[method]["text"]
        value_list = self._value_list(name, column, frame)
        item = {"oid": column.oid, "name": column.name, "label": var.label, "data_type": column.data_type,
                "length": column.length or 8 if column.data_type not in ("date", "datetime") else None,
                "display": column.display_format, "codelist": var.codelist if var.codelist in self.metadata.codelists
                else None, "origin": var.origin, "source": "Investigator" if var.origin == "Collected" else None,
                "origin_text": self.derivations.predecessor(name, column.name) if var.origin == "Predecessor" else "",
                "value_list": value_list,
                "comment": self.comment(f"COM.{name}.{column.name}", self.derivations.comment(name, column.name))}
        if item["codelist"]:
            self.codelists.add(item["codelist"])
        self.items.append(item)
        return {**item, "mandatory": "Yes" if var.core == "Req" else "No", "key": column.key_sequence,
                "method": method, "method_text": text,
                "comment_text": self.comments[item["comment"]]["text"] if item["comment"] else ""}

    def _value_list(self, name: str, column: Column, frame: pd.DataFrame) -> str | None:
        test_var, label_var, targets = ADAM_VALUE_LEVEL if self.standard is ADAM else VALUE_LEVEL.get(name, ("", "", []))
        if column.name not in targets or test_var not in frame.columns:
            return None
        parameters = self.metadata.parameters.resolve(name, self.study) if self.standard is ADAM else {}
        refs = []
        used = frame[list(dict.fromkeys(c for c in (column.name, label_var, "SRCDOM", "SRCVAR") if c in frame))]
        for code, positions in self._codes(frame, test_var).items():
            rows = used.iloc[positions]
            label = parameters[code].param if code in parameters else _first(rows, label_var) or code
            sub = dataset_columns(name, rows[[column.name]], [_subset_variable(column, rows)], (),
                                  {column.name: label})[0]
            vl_oid = f"{column.oid}.{code}"
            method = None
            if self.standard is ADAM:
                text = parameters[code].derivation if code in parameters else _source_text(rows, test_var, code)
                method = self.method(f"MT.{name}.{column.name}.{code}", f"Algorithm for {name}.{column.name} "
                                     f"({code})", text, f"{name}.{column.name} where {test_var} = {code}")
            elif column.name in self.methods_of_dataset(name):
                method = f"MT.{name}.{column.name}"
            self.items.append({"oid": vl_oid, "name": column.name, "label": label[:200], "data_type": sub.data_type,
                               "length": (sub.length or 8) if sub.data_type not in ("date", "datetime") else None,
                               "display": column.display_format, "codelist": None,
                               "origin": "Derived" if self.standard is ADAM else self._origin(name, column.name),
                               "source": None, "origin_text": "", "value_list": None, "comment": None})
            refs.append({"item_oid": vl_oid, "where_oid": self.where_clause(name, [(test_var, code)]),
                         "where_text": f"{test_var} = {code}", "label": label, "method": method,
                         "method_text": self.methods[method]["text"] if method else ""})
        oid = f"VL.{name}.{column.name}"
        self.value_lists.append({"oid": oid, "dataset": name, "variable": column.name, "refs": refs})
        return oid

    def _codes(self, frame: pd.DataFrame, test_var: str) -> dict[str, np.ndarray]:
        """Row positions of each non-blank test code, in code order; grouped once per dataset."""
        if test_var not in self._rows_by_code:
            read = self._file.distinct_text(test_var) if self._file is not None else None
            if read is not None:                         # the reader's codes: rows grouped without hashing
                codes, texts = read
                order = np.argsort(codes, kind="stable")
                ends = np.cumsum(np.bincount(codes, minlength=len(texts)))[:-1]
                groups = dict(zip(texts.tolist(), np.split(order, ends), strict=True))
                groups = {code: groups[code] for code in sorted(groups)}
            else:
                values = frame[test_var].fillna("").astype(str)
                groups = values.groupby(values.to_numpy(), sort=True).indices
            self._rows_by_code[test_var] = {code: rows for code, rows in groups.items() if code}
        return self._rows_by_code[test_var]

    def methods_of_dataset(self, name: str) -> set[str]:
        return {oid.split(".", 2)[2] for oid in self.methods if oid.startswith(f"MT.{name}.")}

    def _origin(self, name: str, variable: str) -> str:
        meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
        origin = self.metadata.dataset(meta_name).variable(variable).origin
        return "Collected" if origin == "Predecessor" else origin


def _subset_variable(column: Column, rows: pd.DataFrame) -> FileColumn:
    """The variable of one column restricted to the rows of one test code (value-level data types): a
    character variable's length is its longest value there."""
    length = 1
    if column.sas_type == "Char" and len(rows):
        length = max(1, *(len(str(v)) for v in pd.unique(rows[column.name])))
    return FileColumn(column.name, column.label, column.sas_type, length, column.display_format or "")


def _first(rows: pd.DataFrame, column: str) -> str:
    if column not in rows.columns:
        return ""
    return next((v for v in rows[column].astype(str) if v), "")


def _source_text(rows: pd.DataFrame, test_var: str, code: str) -> str:
    """Method of a parameter that is not in parameters.csv (e.g. ADLB tests): its SDTM source variable."""
    domain, variable = _first(rows, "SRCDOM"), _first(rows, "SRCVAR")
    if domain and variable:
        return f"{domain}.{variable} where {domain}TESTCD = {code}, by analysis visit."
    return ""


def _domain(name: str) -> str | None:
    if name.startswith("SUPP"):
        return name[4:]
    return None if name.startswith("AD") else name[:2]


def build_context(folder: Path, study: Study, metadata: Metadata, standard: StandardInfo,
                  derivations: Derivations | None = None, analysis_results: dict | None = None,
                  each_file: Callable[[Path, DatasetFile], None] | None = None) -> dict:
    """Everything the define.xml and define.html templates print. The XPT files are read one at a time;
    `each_file(path, file)` is then called on every one of them (e.g. to write it as Dataset-JSON), so a
    file is read once and released before the next."""
    builder = _Builder(study, metadata, derivations or load_derivations(metadata.source), standard)
    datasets = []
    for path in sorted(folder.glob("*.xpt")):
        file = read_xpt(path)
        entry = builder.dataset(path, file)
        if entry is not None:
            datasets.append(entry)
        if each_file is not None:
            each_file(path, file)
        del file
    displays, leaves = [], []
    if analysis_results is not None:
        from cdisc_als.export.define_arm import analysis_displays

        displays, leaves = analysis_displays(analysis_results, datasets, builder)
    codelists = []
    for cl_id in sorted(builder.codelists):
        cl = metadata.codelist(cl_id)
        codelists.append({"id": cl.id, "name": cl.name, "c_code": cl.c_code, "sponsor": cl.sponsor,
                          "use_decode": any(t.decode for t in cl.terms),
                          "terms": [{"value": t.value, "decode": t.decode, "c_code": t.c_code, "extended": t.extended}
                                    for t in cl.terms]})
    return {"study": study, "standard": standard, "ct_version": ct_version(study, standard), "datasets": datasets,
            "items": builder.items, "codelists": codelists, "value_lists": builder.value_lists,
            "where_clauses": list(builder.where_clauses.values()), "methods": list(builder.methods.values()),
            "comments": list(builder.comments.values()), "displays": displays, "leaves": leaves,
            "missing_methods": builder.missing, "version": __version__, "created": creation_datetime(),
            "stylesheet": STYLESHEET, "file_oid": f"DEF.{study.study_id}.{standard.name}",
            "study_oid": study_oid(study.study_id), "mdv_oid": metadata_version_oid(study.study_id, standard.name)}


def _environment(templates: Path) -> Environment:
    return Environment(loader=FileSystemLoader(str(templates)), autoescape=select_autoescape(["xml", "html", "j2"]),
                       keep_trailing_newline=True)


def write_define(folder: str | Path, study: Study, metadata: Metadata, standard: StandardInfo,
                 templates: Path = TEMPLATES_DIR, analysis_results: dict | None = None,
                 each_file: Callable[[Path, DatasetFile], None] | None = None) -> tuple[Path, Path]:
    """Write define.xml, its stylesheet and define.html into the folder of the XPT files they describe
    (`each_file`: see build_context)."""
    folder = Path(folder)
    context = build_context(folder, study, metadata, standard, analysis_results=analysis_results,
                            each_file=each_file)
    env = _environment(templates)
    xml_path, html_path = folder / "define.xml", folder / "define.html"
    atomic_write_text(xml_path, env.get_template("define.xml.j2").render(**context))
    atomic_write_text(folder / STYLESHEET, (templates / STYLESHEET).read_text(encoding="utf-8"))
    atomic_write_text(html_path, env.get_template("define.html.j2").render(**context))
    return xml_path, html_path
