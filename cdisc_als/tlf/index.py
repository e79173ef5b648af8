"""The index page of a `cdisc-als run` output folder (templates/tlf_index.html.j2): every dataset (label,
records), validation, define.xml, tables, listings, figures and the reconciliation with the published
tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_als.io import atomic_write_text
from cdisc_als.tlf.render import render_index
from cdisc_als.xpt_structure import describe_xpt


def _link(out: Path, path: Path, text: str | None = None) -> dict[str, str]:
    rel = path.relative_to(out).as_posix()
    return {"href": rel, "text": text or rel}


def _datasets(out: Path, folder: str) -> list[dict]:
    rows = []
    for path in sorted((out / folder).glob("*.xpt")):
        layout = describe_xpt(path)       # the headers and the file length give the record count
        rows.append({**_link(out, path), "name": path.stem.upper(), "label": layout.label, "records": layout.records})
    return rows


def write_index(out: Path, title: str) -> Path:
    stages = []
    for folder, name in (("sdtm", "SDTM"), ("adam", "ADaM")):
        if (out / folder).is_dir():
            extras = [_link(out, p) for p in (out / folder / "define.xml", out / folder / "define.html") if p.exists()]
            stages.append({"name": name, "datasets": _datasets(out, folder), "extras": extras})
    tables = out / "tlf" / "tables"
    table_links = []
    if tables.is_dir():
        table_links = [_link(out, p) for p in sorted(tables.glob("*.rtf"))]
        table_links += [_link(out, p) for p in (tables / "tables.html", tables / "tables.xlsx") if p.exists()]
    reconciliation = None
    rec = out / "tlf" / "reconciliation.csv"
    if rec.exists():
        table = pd.read_csv(rec, dtype=str, keep_default_na=False)
        reconciliation = {"counts": str(table["status"].value_counts().to_dict()), "href": _link(out, rec)["href"],
                          "rows": table[table["status"] != "match"].to_dict("records")}
    page = render_index({
        "title": title, "stages": stages,
        "validation": [_link(out, p) for p in sorted((out / "validation").glob("*/validation.html"))],
        "guides": [_link(out, p) for p in sorted((out / "guides").glob("*.*"))],
        "tables": table_links, "figures": [_link(out, p) for p in sorted((out / "tlf" / "figures").glob("*.png"))],
        "reconciliation": reconciliation})
    path = out / "index.html"
    atomic_write_text(path, page)
    return path
