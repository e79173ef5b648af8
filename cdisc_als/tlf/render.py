"""Renderers of layouts through the jinja2 templates of templates/ (tlf_table.rtf.j2, tlf_tables.html.j2,
tlf_index.html.j2 and the one stylesheet tlf.css), plus the XLSX workbook.

Submission conventions: title block (number, title, population) in the page header; column headers
with (N = n), top and bottom rules, repeated on every page; numbers aligned on the decimal point;
rows never split; footnotes; program, run date-time and data cut-off with "Page x of y" in the
footer. Text is escaped for each format (RTF control words and non-ASCII as \\uN?, HTML entities);
spreadsheet cells keep their exact text, stored as strings with Excel's quote-prefix style when they
start like a formula, so nothing is evaluated and no character is added.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import jinja2
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from cdisc_als.io import atomic_write_bytes, atomic_write_text
from cdisc_als.reproducible import workbook_bytes
from cdisc_als.resources import TEMPLATES_DIR
from cdisc_als.tlf.layout import Layout
from cdisc_als.tlf.paginate import (
    GAP,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    align_decimals,
    choose_geometry,
    paginate,
)


@dataclass(frozen=True)
class RunInfo:
    """What the footer of every output says: program, run date-time and data cut-off."""

    program: str = "cdisc-als tlf"
    run_at: str = ""
    data_cutoff: str = ""

    @staticmethod
    def now(program: str, data_cutoff: str) -> RunInfo:
        """Run time from SOURCE_DATE_EPOCH when set (reproducible builds), else the clock (UTC)."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
        return RunInfo(program, moment.strftime("%Y-%m-%dT%H:%M UTC"), data_cutoff)

    @property
    def footer(self) -> str:
        parts = [f"Program: {self.program}", f"Run: {self.run_at}" if self.run_at else "",
                 f"Data cut-off: {self.data_cutoff}" if self.data_cutoff else ""]
        return "   ".join(p for p in parts if p)


_PLAIN_RTF = re.compile(r"[\t\x20-\x5b\x5d-\x7a\x7c\x7e\x7f]*")    # printable ASCII but \ { }: unchanged


