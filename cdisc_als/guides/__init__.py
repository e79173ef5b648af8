"""Reviewer's guides: the clinical Study Data Reviewer's Guide (cSDRG) and the Analysis Data Reviewer's
Guide (ADRG), generated as DOCX and HTML from the study spec, the metadata and the validation results.

    from cdisc_als.guides import write_guides
    paths = write_guides(out / "guides", study, metadata, out / "sdtm", out / "adam", validation)
"""

from __future__ import annotations

from pathlib import Path

from cdisc_als.guides.adrg import build_adrg
from cdisc_als.guides.csdrg import build_csdrg
from cdisc_als.guides.document import write_docx, write_html
from cdisc_als.guides.inputs import gather
from cdisc_als.metadata import Metadata
from cdisc_als.study import Study


def write_guides(out: str | Path, study: Study, metadata: Metadata, sdtm_dir: Path | None, adam_dir: Path | None,
                 validation: dict | None = None) -> dict[str, Path]:
    """csdrg.docx/.html (when there is SDTM) and adrg.docx/.html (when there is ADaM) in `out`; returns the
    paths by name and the number of findings left unexplained under 'unexplained'."""
    out = Path(out)
    inputs = gather(study, metadata, sdtm_dir, adam_dir, validation)
    written: dict[str, Path] = {}
    for name, present, build in (("csdrg", inputs.sdtm, build_csdrg), ("adrg", inputs.adam, build_adrg)):
        if not present:
            continue
        document = build(inputs)
        written[f"{name}.docx"] = write_docx(document, out / f"{name}.docx")
        written[f"{name}.html"] = write_html(document, out / f"{name}.html")
    return written


__all__ = ["write_guides"]
