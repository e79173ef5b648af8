"""The Analysis Data Reviewer's Guide (ADRG), following the sections of the PHUSE ADRG template:
1 Introduction, 2 Protocol Description, 3 Analysis Considerations Related to Multiple Analysis Datasets,
4 Analysis Data Creation and Processing Issues, 5 Analysis Dataset Descriptions, 6 Data Conformance
Summary, 7 Submission of Programs."""

from __future__ import annotations

from cdisc_als.export.define import ADAM, ct_version
from cdisc_als.guides.document import Document
from cdisc_als.guides.inputs import GuideInputs
from cdisc_als.guides.sections import conformance_summary, dataset_overview, open_guide, protocol_description

POPULATIONS = ("RANDFL", "ITTFL", "SAFFL", "FASFL")


def _populations(inputs: GuideInputs) -> list[list[object]]:
    adsl = inputs.adam.get("ADSL")
    if adsl is None:
        return []
    rows = []
    for flag in (f for f in POPULATIONS if f in adsl.columns):
        counts = [int(((adsl["TRT01P"] == arm.arm) & (adsl[flag] == "Y")).sum()) for arm in inputs.study.arms]
        rows.append([flag, inputs.metadata.dataset("ADSL").variable(flag).label, *counts,
                     inputs.derivations.method("ADSL", flag)])
    return rows


def _variables(inputs: GuideInputs, dataset: str, names: tuple[str, ...]) -> list[list[str]]:
    if dataset not in inputs.adam:
        return []
    return [[name, inputs.metadata.dataset(dataset).variable(name).label, inputs.derivations.method(dataset, name)]
            for name in names if name in inputs.adam.columns(dataset)]


def _parameters(inputs: GuideInputs, dataset: str) -> list[list[object]]:
    if dataset not in inputs.adam or "PARAMCD" not in inputs.adam.columns(dataset):
        return []
    resolved = inputs.metadata.parameters.resolve(dataset, inputs.study)
    counts = inputs.adam.value_counts(dataset, "PARAMCD")
    frame = inputs.adam.values(dataset, [c for c in ("PARAMCD", "PARAM") if c in inputs.adam.columns(dataset)]) \
        if any(code not in resolved for code in counts.index) else None      # PARAM from the data when needed
    rows = []
    for code in sorted(counts.index, key=lambda c: (list(resolved).index(c) if c in resolved else len(resolved), c)):
        parameter = resolved.get(code)
        param = parameter.param if parameter else frame.loc[frame["PARAMCD"] == code, "PARAM"].iloc[0]
        rows.append([code, param, int(counts[code]), parameter.derivation if parameter else
                     "The SDTM test of the same code (LB.LBSTRESN) by analysis visit."])
    return rows


def _programs(inputs: GuideInputs) -> list[list[str]]:
    spec = inputs.analysis_results
    if spec is None:
        return []
    described = {d["output"] for d in spec.get("displays", [])}
    rows = []
    for output_id, output in spec["outputs"].items():
        rows.append([output_id, output.get("title", ""), output.get("dataset", ""),
                     spec["ard"].format(output=output_id, output_lower=output_id.lower()).removeprefix("../"),
                     spec.get("program", ""), "yes" if output_id in described else ""])
    return rows


