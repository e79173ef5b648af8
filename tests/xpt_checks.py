"""Assertions shared by the tests of the XPT reader, writer and read cache."""

from __future__ import annotations

import numpy as np
import pandas as pd


def assert_kept_as_read(kept, path) -> None:
    """What the cache kept for an XPT file (xpt_reader.KeptDataset) is what decoding the file gives: variables,
    frame (numbers to the bit, signs of zero included) and the reader's text codes with their dtype."""
    from cdisc_als.xpt_reader import _read_file

    fresh, mine = _read_file(path, None), kept.copy()
    assert [c for c in mine.columns] == [c for c in fresh.columns]
    assert (mine.name, mine.label, mine.problems, mine.format) == (fresh.name, fresh.label, fresh.problems, fresh.format)
    pd.testing.assert_frame_equal(mine.frame, fresh.frame, check_exact=True)
    for name in fresh.frame.columns:
        if name in fresh.coded:
            assert [a.tolist() for a in mine.coded[name]] == [a.tolist() for a in fresh.coded[name]], name
            assert mine.coded[name][0].dtype == fresh.coded[name][0].dtype, name
    for name in fresh.frame.select_dtypes("number").columns:       # -0.0 reads as 0.0: signs compared too
        assert np.array_equal(np.signbit(mine.frame[name]), np.signbit(fresh.frame[name]))
