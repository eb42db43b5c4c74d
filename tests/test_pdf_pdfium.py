"""PDF text through PDFium: the characters, lines and blocks are pdfplumber's, only faster.

PDFium (pdf_pdfium.py) gives each page's characters and boxes; pdf_lines.py groups them by
pdfplumber's rules; pages that may hold ruled tables, and rotated text, go to pdfplumber. Checked
on the fixtures in ../shared (every page) and on small hand-made PDFs for what the fixtures lack:
scaled text matrices, form XObjects, lone spaces, kerning, rotation, rulings.
"""
from __future__ import annotations

import io
from collections import Counter

import pdfplumber
import pytest

from conftest import FIXTURES
from parser.readers import pdf as pdf_reader
from parser.readers.pdf import read_pdf
from parser.readers.pdf_lines import Char, make_line, page_lines
from parser.readers.pdf_pdfium import PdfiumPages
from parser.readers.pdf_text import spacing

FIXTURE_PDFS = ["seed/shaoyang_plan.pdf", "table/shaoyang_list_table.pdf"]


# --- hand-made PDFs ------------------------------------------------------------------------

def build_pdf(pages: list[str], form: str = "", page_keys: dict[int, str] | None = None, descent: int = 0) -> bytes:
    """A PDF of raw content streams over /F1 (proportional) and /F2 (fixed width), simple fonts
    with their own /Widths (not base-14 names: pdfminer would use its built-in metrics) and no
    descent, as LibreOffice writes them; /Fm1 is a form XObject holding `form`, scaled by 2 and
    moved to (40, 60)."""
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    def stream(data: str, keys: str = "") -> int:
        raw = data.encode("latin-1")
        return add(b"<< /Length %d %s >>\nstream\n" % (len(raw), keys.encode()) + raw + b"\nendstream")

    def font(name: str, widths: str) -> int:
        descriptor = add(f"<< /Type /FontDescriptor /FontName /{name} /Flags 32 /FontBBox [0 -200 1000 800] "
                         f"/ItalicAngle 0 /Ascent 0 /Descent {descent} /CapHeight 700 /StemV 80 >>")
        return add(f"<< /Type /Font /Subtype /Type1 /BaseFont /{name} /FirstChar 32 /LastChar 126 "
                   f"/Widths [{widths}] /FontDescriptor {descriptor} 0 R >>")

    f1 = font("TestSans", " ".join("278" if c == 32 else str(500 + c % 7 * 40) for c in range(32, 127)))
    f2 = font("TestMono", " ".join(["600"] * 95))
    fonts = f"/Font << /F1 {f1} 0 R /F2 {f2} 0 R >>"
    fm = stream(form, "/Type /XObject /Subtype /Form /BBox [0 0 300 300] /Matrix [2 0 0 2 40 60] "
                      f"/Resources << {fonts} >>")
    parent = len(objects) + 2 * len(pages) + 1
    kids = []
    for number, content in enumerate(pages):
        contents = stream(content)
        keys = (page_keys or {}).get(number, "/MediaBox [0 0 595 842]")
        kids.append(add(f"<< /Type /Page /Parent {parent} 0 R {keys} /Contents {contents} 0 R "
                        f"/Resources << {fonts} /XObject << /Fm1 {fm} 0 R >> >> >>"))
    add(f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>")
    catalog = add(f"<< /Type /Catalog /Pages {parent} 0 R >>")
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)


def text(x: float, y: float, string: str, font: str = "F1 12 Tf", before: str = "") -> str:
    return f" BT /{font} {before} {x} {y} Td ({string}) Tj ET "


GRID = " ".join(f"72 {y} m 372 {y} l S" for y in (500, 530, 560)) + " " + \
       " ".join(f"{x} 500 m {x} 560 l S" for x in (72, 222, 372))
GRID_TEXT = " ".join(text(x, y, s) for x, y, s in
                     ((80, 540, "Item"), (230, 540, "Owner"), (80, 510, "Roads"), (230, 510, "Bureau")))


def pdfium_chars(data: bytes) -> list[list[Char] | None]:
    with pdfplumber.open(io.BytesIO(data)) as pdf, PdfiumPages(data, len(pdf.pages)) as fast:
        return [fast.read(number, float(page.height)) for number, page in enumerate(pdf.pages)]


def plumber_chars(data: bytes) -> list[list[Char]]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [[Char(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], c["size"]) for c in page.chars]
                for page in pdf.pages]


