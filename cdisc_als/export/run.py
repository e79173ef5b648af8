"""`cdisc-als export`: define.xml 2.1 + define.html and Dataset-JSON 1.1 for a folder of XPT files."""

from __future__ import annotations

from pathlib import Path

import pyreadstat

from cdisc_als.export.datasetjson import DatasetMeta, infer_columns, write_dataset_json
from cdisc_als.export.define import ADAM, SDTM, write_define
from cdisc_als.io import safe_child
from cdisc_als.metadata import Metadata
from cdisc_als.study import Study


def export_dataset_json(folder: Path, out: Path, study: Study, metadata: Metadata) -> list[Path]:
    """Every XPT of folder as <name>.json (Dataset-JSON 1.1) in out, labels and keys from the metadata."""
    written = []
    for path in sorted(folder.glob("*.xpt")):
        frame, info = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
        name = path.stem.upper()
        meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
        keys = list(metadata.dataset(meta_name).keys) if meta_name in metadata.datasets else []
        for col, kind in info.readstat_variable_types.items():
            if kind != "double":
                frame[col] = frame[col].fillna("")
        labels = dict(zip(info.column_names, [lbl or "" for lbl in info.column_labels], strict=True))
        columns = infer_columns(frame, labels, dict(info.variable_storage_width or {}), keys)
        for col in columns:
            fmt = (info.original_variable_types or {}).get(col.name)
            if fmt and str(fmt).startswith("DATE"):
                col.display_format = "DATE9."
        target = safe_child(out, f"{path.stem.lower()}.json")
        write_dataset_json(frame, target, DatasetMeta(name, info.file_label or "", columns), study.study_id)
        written.append(target)
    return written


def export_folder(folder: str | Path, study: Study, metadata: Metadata, json: bool = True) -> dict[str, object]:
    """define.xml/define.html (SDTM or ADaM, from the file names) and, optionally, Dataset-JSON in json/."""
    folder = Path(folder)
    names = {p.stem.upper() for p in folder.glob("*.xpt")}
    standard = ADAM if names and all(n.startswith("AD") for n in names) else SDTM
    define_xml, define_html = write_define(folder, study, metadata, standard)
    out = {"define": define_xml, "html": define_html, "standard": standard.name}
    if json:
        out["json"] = export_dataset_json(folder, folder / "json", study, metadata)
    return out
