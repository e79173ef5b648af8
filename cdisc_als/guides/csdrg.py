"""The clinical Study Data Reviewer's Guide (cSDRG), following the sections of the PHUSE cSDRG template:
1 Introduction, 2 Protocol Description, 3 Subject Data Description, 4 Data Conformance Summary."""

from __future__ import annotations

import pandas as pd

from cdisc_als.export.define import SDTM, ct_version
from cdisc_als.guides.document import Document
from cdisc_als.guides.inputs import GuideInputs
from cdisc_als.guides.sections import conformance_summary, dataset_overview, open_guide, protocol_description

TRIAL_DESIGN = ("TA", "TE", "TV", "TI", "TS", "SE")


def _subjects(inputs: GuideInputs) -> list[list[object]]:
    dm = inputs.sdtm.get("DM")
    if dm is None:
        return []
    rows = [["Screened", len(dm)], ["Screen failures", int((dm["ARMNRS"] == "SCREEN FAILURE").sum())]]
    for arm in inputs.study.arms:
        part = dm[dm["ARMCD"] == arm.armcd]
        rows.append([f"Randomized to {arm.arm}", len(part)])
        if arm.treated:
            rows.append(["  treated with the investigational product (RFXSTDTC)", int((part["RFXSTDTC"] != "").sum())])
        rows.append(["  died (DTHFL = Y)", int((part["DTHFL"] == "Y").sum())])
    return rows


def deaths_and_adverse_events(inputs: GuideInputs) -> tuple[str, list[list[object]]]:
    """Why subjects who died have no fatal AE: AEs are collected up to the end of the trial period (DM.RFENDTC);
    deaths found later in the long-term survival follow-up are in DM, DS (DSCAT OTHER EVENT) and SS only."""
    dm, ae = inputs.sdtm.get("DM"), inputs.sdtm.get("AE")
    if dm is None or ae is None:
        return "", []
    dead = dm[dm["DTHFL"] == "Y"]
    fatal = set(ae.loc[(ae["AEOUT"] == "FATAL") | (ae.get("AESDTH", pd.Series("", index=ae.index)) == "Y"), "USUBJID"])
    after = dead[dead["DTHDTC"].str.slice(0, 10) > dead["RFENDTC"].str.slice(0, 10)]
    during = dead[~dead["USUBJID"].isin(after["USUBJID"])]
    unexplained = during[~during["USUBJID"].isin(fatal)]
    text = (f"{len(dead)} subjects died (DM.DTHFL = Y). Adverse events were collected from informed consent to the "
            f"end of the trial period (DM.RFENDTC). {len(during)} deaths occurred within that period, "
            f"{len(during) - len(unexplained)} of them with a fatal adverse event (AEOUT = FATAL). {len(after)} "
            "subjects died after their trial period, during the long-term survival follow-up (years later for "
            "most): their deaths are recorded in DM (DTHDTC), DS (DSDECOD DEATH, DSCAT OTHER EVENT) and SS "
            "(SSSTRESC DEAD) and, by design, have no fatal adverse event.")
    if len(unexplained):
        text += (f" {len(unexplained)} death(s) within the trial period have no fatal adverse event: "
                 + ", ".join(unexplained["USUBJID"]) + ".")
    rows = [["Deaths (DM.DTHFL = Y)", len(dead)], ["within the trial period (DTHDTC <= RFENDTC)", len(during)],
            ["  with a fatal adverse event", len(during) - len(unexplained)],
            ["after the trial period (long-term survival follow-up)", len(after)],
            ["  with a DS death record (DSCAT OTHER EVENT)", _other_event_deaths(inputs, after)]]
    return text, rows


def _other_event_deaths(inputs: GuideInputs, subjects: pd.DataFrame) -> int:
    ds = inputs.sdtm.get("DS")
    if ds is None:
        return 0
    recorded = set(ds.loc[(ds["DSDECOD"] == "DEATH") & (ds["DSCAT"] == "OTHER EVENT"), "USUBJID"])
    return int(subjects["USUBJID"].isin(recorded).sum())


def _supplemental(inputs: GuideInputs) -> list[list[object]]:
    rows = []
    for name in (n for n in inputs.sdtm if n.startswith("SUPP") and inputs.sdtm.records(n)):
        frame = inputs.sdtm[name]
        for (qnam, qlabel, origin), part in frame.groupby(["QNAM", "QLABEL", "QORIG"]):
            rows.append([name, part["RDOMAIN"].iloc[0], qnam, qlabel, origin, part["IDVAR"].iloc[0], len(part),
                         ", ".join(sorted(part["QVAL"].unique())[:5])])
    return rows