def build_adrg(inputs: GuideInputs) -> Document:
    study = inputs.study
    doc = open_guide("Analysis Data Reviewer's Guide", study,
                     "the study specification, the metadata layer, the parameters and the validation results",
                     "This guide describes the ADaM datasets of the study: how they relate to the protocol, the "
                     "conventions shared by all of them, how each key variable and parameter is derived, the "
                     "findings of the conformance check and the program that produces each analysis output.")
    doc.table(["Standard", "Version"], [["ADaM Implementation Guide", ADAM.version],
                                         ["CDISC ADaM Controlled Terminology", ct_version(study, ADAM)],
                                         ["Define-XML (with Analysis Results Metadata 1.0)", "2.1.0"],
                                         ["Dataset-JSON", "1.1"]])
    doc.heading("1.3 Source Data Used for Analysis Dataset Creation", 2)
    doc.paragraph("The ADaM datasets are built from the SDTM datasets of the run (sdtm/*.xpt) only, never from "
                  f"raw data: {', '.join(sorted(n for n in inputs.sdtm if not n.startswith('SUPP')))}.")
    protocol_description(doc, inputs, 2)

    doc.heading("3 Analysis Considerations Related to Multiple Analysis Datasets", 1)
    doc.heading("3.1 Core Variables and Treatment Variables", 2)
    doc.paragraph("Every BDS dataset carries the subject's planned and actual treatment and the full analysis set "
                  "flag from ADSL; ADAE carries the actual treatment and the safety flag.")
    doc.table(["Variable", "Label", "Derivation"], _variables(inputs, "ADSL", ("TRT01P", "TRT01PN", "TRT01A",
                                                                             "TRT01AN", "RFSTDT", "TRTSDT", "RANDDT")))
    doc.heading("3.2 Population Flags", 2)
    doc.table(["Flag", "Label", *(a.arm for a in study.arms), "Derivation"], _populations(inputs))
    doc.heading("3.3 Visit Windows and Analysis Timing", 2)
    doc.paragraph(f"Months are {study.month_length_days:g} days. Records are assigned to analysis visits by the "
                  "windows of the visit schedule in section 2.2.")
    doc.table(["Variable", "Label", "Derivation"], _variables(inputs, "ADQS", ("AVISIT", "AVISITN", "ANL01FL", "ADY")))
    doc.paragraph(f"Time-to-event analyses start at {study.survival_origin.visit} and use the survival cut-off "
                  f"{study.survival_cutoff.isoformat()}.")
    doc.heading("3.4 Subgroups", 2)
    doc.table(["Variable", "Source", "Cut points", "Levels"],
              [[g.variable, g.source, ", ".join(f"{c:g}" for c in g.cuts), ", ".join(g.levels())]
               for g in study.analysis.subgroups], empty="No subgroups.")
    doc.heading("3.5 Imputation and Missing Data", 2)
    doc.bullets([f"ALSFRS-R totals: missing-item rule '{study.analysis.alsfrs_missing_item_rule.value}' "
                 "(section 5.2, ALSR1TOT).",
                 *(f"ADSL.{v}: {inputs.derivations.method('ADSL', v)}" for v in ("ONSETDT", "DIAGDT", "DTHDT")),
                 f"ADAE.ASTDT: {inputs.derivations.method('ADAE', 'ASTDT')}",
                 f"Responders: {inputs.derivations.method('ADQS', 'CRIT1FL')}"])

    doc.heading("4 Analysis Data Creation and Processing Issues", 1)
    doc.paragraph("ADSL is built first from DM, DS, EX, SV, QS, RE, MH, FA, GF and SS; ADQS, ADRE, ADLB, ADAE and "
                  "ADTTE are built from their SDTM sources and ADSL. Slope, change-in-slope and % improvement "
                  "parameters are derived from the analysis records of their source parameter in the same "
                  "dataset. ADTTE events after the survival cut-off are not events (censored at the cut-off).")

    doc.heading("5 Analysis Dataset Descriptions", 1)
    doc.heading("5.1 Overview", 2)
    dataset_overview(doc, inputs, list(inputs.adam), inputs.adam)
    doc.heading("5.2 Analysis Parameters", 2)
    for dataset in (n for n in inputs.adam if n != "ADSL" and "PARAMCD" in inputs.adam.columns(n)):
        doc.heading(f"{dataset}: {inputs.labels.get(dataset, '')}", 3)
        doc.table(["PARAMCD", "PARAM", "Records", "Derivation"], _parameters(inputs, dataset))
    doc.heading("5.3 Key Derived Variables", 2)
    doc.table(["Variable", "Label", "Derivation"],
              _variables(inputs, "ADSL", ("DURONSM", "DURDIAGM", "LSTALVDT", "LSLPALS", "BALSFRS", "EOSSTT")) +
              [[f"ADTTE.{r[0]}", *r[1:]] for r in _variables(inputs, "ADTTE", ("CNSR", "ADT"))] +
              [[f"ADAE.{r[0]}", *r[1:]] for r in _variables(inputs, "ADAE", ("TRTEMFL", "ADRFL", "AW4FL"))])

    conformance_summary(doc, inputs, "adam", "6", "ADaM rules of the cdisc_als catalogue")
    doc.heading("7 Submission of Programs", 1)
    doc.paragraph("Every output is computed by one program, `cdisc-als tlf` (cdisc_als.tlf), from the ADaM "
                  "datasets and the output catalogue mappings/tlf/outputs.yaml; its results are stored as "
                  "Analysis Results Data (tlf/ard/<output>.csv) and rendered from there (tlf/tables). The "
                  "outputs marked below are also described by the Analysis Results Metadata of define.xml.")
    doc.table(["Output", "Title", "Dataset", "Analysis results data", "Program", "In define.xml ARM"], _programs(inputs))
    return doc
