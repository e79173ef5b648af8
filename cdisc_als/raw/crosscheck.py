"""Rules across rows and tables that a column schema cannot express (vectorised per table)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cdisc_als.findings import ERROR, REJECTED, SET_MISSING, WARNING, Finding
from cdisc_als.raw.spec import RawSpec, RawTable
from cdisc_als.study import Study

SERIOUS_CRITERIA = ("SDEATH", "SLIFE", "SHOSP", "SDISAB", "SCONG", "SMIE")
ALSFRS_ITEMS = ("Q01", "Q02", "Q03", "Q04", "Q05A", "Q05B", "Q06", "Q07", "Q08", "Q09", "Q10", "Q11", "Q12")
AALS_PARTS = ("BULBAR", "RESP", "STRENGTH", "UEFUNC", "LEFUNC")


def _rows(frame: pd.DataFrame, mask: pd.Series, file_name: str, column: str, rule: str, message: str,
          severity: str = ERROR, value_column: str | None = None) -> list[Finding]:
    hits = frame[mask.fillna(False).astype(bool)]
    values = hits[value_column or column] if (value_column or column) in hits else pd.Series("", index=hits.index)
    return [Finding(file_name, int(r), column, str(v), rule, message, severity)
            for r, v in zip(hits["_ROW"], values, strict=True)]


def duplicate_keys(table: RawTable, frame: pd.DataFrame, file_name: str) -> list[Finding]:
    """Rows sharing the table's key (each duplicated row is reported, with the other row numbers)."""
    key = [k for k in table.key if k in frame.columns]
    if not key or len(key) < len(table.key):
        return []
    dup = frame.duplicated(key, keep=False)
    if not dup.any():
        return []
    hits = frame[dup]
    groups = hits.groupby(key, sort=False)["_ROW"].apply(list)
    out = []
    for key_value, rows in groups.items():
        value = "/".join(key_value) if isinstance(key_value, tuple) else str(key_value)
        for r in rows:
            others = ", ".join(str(o) for o in rows if o != r)
            out.append(Finding(file_name, int(r), "+".join(key), value, "RAW-DUPLICATE-KEY",
                               f"key {'+'.join(key)} also on row(s) {others}", ERROR, REJECTED))
    return out


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce") if column in frame.columns else pd.Series(dtype=float)


def alsfrs_rules(frame: pd.DataFrame, file_name: str) -> list[Finding]:
    """Item 5 is answered exactly once: 5a (no gastrostomy) or 5b (gastrostomy)."""
    if not {"Q05A", "Q05B"} <= set(frame.columns):
        return []
    a, b = frame["Q05A"] != "", frame["Q05B"] != ""
    return (_rows(frame, a & b, file_name, "Q05A", "RAW-ALSFRS-ITEM5", "items 5a and 5b are both filled; keep one")
            + _rows(frame, ~a & ~b, file_name, "Q05A", "RAW-ALSFRS-ITEM5", "item 5 is missing (neither 5a nor 5b)"))


def aals_rules(frame: pd.DataFrame, file_name: str) -> list[Finding]:
    if not set(AALS_PARTS + ("TOTAL",)) <= set(frame.columns):
        return []
    parts = sum(_num(frame, p) for p in AALS_PARTS)
    total = _num(frame, "TOTAL")
    mask = parts.notna() & total.notna() & (parts != total)
    return _rows(frame, mask, file_name, "TOTAL", "RAW-AALS-TOTAL", "total differs from the sum of the subscores")


def _comparable(text: pd.Series, width: int) -> pd.Series:
    return text.str.slice(0, width).str.replace("UN", "", regex=False)


def date_order(frame: pd.DataFrame, file_name: str, start: str, end: str) -> list[Finding]:
    """End date before start date, comparing only the parts both dates know."""
    if not {start, end} <= set(frame.columns):
        return []
    s, e = frame[start], frame[end]
    width = pd.concat([s.str.replace("-UN", "").str.len(), e.str.replace("-UN", "").str.len()], axis=1).min(axis=1)
    out = pd.Series(False, index=frame.index)
    for w in (4, 7, 10):
        sel = (width == w) & (s != "") & (e != "")
        out |= sel & (_comparable(e, w) < _comparable(s, w))
    return _rows(frame, out, file_name, end, "RAW-DATE-ORDER", f"{end} is before {start}")


