"""Compare two datasets the way SAS PROC COMPARE does, and return every kind of difference as a table.

Rules (as PROC COMPARE with an ID statement):

* Observations are matched by the key variables (sorted first, so input order does not matter);
  without keys, by position. Keys must be unique in each dataset (else DuplicateKeyError).
* A variable in only one dataset, a type conflict (char vs num), and differing length, label,
  format or informat are variable-level differences. Types that conflict are not value-compared.
* Missing values: blank character = missing; numeric NaN = missing; missing equals only missing
  (0 vs missing is a difference). Trailing blanks of character values are ignored, leading are not.
* Numeric values are unequal when, with x = base and y = compare and criterion g:
  exact: y != x;  absolute: |y - x| > g;  relative: |y - x| / ((|x| + |y|) / 2 + delta) > g
  (equal when both are 0);  percent: 100 |y - x| / |x| > g.
* SYSINFO bits: 1 dataset label, 4 informat, 8 format, 16 length, 32 label, 64 base observation
  not in compare, 128 compare observation not in base, 1024 base variable not in compare,
  2048 compare variable not in base, 4096 unequal value, 8192 conflicting type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdisc_als.compare.sources import CHAR, NUM, ComparableDataset, load

BITS = {
    "DSLABEL": 1, "DSTYPE": 2, "INFORMAT": 4, "FORMAT": 8, "LENGTH": 16, "LABEL": 32, "BASEOBS": 64,
    "COMPOBS": 128, "BASEBY": 256, "COMPBY": 512, "BASEVAR": 1024, "COMPVAR": 2048, "VALUE": 4096,
    "TYPE": 8192, "BYVAR": 16384, "ERROR": 32768,
}
METHODS = ("exact", "absolute", "relative", "percent")
OBS = "_OBS_"


class CompareError(ValueError):
    """The comparison cannot be done (missing or mismatched key variables, bad method)."""


class DuplicateKeyError(CompareError):
    """Key values repeat within a dataset; `duplicates` lists them with their counts."""

    def __init__(self, which: str, keys: list[str], duplicates: pd.DataFrame):
        self.which = which
        self.duplicates = duplicates
        shown = duplicates.head(5).to_dict("records")
        super().__init__(f"{which}: the key {'+'.join(keys)} is not unique: {len(duplicates)} key value(s) repeat, "
                         f"e.g. {shown}")


@dataclass
class CompareResult:
    """Everything that differs, as named tables (diffdf style) plus the SYSINFO-compatible code."""

    base_name: str
    compare_name: str
    keys: list[str]
    method: str
    criterion: float
    dataset: pd.DataFrame
    vars_only_in_base: list[str]
    vars_only_in_compare: list[str]
    attributes: pd.DataFrame
    obs_only_in_base: pd.DataFrame
    obs_only_in_compare: pd.DataFrame
    values: pd.DataFrame
    value_summary: pd.DataFrame
    n_obs_common: int
    n_obs_unequal: int
    sysinfo: int
    bits: list[str] = field(default_factory=list)

    @property
    def has_differences(self) -> bool:
        return self.sysinfo != 0

    def issues(self) -> dict[str, pd.DataFrame]:
        """Each kind of difference as a table (empty tables included, so the shape is fixed)."""
        return {
            "dataset": self.dataset,
            "vars_only_in_base": pd.DataFrame({"variable": self.vars_only_in_base}),
            "vars_only_in_compare": pd.DataFrame({"variable": self.vars_only_in_compare}),
            "attributes": self.attributes,
            "obs_only_in_base": self.obs_only_in_base,
            "obs_only_in_compare": self.obs_only_in_compare,
            "value_summary": self.value_summary,
            "values": self.values,
        }

    def report(self, max_values: int = 50) -> str:
        from cdisc_als.compare.report import text_report

        return text_report(self, max_values)


def _strip_char(series: pd.Series) -> np.ndarray:
    """Character values with trailing blanks removed and missing as '' (work on the distinct values)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    stripped = np.array([str(u).rstrip() for u in uniques] + [""], dtype=object)
    return stripped[codes]


