"""Rendered outputs: RTF structure and escaping, the PDF a word processor makes of a table and of a
multi-page listing (headless LibreOffice + pdftotext), HTML, XLSX exact text, shells and figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cdisc_als.cli import main
from cdisc_als.resources import SAMPLE_SDTM_DIR
from cdisc_als.tlf.layout import Layout
from cdisc_als.tlf.render import render_html, render_rtf, rtf_escape, write_xlsx
from cdisc_als.tlf.rows import LayoutLine


@pytest.fixture(scope="module")
def tlf_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tlf")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(base / "adam"), "--quiet"]) == 0
    assert main(["tlf", "--adam", str(base / "adam"), "--out", str(base / "tlf")]) == 0
    assert main(["tlf", "--shell", "--out", str(base / "tlf")]) == 0
    return base / "tlf"


def _balanced(text: str) -> bool:
    depth, escaped = 0, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def test_rtf_table_conventions(tlf_dir):
    rtf = (tlf_dir / "tables" / "t3.rtf").read_text()
    assert rtf.startswith("{\\rtf1") and _balanced(rtf) and "\\landscape" in rtf
    assert "{\\header" in rtf and "Table 3." in rtf and "Efficacy outcomes" in rtf and "Full Analysis Set" in rtf
    assert "(N = 32)" in rtf and "\\clbrdrt" in rtf and "\\clbrdrb" in rtf, "N in headers, top and bottom rules"
    assert "\\fldinst NUMPAGES" in rtf and "Program: cdisc-als" in rtf and "Data cut-off: 2018-02-28" in rtf
    body = rtf[rtf.index("\\trowd"):]
    assert "{\\b " in body and "\\b " not in body.replace("{\\b ", ""), "bold only inside the header cells' groups"
    assert "2.98 (0.75, 1.48 to 4.48)" in rtf


def _pdf_text(rtf: Path, workdir: Path) -> tuple[int, list[str]]:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or poppler-utils is not installed (.ci/run installs both)")
    subprocess.run([office, f"-env:UserInstallation={(workdir / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(workdir), str(rtf)], capture_output=True, timeout=180,
                   check=False)
    pdf = workdir / f"{rtf.stem}.pdf"
    assert pdf.exists(), "LibreOffice could not open the RTF"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    return len(pages), pages


def _long_listing(tmp_path: Path) -> Path:
    rows = [LayoutLine(f"SUBJ-{k:03d}", 0, ["Xanomeline High Dose", "APPLICATION SITE ERYTHEMA " * (1 + k % 3),
                                            "2014-01-02", "RECOVERED/RESOLVED"]) for k in range(120)]
    layout = Layout("L9", "Adverse events", ["Treatment", "Preferred term", "Start", "Outcome"], rows,
                    ["A footnote."], number="Listing 9", population="Safety population", kind="listing",
                    label_header="Subject", numeric=[False] * 4)
    path = tmp_path / "l9.rtf"
    path.write_text(render_rtf(layout))
    return path


def test_pdf_of_a_multi_page_listing(tmp_path):
    count, pages = _pdf_text(_long_listing(tmp_path), tmp_path)
    assert count >= 3
    subjects = []
    for k, page in enumerate(pages, start=1):
        assert "Listing 9" in page and "Subject" in page and "Preferred term" in page, f"headers on page {k}"
        assert f"Page {k} of {count}" in page
        subjects += re.findall(r"SUBJ-\d{3}", page)
    assert subjects == [f"SUBJ-{k:03d}" for k in range(120)], "every row once, never split across pages"
    words = set(re.findall(r"[A-Za-z]+", " ".join(pages)))
    assert {"APPLICATION", "ERYTHEMA", "RECOVERED", "RESOLVED", "Xanomeline"} <= words
    assert not words & {"APPLICATIO", "ERYTHEM", "Xanomelin", "RECOVERE"}, "no word broken"


def test_pdf_of_a_table(tlf_dir, tmp_path):
    count, pages = _pdf_text(tlf_dir / "tables" / "t2.rtf", tmp_path)
    for k, page in enumerate(pages, start=1):
        assert "Table 2." in page and "(N = 33)" in page and f"Page {k} of {count}" in page
    text = " ".join(pages)
    assert "Adverse drug reactions to 4 months" in text and "Denominators: safety population" in text
    assert "Riluzole Alone" in text and "Riluzol\n" not in text


def test_escaping():
    assert rtf_escape("a{b}c\\d é\x07") == "a\\{b\\}c\\\\d \\u233?"
    layout = Layout("X", "Title <script>", ["A & B"], [LayoutLine("<b>row</b>", 0, ["1 < 2"])], ['note "q"'],
                    numeric=[True])
    page = render_html([layout], "Tables")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;row" in page and "1 &lt; 2" in page
    assert _balanced(render_rtf(Layout("X", "T {x}", ["A"], [LayoutLine("r", 0, ["{"])], [], numeric=[True])))


def test_xlsx_keeps_the_exact_text_and_neutralises_formulas(tmp_path):
    layout = Layout("X", "Title", ["=SUM(A1)"], [LayoutLine("-2 + 3", 0, ["-0.55 (0.11)"])], [], numeric=[True])
    write_xlsx([layout], tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx")["X"]
    cells = {c.value: c for row in sheet.iter_rows() for c in row if c.value}
    for text in ("=SUM(A1)", "-2 + 3", "-0.55 (0.11)"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    assert "'-0.55 (0.11)" not in cells


def test_html_page_and_workbook(tlf_dir):
    page = (tlf_dir / "tables" / "tables.html").read_text()
    for title in ("Table 1.", "Table 2.", "Table 3.", "Figure 3.", "Listing 2."):
        assert title in page
    assert "<style>" in page and "../figures/f_km_os.png" in page
    book = load_workbook(tlf_dir / "tables" / "tables.xlsx", read_only=True)
    assert book.sheetnames == ["T1", "T3", "T2", "KM", "CSF", "CSFREG", "LMM", "AEO", "T_SHIFT_KINGS", "T_SHIFT_MITOS",
                               "T_STAGE_TTE", "T_EFS", "T_CAFS", "T_WORST", "L1", "L2"]


def test_mock_shells_have_placeholders_and_no_data(tlf_dir):
    shell = (tlf_dir / "shells" / "t3.rtf").read_text()
    assert "xx, xx.xx (xx.xx)" in shell and "x.xxx" in shell and "-1.69" not in shell
    assert "(N = xx)" in shell and "(N = 32)" not in shell


def test_figures_are_catalogue_entries(tlf_dir):
    names = {p.name for p in (tlf_dir / "figures").glob("*.png")}
    assert names == {"f2.png", "f_km_os.png", "f_km_tfs.png", "f_forest.png", "f_csf.png", "f_reg.png", "f_km_dpav.png",
                     "f_km_kingsp.png", "f_traj.png"}
    for path in (tlf_dir / "figures").glob("*.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert "\\pngblip" in (tlf_dir / "tables" / "f_km_os.rtf").read_text()


def test_listings_are_catalogue_entries(tlf_dir):
    saes = (tlf_dir / "tables" / "l2.rtf").read_text()
    assert "Listing 2." in saes and "Respiratory failure" in saes and "Cardiac arrest" in saes