def sponsor_terminology(inputs: GuideInputs, names: list[str]) -> list[list[object]]:
    """Sponsor-defined codelists and sponsor terms added to extensible CDISC codelists, used by the datasets."""
    used = set()
    for name in names:
        meta = inputs.metadata.datasets.get("SUPPQUAL" if name.startswith("SUPP") else name)
        used |= {v.codelist for v in meta.variables if v.codelist} if meta else set()
    rows = []
    for cl_id in sorted(used):
        cl = inputs.metadata.codelists.get(cl_id)
        if cl is None:
            continue
        if cl.sponsor:
            rows.append([cl.id, cl.name, "sponsor-defined codelist", ", ".join(t.value for t in cl.terms)])
        extended = [t.value for t in cl.terms if t.extended]
        if extended:
            rows.append([cl.id, cl.name, f"sponsor terms in CDISC codelist {cl.c_code}", ", ".join(extended)])
    return rows


def build_csdrg(inputs: GuideInputs) -> Document:
    study = inputs.study
    doc = open_guide("Clinical Study Data Reviewer's Guide", study,
                     "the study specification, the metadata layer and the validation results",
                     "This guide gives the reviewer what is needed to use the SDTM datasets of the study: the trial "
                     "design, the subject datasets and their particular conventions, the use of supplemental "
                     "qualifiers and sponsor terminology, and every finding the conformance check still reports.")
    design = study.trial_design
    rows = [["SDTM Implementation Guide", SDTM.version], ["CDISC SDTM Controlled Terminology", ct_version(study, SDTM)],
            ["Define-XML", "2.1.0"], ["Dataset-JSON", "1.1"]]
    rows += [[t.name, t.version or "(unversioned reference)"] for t in (design.terminologies if design else ())
             if t.name not in ("CDISC CT",)]
    doc.table(["Standard or dictionary", "Version"], rows)
    doc.heading("1.3 Source Data", 2)
    doc.paragraph("The SDTM datasets are mapped from the raw visit tables by the YAML specifications of "
                  "mappings/sdtm (one per domain); trace/<domain>.csv gives the raw file and row of every record "
                  "and reconciliation.csv accounts for every raw row. There is no annotated CRF: the mapping "
                  "specifications and docs/raw-data.md take its place.")
    protocol_description(doc, inputs, 2)
    doc.heading("2.3 Trial Design Datasets", 2)
    present = [n for n in TRIAL_DESIGN if n in inputs.sdtm]
    dataset_overview(doc, inputs, present, inputs.sdtm)

    doc.heading("3 Subject Data Description", 1)
    doc.heading("3.1 Overview", 2)
    doc.table(["Subjects", "Number"], _subjects(inputs))
    doc.heading("3.2 SDTM Subject Domains", 2)
    subject_sets = [n for n in inputs.sdtm if n not in TRIAL_DESIGN]
    dataset_overview(doc, inputs, subject_sets, inputs.sdtm)
    doc.heading("3.3 Dataset Conventions and Derivations", 2)
    notes = []
    for name in ("DM", "DS", "MH", "FA", "SE"):
        for variable in ("", *(inputs.sdtm.columns(name) if name in inputs.sdtm else ())):
            comment = inputs.derivations.comment(name, variable)
            if comment and name in inputs.sdtm:
                notes.append(f"{name}{'.' + variable if variable else ''}: {comment}")
    for name, variable in (("DM", "RFSTDTC"), ("DM", "RFPENDTC"), ("FA", "FADTC")):
        if name in inputs.sdtm and variable in inputs.sdtm.columns(name):
            notes.append(f"{name}.{variable}: {inputs.derivations.method(name, variable)}")
    doc.bullets(notes)
    doc.heading("3.4 Deaths and Adverse Events", 2)
    text, rows = deaths_and_adverse_events(inputs)
    doc.paragraph(text)
    doc.table(["Deaths", "Subjects"], rows)
    doc.heading("3.5 Use of Supplemental Qualifiers", 2)
    doc.table(["Dataset", "Parent domain", "QNAM", "QLABEL", "Origin", "IDVAR", "Records", "Values (first 5)"],
              _supplemental(inputs), empty="No supplemental qualifiers.")
    doc.heading("3.6 Sponsor-Defined Terminology", 2)
    doc.table(["Codelist", "Name", "Kind", "Terms"], sponsor_terminology(inputs, list(inputs.sdtm)),
              empty="All coded values come from CDISC controlled terminology.")
    conformance_summary(doc, inputs, "sdtm", "4", "SDTM rules of the cdisc_als catalogue")
    return doc
