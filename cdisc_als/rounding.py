"""Display rounding as SAS does it: half away from zero, with a small fuzz for binary floats."""

from __future__ import annotations

import math

_FUZZ = 1e-9


def sas_round(value: float, decimals: int = 0) -> float:
    """Round half away from zero (SAS ROUND), e.g. 0.125 -> 0.13 and -2.5 -> -3.

    A relative fuzz of 1e-9 absorbs binary representation error, so 62.5 (exactly 20/32*100)
    and 0.3625 computed as 0.36249999999 both round up as a person reading the number would.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    factor = 10.0 ** decimals
    scaled = abs(value) * factor
    rounded = math.floor(scaled + 0.5 + _FUZZ * max(1.0, scaled))
    return math.copysign(rounded / factor, value) if rounded else 0.0


def format_number(value: float, decimals: int) -> str:
    """Format with SAS rounding to a fixed number of decimals ('-0.00' never appears)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    rounded = sas_round(value, decimals)
    text = f"{rounded:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_pvalue(p: float) -> str:
    """The paper's p display: SAS prints 4 decimals, then half-up to 3; '<0.001' when that is 0.000."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    p3 = sas_round(sas_round(p, 4), 3)
    return "<0.001" if p3 < 0.001 else f"{p3:.3f}"


def format_percent(count: int, total: int) -> str:
    """Percentage of count in total, rounded half up to an integer ('63' for 20/32)."""
    if not total:
        return ""
    return f"{sas_round(100.0 * count / total, 0):.0f}"
