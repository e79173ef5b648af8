"""An independent small analysis of the raw sample tables (no simulator or pipeline code).

Used by the tests to check that the embedded sample study prints the published tables. The rules
are written out here as a statistician would from trial.md:
  ALSFRS-R total = sum of the 12 items (item 5 = 5a or 5b); FAS = randomized with V5 and at least
  one later ALSFRS-R; slopes use nominal months: lead-in (V5 - V1)/3, follow-up (V9 - V5)/4 and
  (V10 - V5)/6; durations in months = (V5 date - date + 1) / 30.4375 with a partial onset date
  'YYYY-MM' taken as the 15th.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

MONTH = 30.4375
ITEMS = ["Q01", "Q02", "Q03", "Q04", "Q05", "Q06", "Q07", "Q08", "Q09", "Q10", "Q11", "Q12"]


def half_up(x: float, dp: int) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP))


def p_text(p: float) -> str:
    p3 = Decimal(half_up(p, 4)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return "<0.001" if p3 < Decimal("0.001") else str(p3)


def load(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in folder.glob("*.csv")}


def wide_by_visit(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    vals = frame.assign(V=frame["VISIT"].str.replace("VISIT ", "").astype(int), X=pd.to_numeric(frame[value]))
    return vals.pivot(index="SUBJID", columns="V", values="X")


def subject_frame(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    dm = raw["demog"].set_index("SUBJID")
    als = raw["alsfrs"].copy()
    als["Q05"] = np.where(als["Q05A"] != "", als["Q05A"], als["Q05B"])
    als["TOT"] = als[ITEMS].astype(int).sum(axis=1)
    tot = wide_by_visit(als, "TOT")
    visits = raw["visits"].assign(V=raw["visits"]["VISIT"].str.replace("VISIT ", "").astype(int))
    vdate = visits.pivot(index="SUBJID", columns="V", values="VISDT")
    df = pd.DataFrame(index=dm.index)
    df["ARM"] = dm["ARM"]
    df["SEX"] = dm["SEX"]
    df["AGE"] = pd.to_numeric(dm["AGE"])
    df["RAND"] = dm["SCRNFAIL"] == "N"
    for v in (1, 5, 9, 10):
        df[f"ALS{v}"] = tot.get(v)
    df["POST"] = tot.reindex(columns=[6, 7, 8, 9, 10]).notna().any(axis=1)
    df["FAS"] = df["RAND"] & df["ALS5"].notna() & df["POST"]
    for name, col in (("AALS", "TOTAL"), ("FVC", "FVC_PCT"), ("SF36", "SF36_TOTAL")):
        w = wide_by_visit(raw[name.lower()], col)
        for v in (1, 5, 9):
            df[f"{name}{v}"] = w.get(v)
    hist = raw["alshist"].set_index("SUBJID")
    onset = hist["ONSETDT"].where(hist["ONSETDT"].str.len() == 10, hist["ONSETDT"] + "-15")
    v5 = pd.to_datetime(vdate[5])
    df["DURSYM"] = ((v5 - pd.to_datetime(onset)).dt.days + 1) / MONTH
    df["DURDIAG"] = ((v5 - pd.to_datetime(hist["DIAGDT"])).dt.days + 1) / MONTH
    df["ONSET"] = hist["ONSETSITE"]
    return df


def summary(df: pd.DataFrame, expr: pd.Series, dp: int) -> dict[str, tuple[int, str, str]]:
    out = {}
    for arm in ("MSC", "CONTROL"):
        x = expr[(df["ARM"] == arm) & df["FAS"]].dropna()
        out[arm] = (len(x), half_up(x.mean(), dp), half_up(x.std(ddof=1), dp))
    return out


def student(df: pd.DataFrame, expr: pd.Series) -> dict[str, float]:
    a = expr[(df["ARM"] == "MSC") & df["FAS"]].dropna()
    b = expr[(df["ARM"] == "CONTROL") & df["FAS"]].dropna()
    res = stats.ttest_ind(a, b, equal_var=True)
    df_ = len(a) + len(b) - 2
    sp = math.sqrt(((len(a) - 1) * a.var() + (len(b) - 1) * b.var()) / df_)
    se = sp * math.sqrt(1 / len(a) + 1 / len(b))
    diff = a.mean() - b.mean()
    q = stats.t.ppf(0.975, df_)
    return {"diff": diff, "se": se, "lcl": diff - q * se, "ucl": diff + q * se, "p": float(res.pvalue)}


def pearson_or_fisher(table: list[list[int]]) -> float:
    arr = np.array(table)
    chi2, p, _, expected = stats.chi2_contingency(arr, correction=False)
    if expected.min() < 5:
        return float(stats.fisher_exact(arr).pvalue)
    return float(p)


def rows(df: pd.DataFrame) -> dict[str, pd.Series]:
    """The analysed variable of every Table 1 / Table 3 continuous row."""
    return {
        "AGE": df["AGE"], "DURSYM": df["DURSYM"], "DURDIAG": df["DURDIAG"], "ALSBL": df["ALS5"],
        "AALSBL": df["AALS5"], "FVCBL": df["FVC5"], "SF36BL": df["SF365"],
        "ALSSLI": (df["ALS5"] - df["ALS1"]) / 3, "AALSSLI": (df["AALS5"] - df["AALS1"]) / 3,
        "FVCSLI": (df["FVC5"] - df["FVC1"]) / 3,
        "ALSCHG4": df["ALS9"] - df["ALS5"], "ALSCHG6": df["ALS10"] - df["ALS5"],
        "ALSSC4": (df["ALS9"] - df["ALS5"]) / 4 - (df["ALS5"] - df["ALS1"]) / 3,
        "ALSSC6": (df["ALS10"] - df["ALS5"]) / 6 - (df["ALS5"] - df["ALS1"]) / 3,
        "AALSCHG4": df["AALS9"] - df["AALS5"],
        "AALSSC4": (df["AALS9"] - df["AALS5"]) / 4 - (df["AALS5"] - df["AALS1"]) / 3,
        "FVCCHG4": df["FVC9"] - df["FVC5"],
        "FVCSC4": (df["FVC9"] - df["FVC5"]) / 4 - (df["FVC5"] - df["FVC1"]) / 3,
        "SF36CHG4": df["SF369"] - df["SF365"],
    }


def responders(df: pd.DataFrame, month: int) -> dict[str, dict[str, int]]:
    """Counts of >= 50/75/100 % slope improvement (deaths before V10 are poor responders at 6 months)."""
    lead = (df["ALS5"] - df["ALS1"]) / 3
    follow = (df["ALS9"] - df["ALS5"]) / 4 if month == 4 else (df["ALS10"] - df["ALS5"]) / 6
    improvement = (follow - lead) / lead.abs() * 100
    out = {}
    for arm in ("MSC", "CONTROL"):
        sel = (df["ARM"] == arm) & df["FAS"]
        imp = improvement[sel]
        out[arm] = {"N": int(sel.sum()), "GE50": int((imp >= 50 - 1e-9).sum()), "GE75": int((imp >= 75 - 1e-9).sum()),
                    "GE100": int((imp >= 100 - 1e-9).sum())}
    return out
