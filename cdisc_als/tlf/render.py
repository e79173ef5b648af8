"""Renderers of table layouts: RTF (landscape, repeated headers, Page x of y), HTML and XLSX.

Text is escaped for each format (RTF control characters and non-ASCII as \\uN?, HTML entities,
spreadsheet formulas neutralised)."""

from __future__ import annotations

import html
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from cdisc_als.io import atomic_write_bytes, atomic_write_text
from cdisc_als.tlf.layout import Layout

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rtf_escape(text: str) -> str:
    out = []
    for ch in str(text):
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) > 127:
            code = ord(ch)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
        elif ch == "\n":
            out.append("\\line ")
        else:
            out.append(ch)
    return "".join(out)


def _rtf_row(cells: list[str], widths: list[int], header: bool = False, indent: int = 0) -> str:
    edges, pos = [], 0
    for w in widths:
        pos += w
        edges.append(f"\\clbrdrb\\brdrs\\brdrw10\\cellx{pos}" if header else f"\\cellx{pos}")
    parts = []
    for k, text in enumerate(cells):
        align = "\\ql" if k == 0 else "\\qc"
        lead = f"\\li{indent * 240}" if k == 0 and indent else ""
        bold = "\\b " if header else ""
        parts.append(f"\\pard\\intbl{align}{lead} {bold}{rtf_escape(text)}\\cell")
    return "\\trowd\\trgaph108" + ("\\trhdr" if header else "") + "".join(edges) + "".join(parts) + "\\row\n"


def render_rtf(layout: Layout) -> str:
    """Landscape letter page; the title in the page header and the column header row repeat on every
    page; footnotes after the table; 'Page x of y' in the page footer."""
    label_width = 5200
    other = max(1, (13000 - label_width) // max(1, len(layout.columns)))
    widths = [label_width] + [other] * len(layout.columns)
    lines = ["{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fmodern Courier New;}}",
             "\\paperw15840\\paperh12240\\landscape\\margl1080\\margr1080\\margt1080\\margb1080\\f0\\fs18",
             "{\\header\\pard\\qc\\b " + rtf_escape(layout.title) + "\\b0\\par}",
             "{\\footer\\pard\\qr Page {\\field{\\*\\fldinst PAGE}{\\fldrslt 1}} of "
             "{\\field{\\*\\fldinst NUMPAGES}{\\fldrslt 1}}\\par}"]
    lines.append(_rtf_row(["", *layout.columns], widths, header=True))
    for label, indent, cells in layout.rows:
        lines.append(_rtf_row([label, *cells], widths, indent=indent))
    lines.append("\\pard\\par")
    for note in layout.footnotes:
        lines.append("\\pard\\ql\\fs16 " + rtf_escape(note) + "\\par")
    lines.append("}")
    return "\n".join(lines)


def render_html(layout: Layout) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["", *layout.columns])
    body = "".join(
        "<tr>" + f"<td style='padding-left:{indent * 1.5}em'>{html.escape(label)}</td>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
        for label, indent, cells in layout.rows)
    notes = "".join(f"<p class='footnote'>{html.escape(n)}</p>" for n in layout.footnotes)
    return (f"<section id='{html.escape(layout.output_id)}'><h2>{html.escape(layout.title)}</h2>"
            f"<table class='tlf'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}</section>")


def html_page(sections: list[str], title: str) -> str:
    style = ("body{font-family:sans-serif;margin:1.5em}table.tlf{border-collapse:collapse;margin-bottom:.5em}"
             "table.tlf td,table.tlf th{border-bottom:1px solid #ccc;padding:2px 8px;font-size:13px}"
             "table.tlf td+td{text-align:center}.footnote{font-size:12px;color:#444}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>")


def _safe_cell(value: str) -> str:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def write_xlsx(layouts: list[Layout], path: str | Path) -> None:
    book = Workbook()
    book.remove(book.active)
    for layout in layouts:
        sheet = book.create_sheet(layout.output_id[:31])
        sheet.append([_safe_cell(layout.title)])
        sheet["A1"].font = Font(bold=True)
        sheet.append(["", *[_safe_cell(c) for c in layout.columns]])
        for label, indent, cells in layout.rows:
            sheet.append([_safe_cell(label), *[_safe_cell(c) for c in cells]])
            sheet.cell(row=sheet.max_row, column=1).alignment = Alignment(indent=indent)
        for note in layout.footnotes:
            sheet.append([_safe_cell(note)])
        sheet.column_dimensions["A"].width = 60
    buffer = io.BytesIO()
    book.save(buffer)
    atomic_write_bytes(path, buffer.getvalue())


def write_rtf(layout: Layout, path: str | Path) -> None:
    atomic_write_text(path, render_rtf(layout))
