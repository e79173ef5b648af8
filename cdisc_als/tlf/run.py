"""Compute every catalogue output as ARD from an ADaM folder, and reconcile it with a reference file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_als.io import safe_child, write_csv
from cdisc_als.study import Study
from cdisc_als.tlf.ard import compute_output, load_catalogue


def read_adam(folder: str | Path) -> dict[str, pd.DataFrame]:
    import pyreadstat

    out = {}
    for path in sorted(Path(folder).glob("ad*.xpt")):
        frame, _ = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].fillna("")
        out[path.stem.upper()] = frame
    return out


def run_tlf(adam_dir: str | Path, out_dir: str | Path, catalogue: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """ARD of every output into <out>/ard/<output_id>.csv; returns them keyed by output id."""
    adam = read_adam(adam_dir)
    results = {}
    for output in load_catalogue(catalogue):
        needed = {output["dataset"], *(r.get("dataset", output["dataset"]) for r in output["rows"])}
        if not needed <= set(adam):
            continue
        ard = compute_output(output, adam)
        write_csv(ard, safe_child(Path(out_dir), f"ard/{output['id']}.csv"))
        results[output["id"]] = ard
    return results


def render_outputs(ards: dict[str, pd.DataFrame], out_dir: str | Path, catalogue: str | Path | None = None,
                   shell: bool = False, adam: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """RTF per output, one HTML page and one XLSX workbook of all outputs (shells: placeholders, no data)."""
    from cdisc_als.io import atomic_write_text
    from cdisc_als.tlf.layout import build_layout
    from cdisc_als.tlf.render import html_page, render_html, write_rtf, write_xlsx

    out = Path(out_dir) / ("shells" if shell else "tables")
    layouts = []
    for output in load_catalogue(catalogue):
        if not shell and output["id"] not in ards:
            continue
        layout = build_layout(output, None if shell else ards[output["id"]])
        layouts.append(layout)
        write_rtf(layout, safe_child(out, f"{output['id'].lower()}.rtf"))
    if not shell and adam is not None:
        from cdisc_als.tlf.listings import listing_deaths, listing_saes

        for layout in ([listing_deaths(adam["ADSL"])] if "ADSL" in adam else []) + \
                      ([listing_saes(adam["ADAE"])] if "ADAE" in adam else []):
            layouts.append(layout)
            write_rtf(layout, safe_child(out, f"{layout.output_id.lower()}.rtf"))
    page = safe_child(out, "tables.html")
    atomic_write_text(page, html_page([render_html(lay) for lay in layouts], "Mock shells" if shell else "Tables"))
    write_xlsx(layouts, safe_child(out, "tables.xlsx"))
    return [page]


def render_figure_files(adam_dir: str | Path, ards: dict[str, pd.DataFrame], out_dir: str | Path,
                        catalogue: str | Path | None = None) -> list[Path]:
    """PNG figures (Figure 2, Kaplan-Meier, survival forest plot, CSF cytokines and their regression)
    into <out>/figures."""
    from cdisc_als.tlf.figures import render_figures

    outputs = load_catalogue(catalogue)
    arms = next((o.get("arms", []) for o in outputs if o["id"] == "KM"), [])
    folder = Path(out_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    regression = next(((o, row) for o in outputs for row in o.get("rows", []) if row.get("type") == "regression"), None)
    return render_figures(read_adam(adam_dir), ards.get("KM"), arms, folder, csf_ard=ards.get("CSF"),
                          regression=regression)


def run_reconcile(ards: dict[str, pd.DataFrame], out_dir: str | Path, reference: str | Path,
                  study: Study) -> pd.DataFrame:
    """Reconcile the ARD of every output with the reference file into <out>/reconciliation.csv."""
    from cdisc_als.reference import load_reference
    from cdisc_als.tlf.reconcile import COLUMNS, reconcile

    ard = pd.concat(ards.values(), ignore_index=True) if ards else pd.DataFrame(columns=COLUMNS)
    table = reconcile(ard, load_reference(reference), study)
    write_csv(table, safe_child(Path(out_dir), "reconciliation.csv"))
    return table
