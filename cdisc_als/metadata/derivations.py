"""Derivation prose of the metadata layer: mappings/metadata/derivations.csv, the one source of the
methods (MethodDef), comments (CommentDef) and predecessor texts of define.xml and of the reviewer's
guides.

Columns: dataset, variable, kind, text.
  dataset   a dataset name, several separated by blanks (ADQS ADRE ADLB), or * for every dataset
  variable  a variable name, a generic name with the domain prefix written -- (--SEQ, --STDY), or empty
            for a comment on the dataset itself
  kind      method (how a derived value is computed), comment (why, or what a reviewer should know) or
            predecessor (the variable a copied value comes from, e.g. ADSL.TRT01P)
A dataset's own row wins over a generic (*) row; an exact variable name wins over a -- name.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

KINDS = ("method", "comment", "predecessor")


class DerivationsError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in derivations.csv:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Derivations:
    """(dataset or *, variable or --name or '', kind) -> text."""

    texts: dict[tuple[str, str, str], str]

    def text(self, dataset: str, variable: str, kind: str) -> str:
        """The text of one kind for a variable ('' for the dataset itself); '' when none is given."""
        candidates = [(dataset, variable), ("*", variable)]
        prefix = dataset[:2]
        if variable and len(variable) > 2 and variable.startswith(prefix) and not dataset.startswith(("AD", "SUPP")):
            generic = "--" + variable[2:]
            candidates += [(dataset, generic), ("*", generic)]
        for ds, var in candidates:
            text = self.texts.get((ds, var, kind))
            if text:
                return text
        return ""

    def method(self, dataset: str, variable: str) -> str:
        return self.text(dataset, variable, "method")

    def comment(self, dataset: str, variable: str = "") -> str:
        return self.text(dataset, variable, "comment")

    def predecessor(self, dataset: str, variable: str) -> str:
        return self.text(dataset, variable, "predecessor")


def load_derivations(folder: str | Path) -> Derivations:
    """derivations.csv of a mappings folder (its metadata/ subfolder); an empty set when the file is absent."""
    path = Path(folder) / "metadata" / "derivations.csv"
    if not path.is_file():
        return Derivations({})
    problems, texts = [], {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            kind, text = (row.get("kind") or "").strip(), (row.get("text") or "").strip()
            if kind not in KINDS:
                problems.append(f"row {line}: kind {kind!r} must be one of {', '.join(KINDS)}")
            if not text or not text.isascii() or any(ord(c) < 32 for c in text):
                problems.append(f"row {line}: text must be non-empty printable ASCII")
            variable = (row.get("variable") or "").strip()
            for dataset in (row.get("dataset") or "").split():
                key = (dataset, variable, kind)
                if key in texts:
                    problems.append(f"row {line}: a second {kind} for {dataset}.{variable or '(dataset)'}")
                texts[key] = text
    if problems:
        raise DerivationsError(problems)
    return Derivations(texts)