def boxes(chars: list[Char]) -> Counter:
    return Counter((c.text, *(round(v, 3) for v in c[1:])) for c in chars)


def pdfplumber_only(monkeypatch, data: bytes):
    """read_pdf as it was before PDFium: every page through pdfplumber."""
    with monkeypatch.context() as patch:
        patch.setattr(PdfiumPages, "read", lambda self, index, height: None)
        return read_pdf(data)


@pytest.mark.parametrize("name, content", [
    ("font size 1 scaled by the text matrix", "BT /F1 1 Tf 16 0 0 16 72 700 Tm (Hello World) Tj ET"),
    ("scaled by cm", "q 0.5 0 0 0.5 0 0 cm BT /F1 24 Tf 100 1000 Td (Scaled) Tj ET Q"),
    ("horizontal scaling", text(72, 700, "Wide", before="150 Tz")),
    ("text rise", "BT /F1 12 Tf 72 700 Td (m) Tj 5 Ts (2) Tj ET"),
    ("slanted", "BT /F1 12 Tf 1 0 0.3 1 72 700 Tm (Italic) Tj ET"),
    ("character spacing", text(72, 700, "Spaced out", before="2 Tc")),
    ("a lone space in a font of its own",
     text(72, 700, "A") + text(80.67, 700, " ", "F2 12 Tf") + text(90, 700, "B")),
    ("a lone space before a wide gap (a justified line)",
     text(72, 700, "A") + text(80.67, 700, " ", "F2 12 Tf") + text(300, 700, "B")),
    ("a space after a kerning gap", "BT /F1 12 Tf 72 700 Td [(A) -500 ( B)] TJ ET"),
    ("a form XObject with a lone space", "/Fm1 Do"),
])
def test_pdfium_gives_pdfminers_characters_and_boxes(name, content):
    form = text(10, 100, "In") + text(21.5, 100, " ", "F2 12 Tf") + text(30, 100, "form")
    data = build_pdf([content], form=form)
    assert boxes(pdfium_chars(data)[0]) == boxes(plumber_chars(data)[0]), name


def test_page_box_not_at_the_origin_keeps_pdfplumbers_coordinates():
    data = build_pdf([text(100, 300, "Offset")], page_keys={0: "/MediaBox [50 100 645 942]"})
    assert boxes(pdfium_chars(data)[0]) == boxes(plumber_chars(data)[0])


def test_a_font_descent_moves_pdfminers_boxes_down_but_not_the_lines():
    """pdfminer hangs a box from the descriptor's descent; PDFium's boxes sit on the baseline."""
    data = build_pdf([text(72, 700, "Mixed") + text(110, 700, "fonts", "F2 12 Tf") + text(72, 680, "Next")],
                     descent=-200)
    fast, slow = page_lines(pdfium_chars(data)[0]), page_lines(plumber_chars(data)[0])
    def shape(lines):
        return [(line.text, line.x0, round(line.x1, 3), line.size) for line in lines]

    assert shape(fast) == shape(slow)
    assert [round(s.top - f.top, 3) for f, s in zip(fast, slow)] == [2.4, 2.4]  # 0.2 em of 12 pt


def test_a_run_of_spaces_comes_back_as_one():
    """PDFium keeps one space of a run and no count of the others (a known difference)."""
    data = build_pdf([text(72, 700, "A  B")])
    assert [line.text for line in page_lines(pdfium_chars(data)[0])] == ["A B"]
    assert [line.text for line in page_lines(plumber_chars(data)[0])] == ["A  B"]


def test_a_ruled_grid_sends_the_page_to_pdfplumber_and_its_table_is_found(monkeypatch):
    data = build_pdf([GRID + " " + GRID_TEXT + " " + text(72, 700, "Heading")])
    assert pdfium_chars(data) == [None]
    blocks = read_pdf(data)
    assert [b.rows for b in blocks if b.kind == "table"] == [[["Item", "Owner"], ["Roads", "Bureau"]]]
    assert blocks == pdfplumber_only(monkeypatch, data)


def test_an_underline_or_a_frame_alone_stays_with_pdfium():
    underline = "72 695 m 300 695 l S " + text(72, 700, "Title")
    one_rule_each_way = "72 695 m 300 695 l S 60 400 m 60 700 l S " + text(72, 700, "Title")
    assert [c is not None for c in pdfium_chars(build_pdf([underline, one_rule_each_way]))] == [True, True]


