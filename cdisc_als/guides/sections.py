"""Sections both reviewer's guides share: the protocol description, dataset overviews and the data
conformance summary (every remaining validation finding with its explanation)."""

from __future__ import annotations

from cdisc_als.guides.document import Document
from cdisc_als.guides.inputs import GuideInputs


def protocol_description(doc: Document, inputs: GuideInputs, number: int) -> None:
    """<number> Protocol Description: number and title, design (arms, elements, visits, criteria)."""
    study = inputs.study
    doc.heading(f"{number} Protocol Description", 1)
    doc.heading(f"{number}.1 Protocol Number and Title", 2)
    doc.table(["Study", "Registry identifier", "Title", "Sponsor"],
              [[study.study_id, study.registry_id, study.title, study.sponsor]])
    doc.heading(f"{number}.2 Protocol Design", 2)
    ts = inputs.sdtm.get("TS")
    if ts is not None and len(ts):
        wanted = ("TPHASE", "STYPE", "INTMODEL", "RANDOM", "TBLIND", "TCNTRL", "ADDON", "CURTRT", "TRT", "ROUTE",
                  "INDIC", "PLANSUB", "ACTSUB", "SSTDTC", "SENDTC", "DCUTDTC", "LENGTH", "OBJPRIM", "OUTMSPRI")
        rows = [[r.TSPARM, r.TSVAL or f"(null: {r.TSVALNF})"] for r in ts.itertuples() if r.TSPARMCD in wanted]
        doc.table(["Trial summary parameter (TS)", "Value"], rows)
    arms = inputs.study.trial_design.arms if inputs.study.trial_design else ()
    design = inputs.study.trial_design
    rows = []
    for arm in study.arms:
        path = next((a for a in arms if a.armcd == arm.armcd), None)
        elements = " > ".join(design.element(e).element for e in path.elements) if design and path else ""
        rows.append([arm.armcd, arm.arm, f"{arm.trt_code}", "yes" if arm.treated else "no", elements])
    doc.table(["ARMCD", "Arm", "Treatment code", "Investigational treatment", "Elements (TA)"], rows)
    doc.paragraph("Visit schedule of the study specification (TV): nominal months from the baseline visit, the "
                  "analysis window of each visit and its epoch.")
    doc.table(["Visit", "Description", "Nominal month", "Planned study day", "Window (days)", "Epoch"],
              [[v.visit, v.label, f"{v.month:g}", study.target_day(v), v.window_days, v.epoch] for v in study.visits])
    if design and design.criteria:
        doc.paragraph("Inclusion and exclusion criteria (TI):")
        doc.table(["Code", "Category", "Criterion"], [[c.code, c.category, c.text] for c in design.criteria])


def dataset_overview(doc: Document, inputs: GuideInputs, names: list[str], frames: dict) -> None:
    """One row per dataset: label, class, structure, keys, records and the dataset's comment."""
    rows = []
    for name in names:
        meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
        meta = inputs.metadata.datasets.get(meta_name)
        rows.append([name, inputs.labels.get(name, ""), meta.class_ if meta else "", meta.structure if meta else "",
                     " ".join(k for k in meta.keys if k in frames[name].columns) if meta else "", len(frames[name]),
                     inputs.derivations.comment(name)])
    doc.table(["Dataset", "Label", "Class", "Structure", "Keys", "Records", "Comment"], rows)


def conformance_summary(doc: Document, inputs: GuideInputs, stage: str, number: str, rules: str) -> None:
    """Validation inputs and every remaining finding of one stage with its explanation."""
    doc.heading(f"{number} Data Conformance Summary", 1)
    doc.heading(f"{number}.1 Conformance Inputs", 2)
    doc.paragraph(f"The {stage.upper()} datasets were checked with `cdisc-als validate` ({rules}) against the "
                  "metadata of mappings/metadata and the controlled terminology of mappings/codelists.yaml; "
                  "define.xml was validated against the Define-XML 2.1 schema during `cdisc-als export`. The "
                  f"full report is validation/{stage}/validation.xlsx (and .html) of the run.")
    doc.heading(f"{number}.2 Issues Summary", 2)
    summary = inputs.issues.get(stage)
    if summary is None:
        doc.paragraph("No validation results were given to the guide writer.")
        return
    rows = [[r.dataset, r.rule, r.p21 or "", r.message, r.severity, int(r.found), inputs.explain(r.rule, r.p21, r.dataset)]
            for r in summary.itertuples()]
    doc.table(["Dataset", "Rule", "Pinnacle 21", "Message", "Severity", "Count", "Explanation"], rows,
              empty="The validation reports no errors, warnings or notices.")