def ae_rules(frame: pd.DataFrame, file_name: str) -> list[Finding]:
    out = date_order(frame, file_name, "AESTDT", "AEENDT")
    cols = set(frame.columns)
    if {"ONGOING", "AEENDT"} <= cols:
        out += _rows(frame, (frame["ONGOING"] == "Y") & (frame["AEENDT"] != ""), file_name, "AEENDT",
                     "RAW-AE-ONGOING", "event is marked ongoing but has an end date")
        out += _rows(frame, (frame["ONGOING"] == "N") & (frame["AEENDT"] == "") & (frame.get("OUTCOME", "") != "FATAL"),
                     file_name, "AEENDT", "RAW-AE-ONGOING", "event is not ongoing but has no end date", WARNING)
    criteria = [c for c in SERIOUS_CRITERIA if c in cols]
    if "SERIOUS" in cols and criteria:
        any_yes = frame[criteria].eq("Y").any(axis=1)
        out += _rows(frame, (frame["SERIOUS"] == "N") & any_yes, file_name, "SERIOUS", "RAW-AE-SERIOUS",
                     "a seriousness criterion is Y but SERIOUS is N")
        out += _rows(frame, (frame["SERIOUS"] == "Y") & ~any_yes, file_name, "SERIOUS", "RAW-AE-SERIOUS",
                     "SERIOUS is Y but no seriousness criterion is Y", WARNING)
    if {"OUTCOME", "SDEATH"} <= cols:
        out += _rows(frame, (frame["OUTCOME"] == "FATAL") & (frame["SDEATH"] != "Y"), file_name, "SDEATH",
                     "RAW-AE-FATAL", "outcome is FATAL but 'results in death' is not Y")
    return out


def demog_rules(frame: pd.DataFrame, file_name: str) -> list[Finding]:
    if not {"SCRNFAIL", "ARM", "RANDDT"} <= set(frame.columns):
        return []
    sf = frame["SCRNFAIL"] == "Y"
    rand = frame["SCRNFAIL"] == "N"
    with_arm = _rows(frame, sf & (frame["ARM"] != ""), file_name, "ARM", "RAW-RANDOMIZATION",
                     "screen failure with an arm: the arm is set to missing, the subject stays a screen failure")
    return ([replace(f, action=SET_MISSING) for f in with_arm]
            + _rows(frame, sf & (frame["ARM"] == "") & (frame["RANDDT"] != ""), file_name, "RANDDT",
                    "RAW-RANDOMIZATION", "screen failure with a randomization date")
            + _rows(frame, rand & ((frame["ARM"] == "") | (frame["RANDDT"] == "")), file_name, "ARM",
                    "RAW-RANDOMIZATION", "randomized subject (SCRNFAIL N) without arm or randomization date: "
                    "mapped without an arm, so in no randomized analysis population"))


def survival_rules(frame: pd.DataFrame, file_name: str) -> list[Finding]:
    if not {"STATUS", "DEATHDT"} <= set(frame.columns):
        return []
    return _rows(frame, (frame["STATUS"] == "DEAD") & (frame["DEATHDT"] == ""), file_name, "DEATHDT",
                 "RAW-DEATH-DATE", "status DEAD without a date of death", WARNING)


def injection_rules(frame: pd.DataFrame, demog: pd.DataFrame | None, file_name: str, study: Study) -> list[Finding]:
    if demog is None or "ARM" not in demog.columns or "SUBJID" not in frame.columns:
        return []
    treated = {a.raw for a in study.arms if a.treated}
    arm = frame["SUBJID"].map(dict(zip(demog["SUBJID"], demog["ARM"], strict=False)))
    return _rows(frame, arm.notna() & (arm != "") & ~arm.isin(treated), file_name, "SUBJID", "RAW-INJECTION-ARM",
                 f"injection recorded for a subject who is not in a treated arm ({', '.join(sorted(treated))})")


TABLE_RULES = {"alsfrs": alsfrs_rules, "aals": aals_rules, "ae": ae_rules, "demog": demog_rules,
               "survival": survival_rules}


def key_findings(spec: RawSpec, frames: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Finding]:
    """RAW-DUPLICATE-KEY for every table (every row of a duplicated key is rejected)."""
    return [f for name, frame in frames.items() for f in duplicate_keys(spec.tables[name], frame, files[name])]


def cross_findings(spec: RawSpec, frames: dict[str, pd.DataFrame], files: dict[str, str],
                   study: Study) -> list[Finding]:
    """The table rules of every table that was read, and injections against the arms."""
    out: list[Finding] = []
    for name, frame in frames.items():
        if name in TABLE_RULES:
            out += TABLE_RULES[name](frame, files[name])
    if "injections" in frames:
        out += injection_rules(frames["injections"], frames.get(spec.subject_table), files["injections"], study)
    return out
