"""Locate the reference data of ../shared (the CDISC pilot study) next to the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pilot_dir() -> Path:
    """shared/reference/cdiscpilot01 beside the checkout (or $CDISC_ALS_SHARED/reference/cdiscpilot01)."""
    candidates = []
    if os.environ.get("CDISC_ALS_SHARED"):
        candidates.append(Path(os.environ["CDISC_ALS_SHARED"]))
    here = Path(__file__).resolve()
    candidates += [parent / "shared" for parent in here.parents[:4]]
    for shared in candidates:
        pilot = shared / "reference" / "cdiscpilot01"
        if pilot.is_dir():
            return pilot
    pytest.skip("the CDISC pilot reference data (shared/reference/cdiscpilot01) is not beside this checkout")
