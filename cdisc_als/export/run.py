"""`cdisc-als export`: define.xml 2.1 (+ define2-1.xsl, define.html), schema-validated, and Dataset-JSON 1.1
(JSON and NDJSON) for a folder of XPT files; the Dataset-JSON files use define.xml's OIDs and data types."""

from __future__ import annotations

from pathlib import Path

from cdisc_als.datasets_io import DatasetFile
from cdisc_als.export.columns import dataset_columns, metadata_version_oid, read_xpt, study_oid
from cdisc_als.export.datasetjson import ColumnMeta, DatasetMeta, write_dataset_json_files
from cdisc_als.export.define import ADAM, SDTM, StandardInfo, creation_datetime, write_define
from cdisc_als.export.define_arm import load_analysis_results
from cdisc_als.export.schema import validate_define
from cdisc_als.io import safe_child
from cdisc_als.metadata import Metadata
from cdisc_als.study import Study


def export_dataset_json(folder: Path, out: Path, study: Study, metadata: Metadata,
                        standard: StandardInfo = SDTM) -> list[Path]:
    """Every XPT of folder as <name>.json and <name>.ndjson (Dataset-JSON 1.1) in out: labels and keys from the
    metadata, OIDs and data types as in define.xml (export/columns.py)."""
    writer = _DatasetJsonWriter(out, study, metadata, standard)
    for path in sorted(folder.glob("*.xpt")):
        writer(path, read_xpt(path))
    return writer.written


class _DatasetJsonWriter:
    """Writes one read XPT file as <name>.json and <name>.ndjson (both from one encoding of the rows)."""

    def __init__(self, out: Path, study: Study, metadata: Metadata, standard: StandardInfo):
        self.out, self.metadata = out, metadata
        self.options = {"study_oid": study_oid(study.study_id), "created": creation_datetime(),
                        "metadata_version_oid": metadata_version_oid(study.study_id, standard.name),
                        "metadata_ref": "../define.xml"}
        self.written: list[Path] = []

    def __call__(self, path: Path, file: DatasetFile) -> None:
        name = path.stem.upper()
        meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
        dmeta = self.metadata.dataset(meta_name) if meta_name in self.metadata.datasets else None
        keys = dmeta.keys if dmeta else ()
        labels = {v.name: v.label for v in dmeta.variables} if dmeta else {}
        columns = [ColumnMeta(c.name, c.label, c.json_type, c.length, c.display_format, c.key_sequence, c.json_target,
                              c.oid) for c in dataset_columns(name, file.frame, file.columns, keys, labels)]
        meta = DatasetMeta(name, file.label or (dmeta.label if dmeta else ""), columns)
        targets = [safe_child(self.out, f"{path.stem.lower()}{suffix}") for suffix in (".json", ".ndjson")]
        coded = {c.name: pair for c in columns if (pair := file.distinct_text(c.name)) is not None}
        write_dataset_json_files(file.frame, meta, *targets, **self.options, coded=coded)
        self.written += targets


def export_folder(folder: str | Path, study: Study, metadata: Metadata, json: bool = True) -> dict[str, object]:
    """define.xml/define.html (SDTM or ADaM, from the file names; the ADaM one with Analysis Results Metadata),
    validated against the Define-XML 2.1 schema, and, optionally, Dataset-JSON in json/."""
    folder = Path(folder)
    names = {p.stem.upper() for p in folder.glob("*.xpt")}
    standard = ADAM if names and all(n.startswith("AD") for n in names) else SDTM
    arm = load_analysis_results(metadata.source) if standard is ADAM else None
    writer = _DatasetJsonWriter(folder / "json", study, metadata, standard) if json else None
    define_xml, define_html = write_define(folder, study, metadata, standard, analysis_results=arm, each_file=writer)
    validate_define(define_xml)
    out = {"define": define_xml, "html": define_html, "standard": standard.name}
    if writer is not None:
        out["json"] = writer.written
    return out