def test_rotated_text_and_rotated_pages_are_read_by_pdfplumber(monkeypatch):
    rotated = "BT /F1 12 Tf 0 1 -1 0 300 300 Tm (Sideways) Tj ET " + text(72, 700, "Upright")
    data = build_pdf([rotated, text(72, 500, "Landscape")], page_keys={1: "/MediaBox [0 0 595 842] /Rotate 90"})
    assert pdfium_chars(data)[0] is None
    blocks = read_pdf(data)
    assert blocks == pdfplumber_only(monkeypatch, data)
    assert {"Upright", "Landscape"} <= {b.text for b in blocks}  # pdfplumber reads "Sideways" backwards


def test_a_file_pdfium_cannot_open_is_read_by_pdfplumber(monkeypatch):
    import pypdfium2

    data = build_pdf([text(72, 700, "Plain text"), text(72, 700, "Second page")])
    expected = read_pdf(data)

    def refuse(*args, **kwargs):
        raise pypdfium2.PdfiumError("refused")

    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)
    assert read_pdf(data) == expected


def test_line_builder_groups_characters_as_pdfplumber_does_on_hand_made_pages():
    data = build_pdf([text(72, 700, "A") + text(76.5, 701.5, "b") + text(90, 700, "c") + text(72, 650, "Next line"),
                      text(72, 700, "No") + text(95, 700, "spaces", "F2 12 Tf")])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            assert page_lines(plumber_chars_of(page)) == plumber_lines(page)


# --- the fixtures, every page --------------------------------------------------------------

def plumber_chars_of(page) -> list[Char]:
    return [Char(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], c["size"]) for c in page.chars]


def plumber_lines(page) -> list:
    lines = []
    for raw in page.extract_text_lines(strip=False, return_chars=True, **spacing(page)):
        chars = [Char(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], c["size"]) for c in raw["chars"]]
        line = make_line(raw["text"], chars, raw["top"])
        if line is not None:
            lines.append(line)
    return lines


@pytest.fixture(scope="module", params=FIXTURE_PDFS)
def fixture_pages(request, shared):
    """Per page of a fixture PDF: PDFium's chars (None = left to pdfplumber), pdfplumber's chars,
    its lines, whether it finds a table."""
    data = (FIXTURES / request.param).read_bytes()
    fast = pdfium_chars(data)
    pages = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages):
            pages.append((fast[number], plumber_chars_of(page), plumber_lines(page), bool(page.find_tables())))
            page.close()
    return request.param, data, pages


def test_pdfium_characters_equal_pdfplumbers_on_every_page_without_a_table(fixture_pages):
    name, _, pages = fixture_pages
    for number, (fast, chars, _, has_table) in enumerate(pages, 1):
        assert (fast is None) == has_table, f"{name} page {number}"
        if fast is not None:
            assert boxes(fast) == boxes(chars), f"{name} page {number}"


def test_line_builder_equals_pdfplumber_extract_text_lines(fixture_pages):
    name, _, pages = fixture_pages
    for number, (_, chars, lines, _) in enumerate(pages, 1):
        assert page_lines(chars) == lines, f"{name} page {number}"


def test_reader_gives_the_blocks_pdfplumber_alone_gives(fixture_pages, monkeypatch):
    name, data, _ = fixture_pages
    assert read_pdf(data) == pdfplumber_only(monkeypatch, data), name


def test_reopening_pdfium_on_a_long_file_changes_nothing(shared, monkeypatch):
    """PDFium is reopened every so many pages (its font cache would grow): same blocks."""
    from parser.readers import pdf_pdfium

    data = (FIXTURES / "seed/shaoyang_plan.pdf").read_bytes()
    expected = read_pdf(data)
    monkeypatch.setattr(pdf_pdfium, "_PAGES_PER_OPENING", 3)
    assert read_pdf(data) == expected


def test_only_table_pages_are_parsed_by_pdfplumber(shared, monkeypatch):
    parsed = []
    original = pdf_reader._read_page
    monkeypatch.setattr(pdf_reader, "_read_page", lambda page: parsed.append(page.page_number) or original(page))
    read_pdf((FIXTURES / "seed/shaoyang_plan.pdf").read_bytes())
    assert parsed == []
    read_pdf((FIXTURES / "table/shaoyang_list_table.pdf").read_bytes())
    assert len(parsed) == 32  # the pages pdfplumber finds the 整改清单 table on (fixtures README)
