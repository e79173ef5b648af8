"""Page geometry of a submission table: column widths from the content, decimal alignment, and pages
cut between whole rows with the column headers repeated on each.

The RTF uses a monospaced font (Courier New) and exact line spacing, so the lines a cell wraps to
are known before any word processor opens the file: widths are chosen so that no word is broken
(a column is at least as wide as its longest word), rows never split, and a heading line never ends
a page. The same widths and alignment serve the HTML page.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from cdisc_als.tlf.layout import Layout
from cdisc_als.tlf.rows import LayoutLine

TWIPS_PER_INCH = 1440
PAGE_WIDTH, PAGE_HEIGHT = 11 * TWIPS_PER_INCH, int(8.5 * TWIPS_PER_INCH)     # US letter, landscape
MARGIN = TWIPS_PER_INCH
GAP = 60                                  # cell padding each side (\trgaph)
FIRST_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?|NE|x+(\.x+)?")


@dataclass
class Geometry:
    font_half_points: int                  # RTF \fs
    widths: list[int]                      # twips per column, label column first
    chars: list[int]                       # characters per column line
    line_twips: int
    body_lines: int                        # lines available for the table on a page
    pages: list[list[int]] = field(default_factory=list)   # row indexes per page
    header_lines: int = 1
    footnote_lines: int = 0

    @property
    def char_twips(self) -> int:
        return self.font_half_points * 6    # Courier New: 0.6 em per character


def align_decimals(layout: Layout) -> list[list[str]]:
    """Cells of every numeric column padded with spaces so the first number's decimal point (or its
    last digit) sits at the same position on every line; all cells of the column get the same width."""
    columns = len(layout.columns)
    out = [list(r.cells) + [""] * (columns - len(r.cells)) for r in layout.rows]
    for c in range(columns):
        if not (layout.numeric[c] if c < len(layout.numeric) else False):
            continue
        anchors = []
        for row in out:
            match = FIRST_NUMBER.search(row[c])
            if not row[c] or match is None:
                anchors.append(None)
                continue
            token = match.group(0)
            point = token.find(".")
            anchors.append(match.start() + (point if point >= 0 else len(token)))
        lead = max((a for a in anchors if a is not None), default=0)
        padded = [(" " * (lead - a) + row[c]) if a is not None else row[c] for row, a in zip(out, anchors, strict=True)]
        width = max((len(p) for p in padded), default=0)
        for row, text in zip(out, padded, strict=True):
            row[c] = text.ljust(width) if text else ""
    return out


def _longest_word(text: str) -> int:
    return max((len(w) for w in re.split(r"[\s]+", text) if w), default=0)


def wrap(text: str, chars: int) -> list[str]:
    """Lines of a cell at `chars` characters, words never broken (explicit newlines kept)."""
    lines = []
    for part in str(text).split("\n"):
        lines += textwrap.wrap(part, chars, break_long_words=False, break_on_hyphens=False,
                               drop_whitespace=True) or [""]
    return lines


def choose_geometry(layout: Layout, cells: list[list[str]], title_lines: int, footer_lines: int) -> Geometry:
    """Font size and column widths: every column at least its longest word (and its numbers whole),
    the rest of the page shared in proportion to the longest cell text."""
    labels = [layout.label_header] + list(layout.columns)
    body = [[r.label] + c for r, c in zip(layout.rows, cells, strict=True)]
    for font in (18, 16, 14):
        char_twips = font * 6
        usable = PAGE_WIDTH - 2 * MARGIN
        n = len(labels)
        minimum, desired = [], []
        for k in range(n):
            texts = [labels[k]] + [row[k] for row in body if k < len(row)]
            if k == 0:
                texts = [t + "   " * 2 for t in texts]
            numeric = k > 0 and (layout.numeric[k - 1] if k - 1 < len(layout.numeric) else False)
            longest = max((len(t) for t in texts[1:]), default=0) if numeric else 0
            minimum.append(max(max(_longest_word(t) for t in texts), longest, 2))
            desired.append(max(max((len(line) for t in texts for line in str(t).split("\n")), default=0), minimum[-1]))
        need = [(m + 1) * char_twips + 2 * GAP for m in minimum]     # one character of slack
        if sum(need) > usable and font != 14:
            continue
        spare = max(usable - sum(need), 0)
        extra = [max(d - m, 0) for d, m in zip(desired, minimum, strict=True)]
        total_extra = sum(extra) or 1
        widths = [w + min(spare * e // total_extra, e * char_twips) for w, e in zip(need, extra, strict=True)]
        leftover = usable - sum(widths)
        if leftover > 0:
            widths[0] += leftover
        chars = [max((w - 2 * GAP) // char_twips - 1, 1) for w in widths]
        line = font * 10 + 40                      # exact line spacing, e.g. 9 pt font -> 220 twips
        top = MARGIN // 2 + (title_lines + 1) * line + 120
        bottom = MARGIN // 2 + (footer_lines + 1) * line
        body_lines = (PAGE_HEIGHT - top - bottom) // line - 1
        return Geometry(font, widths, chars, line, body_lines)
    raise AssertionError("unreachable")


def row_lines(label: str, indent: int, cells: list[str], geometry: Geometry) -> int:
    label_chars = max(geometry.chars[0] - 3 * indent, 4)
    counts = [len(wrap(label, label_chars))]
    counts += [len(wrap(text, geometry.chars[k + 1])) for k, text in enumerate(cells) if k + 1 < len(geometry.chars)]
    return max(counts)


def paginate(layout: Layout, cells: list[list[str]], geometry: Geometry, footnotes: list[str]) -> None:
    """Split the rows into pages: whole rows only, a heading line never last on a page, the column
    headers at the top of each page and the footnotes after the last row."""
    headers = [layout.label_header] + list(layout.columns)
    geometry.header_lines = max(len(wrap(h, geometry.chars[k])) for k, h in enumerate(headers))
    usable = PAGE_WIDTH - 2 * MARGIN
    foot_chars = (usable - 2 * GAP) // geometry.char_twips
    geometry.footnote_lines = sum(len(wrap(f, foot_chars)) for f in footnotes) + (1 if footnotes else 0)
    capacity = geometry.body_lines - geometry.header_lines
    heights = [row_lines(r.label, r.indent, c, geometry) for r, c in zip(layout.rows, cells, strict=True)]
    pages: list[list[int]] = [[]]
    used = 0
    for k, height in enumerate(heights):
        keep = height
        j = k
        while j < len(layout.rows) and isinstance(layout.rows[j], LayoutLine) and layout.rows[j].group and \
                j + 1 < len(layout.rows) and keep < capacity // 2:
            keep += heights[j + 1]          # a heading stays with the line after it
            j += 1
        if used + keep > capacity and pages[-1]:
            pages.append([])
            used = 0
        pages[-1].append(k)
        used += height
    if used + geometry.footnote_lines > capacity and pages[-1]:
        moved: list[int] = []               # the footnotes follow the last rows: carry rows over with them
        while pages[-1] and (not moved or sum(heights[i] for i in moved) + geometry.footnote_lines > capacity // 2) \
                and len(pages[-1]) > 1:
            moved.insert(0, pages[-1].pop())
            if sum(heights[i] for i in moved) + geometry.footnote_lines >= min(capacity // 3, capacity):
                break
        pages.append(moved)
    geometry.pages = pages
