"""A dataset as read from a file, and the error a damaged file raises: shared by the XPT and Dataset-JSON
readers (cdisc_als.xpt_reader, cdisc_als.datasets_io)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    label: str = ""
    type: str = "Char"          # "Char" or "Num"
    length: int | None = None
    format: str = ""
    informat: str = ""


@dataclass(frozen=True)
class Problem:
    """What is wrong with a file; fatal problems mean the data could not be read whole."""

    file: str
    message: str
    fatal: bool = True
    kind: str = "damaged"       # damaged, encoding, type, format


@dataclass
class DatasetFile:
    path: Path
    name: str
    label: str
    columns: list[Column]
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)   # non-fatal only
    format: str = "xpt"         # xpt, json or ndjson
    # the reader's factorization of text columns: name -> (codes, texts), frame[name] == texts[codes] as read;
    # whoever replaces a text column of `frame` in place must drop its entry (nothing in cdisc_als does)
    coded: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    coded_frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)   # the frame `coded` describes

    @property
    def types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    def distinct_text(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(codes, texts) of a text column as the reader decoded it: each distinct value once, numbered in order
        of first appearance as pd.factorize numbers them, so a consumer need not hash every cell again; None
        when the reader did not keep them (Dataset-JSON, version 8), `frame` is not the frame read (the
        coded_frame of the reader) or two codes decode to one text."""
        pair = self.coded.get(name)
        if pair is None or self.frame is not self.coded_frame or len(pair[0]) != len(self.frame):
            return None
        codes, texts = pair
        if len(set(texts.tolist())) != len(texts):       # e.g. bytes Windows-1252 replaced alike
            return None
        return codes, texts


class DatasetReadError(ValueError):
    """A dataset file is damaged or is not what its name says; the message is one line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{first.file}: {first.message}{more}")


def fail(path: Path, message: str) -> DatasetReadError:
    return DatasetReadError([Problem(path.name, message)])