def _as_float(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _unequal_numbers(x: np.ndarray, y: np.ndarray, method: str, criterion: float, delta: float) -> np.ndarray:
    x_missing, y_missing = np.isnan(x), np.isnan(y)
    both = ~x_missing & ~y_missing
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(y - x)
        if method == "exact":
            bad = diff != 0
        elif method == "absolute":
            bad = diff > criterion
        elif method == "relative":
            scale = (np.abs(x) + np.abs(y)) / 2 + delta
            bad = np.where((x == 0) & (y == 0), False, diff / scale > criterion)
        else:
            bad = np.where(x == 0, diff != 0, 100 * diff / np.abs(x) > criterion)
    return (x_missing ^ y_missing) | (both & bad)


def _check_keys(ds: ComparableDataset, keys: list[str], which: str) -> None:
    missing = [k for k in keys if k not in ds.frame.columns]
    if missing:
        raise CompareError(f"{which}: key variable(s) {missing} not in the dataset")
    dup = ds.frame.duplicated(keys, keep=False)
    if dup.any():
        counts = ds.frame[dup].groupby(keys, dropna=False).size().reset_index(name="count")
        raise DuplicateKeyError(which, keys, counts)


def _key_frame(ds: ComparableDataset, keys: list[str], row_col: str) -> pd.DataFrame:
    frame = pd.DataFrame({k: (_strip_char(ds.frame[k]) if ds.attrs[k].type == CHAR else _as_float(ds.frame[k]))
                          for k in keys})
    frame[row_col] = np.arange(len(ds.frame))
    return frame


def _attribute_rows(base: ComparableDataset, comp: ComparableDataset, common: list[str]) -> pd.DataFrame:
    rows = []
    for var in common:
        a, b = base.attrs[var], comp.attrs[var]
        # a type conflict is reported alone: length and format follow from the type
        checked = ("type", "label") if a.type != b.type else ("type", "length", "label", "format", "informat")
        for attr in checked:
            va, vb = getattr(a, attr), getattr(b, attr)
            if attr != "type" and (va in (None, "") and vb in (None, "")):
                continue
            if attr in ("length",) and (va is None or vb is None):
                continue
            if va != vb:
                rows.append({"variable": var, "attribute": attr, "base": va, "compare": vb})
    return pd.DataFrame(rows, columns=["variable", "attribute", "base", "compare"])


def compare_datasets(base: object, compare: object, keys: list[str] | None = None, tolerance: float | None = None,
                     method: str | None = None, delta: float = 0.0, base_name: str = "BASE",
                     compare_name: str = "COMPARE") -> CompareResult:
    """Compare base with compare (frames, ComparableDatasets, or .xpt / Dataset-JSON paths).

    tolerance is the PROC COMPARE CRITERION; method defaults to 'absolute' when a tolerance is
    given and to 'exact' otherwise.
    """
    method = (method or ("absolute" if tolerance else "exact")).lower()
    if method not in METHODS:
        raise CompareError(f"method must be one of {METHODS}, got {method!r}")
    criterion = float(tolerance or 0.0)
    b, c = load(base, base_name), load(compare, compare_name)
    keys = list(keys or [])
    if keys:
        _check_keys(b, keys, base_name)
        _check_keys(c, keys, compare_name)
        conflicting = [k for k in keys if b.attrs[k].type != c.attrs[k].type]
        if conflicting:
            raise CompareError(f"key variable(s) {conflicting} are character in one dataset and numeric in the other")
        key_cols = keys
        left, right = _key_frame(b, keys, "_B"), _key_frame(c, keys, "_C")
    else:
        key_cols = [OBS]
        left = pd.DataFrame({OBS: np.arange(1, len(b.frame) + 1, dtype=float), "_B": np.arange(len(b.frame))})
        right = pd.DataFrame({OBS: np.arange(1, len(c.frame) + 1, dtype=float), "_C": np.arange(len(c.frame))})
    merged = left.merge(right, on=key_cols, how="outer", indicator=True, sort=True)
    both = merged["_merge"] == "both"
    pairs = merged[both]
    bi, ci = pairs["_B"].to_numpy(dtype=np.int64), pairs["_C"].to_numpy(dtype=np.int64)
    only_base = merged[merged["_merge"] == "left_only"][key_cols].reset_index(drop=True)
    only_comp = merged[merged["_merge"] == "right_only"][key_cols].reset_index(drop=True)

    b_vars, c_vars = list(b.frame.columns), list(c.frame.columns)
    common = [v for v in b_vars if v in c.frame.columns]
    only_b = [v for v in b_vars if v not in c.frame.columns]
    only_c = [v for v in c_vars if v not in b.frame.columns]
    attributes = _attribute_rows(b, c, common)
    type_conflicts = set(attributes.loc[attributes["attribute"] == "type", "variable"])

    key_values = pairs[key_cols].reset_index(drop=True)
    value_parts, summary_rows = [], []
    unequal_any = np.zeros(len(pairs), dtype=bool)
    for var in common:
        if var in keys or var in type_conflicts:
            continue
        kind = b.attrs[var].type
        if kind == NUM:
            x, y = _as_float(b.frame[var])[bi], _as_float(c.frame[var])[ci]
            bad = _unequal_numbers(x, y, method, criterion, delta)
            diff = y - x
        else:
            x, y = _strip_char(b.frame[var])[bi], _strip_char(c.frame[var])[ci]
            bad = x != y
            diff = None
        n_bad = int(bad.sum())
        max_diff = float(np.nanmax(np.abs(diff[bad]))) if (kind == NUM and n_bad and
                                                         not np.all(np.isnan(diff[bad]))) else np.nan
        summary_rows.append({"variable": var, "type": kind, "compared": len(pairs), "unequal": n_bad,
                             "max_abs_diff": max_diff})
        if n_bad:
            unequal_any |= bad
            idx = np.nonzero(bad)[0]
            part = key_values.iloc[idx].reset_index(drop=True)
            part["variable"] = var
            part["base"] = pd.Series(x[idx], dtype=object)
            part["compare"] = pd.Series(y[idx], dtype=object)
            part["diff"] = diff[idx] if diff is not None else np.nan
            value_parts.append(part)
    values = (pd.concat(value_parts, ignore_index=True) if value_parts
              else pd.DataFrame(columns=[*key_cols, "variable", "base", "compare", "diff"]))
    summary = pd.DataFrame(summary_rows, columns=["variable", "type", "compared", "unequal", "max_abs_diff"])

    dataset = pd.DataFrame([
        {"dataset": base_name, "name": b.name, "label": b.label, "variables": len(b_vars), "observations": len(b.frame)},
        {"dataset": compare_name, "name": c.name, "label": c.label, "variables": len(c_vars),
         "observations": len(c.frame)},
    ])
    bits = []
    if b.label != c.label and (b.label or c.label):
        bits.append("DSLABEL")
    for attr, bit in (("informat", "INFORMAT"), ("format", "FORMAT"), ("length", "LENGTH"), ("label", "LABEL")):
        if (attributes["attribute"] == attr).any():
            bits.append(bit)
    if len(only_base):
        bits.append("BASEOBS")
    if len(only_comp):
        bits.append("COMPOBS")
    if only_b:
        bits.append("BASEVAR")
    if only_c:
        bits.append("COMPVAR")
    if len(values):
        bits.append("VALUE")
    if type_conflicts:
        bits.append("TYPE")
    code = sum(BITS[name] for name in bits)
    return CompareResult(base_name, compare_name, keys, method, criterion, dataset, only_b, only_c, attributes,
                         only_base, only_comp, values, summary, int(len(pairs)), int(unequal_any.sum()), code, bits)


def decode_sysinfo(code: int) -> list[str]:
    """Names of the bits set in a SYSINFO-style code, e.g. 4096 + 64 -> ['BASEOBS', 'VALUE']."""
    return [name for name, bit in BITS.items() if code & bit]
