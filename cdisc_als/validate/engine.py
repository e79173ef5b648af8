"""Run the rule catalogue on a folder of datasets and collect findings in one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_als.metadata import Metadata, load_metadata
from cdisc_als.validate.datasets import LoadedDataset, load_folder
from cdisc_als.validate.rules import RULES, Context, Rule

COLUMNS = ["dataset", "file", "record", "variables", "values", "rule", "p21", "message", "category", "severity"]
FILE_RULES = {"ALS0012": ("error", "Format", "Non-ASCII text in the file"),
              "ALS0013": ("error", "Format", "Dataset file cannot be read")}


@dataclass
class ValidationResult:
    datasets: list[LoadedDataset]
    findings: pd.DataFrame

    @property
    def errors(self) -> int:
        return int((self.findings["severity"] == "error").sum())

    def count(self, severity: str) -> int:
        return int((self.findings["severity"] == severity).sum())

    def summary(self) -> str:
        return (f"{len(self.datasets)} datasets, {sum(len(d.frame) for d in self.datasets)} records: "
                f"{self.errors} errors, {self.count('warning')} warnings, {self.count('notice')} notices")

    def issue_summary(self) -> pd.DataFrame:
        if self.findings.empty:
            return pd.DataFrame(columns=["dataset", "rule", "p21", "message", "severity", "found"])
        return (self.findings.groupby(["dataset", "rule", "p21", "message", "severity"], dropna=False)
                .size().rename("found").reset_index())


def applies(rule: Rule, ds: LoadedDataset) -> bool:
    return rule.standard == "ALL" or rule.standard == ds.standard


def validate_datasets(datasets: list[LoadedDataset], metadata: Metadata | None, study_id: str = "") -> pd.DataFrame:
    ctx = Context({d.name: d for d in datasets}, metadata, study_id)
    parts = []
    for ds in datasets:
        for rule in RULES:
            if not applies(rule, ds):
                continue
            found = rule.check(ds, ctx)
            if found is None or found.empty:
                continue
            part = found.rename(columns={"row": "record"}).copy()
            part["dataset"], part["file"], part["rule"], part["p21"] = ds.name, ds.file, rule.id, rule.p21
            part["message"], part["category"], part["severity"] = rule.message, rule.category, rule.severity
            parts.append(part[COLUMNS])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def validate_folder(folder: str | Path, metadata: Metadata | None = None, study_id: str | None = None) -> ValidationResult:
    """Validate every .xpt / Dataset-JSON file of a folder; unreadable files are findings, never skipped.

    The study metadata (variables, codelists) applies in full to datasets of the study (STUDYID =
    study_id of study.yaml); other studies' data are checked against the complete CDISC codelists only.
    """
    if metadata is None or study_id is None:
        from cdisc_als.study import load_study

        study = load_study()
        metadata = metadata or load_metadata(study=study)
        study_id = study_id or study.study_id
    datasets, file_findings = load_folder(Path(folder))
    findings = validate_datasets(datasets, metadata, study_id)
    rows = []
    for f in file_findings:
        severity, category, message = FILE_RULES.get(f.rule, (f.severity, "Format", f.message))
        rows.append({"dataset": Path(f.file).stem.upper(), "file": f.file, "record": None, "variables": "",
                     "values": f.value, "rule": f.rule, "p21": "", "message": f"{message}: {f.message}",
                     "category": category, "severity": severity})
    if rows:
        findings = pd.concat([pd.DataFrame(rows, columns=COLUMNS), findings], ignore_index=True)
    return ValidationResult(datasets, findings)