def rtf_escape(text: str) -> str:
    text = str(text)
    if _PLAIN_RTF.fullmatch(text):
        return text
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) > 127:
            code = ord(ch)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
        elif ch == "\n":
            out.append("\\line ")
        elif ord(ch) < 32 and ch != "\t":
            continue                                    # control characters are dropped
        else:
            out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """One environment per process, so each template is compiled once (jinja2 caches them per environment)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                             autoescape=jinja2.select_autoescape(["html.j2"]), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["rtf"] = rtf_escape
    return env


def _png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def render_rtf(layout: Layout, run: RunInfo | None = None) -> str:
    run = run or RunInfo()
    cells = align_decimals(layout)
    title_lines = 1 + bool(layout.number) + bool(layout.population)
    geometry = choose_geometry(layout, cells, title_lines, 1)
    paginate(layout, cells, geometry, layout.footnotes)
    edges = [sum(geometry.widths[: k + 1]) for k in range(len(geometry.widths))]
    headers = [layout.label_header] + list(layout.columns)
    pages = []
    for page in geometry.pages:
        rows = [{"header": True, "top": True, "bottom": True, "keep_next": True,
                 "cells": [{"text": h, "right": edges[k], "align": "\\ql" if k == 0 else "\\qc", "indent": 0}
                           for k, h in enumerate(headers)]}]
        for position, index in enumerate(page):
            line = layout.rows[index]
            rows.append({"header": False, "top": False, "bottom": position == len(page) - 1, "keep_next": line.group,
                         "cells": [{"text": line.label, "right": edges[0], "align": "\\ql", "indent": 216 * line.indent}]
                         + [{"text": text, "right": edges[k + 1],
                             "align": "\\qc" if layout.kind != "listing" else "\\ql", "indent": 0}
                            for k, text in enumerate(cells[index])]})
        pages.append(rows if page or not pages else [])
    if not layout.rows:
        pages = []
    image = None
    if layout.image:
        width_px, height_px = _png_size(layout.image)
        max_w, max_h = PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - 2 * MARGIN - 2000
        scale = min(max_w / width_px, max_h / height_px)
        image = {"width_px": width_px, "height_px": height_px, "width": int(width_px * scale),
                 "height": int(height_px * scale), "hex": "\n".join(layout.image[k:k + 64].hex()
                                                                     for k in range(0, len(layout.image), 64))}
    top = MARGIN // 2 + (title_lines + 1) * geometry.line_twips + 120
    return _environment().get_template("tlf_table.rtf.j2").render(
        heading=layout.heading, number=layout.number, title=layout.title, population=layout.population,
        page_width=PAGE_WIDTH, page_height=PAGE_HEIGHT, margin=MARGIN, margin_top=top,
        margin_bottom=MARGIN // 2 + 2 * geometry.line_twips, header_y=MARGIN // 2, footer_y=MARGIN // 2,
        fs=geometry.font_half_points, line=geometry.line_twips, text_width=PAGE_WIDTH - 2 * MARGIN,
        footer_left=run.footer, page_count=max(len(geometry.pages), 1), pages=[p for p in pages if p], gap=GAP,
        footnotes=layout.footnotes, image=image)


def write_rtf(layout: Layout, path: str | Path, run: RunInfo | None = None) -> None:
    atomic_write_text(path, render_rtf(layout, run))


def html_section(layout: Layout, image_href: str = "") -> dict:
    """What the HTML template prints of one layout (aligned cells, header lines, indents)."""
    cells = align_decimals(layout)
    return {"id": layout.output_id, "heading": layout.heading, "population": layout.population,
            "label_header": layout.label_header, "headers": [h.split("\n") for h in layout.columns],
            "rows": [{"label": r.label, "indent": r.indent, "group": r.group, "cells": c}
                     for r, c in zip(layout.rows, cells, strict=True)],
            "numeric": layout.numeric, "footnotes": layout.footnotes, "kind": layout.kind, "image": image_href}


def render_html(layouts: list[Layout], title: str, run: RunInfo | None = None, images: dict[str, str] | None = None) -> str:
    run = run or RunInfo()
    images = images or {}
    css = (TEMPLATES_DIR / "tlf.css").read_text(encoding="utf-8")
    return _environment().get_template("tlf_tables.html.j2").render(
        title=title, css=css, footer=run.footer, sections=[html_section(lay, images.get(lay.output_id, ""))
                                                          for lay in layouts])


def _text_cell(sheet, row: int, column: int, value: str):
    """A cell holding exactly `value` as text (formula-like text is quote-prefixed when the workbook is
    saved: cdisc_als.reproducible.workbook_bytes)."""
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s"
    return cell


def write_xlsx(layouts: list[Layout], path: str | Path, run: RunInfo | None = None) -> None:
    """One sheet per output: title block, column headers, rows (indent kept), footnotes and footer."""
    run = run or RunInfo()
    book = Workbook()
    book.remove(book.active)
    for layout in layouts:
        sheet = book.create_sheet(layout.output_id[:31])
        r = 1
        for text in (layout.heading, layout.population):
            if text:
                _text_cell(sheet, r, 1, text).font = Font(bold=True)
                r += 1
        for k, header in enumerate([layout.label_header, *layout.columns], start=1):
            cell = _text_cell(sheet, r, k, header.replace("\n", " "))
            cell.font = Font(bold=True)
        for line in layout.rows:
            r += 1
            _text_cell(sheet, r, 1, line.label).alignment = Alignment(indent=line.indent)
            for k, text in enumerate(line.cells, start=2):
                _text_cell(sheet, r, k, text)
        for note in [*layout.footnotes, run.footer]:
            r += 1
            _text_cell(sheet, r + 1, 1, note)
        sheet.column_dimensions["A"].width = 60
    atomic_write_bytes(path, workbook_bytes(book))


def render_index(context: dict) -> str:
    css = (TEMPLATES_DIR / "tlf.css").read_text(encoding="utf-8")
    return _environment().get_template("tlf_index.html.j2").render(css=css, **context)
