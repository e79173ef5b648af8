"""A reviewer's guide as data (headings, paragraphs, bullet lists, tables) and its two renderings: DOCX
(python-docx) and HTML (templates/guide.html.j2). Both are byte-identical across runs with the same
SOURCE_DATE_EPOCH: the DOCX core properties carry the run time and the zip entries a fixed date."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cdisc_als.io import atomic_write_bytes, atomic_write_text
from cdisc_als.outputs import run_timestamp
from cdisc_als.reproducible import fixed_zip
from cdisc_als.resources import TEMPLATES_DIR


@dataclass
class Block:
    kind: str                                   # heading, paragraph, bullets, table
    text: str = ""
    level: int = 1
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.text.lower()).strip("-")


@dataclass
class Document:
    title: str
    subtitle: str = ""
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str, level: int = 1) -> None:
        self.blocks.append(Block("heading", text, level))

    def paragraph(self, text: str) -> None:
        if text:
            self.blocks.append(Block("paragraph", text))

    def bullets(self, items: list[str]) -> None:
        if items:
            self.blocks.append(Block("bullets", items=[str(i) for i in items]))

    def table(self, header: list[str], rows: list[list[object]], empty: str = "None.") -> None:
        if rows:
            self.blocks.append(Block("table", header=list(header), rows=[["" if v is None else str(v) for v in r]
                                                                          for r in rows]))
        else:
            self.paragraph(empty)

    @property
    def headings(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "heading"]


def _control_free(text: str) -> str:
    """XML 1.0 (DOCX) cannot hold control characters: drop them."""
    return "".join(c for c in text if c in "\t\n" or ord(c) >= 32)


def write_docx(document: Document, path: str | Path) -> Path:
    """The guide as a Word document: title, headings (Heading 1-3), paragraphs, bullets and grid tables."""
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    when = run_timestamp().replace(tzinfo=None)
    props = doc.core_properties
    props.title, props.author, props.comments = document.title, "cdisc_als", document.subtitle
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    doc.add_heading(_control_free(document.title), level=0)
    doc.add_paragraph(_control_free(document.subtitle))
    for block in document.blocks:
        if block.kind == "heading":
            doc.add_heading(_control_free(block.text), level=min(block.level, 3))
        elif block.kind == "paragraph":
            doc.add_paragraph(_control_free(block.text))
        elif block.kind == "bullets":
            for item in block.items:
                doc.add_paragraph(_control_free(item), style="List Bullet")
        else:
            table = doc.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                cell.text = _control_free(text)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in block.rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = _control_free(text)
            for row in table.rows:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        for run in paragraph.runs:
                            run.font.size = Pt(8)
    buffer = io.BytesIO()
    doc.save(buffer)
    atomic_write_bytes(path, fixed_zip(buffer.getvalue()))
    return Path(path)


def write_html(document: Document, path: str | Path, templates: Path = TEMPLATES_DIR) -> Path:
    env = Environment(loader=FileSystemLoader(str(templates)), autoescape=select_autoescape(["html", "j2"]))
    atomic_write_text(path, env.get_template("guide.html.j2").render(document=document))
    return Path(path)
