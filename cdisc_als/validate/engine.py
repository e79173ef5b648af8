"""Run the rule catalogue on a folder of datasets; findings stream to CSV, counts stay in memory.

validate_folder reads every entry of the folder (datasets, define.xml, anything else is a
finding), runs each dataset rule on each dataset of its standard and each study rule once, and
returns a ValidationResult: the datasets, the count of findings per dataset and rule, the first
findings of each rule (the Details sheet) and the path of the CSV holding every finding. A rule
that fails on unexpected data is reported (ALS0099) instead of stopping the run.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_als import __version__
from cdisc_als.metadata import Metadata, load_metadata
from cdisc_als.outputs import run_timestamp
from cdisc_als.read_cache import active_cache, shared_reads
from cdisc_als.validate.datasets import FILE_RULES, FolderContents, LoadedDataset, load_folder
from cdisc_als.validate.define import DefineError, read_define
from cdisc_als.validate.findings import SUMMARY_COLUMNS, FindingSink, read_findings
from cdisc_als.validate.reference import Reference
from cdisc_als.validate.rules import RULES, Context, Hits, Rule

DETAIL_CAP = 1000
DETAILS_CSV = "validation_details.csv"
RULE_FAILED = Rule("ALS0099", "notice", "ALL", "System", "Rule could not run on this dataset", "", None)


@dataclass
class ValidationResult:
    datasets: list[LoadedDataset]
    counts: pd.DataFrame                      # one row per dataset, file and rule: found
    details: pd.DataFrame                     # the first findings of each rule per dataset
    details_csv: Path                         # every finding
    config: dict[str, str] = field(default_factory=dict)
    cap: int = DETAIL_CAP
    _tmp: object = field(default=None, repr=False)

    @property
    def findings(self) -> pd.DataFrame:
        """Every finding (read from the CSV: use counts/issue_summary when only numbers are needed)."""
        return read_findings(self.details_csv)

    @property
    def errors(self) -> int:
        return self.count("error")

    def count(self, severity: str) -> int:
        return int(self.counts.loc[self.counts["severity"] == severity, "found"].sum())

    @property
    def total(self) -> int:
        return int(self.counts["found"].sum())

    def summary(self) -> str:
        return (f"{len(self.datasets)} datasets, {sum(d.records for d in self.datasets)} records: "
                f"{self.errors} errors, {self.count('warning')} warnings, {self.count('notice')} notices")

    def issue_summary(self) -> pd.DataFrame:
        columns = ["dataset", "rule", "p21", "message", "severity", "found"]
        if self.counts.empty:
            return pd.DataFrame(columns=columns)
        return (self.counts.groupby(columns[:-1], dropna=False, sort=True)["found"].sum().reset_index())

    def p21_counts(self) -> dict[tuple[str, str], int]:
        """Findings per (dataset, Pinnacle 21 id), for comparing with a P21 report."""
        claimed = self.counts[self.counts["p21"] != ""]
        return {k: int(v) for k, v in claimed.groupby(["dataset", "p21"])["found"].sum().items()}

    def release(self) -> None:
        """Drop the validated records (counts, findings and reports stay): a pipeline keeps the result
        without keeping every dataset in memory."""
        for ds in self.datasets:
            ds.release()

    def save_details(self, path: str | Path) -> Path:
        """Copy the findings CSV to path (no copy when it is already there)."""
        path = Path(path)
        if path.resolve() != self.details_csv.resolve():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.details_csv, path)
        return path


def applies(rule: Rule, ds: LoadedDataset) -> bool:
    return rule.standard == "ALL" or rule.standard == ds.standard


def _flatten(result) -> list[Hits]:
    if result is None:
        return []
    if isinstance(result, Hits):
        return [result]
    return [h for item in result for h in _flatten(item)]


def run_rules(ctx: Context, sink: FindingSink) -> None:
    """Every dataset rule on every dataset it applies to, then every study rule once. After each dataset and
    each study rule the records read for it are unloaded: the validation holds one dataset (with the few its
    rules look up, e.g. DM or a parent domain) at a time, not the folder."""
    for ds in ctx.datasets.values():
        for rule in RULES:
            if rule.scope != "dataset" or not applies(rule, ds):
                continue
            try:
                found = _flatten(rule.check(ds, ctx))
            except Exception as exc:  # a rule must not stop the run: report it and go on
                sink.add(ds.name, ds.file, RULE_FAILED, Hits(None, [], [f"{rule.id}: {type(exc).__name__}: {exc}"]),
                         ds.standard)
                continue
            for hit in found:
                sink.add(ds.name, ds.file, rule, hit, ds.standard, ds.frame)
        ctx.unload()
    for rule in RULES:
        if rule.scope != "study":
            continue
        try:
            found = _flatten(rule.check(None, ctx))
        except Exception as exc:
            sink.add("GLOBAL", "", RULE_FAILED, Hits(None, [], [f"{rule.id}: {type(exc).__name__}: {exc}"]), "")
            continue
        for hit in found:
            owner = ctx.datasets.get(hit.dataset or "")
            sink.add(hit.dataset or "GLOBAL", owner.file if owner else "", rule, hit,
                     owner.standard if owner else rule.standard, owner.frame if owner else None)
        ctx.unload()


def _file_findings(contents: FolderContents, sink: FindingSink) -> None:
    for f in contents.findings:
        severity, category, message = FILE_RULES[f.rule]
        rule = Rule(f.rule, severity, "ALL", category, message, "SD0062" if f.rule == "ALS0013" else "", None)
        sink.add(f.dataset, f.file, rule, Hits(None, [], [f.detail]), "")


def _configuration(folder: Path, contents: FolderContents, define, define_note: str, metadata: Metadata | None,
                   study_id: str, cap: int) -> dict[str, str]:
    standards = sorted({d.standard for d in metadata.datasets.values()}) if metadata else []
    config = {
        "Tool": f"cdisc_als {__version__}",
        "Validated folder": folder.name,     # the name only: a run validates in its staging folder
        "Generated": run_timestamp().isoformat(),
        "Study metadata": f"{metadata.source} (study {study_id or 'not given'})" if metadata else "none",
        "Standards (study metadata)": ", ".join(standards) or "not stated",
        "Controlled terminology": _terminology(metadata),
        "define.xml": str(contents.define_path) if contents.define_path else "none in the folder",
        "define.xml version and standard": (f"Define-XML {define.version}; {define.standard}" if define
                                            else define_note or "-"),
        "define.xml schema": (define.schema_note if define else "-"),
        "Rules": f"{len(RULES)} rules ({sum(1 for r in RULES if r.p21)} with a Pinnacle 21 id)",
        "Details sheet": f"first {cap} findings per dataset and rule; every finding in {DETAILS_CSV}",
    }
    return config


def _terminology(metadata: Metadata | None) -> str:
    if metadata is None:
        return "not stated"
    import yaml

    path = Path(metadata.source) / "codelists.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return "not stated"
    versions = doc.get("terminology") if isinstance(doc, dict) else None
    if isinstance(versions, dict):
        return "; ".join(f"{k} {v}" for k, v in versions.items())
    return "not stated"


def validate_folder(folder: str | Path, metadata: Metadata | None = None, study_id: str | None = None,
                    out: str | Path | None = None, cap: int = DETAIL_CAP) -> ValidationResult:
    """Validate every dataset of a folder (and its define.xml); nothing in the folder is silently skipped.

    The study metadata (variables, codelists) applies in full to datasets of the study (STUDYID =
    study_id of study.yaml); other studies' data are checked against the complete CDISC codelists,
    their define.xml and the standard reference (mappings/metadata/domains.csv and friends).
    With out, every finding is written to out/validation_details.csv; otherwise to a temporary file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of datasets")
    if metadata is None or study_id is None:
        from cdisc_als.study import load_study

        study = load_study()
        metadata = metadata or load_metadata(study=study)
        study_id = study_id or study.study_id
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="cdisc_als_validation_")
        csv_path = Path(tmp.name) / DETAILS_CSV
    else:
        csv_path = Path(out) / DETAILS_CSV
    with ExitStack() as reads:
        if active_cache() is None:          # each dataset is read again when its rules run: decoded once
            reads.enter_context(shared_reads())
        return _validate(folder, metadata, study_id, csv_path, cap, tmp)


def _validate(folder: Path, metadata: Metadata | None, study_id: str, csv_path: Path, cap: int,
              tmp) -> ValidationResult:
    contents = load_folder(folder)
    sink = FindingSink(csv_path, cap)
    define, define_note = None, ""
    try:
        _file_findings(contents, sink)
        if contents.define_path is not None:
            try:
                define = read_define(contents.define_path)
            except DefineError as exc:
                define_note = str(exc)
                from cdisc_als.validate.rules.define import DEFINE_UNREADABLE

                sink.add("GLOBAL", contents.define_path.name, DEFINE_UNREADABLE, Hits(None, [], [str(exc)]), "")
        ctx = Context({d.name: d for d in contents.datasets}, metadata, study_id,
                      Reference.load(metadata.source if metadata else None), define, contents.files)
        run_rules(ctx, sink)
    finally:
        sink.close()
    counts = sink.summary() if sink.counts else pd.DataFrame(columns=SUMMARY_COLUMNS)
    config = _configuration(folder, contents, define, define_note, metadata, study_id, cap)
    return ValidationResult(contents.datasets, counts, sink.detail_frame(), csv_path, config, cap, tmp)
