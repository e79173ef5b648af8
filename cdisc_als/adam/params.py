"""Parameter records of BDS datasets from the `source` column of parameters.csv (besides slopes, see
slopes.py):

  <DOM>.<TESTCD VARIABLE>=<CODE>   SDTM findings records of that test: AVAL = <DOM>STRESN, dated by
                                    <DOM>DTC, VISITNUM kept, SRCDOM/SRCVAR/SRCSEQ set (e.g. QS.QSTESTCD=AALS106)
  sum(A B C)                        per subject and visit, the sum of parameters A, B, C of the same
                                    administration; missing if any of them is missing

and the PARAM/PARCAT1 texts of every record (`attach_param_text`), so no parameter text lives in code.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc_als.metadata.parameters import Parameter
from cdisc_als.sdtm.fast import map_values

SELECT = re.compile(r"([A-Z]{2})\.([A-Z]{2}TESTCD)=([A-Z0-9_]{1,8})")
SUM = re.compile(r"sum\(\s*([A-Z0-9 ]+?)\s*\)")
RECORD_COLUMNS = ["USUBJID", "VISITNUM", "DTC", "PARAMCD", "AVAL", "SRCDOM", "SRCVAR", "SRCSEQ"]


def select_findings(sdtm: dict[str, pd.DataFrame], parameters: dict[str, Parameter]) -> pd.DataFrame:
    """The SDTM findings records behind every `<DOM>.<DOM>TESTCD=<CODE>` parameter."""
    parts = []
    for code, parameter in parameters.items():
        match = SELECT.fullmatch(parameter.source)
        if not match:
            continue
        domain, testcd_var, testcd = match.groups()
        frame = sdtm.get(domain)
        if frame is None or testcd_var not in frame.columns:
            continue
        rows = frame[frame[testcd_var] == testcd]
        parts.append(pd.DataFrame({"USUBJID": rows["USUBJID"], "VISITNUM": rows["VISITNUM"],
                                   "DTC": rows[f"{domain}DTC"], "PARAMCD": code, "AVAL": rows[f"{domain}STRESN"],
                                   "SRCDOM": domain, "SRCVAR": f"{domain}STRESN", "SRCSEQ": rows[f"{domain}SEQ"]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RECORD_COLUMNS)


def derive_sums(records: pd.DataFrame, parameters: dict[str, Parameter]) -> pd.DataFrame:
    """Records of every `sum(A B C)` parameter: one per USUBJID and VISITNUM where any part exists;
    AVAL missing unless every part has a value; DTC of the first part."""
    missing = [c for c in ("USUBJID", "VISITNUM", "PARAMCD", "AVAL", "DTC") if c not in records.columns]
    if missing:
        raise KeyError(f"derive_sums: records lack required column(s) {missing}")
    parts = []
    for code, parameter in parameters.items():
        match = SUM.fullmatch(parameter.source)
        if not match:
            continue
        members = match.group(1).split()
        rows = records[records["PARAMCD"].isin(members)]
        wide = rows.pivot_table(index=["USUBJID", "VISITNUM"], columns="PARAMCD", values="AVAL", aggfunc="first")
        value = wide.reindex(columns=members).sum(axis=1, min_count=len(members))
        value = value.where(wide.reindex(columns=members).notna().all(axis=1))
        dates = rows.groupby(["USUBJID", "VISITNUM"])["DTC"].first()
        out = value.rename("AVAL").reset_index()
        out["DTC"] = dates.reindex(value.index).to_numpy()
        out["PARAMCD"] = code
        parts.append(out)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RECORD_COLUMNS)


def attach_param_text(frame: pd.DataFrame, parameters: dict[str, Parameter], dataset: str) -> pd.DataFrame:
    """PARAM and PARCAT1 from parameters.csv for every PARAMCD; a PARAMCD that parameters.csv does not
    define is an error naming it (every parameter is described once, in the metadata)."""
    unknown = sorted(set(pd.unique(frame["PARAMCD"].dropna())) - set(parameters))
    if unknown:
        raise KeyError(f"{dataset}: parameter(s) {unknown} are not in mappings/metadata/parameters.csv")
    out = frame.copy(deep=False)          # the three columns are new arrays: the input is never written
    out["PARAM"] = map_values(out["PARAMCD"], {c: p.param for c, p in parameters.items()})
    out["PARCAT1"] = map_values(out["PARAMCD"], {c: p.parcat1 for c, p in parameters.items()})
    order = {code: float(k) for k, code in enumerate(parameters, start=1)}
    out["PARAMN"] = map_values(out["PARAMCD"], order).astype(np.float64)
    return out
