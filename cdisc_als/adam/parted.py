"""A large ADaM dataset kept as it is derived: part by part, each part finalized as it will be written and
its text columns held as codes (pandas categoricals: one to four bytes per record instead of a pointer to a
string), then stacked once for the writer.

ADQS is derived a few thousand subjects at a time (adam.adqs); holding every part as derived, text as
objects, cost the ADaM build most of its memory at 100,000 subjects (21 million records, 22 text
columns). Finalizing each part first is the same as finalizing the stacked records: every step of
pipeline.finalize_adam works record by record, except which permissible variables are kept (those some
record has), which `stacked` decides from all the parts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from cdisc_als.columnar import as_categoricals, categorical_of, frame_of
from cdisc_als.metadata import Metadata


class FinalizedParts:
    """The parts of one dataset, in record order, each finalized by `finalize` (a frame of the metadata's
    variables, numbers as float64 and text as str) and kept with its text as categoricals."""

    def __init__(self, name: str, metadata: Metadata, finalize: Callable[[pd.DataFrame], pd.DataFrame]):
        self.name, self._metadata, self._finalize = name, metadata, finalize
        self._parts: list[pd.DataFrame] = []

    def add(self, part: pd.DataFrame) -> None:
        self._parts.append(as_categoricals(self._finalize(part)))

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)

    def stacked(self) -> pd.DataFrame:
        """Every record in one frame (text as categoricals), the parts emptied a column at a time as they are
        stacked. The variables are the metadata's that some part has, in its order; a part without one of
        them holds it missing (NaN, or '' for text), as finalizing the stacked records would."""
        parts, self._parts = self._parts, []
        present = {name for part in parts for name in part.columns}
        variables = [v for v in self._metadata.dataset(self.name).variables if v.name in present]
        columns = {}
        for var in variables:
            pieces = [part.pop(var.name).array if var.name in part.columns else _missing(len(part), var.type)
                      for part in parts]
            columns[var.name] = (np.concatenate([np.asarray(p, dtype=np.float64) for p in pieces])
                                 if var.type == "Num" else _stacked_text(pieces))
            del pieces
        return frame_of(columns) if columns else pd.DataFrame(index=pd.RangeIndex(sum(map(len, parts))))


def _missing(n: int, kind: str):
    if kind == "Num":
        return np.full(n, np.nan)
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([""], dtype=object))


def _stacked_text(pieces: list) -> pd.Categorical:
    """The text pieces as one categorical, categories in order of first appearance."""
    coded = [p if isinstance(p, pd.Categorical) else categorical_of(np.asarray(p, dtype=object)) for p in pieces]
    return union_categoricals(coded) if len(coded) > 1 else coded[0]
