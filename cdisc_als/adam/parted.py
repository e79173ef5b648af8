"""A large ADaM dataset kept as it is derived: part by part, each part finalized as it will be written and
its text columns held as codes (pandas categoricals: one to four bytes per record instead of a pointer to a
string), then written part by part (export.xpt.xpt_parts): the records are never held in one frame.

ADQS is derived a few thousand subjects at a time (adam.adqs); holding every part as derived, text as
objects, cost the ADaM build most of its memory at 100,000 subjects (21 million records, 22 text
columns). Finalizing each part first is the same as finalizing the stacked records: every step of
pipeline.finalize_adam works record by record, except which permissible variables are kept (those some
record has), which `aligned` decides from all the parts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cdisc_als.columnar import as_categoricals, frame_of
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

    def aligned(self) -> list[pd.DataFrame]:
        """The parts (no longer held here), each with the same variables: the metadata's that some part has, in
        its order; a part without one of them holds it missing (NaN, or '' for text), as finalizing the
        stacked records would."""
        parts, self._parts = self._parts, []
        present = {name for part in parts for name in part.columns}
        variables = [v for v in self._metadata.dataset(self.name).variables if v.name in present]
        return [frame_of({v.name: _values(part[v.name]) if v.name in part.columns else _missing(len(part), v.type)
                          for v in variables}) if variables else part for part in parts]


def _values(column: pd.Series) -> np.ndarray | pd.Categorical:
    return column.array if isinstance(column.dtype, pd.CategoricalDtype) else column.to_numpy()


def _missing(n: int, kind: str) -> np.ndarray | pd.Categorical:
    if kind == "Num":
        return np.full(n, np.nan)
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([""], dtype=object))
