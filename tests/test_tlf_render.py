"""Rendered tables: RTF structure, escaping, HTML, XLSX and mock shells."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cdisc_als.cli import main
from cdisc_als.resources import SAMPLE_SDTM_DIR
from cdisc_als.tlf.layout import Layout
from cdisc_als.tlf.render import render_html, render_rtf, rtf_escape, write_xlsx


@pytest.fixture(scope="module")
def tlf_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tlf")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(base / "adam"), "--quiet"]) == 0
    assert main(["tlf", "--adam", str(base / "adam"), "--out", str(base / "tlf")]) == 0
    assert main(["tlf", "--shell", "--out", str(base / "tlf")]) == 0
    return base / "tlf"


def _balanced(text: str) -> bool:
    depth = 0
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def test_rtf_tables_are_landscape_with_titles_repeated_headers_and_page_x_of_y(tlf_dir):
    rtf = (tlf_dir / "tables" / "t3.rtf").read_text()
    assert rtf.startswith("{\\rtf1") and _balanced(rtf)
    assert "\\landscape" in rtf and "{\\header" in rtf and "Table 3. Efficacy outcomes" in rtf
    assert "\\trhdr" in rtf, "the column header row repeats on every page"
    assert "\\fldinst PAGE" in rtf and "\\fldinst NUMPAGES" in rtf
    assert "2.98 (0.75, 1.48 to 4.48)" in rtf and "Change in slope = follow-up slope" in rtf


def _open_with_libreoffice(rtf: Path, workdir: Path) -> tuple[str, str]:
    """Convert an RTF file to ODT with headless LibreOffice; return (styles.xml, content.xml)."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (.ci/run installs libreoffice-writer-nogui)")
    subprocess.run([office, f"-env:UserInstallation={(workdir / 'profile').as_uri()}", "--headless",
                    "--convert-to", "odt", "--outdir", str(workdir), str(rtf)],
                   capture_output=True, timeout=180, check=False)
    odt = workdir / f"{rtf.stem}.odt"
    assert odt.exists(), "LibreOffice could not open the RTF"
    with zipfile.ZipFile(odt) as archive:
        return archive.read("styles.xml").decode("utf-8"), archive.read("content.xml").decode("utf-8")


def test_rtf_opens_in_libreoffice_with_title_landscape_and_page_x_of_y(tlf_dir, tmp_path):
    styles, content = _open_with_libreoffice(tlf_dir / "tables" / "t3.rtf", tmp_path)
    assert 'style:print-orientation="landscape"' in styles
    assert "Table 3. Efficacy outcomes and responder analysis" in styles, "title in the page header"
    footer = styles[styles.index("<style:footer>"):styles.index("</style:footer>")]
    assert "Page " in footer and "<text:page-number" in footer and "<text:page-count" in footer
    assert "2.98 (0.75, 1.48 to 4.48)" in content and "ALSFRS-R change, baseline to 4 months" in content
    assert "Change in slope = follow-up slope" in content, "footnotes under the table"


def test_escaping():
    assert rtf_escape("a{b}c\\d é") == "a\\{b\\}c\\\\d \\u233?"
    layout = Layout("X", "Title <script>", ["A & B"], [("<b>row</b>", 0, ["1 < 2"])], ["note \"q\""])
    html = render_html(layout)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;row" in html and "1 &lt; 2" in html
    assert _balanced(render_rtf(Layout("X", "T {x}", ["A"], [("r", 0, ["{"])], [])))


def test_xlsx_neutralises_formulas(tmp_path):
    layout = Layout("X", "Title", ["=SUM(A1)"], [("-2 + 3", 0, ["@cmd"])], [])
    write_xlsx([layout], tmp_path / "t.xlsx")
    values = [c.value for row in load_workbook(tmp_path / "t.xlsx")["X"].iter_rows() for c in row if c.value]
    assert "'=SUM(A1)" in values and "'-2 + 3" in values and "'@cmd" in values


def test_html_and_xlsx_of_all_tables(tlf_dir):
    page = (tlf_dir / "tables" / "tables.html").read_text()
    for title in ("Table 1.", "Table 2.", "Table 3.", "Survival"):
        assert title in page
    book = load_workbook(tlf_dir / "tables" / "tables.xlsx", read_only=True)
    assert book.sheetnames == ["T1", "T3", "T2", "KM", "CSF", "CSFREG", "LMM", "AEO", "L1", "L2"]


def test_mock_shells_have_placeholders_and_no_data(tlf_dir):
    shell = (tlf_dir / "shells" / "t3.rtf").read_text()
    assert "xx.xx (xx.xx)" in shell and "x.xxx" in shell and "-1.69" not in shell
    assert "(N = 32)" not in shell
    page = (tlf_dir / "shells" / "tables.html").read_text()
    assert "xx (xx%)" in page


def test_figures_are_png(tlf_dir):
    names = {p.name for p in (tlf_dir / "figures").glob("*.png")}
    assert names == {"figure2_alsfrs_change.png", "km_ttdeath.png", "km_ttdtrach.png", "forest_survival.png",
                     "csf_cytokines.png", "regression_tgfb1_mcp1.png"}
    for path in (tlf_dir / "figures").glob("*.png"):
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_listings_of_deaths_and_saes(tlf_dir):
    deaths = (tlf_dir / "tables" / "l1.rtf").read_text()
    saes = (tlf_dir / "tables" / "l2.rtf").read_text()
    assert "Listing 1. Deaths" in deaths and "Listing 2. Serious adverse events" in saes
    assert "Respiratory failure" in saes and "Cardiac arrest" in saes
