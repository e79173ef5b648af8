"""The index page of a `cdisc-als run` output folder: every dataset (label, records), validation,
define.xml, tables, figures and the reconciliation with the published tables."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pyreadstat

from cdisc_als.io import atomic_write_text


def _link(out: Path, path: Path, text: str | None = None) -> str:
    rel = path.relative_to(out).as_posix()
    return f"<a href='{html.escape(rel)}'>{html.escape(text or rel)}</a>"


def _datasets(out: Path, folder: str) -> str:
    rows = []
    for path in sorted((out / folder).glob("*.xpt")):
        _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
        data, _ = pyreadstat.read_xport(str(path), usecols=meta.column_names[:1])
        rows.append(f"<tr><td>{_link(out, path, path.stem.upper())}</td><td>{html.escape(meta.file_label or '')}</td>"
                    f"<td>{len(data)}</td></tr>")
    return "<table><tr><th>Dataset</th><th>Label</th><th>Records</th></tr>" + "".join(rows) + "</table>"


def write_index(out: Path, title: str) -> Path:
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for folder, name in (("sdtm", "SDTM"), ("adam", "ADaM")):
        if (out / folder).is_dir():
            extras = [p for p in (out / folder / "define.xml", out / folder / "define.html") if p.exists()]
            parts.append(f"<h2>{name}</h2>{_datasets(out, folder)}<p>" + " | ".join(_link(out, p) for p in extras) + "</p>")
    guides = sorted((out / "guides").glob("*.*"))
    if guides:
        parts.append("<h2>Reviewer's guides</h2><p>" + " | ".join(_link(out, p) for p in guides) + "</p>")
    validation = sorted((out / "validation").glob("*/validation.html"))
    if validation:
        parts.append("<h2>Validation</h2><ul>" + "".join(f"<li>{_link(out, p)}</li>" for p in validation) + "</ul>")
    tables = out / "tlf" / "tables"
    if tables.is_dir():
        links = [_link(out, p) for p in sorted(tables.glob("*.rtf"))] + [_link(out, tables / "tables.html"),
                                                                         _link(out, tables / "tables.xlsx")]
        parts.append("<h2>Tables and listings</h2><p>" + " | ".join(links) + "</p>")
    figures = sorted((out / "tlf" / "figures").glob("*.png"))
    if figures:
        parts.append("<h2>Figures</h2>" + "".join(
            f"<figure>{_link(out, p)}<br><img src='{html.escape(p.relative_to(out).as_posix())}' width='480'></figure>"
            for p in figures))
    rec = out / "tlf" / "reconciliation.csv"
    if rec.exists():
        table = pd.read_csv(rec, dtype=str, keep_default_na=False)
        counts = table["status"].value_counts().to_dict()
        rows = "".join(f"<tr><td>{html.escape(r.table)}</td><td>{html.escape(r.row)}</td><td>{html.escape(r.cell)}</td>"
                       f"<td>{html.escape(r.published)}</td><td>{html.escape(r.ours)}</td><td>{html.escape(r.status)}</td>"
                       f"<td>{html.escape(r.note)}</td></tr>" for r in table[table["status"] != "match"].itertuples())
        parts.append(f"<h2>Reconciliation with the published tables</h2><p>{html.escape(str(counts))} "
                     f"({_link(out, rec)})</p><table><tr><th>Table</th><th>Row</th><th>Cell</th><th>Published</th>"
                     f"<th>Ours</th><th>Status</th><th>Why</th></tr>{rows}</table>")
    style = ("body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1em}"
             "td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}figure{display:inline-block;margin:.5em}")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style>"
            f"</head><body>{''.join(parts)}</body></html>")
    path = out / "index.html"
    atomic_write_text(path, page)
    return path
