"""SDTM XPT folder -> ADSL, ADQS, ADRE, ADLB, ADAE, ADTTE (and ADCAFS when parameters.csv has CAFS
parameters) as XPT v5 with metadata labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.adam import derive as d
from cdisc_als.adam.adqs import build_adqs, finish_bds
from cdisc_als.adam.adsl import build_adsl
from cdisc_als.adam.adtte import adam_parameters_read, build_adtte
from cdisc_als.adam.cafs import build_adcafs
from cdisc_als.adam.cafs import parameters_read as cafs_parameters_read
from cdisc_als.adam.inputs import SdtmInputError, check_sdtm_inputs, screen_implausible_dates
from cdisc_als.adam.others import build_adae, build_adlb, build_adre
from cdisc_als.adam.params import attach_param_text
from cdisc_als.adam.parted import FinalizedParts
from cdisc_als.adam.staging import stage_specs
from cdisc_als.datasets_io import DatasetReadError, read_dataset
from cdisc_als.findings import Findings
from cdisc_als.io import safe_child
from cdisc_als.metadata import Metadata, load_metadata
from cdisc_als.sdtm.pipeline import finalize, write_dataset_xpt
from cdisc_als.study import Study

EPOCH = pd.Timestamp("1960-01-01")


# the SDTM variables ADaM reads from the large Findings domains (others are read whole)
COLUMNS = {"QS": ["USUBJID", "QSSEQ", "QSCAT", "QSTESTCD", "QSSTRESN", "VISITNUM", "QSDTC"]}
UNUSED = {"SUPPQS"}


def read_sdtm(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The <name>.xpt files of a folder as frames (character missing as ''), keyed by upper-case name.
    A file that cannot be read is an SdtmInputError naming it (every such file listed at once)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SdtmInputError(str(folder), ["folder not found"])
    out, problems = {}, []
    for path in sorted(folder.glob("*.xpt")):
        name = path.stem.upper()
        if name in UNUSED:
            continue
        try:
            out[name] = read_dataset(path, usecols=COLUMNS.get(name)).frame
        except DatasetReadError as exc:            # damaged or mislabelled file: every one listed at once
            problems.append(str(exc))
    if problems:
        raise SdtmInputError(str(folder), problems)
    return out


def _sas_dates(frame: pd.DataFrame, metadata: Metadata, name: str) -> pd.DataFrame:
    """Date variables (…DT) as SAS dates: days since 1960-01-01, formatted DATE9."""
    out = frame.copy(deep=False)              # dates are replaced by new columns; the others are not written
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = (out[col] - EPOCH).dt.days.astype("float64")
    return out


def _blank_missing_text(frame: pd.DataFrame, metadata: Metadata, name: str) -> pd.DataFrame:
    """Missing values of the text (Char) variables as '' in one vectorised pass, as finalize writes them
    (records stacked from parts without a column hold NaN there; finalize would convert them one by one)."""
    out = frame.copy(deep=False)              # blanked columns are new arrays: the input is never written
    for var in metadata.dataset(name).variables:
        if var.type != "Char" or var.name not in out.columns or out[var.name].dtype != object:
            continue
        values = out[var.name].to_numpy()
        if pd.api.types.infer_dtype(values, skipna=False) == "string":    # all text: nothing to blank
            continue
        missing = pd.isna(values)
        if missing.any():
            out[var.name] = np.where(missing, "", values)
    return out


def finalize_adam(frame: pd.DataFrame, name: str, metadata: Metadata) -> pd.DataFrame:
    """A built ADaM dataset as it is written: dates as SAS dates, missing text as '', the metadata's
    variables in its order with its types (sdtm.pipeline.finalize)."""
    return finalize(_blank_missing_text(_sas_dates(frame, metadata, name), metadata, name), name, metadata)


def check_study_against_metadata(study: Study, metadata: Metadata) -> list[str]:
    """Variables the study spec asks ADaM to derive must be described in the metadata (else finalize
    would drop them): subgroup variables in ADSL and ADTTE, AE window flags in ADAE, one CRITy/CRITyFL
    pair per responder threshold in ADQS (and CRIT1/CRIT2 for King's stage 4A/4B); and every dataset
    with parameters in parameters.csv (e.g. ADCAFS) must be in datasets.csv."""
    wanted = [("ADSL", g.variable) for g in study.analysis.subgroups]
    wanted += [("ADSL", f"{g.variable}N") for g in study.analysis.subgroups]
    wanted += [("ADAE", w.flag) for w in study.analysis.ae_windows]
    wanted += [("ADQS", f"CRIT{k}{suffix}") for k in range(1, len(study.analysis.responder_thresholds) + 1)
               for suffix in ("", "FL")]
    if "KINGS" in stage_specs(metadata.parameters.resolve("ADQS", study)).values():
        # King's stage 4A and 4B are CRIT1/CRIT1FL and CRIT2/CRIT2FL of the stage records
        wanted += [("ADQS", f"CRIT{k}{suffix}") for k in (1, 2) for suffix in ("", "FL")
                   if ("ADQS", f"CRIT{k}{suffix}") not in wanted]
    problems = [f"parameters.csv has {name} parameters but mappings/metadata/datasets.csv does not describe {name}"
                for name in metadata.parameters.datasets() if name not in metadata.datasets]
    for dataset, variable in wanted:
        if variable not in metadata.dataset(dataset).variable_names:
            problems.append(f"{dataset}.{variable} (asked for by study.yaml analysis) is not in "
                            "mappings/metadata/variables.csv; add it there")
    return problems


def build_adam(sdtm: dict[str, pd.DataFrame], study: Study, metadata: Metadata,
               adqs_parts: FinalizedParts | None = None) -> dict[str, pd.DataFrame | FinalizedParts]:
    """All ADaM datasets as frames with datetime columns (before metadata ordering). With `adqs_parts`, ADQS
    is added to it part by part as it is derived (finalized and compact) and stands in the result; only the
    records of the parameters that ADTTE and ADCAFS read are kept as a frame for them."""
    problems = check_study_against_metadata(study, metadata)
    if problems:
        raise SdtmInputError("study.yaml and the metadata", problems)
    params = {name: metadata.parameters.resolve(name, study) for name in ("ADQS", "ADRE", "ADTTE", "ADCAFS")}
    adsl = build_adsl(sdtm, study)
    if adqs_parts is None:
        adqs = build_adqs(sdtm, adsl, study, params["ADQS"])
    else:
        read_later = adam_parameters_read(params["ADTTE"]).get("ADQS", set()) | cafs_parameters_read(params["ADCAFS"])

        def keep(part: pd.DataFrame) -> pd.DataFrame:
            adqs_parts.add(part)
            return part[part["PARAMCD"].isin(read_later)]

        adqs = build_adqs(sdtm, adsl, study, params["ADQS"], hand_over=keep)
    out = {"ADSL": adsl, "ADQS": adqs if adqs_parts is None else adqs_parts,
           "ADRE": build_adre(sdtm, adsl, study, params["ADRE"]),
           "ADLB": build_adlb(sdtm, adsl, study), "ADAE": build_adae(sdtm, adsl, study),
           "ADTTE": build_adtte(sdtm, adsl, study, params["ADTTE"], {"ADQS": adqs})}
    if params["ADCAFS"]:
        adcafs = attach_param_text(build_adcafs(adsl, adqs, study, params["ADCAFS"]), params["ADCAFS"], "ADCAFS")
        adcafs = finish_bds(adcafs, adsl)
        adcafs["ADY"] = d.study_day(adcafs["ADT"], adcafs["USUBJID"].map(adsl.set_index("USUBJID")["RFSTDT"]))
        out["ADCAFS"] = adcafs
    return out


def run_adam(sdtm_dir: str | Path, out_dir: str | Path, study: Study, mappings: str | Path | None = None,
             progress=None, findings: Findings | None = None) -> dict[str, int]:
    """Read SDTM XPT, check what ADaM needs (adam/inputs.py), build ADaM, write <name>.xpt files and
    adam_findings.csv; returns the number of records of each dataset. Findings (implausible dates kept
    out of the analysis) are added to `findings` when given. Each dataset is finalized (finalize_adam) and
    written in turn, ADQS from its compact parts (adam.parted), never stacked in one frame."""
    say = progress or (lambda _m: None)
    metadata = load_metadata(mappings, study)
    say("reading SDTM")
    sdtm = check_sdtm_inputs(read_sdtm(sdtm_dir), str(sdtm_dir), metadata)
    sdtm, screened = screen_implausible_dates(sdtm, study)
    collected = findings if findings is not None else Findings()
    collected.extend(screened)
    say("building ADaM")
    adqs_parts = FinalizedParts("ADQS", metadata, lambda part: finalize_adam(part, "ADQS", metadata))
    built = build_adam(sdtm, study, metadata, adqs_parts)
    del sdtm                                  # the SDTM records are not needed any more: freed before finalize
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in list(built):
        dataset = built.pop(name)
        counts[name] = len(dataset)
        # ADQS is written from its parts: its records are never held in one frame
        final = dataset.aligned() if isinstance(dataset, FinalizedParts) else finalize_adam(dataset, name, metadata)
        del dataset
        write_dataset_xpt(final, safe_child(out, f"{name.lower()}.xpt"), name, metadata.dataset(name).label,
                          metadata, date_format="DATE9.")
        del final
    collected.write_csv(safe_child(out, "adam_findings.csv"))
    return counts


def sas_date(value: float) -> pd.Timestamp:
    return EPOCH + pd.Timedelta(days=float(value)) if not np.isnan(value) else pd.NaT
