"""What ADaM reads from SDTM, checked before anything is built, and dates it must not analyse.

`check_sdtm_inputs` names every missing dataset and variable at once (SdtmInputError, exit 2: "DM.ARM:
variable missing from dm.xpt"), reports a character variable where the metadata says numeric, and
gives an absent optional dataset as an empty frame with the variables ADaM reads (a study without
adverse events still gets an empty ADAE). A dataset with no records is valid.

`screen_implausible_dates` blanks every --DTC value outside study.yaml `plausible_dates` before the
derivations, so analysis windows, baselines, study days and event times never use it, and returns
one ADAM-DATE-IMPLAUSIBLE warning per value (written to adam_findings.csv).
"""

from __future__ import annotations

import pandas as pd

from cdisc_als.findings import WARNING, Finding
from cdisc_als.metadata import Metadata
from cdisc_als.plausible import outside
from cdisc_als.study import Study

REQUIRED: dict[str, tuple[str, ...]] = {
    "DM": ("STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "SEX", "ARMCD", "ARM", "ACTARMCD", "ACTARM", "RFSTDTC",
           "RFENDTC", "DTHDTC"),
    "DS": ("USUBJID", "DSCAT", "DSDECOD", "DSSTDTC"),
    "SV": ("USUBJID", "VISITNUM", "SVSTDTC"),
    "QS": ("USUBJID", "QSSEQ", "QSCAT", "QSTESTCD", "QSSTRESN", "VISITNUM", "QSDTC"),
    "RE": ("USUBJID", "RESEQ", "RETESTCD", "RESTRESN", "VISITNUM", "REDTC"),
    "MH": ("USUBJID", "MHEVDTYP", "MHSTDTC"),
    "FA": ("USUBJID", "FATESTCD", "FASTRESC"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "EX": ("USUBJID", "EXSTDTC", "EXENDTC"),
    "LB": ("USUBJID", "LBSEQ", "VISITNUM", "LBDTC", "LBTESTCD", "LBTEST", "LBSTRESN", "LBSTRESU", "LBSPEC"),
    "AE": ("USUBJID", "AESEQ", "AESTDTC", "AEENDTC", "AEREL", "AESER", "AEOUT"),
    "GF": ("USUBJID", "GFSTRESC"),
    "SS": ("USUBJID", "SSSEQ", "SSDTC", "SSSTRESC"),
    "SUPPSS": ("USUBJID", "IDVARVAL", "QNAM", "QVAL"),
}


class SdtmInputError(ValueError):
    """The SDTM folder lacks datasets or variables ADaM needs; `problems` lists every one."""

    def __init__(self, folder: str, problems: list[str]):
        self.problems = problems
        if len(problems) == 1:
            super().__init__(f"{folder}: {problems[0]}")
        else:
            super().__init__(f"{folder}: {len(problems)} problem(s) in the SDTM input:\n  " + "\n  ".join(problems))


def _variable_type(metadata: Metadata, dataset: str, variable: str) -> str:
    try:
        return metadata.dataset("SUPPQUAL" if dataset.startswith("SUPP") else dataset).variable(variable).type
    except KeyError:
        return "Char"


def _empty(dataset: str, variables: tuple[str, ...], metadata: Metadata) -> pd.DataFrame:
    return pd.DataFrame({v: pd.Series(dtype="float64" if _variable_type(metadata, dataset, v) == "Num" else object)
                         for v in variables})


def check_sdtm_inputs(sdtm: dict[str, pd.DataFrame], folder: str, metadata: Metadata) -> dict[str, pd.DataFrame]:
    """The SDTM frames with absent optional datasets filled in as empty; SdtmInputError listing every
    missing dataset or variable and every variable of the wrong type."""
    problems = []
    out = dict(sdtm)
    for dataset, variables in {**REQUIRED, **OPTIONAL}.items():
        frame = sdtm.get(dataset)
        if frame is None:
            if dataset in REQUIRED:
                problems.append(f"{dataset}: dataset missing (expected {dataset.lower()}.xpt)")
            else:
                out[dataset] = _empty(dataset, variables, metadata)
            continue
        for variable in variables:
            if variable not in frame.columns:
                problems.append(f"{dataset}.{variable}: variable missing from {dataset.lower()}.xpt")
            elif (_variable_type(metadata, dataset, variable) == "Num" and len(frame)
                  and not pd.api.types.is_numeric_dtype(frame[variable])):
                problems.append(f"{dataset}.{variable}: character in {dataset.lower()}.xpt, the metadata says numeric")
    if problems:
        raise SdtmInputError(folder, problems)
    return out


def screen_implausible_dates(sdtm: dict[str, pd.DataFrame], study: Study) -> tuple[dict[str, pd.DataFrame],
                                                                                   list[Finding]]:
    """Every --DTC value outside the plausible dates set to blank, with one warning each."""
    earliest, latest = study.plausible_dates.earliest, study.plausible_latest
    out, findings = {}, []
    for dataset, frame in sdtm.items():
        dates = [c for c in frame.columns if c.endswith("DTC") and frame[c].dtype == object]
        bad_any = {c: outside(frame[c], earliest, latest) for c in dates}
        bad_any = {c: m for c, m in bad_any.items() if m.any()}
        if not bad_any:
            out[dataset] = frame
            continue
        frame = frame.copy()
        subjects = frame["USUBJID"] if "USUBJID" in frame else pd.Series("", index=frame.index)
        for column, mask in bad_any.items():
            for position in mask.to_numpy().nonzero()[0]:
                findings.append(Finding(
                    f"{dataset.lower()}.xpt", int(position) + 1, column, str(frame[column].iloc[position]),
                    "ADAM-DATE-IMPLAUSIBLE",
                    f"{subjects.iloc[position]}: outside the study's plausible dates {earliest} to {latest}; "
                    "treated as missing by ADaM (no analysis date, not in any analysis window)",
                    WARNING, "value set to missing"))
            frame.loc[mask, column] = ""
        out[dataset] = frame
    return out, findings
