"""CSF cytokines at V5 and V6 (MSC arm): direction of change and the TGF-b1 / MCP-1 relation.

Anti-inflammatory cytokines rise after the first injection (TGF-b1, IL-10, IL-6 a little, TGF-b2,
TGF-b3), pro-inflammatory ones fall (MCP-1, IL-1b, TNF-a). Among good responders (>= 50 %
slope improvement at month 4) the change in TGF-b1 is inversely related to the change in MCP-1
with R^2 = 0.259 by construction (residual orthogonal to the TGF-b1 change, then scaled); poor
responders get a weak relation (R^2 about 0.06). Both hold among the subjects with a V6 sample.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# analyte as written on the lab report: (V5 mean, V5 SD, mean relative change at V6), pg/mL
ANALYTES = {
    "TGF-beta1": (250.0, 80.0, 0.35),
    "TGF-beta2": (1500.0, 350.0, 0.08),
    "TGF-beta3": (45.0, 12.0, 0.06),
    "IL-6": (4.5, 1.8, 0.25),
    "IL-10": (1.6, 0.6, 0.30),
    "IL-1beta": (0.9, 0.35, -0.20),
    "MCP-1": (420.0, 110.0, -0.22),
    "TNF-alpha": (1.3, 0.5, -0.18),
}
GOOD_R2, POOR_R2 = 0.259, 0.062


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """a . b correctly rounded (math.fsum): the same bits whatever BLAS kernel the machine has."""
    return math.fsum((a * b).tolist())


def _related_change(x: np.ndarray, r2: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """y = -beta x + e with e orthogonal to x and R^2(y ~ x) exactly r2 (before rounding)."""
    xc = x - math.fsum(x.tolist()) / x.size
    e = rng.normal(0, 1, x.size)
    e = e - math.fsum(e.tolist()) / e.size
    e = e - xc * (_dot(e, xc) / _dot(xc, xc))
    beta = scale / math.sqrt(_dot(xc, xc) / xc.size)
    signal = -beta * xc
    e = e * math.sqrt(_dot(signal, signal) * (1 - r2) / r2 / _dot(e, e))
    return signal + e


def csf_values(subjects: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Long table SUBJID, VISIT (5/6), ANALYTE, RESULT (pg/mL, 1-2 decimals) for the given MSC subjects."""
    n = len(subjects)
    good = subjects["GOODRESP4"].to_numpy(bool)
    paired = ~subjects["CSF_V6_MISSING"].to_numpy(bool)
    values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, (mean, sd, rel) in ANALYTES.items():
        v5 = np.maximum(rng.normal(mean, sd, n), mean * 0.1)
        change = v5 * rel + rng.normal(0, sd * 0.35, n)
        values[name] = (v5, change)
    tgf_change = values["TGF-beta1"][1]
    mcp_v5, mcp_change = values["MCP-1"]
    for mask, r2 in ((good & paired, GOOD_R2), (~good & paired, POOR_R2)):
        if mask.sum() > 3:
            related = _related_change(tgf_change[mask], r2, 60.0, rng)
            shift = math.fsum((mcp_v5[mask] * ANALYTES["MCP-1"][2]).tolist()) / related.size
            mcp_change[mask] = related - math.fsum(related.tolist()) / related.size + shift
    rows = []
    for name, (v5, change) in values.items():
        digits = 1 if ANALYTES[name][0] >= 10 else 2
        v6 = np.maximum(v5 + change, ANALYTES[name][0] * 0.05)
        for visit, vals in ((5, v5), (6, v6)):
            rows.append(pd.DataFrame({"SUBJID": subjects["SUBJID"].to_numpy(), "VISIT": visit, "ANALYTE": name,
                                      "RESULT": np.round(vals, digits)}))
    out = pd.concat(rows, ignore_index=True)
    missing_v6 = subjects.loc[subjects["CSF_V6_MISSING"].to_numpy(bool), "SUBJID"]
    return out[~((out["VISIT"] == 6) & out["SUBJID"].isin(missing_v6))].reset_index(drop=True)
