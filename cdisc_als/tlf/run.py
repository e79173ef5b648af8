"""The TLF stage end to end: read the ADaM folder, check the catalogue against it, compute every
table's ARD, render tables, listings and figures, and write them with the findings.

Output folder:
  ard/<id>.csv            ARD of every table and figure
  tables/<id>.rtf         one RTF per table, listing and figure (figures embed their PNG)
  tables/tables.html      every output on one page;  tables/tables.xlsx  one sheet per table/listing
  figures/<id>.png        the figures
  shells/                 the tables as mock shells (placeholders, no data)
  tlf_findings.csv        catalogue warnings and data findings (e.g. missing times, subjects in no row)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als import __version__
from cdisc_als.findings import Finding, Findings
from cdisc_als.io import atomic_write_bytes, atomic_write_text, safe_child, write_csv
from cdisc_als.tlf.ard import as_shell
from cdisc_als.tlf.catalogue import Catalogue, check_against_data, load_catalogue
from cdisc_als.tlf.context import StudyData
from cdisc_als.tlf.engine import compute_table
from cdisc_als.tlf.layout import Layout, build_layout, listing_layout, population_text
from cdisc_als.tlf.render import RunInfo, render_html, write_rtf, write_xlsx


def read_adam(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every ad*.xpt of the folder by upper-case name, read through the checked reader (damage raises
    DatasetReadError: exit status 2); text missing as '', labels and formats in attrs. The text of the
    record-level datasets stays coded (categoricals: a byte or two per record, not a pointer); StudyData
    decodes the records an output selects. ADSL, one record per subject, is read as text."""
    from cdisc_als.datasets_io import read_dataset

    out = {}
    for path in sorted(Path(folder).glob("*.xpt")):
        if not path.stem.lower().startswith("ad"):
            continue
        dataset = read_dataset(path, categorical=path.stem.upper() != "ADSL")
        frame = dataset.frame
        frame.attrs["labels"] = {c.name: c.label for c in dataset.columns}
        frame.attrs["formats"] = {c.name: c.format or "" for c in dataset.columns}
        out[path.stem.upper()] = frame
    return out


@dataclass
class TlfResult:
    ards: dict[str, pd.DataFrame] = field(default_factory=dict)
    layouts: list[Layout] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)
    files: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _study(study_path, catalogue_path: str | Path | None):
    """The study spec: a Study given by the caller, --study, else the project's for the project's default
    catalogue, else none."""
    from cdisc_als.study import Study, load_study

    if isinstance(study_path, Study):
        return study_path
    if study_path:
        return load_study(study_path)
    return load_study() if catalogue_path is None else None


def _metadata(study):
    """The project's metadata (decodes, labels), with the study's codelists when there is a study spec."""
    from cdisc_als.metadata import load_metadata

    try:
        return load_metadata(None, study)
    except ValueError:
        return None


def run_info(catalogue: Catalogue, study) -> RunInfo:
    cutoff = getattr(study, "data_cutoff", None) or getattr(study, "survival_cutoff", None) or catalogue.data_cutoff
    program = catalogue.program or f"cdisc-als {__version__} tlf ({catalogue.source.name})"
    return RunInfo.now(program, str(cutoff or ""))


def run_tlf(adam_dir: str | Path, out_dir: str | Path, catalogue: str | Path | None = None,
            study=None) -> TlfResult:
    """Compute and render every output of the catalogue from the ADaM XPT files of adam_dir."""
    out = Path(out_dir)
    cat = load_catalogue(catalogue)
    spec = _study(study, catalogue)
    data = StudyData(read_adam(adam_dir), spec, _metadata(spec))
    check_against_data(cat, data)
    result = TlfResult()
    for warning in cat.warnings:
        result.findings.add(Finding(str(cat.source.name), None, "", "", "TLF-CATALOGUE", warning, "warning"))
    run = run_info(cat, spec)
    images: dict[str, str] = {}
    for output in cat.outputs:
        try:
            layout, ard, png = _compute(output, data, result.ards, cat)
        except (KeyError, ValueError, np.linalg.LinAlgError) as exc:
            result.failed.append(output["id"])
            result.findings.add(Finding(output["dataset"], None, "", "", "TLF-OUTPUT",
                                        f"output {output['id']} not produced: {exc}", "error"))
            continue
        if ard is not None:
            result.ards[output["id"]] = ard
            write_csv(ard, safe_child(out, f"ard/{output['id']}.csv"))
        if png is not None:
            target = safe_child(out, f"figures/{output['id'].lower()}.png")
            atomic_write_bytes(target, png)
            images[output["id"]] = f"../figures/{target.name}"
            result.files.append(target)
        result.layouts.append(layout)
        rtf = safe_child(out, f"tables/{output['id'].lower()}.rtf")
        write_rtf(layout, rtf, run)
        result.files.append(rtf)
    result.findings.extend(data.findings)
    page = safe_child(out, "tables/tables.html")
    atomic_write_text(page, render_html(result.layouts, "Tables, listings and figures", run, images))
    workbook = safe_child(out, "tables/tables.xlsx")
    write_xlsx([lay for lay in result.layouts if lay.kind != "figure"], workbook, run)
    result.findings.write_csv(safe_child(out, "tlf_findings.csv"))
    result.files += [page, workbook]
    return result


def _compute(output: dict, data: StudyData, ards: dict, cat: Catalogue):
    """(layout, ARD or None, PNG or None) of one catalogue output."""
    if output["kind"] == "listing":
        return listing_layout(output, data), None, None
    if output["kind"] == "figure":
        from cdisc_als.tlf.figures import render_figure

        png, ard = render_figure(output, data, ards, cat)
        layout = Layout(output["id"], str(output["title"]), [], [], [str(f) for f in output.get("footnotes", [])],
                        number=str(output.get("number", "")), population=population_text(output, data),
                        kind="figure", image=png)
        return layout, ard, png
    ard = compute_table(output, data)
    return build_layout(output, ard, data), ard, None


def render_shells(out_dir: str | Path, catalogue: str | Path | None = None, study=None) -> list[Path]:
    """Every table of the catalogue as a mock shell (placeholders from each statistic's format; arms from
    the study spec) into <out>/shells: RTF per table, one HTML page."""
    cat = load_catalogue(catalogue)
    spec = _study(study, catalogue)
    data = StudyData({}, spec, _metadata(spec))
    run = run_info(cat, spec)
    out = Path(out_dir) / "shells"
    layouts, files = [], []
    for output in cat.outputs:
        if output["kind"] != "table":
            continue
        layout = build_layout(output, as_shell(compute_table(output, data, mock=True)), data, shell=True)
        layouts.append(layout)
        path = safe_child(out, f"{output['id'].lower()}.rtf")
        write_rtf(layout, path, run)
        files.append(path)
    page = safe_child(out, "tables.html")
    atomic_write_text(page, render_html(layouts, "Mock shells", run))
    return [*files, page]


def run_reconcile(ards: dict[str, pd.DataFrame], out_dir: str | Path, reference: str | Path,
                  study) -> pd.DataFrame:
    """Reconcile the ARD of every output with the reference file into <out>/reconciliation.csv (arm
    codes of the reference mapped to the ARD's arm labels through the study spec)."""
    from cdisc_als.reference import load_reference
    from cdisc_als.tlf.reconcile import COLUMNS, reconcile

    ard = pd.concat(ards.values(), ignore_index=True) if ards else pd.DataFrame(columns=COLUMNS)
    table = reconcile(ard, load_reference(reference), _study(study, None))
    write_csv(table, safe_child(Path(out_dir), "reconciliation.csv"))
    return table
