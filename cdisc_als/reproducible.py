"""Byte-identical office files: zip containers (DOCX, XLSX) re-packed with every entry dated at the run time
(SOURCE_DATE_EPOCH when set, via cdisc_als.outputs.run_timestamp), since python-docx and openpyxl stamp
each zip entry with the current time."""

from __future__ import annotations

import io
import re
import zipfile

from cdisc_als.outputs import run_timestamp

CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def fixed_zip(data: bytes) -> bytes:
    """The same zip archive (same entries, same order, deflated) with every entry dated at the run time,
    and the creation and modification times of docProps/core.xml (openpyxl writes the save time into
    `modified` whatever the workbook says) set to the run time too."""
    date_time = max(run_timestamp().timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    stamp = run_timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = CORE_TIMES.sub(lambda m: m.group(1) + stamp + m.group(2), content)
            target.writestr(entry, content)
    return out.getvalue()


def stamp_workbook(book) -> None:
    """An openpyxl workbook's creation and modification times set to the run time (SOURCE_DATE_EPOCH when
    set), and every formula-like text cell protected (cdisc_als.io.protect_formulas): call before saving."""
    from cdisc_als.io import protect_formulas

    when = run_timestamp().replace(tzinfo=None)
    book.properties.created = when
    book.properties.modified = when
    protect_formulas(book)


def workbook_bytes(book) -> bytes:
    """The XLSX bytes of an openpyxl workbook, stamped (stamp_workbook) and re-packed (fixed_zip), so the
    same content gives the same bytes."""
    stamp_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return fixed_zip(buffer.getvalue())
