"""What the reviewer's guides are written from, gathered once: the study spec, the metadata layer (datasets,
codelists, parameters, derivation texts, analysis results, conformance explanations), the SDTM and ADaM
files of a run and their validation results."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from cdisc_als.datasets_io import read_dataset
from cdisc_als.export.define_arm import load_analysis_results
from cdisc_als.metadata import Metadata
from cdisc_als.metadata.derivations import Derivations, load_derivations
from cdisc_als.study import Study
from cdisc_als.xpt_structure import describe_xpt

CONFORMANCE_FILE = "conformance.yaml"
NOT_EXPLAINED = "NOT EXPLAINED: add an explanation to mappings/metadata/conformance.yaml or fix the data."


@dataclass
class GuideInputs:
    study: Study
    metadata: Metadata
    derivations: Derivations
    sdtm: DatasetFolder
    adam: DatasetFolder
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


class DatasetFolder(Mapping[str, pd.DataFrame]):
    """The XPT files of a folder by upper-case dataset name, in name order. Names, variables, labels and
    record counts come from the files' headers (xpt_structure.describe_xpt); a dataset's records are read only
    when the guides index it (`folder["DM"]`, kept for the next use) or ask for some of its columns
    (`values`): a 10-million-record QS is never decoded for its record count."""

    def __init__(self, folder: Path | None):
        paths = sorted(Path(folder).glob("*.xpt")) if folder is not None and Path(folder).is_dir() else []
        self._paths = {path.stem.upper(): path for path in paths}
        self._layouts = {name: describe_xpt(path) for name, path in self._paths.items()}
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = read_dataset(self._paths[name]).frame    # KeyError when absent
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __contains__(self, name: object) -> bool:
        # Mapping's own `in` indexes the folder, which would read the whole dataset to say it is there
        return name in self._paths

    def __len__(self) -> int:
        return len(self._paths)

    def columns(self, name: str) -> list[str]:
        return [c.name for c in self._layouts[name].columns]

    def records(self, name: str) -> int:
        return self._layouts[name].records

    def label(self, name: str) -> str:
        return self._layouts[name].label

    def values(self, name: str, columns: list[str]) -> pd.DataFrame:
        """Only these columns of the dataset's records."""
        return read_dataset(self._paths[name], usecols=columns).frame

    def value_counts(self, name: str, column: str) -> pd.Series:
        """The number of records of each value of a text column (as values(...)[column].value_counts()), from
        the writer's note when this run wrote the file and could not keep it (read_cache.WrittenNote): a
        10-million-record ADQS is not read again to count its parameters."""
        from cdisc_als.read_cache import written_note

        note = written_note(self._paths[name])
        if note is not None and column in note.counts:
            return pd.Series(note.counts[column], dtype="int64").sort_values(ascending=False, kind="stable")
        return self.values(name, [column])[column].value_counts()


def gather(study: Study, metadata: Metadata, sdtm_dir: Path | None, adam_dir: Path | None,
           validation: dict | None = None) -> GuideInputs:
    """The inputs of both guides; `validation` maps 'sdtm'/'adam' to validation results (issue_summary())."""
    sdtm, adam = DatasetFolder(sdtm_dir), DatasetFolder(adam_dir)
    labels = {name: folder.label(name) for folder in (sdtm, adam) for name in folder}
    issues = {stage: result.issue_summary() for stage, result in (validation or {}).items()}
    path = Path(metadata.source) / "metadata" / CONFORMANCE_FILE
    explanations = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("explanations", []) if path.is_file() else []
    return GuideInputs(study, metadata, load_derivations(metadata.source), sdtm, adam, labels, issues,
                       explanations, load_analysis_results(metadata.source))
