"""What the reviewer's guides are written from, gathered once: the study spec, the metadata layer (datasets,
codelists, parameters, derivation texts, analysis results, conformance explanations), the SDTM and ADaM
files of a run and their validation results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from cdisc_als.export.columns import read_xpt
from cdisc_als.export.define_arm import load_analysis_results
from cdisc_als.metadata import Metadata
from cdisc_als.metadata.derivations import Derivations, load_derivations
from cdisc_als.study import Study

CONFORMANCE_FILE = "conformance.yaml"
NOT_EXPLAINED = "NOT EXPLAINED: add an explanation to mappings/metadata/conformance.yaml or fix the data."


@dataclass
class GuideInputs:
    study: Study
    metadata: Metadata
    derivations: Derivations
    sdtm: dict[str, pd.DataFrame]
    adam: dict[str, pd.DataFrame]
    labels: dict[str, str]
    issues: dict[str, pd.DataFrame]               # stage -> validation issue summary (dataset, rule, ...)
    explanations: list[dict] = field(default_factory=list)
    analysis_results: dict | None = None

    def explain(self, rule: str, p21: str, dataset: str) -> str:
        """The explanation of a remaining finding (dataset-specific first), else NOT_EXPLAINED."""
        for wanted in (dataset, None):
            for entry in self.explanations:
                if entry.get("rule") in (rule, p21) and entry.get("dataset") == wanted:
                    return " ".join(str(entry.get("text", "")).split())
        return NOT_EXPLAINED

    @property
    def unexplained(self) -> int:
        return sum(self.explain(r.rule, r.p21, r.dataset) == NOT_EXPLAINED
                   for summary in self.issues.values() for r in summary.itertuples())


def _read_folder(folder: Path | None, labels: dict[str, str]) -> dict[str, pd.DataFrame]:
    out = {}
    if folder is None or not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.xpt")):
        file = read_xpt(path)
        name = path.stem.upper()
        out[name] = file.frame
        labels[name] = file.label
    return out


def gather(study: Study, metadata: Metadata, sdtm_dir: Path | None, adam_dir: Path | None,
           validation: dict | None = None) -> GuideInputs:
    """The inputs of both guides; `validation` maps 'sdtm'/'adam' to validation results (issue_summary())."""
    labels: dict[str, str] = {}
    sdtm, adam = _read_folder(sdtm_dir, labels), _read_folder(adam_dir, labels)
    issues = {stage: result.issue_summary() for stage, result in (validation or {}).items()}
    path = Path(metadata.source) / "metadata" / CONFORMANCE_FILE
    explanations = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("explanations", []) if path.is_file() else []
    return GuideInputs(study, metadata, load_derivations(metadata.source), sdtm, adam, labels, issues,
                       explanations, load_analysis_results(metadata.source))
