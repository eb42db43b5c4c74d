"""Document readers on the real fixtures in ../shared/fixtures (see its README)."""
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from parser.errors import DocumentError
from parser.readers import read_document
from parser.readers.numbering import chinese_number
from parser.readers.text import decode_text, split_paragraphs

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures"
TITLES = ("邵阳市贯彻落实第二轮中央生态环境保护督察报告整改方案", "邵阳市贯彻落实第二轮中央生态环境保护督察报告整改清单")
TABLE_COLUMNS = ["序号", "问题", "市级督办领导", "主体责任单位", "市直牵头单位", "市直配合单位", "整改时限", "整改目标", "整改措施"]


def norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def read_fixture(relative: str):
    path = FIXTURES / relative
    return read_document(path.read_bytes(), path.name)


@pytest.fixture(scope="module")
def reference_paragraphs() -> list[str]:
    text = (FIXTURES / "seed/shaoyang_plan.rejoined.txt").read_text(encoding="utf-8")
    return [norm(p) for p in text.split("\n\n") if p.strip()]


@pytest.fixture(scope="module")
def seed_pdf_blocks():
    return read_fixture("seed/shaoyang_plan.pdf")


@pytest.fixture(scope="module")
def table_pdf_blocks():
    return read_fixture("table/shaoyang_list_table.pdf")


# --- bad files: each rejected with its code, quickly -------------------------------------

@pytest.mark.parametrize("name, code", [
    ("empty.docx", "empty"),
    ("truncated.docx", "corrupt"),
    ("not_a_docx.docx", "unsupported"),
    ("zip_bomb.docx", "too_large"),
    ("encrypted.pdf", "encrypted"),
    ("truncated.pdf", "corrupt"),
    ("scanned.pdf", "no_text"),
    ("garbage.txt", "encoding"),
])
def test_bad_fixture_rejected_with_code_quickly(name, code):
    start = time.perf_counter()
    with pytest.raises(DocumentError) as caught:
        read_fixture(f"bad/{name}")
    assert caught.value.code == code
    assert "\n" not in str(caught.value) and str(caught.value)
    assert time.perf_counter() - start < 5


def test_png_named_docx_is_called_not_a_word_document():
    with pytest.raises(DocumentError, match="Word"):
        read_fixture("bad/not_a_docx.docx")


def test_scanned_pdf_asks_for_ocr():
    with pytest.raises(DocumentError, match="OCR"):
        read_fixture("bad/scanned.pdf")


def test_zip_bomb_rejected_without_inflating_it():
    start = time.perf_counter()
    with pytest.raises(DocumentError):
        read_fixture("bad/zip_bomb.docx")
    assert time.perf_counter() - start < 1  # inflating 1.1 GB would take far longer


def test_content_decides_format_not_extension():
    data = (FIXTURES / "seed/shaoyang_plan.docx").read_bytes()
    assert read_document(data, "plan.pdf")[0].text == TITLES[0]
    with pytest.raises(DocumentError) as caught:
        read_document("一、总体要求".encode(), "plan.docx")
    assert caught.value.code == "unsupported"


# --- text ---------------------------------------------------------------------------------

def test_gbk_text_decodes_to_seed_prefix_with_superscript_three_as_three():
    seed = (SHARED / "seed/shaoyang_rectification_plan.txt").read_text(encoding="utf-8")
    expected = seed[:3000].replace("³", "3")
    data = (FIXTURES / "bad/gbk.txt").read_bytes()
    assert decode_text(data) == expected
    paragraphs = [b.text for b in read_document(data, "gbk.txt")]
    assert paragraphs == split_paragraphs(expected)
    assert paragraphs[0].startswith("为切实抓好中央第六生态环境保护督察组")


def test_huge_single_line_returns_quickly_as_one_paragraph():
    start = time.perf_counter()
    blocks = read_fixture("bad/huge_line.txt")
    assert time.perf_counter() - start < 3
    assert len(blocks) == 1 and len(blocks[0].text) == 1_747_627


def test_seed_text_paragraphs_are_returned_unjoined():
    blocks = read_document((SHARED / "seed/shaoyang_rectification_plan.txt").read_bytes(), "plan.txt")
    assert all(b.kind == "para" and b.text == b.text.strip() for b in blocks)
    assert blocks[0].text.startswith("为切实抓好") and len(blocks) > 340  # page-break splits stay split


@pytest.mark.parametrize("encoding, bom", [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
                                          ("utf-16-be", b"\xfe\xff"), ("gb18030", b"")])
def test_text_encodings_detected(encoding, bom):
    text = "一、总体要求\r\n\r\n（一）加强领导。\r\n\r\n整改时限：2022 年 6 月 30 日\r\n"
    blocks = read_document(bom + text.encode(encoding), "plan.txt")
    assert [b.text for b in blocks] == ["一、总体要求", "（一）加强领导。", "整改时限：2022 年 6 月 30 日"]


def test_blank_line_paragraphs_keep_single_newlines_inside():
    text = "附件：邵阳市整改方案\n整改清单\n\n　　一、总体要求  \n\n二、 主要任务"
    assert split_paragraphs(text) == ["附件：邵阳市整改方案\n整改清单", "一、总体要求", "二、 主要任务"]


def test_without_blank_lines_each_line_is_a_paragraph():
    assert split_paragraphs("一、总体要求\n（一）加强领导\n\n1. 落实责任\n2. 建立台账\n3. 定期调度\n"
                            + "4. 按时销号\n" * 30)[:3] == ["一、总体要求", "（一）加强领导", "1. 落实责任"]


# --- docx ---------------------------------------------------------------------------------

def test_docx_paragraphs_match_reference_in_order(reference_paragraphs):
    blocks = read_fixture("seed/shaoyang_plan.docx")
    paragraphs = [norm(b.text) for b in blocks if b.kind == "para"]
    assert [p for p in paragraphs if p not in TITLES] == reference_paragraphs  # 340/340
    assert [b.text for b in blocks if b.text in TITLES] == list(TITLES)
    assert all(b.heading for b in blocks if b.text in TITLES)
    assert any(b.text == "一、指导思想" and b.heading for b in blocks)


def test_docx_soft_line_break_kept_as_newline():
    texts = [b.text for b in read_fixture("seed/shaoyang_plan.docx")]
    assert "附件：邵阳市贯彻落实第二轮中央生态环境保护督察报告\n整改清单" in texts


def _numbered_document():
    """Three-level Chinese list (一、 / （一） / 1.) plus a restarted copy via startOverride."""
    document = docx.Document()
    numbering = document.part.numbering_part.element
    levels = [("chineseCounting", "%1、"), ("chineseCounting", "（%2）"), ("decimal", "%3.")]
    lvl_xml = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate(levels))
    numbering.insert(0, parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">{lvl_xml}</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="91"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="92"><w:abstractNumId w:val="90"/>'
        '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'))

    def add(text, ilvl, num_id=91):
        p = document.add_paragraph(text)
        p._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))

    for text, ilvl in [("总体要求", 0), ("加强领导", 1), ("落实责任", 2), ("建立台账", 2), ("分类推进", 1),
                       ("定期调度", 2), ("主要任务", 0), ("压实责任", 1)]:
        add(text, ilvl)
    document.add_paragraph("附件")
    add("另一清单", 0, num_id=92)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_auto_numbering_renders_chinese_labels():
    texts = [b.text for b in read_document(_numbered_document(), "numbered.docx")]
    assert texts == ["一、总体要求", "（一）加强领导", "1. 落实责任", "2. 建立台账", "（二）分类推进",
                     "1. 定期调度", "二、主要任务", "（一）压实责任", "附件", "一、另一清单"]


def test_docx_heading_style_numbering_comes_from_the_style():
    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="80"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        '<w:numFmt w:val="chineseCountingThousand"/><w:lvlText w:val="%1、"/></w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="81"><w:abstractNumId w:val="80"/></w:num>'))
    heading = document.styles["Heading 1"].element
    heading.get_or_add_pPr().append(parse_xml(f'<w:numPr {nsdecls("w")}><w:numId w:val="81"/></w:numPr>'))
    for n in range(12):
        document.add_paragraph(f"任务{n + 1}", style="Heading 1")
    buffer = io.BytesIO()
    document.save(buffer)
    blocks = read_document(buffer.getvalue(), "h.docx")
    assert blocks[0].text == "一、任务1" and blocks[9].text == "十、任务10" and blocks[11].text == "十二、任务12"
    assert all(b.heading for b in blocks)


def test_chinese_numbers_as_word_counts():
    assert [chinese_number(n) for n in (1, 10, 11, 20, 25, 100, 105, 110)] == \
        ["一", "十", "十一", "二十", "二十五", "一百", "一百零五", "一百一十"]


def test_docx_merged_cells_read_once_per_row_position():
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for r in range(3):
        for c in range(3):
            table.cell(r, c).text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1)).text = "横向合并"
    table.cell(1, 2).merge(table.cell(2, 2)).text = "纵向合并"
    buffer = io.BytesIO()
    document.save(buffer)
    rows = read_document(buffer.getvalue(), "t.docx")[0].rows
    assert rows == [["横向合并", "", "02"], ["10", "11", "纵向合并"], ["20", "21", "纵向合并"]]


# --- pdf ----------------------------------------------------------------------------------

def test_pdf_paragraphs_match_reference_in_order(seed_pdf_blocks, reference_paragraphs):
    paragraphs = [norm(b.text) for b in seed_pdf_blocks if b.kind == "para"]
    assert [p for p in paragraphs if p not in TITLES] == reference_paragraphs  # 340/340, page breaks rejoined
    assert [b.text for b in seed_pdf_blocks if b.text in TITLES] == list(TITLES)  # two-line titles joined


def test_pdf_drops_page_number_footers(seed_pdf_blocks):
    assert not [b.text for b in seed_pdf_blocks if re.search(r"[—-]\s*\d+\s*[—-]", b.text)]


def test_pdf_adds_no_spaces_between_chinese_characters(seed_pdf_blocks):
    assert not [b.text for b in seed_pdf_blocks if re.search(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]", b.text)]


def test_pdf_of_table_document_has_same_paragraphs_as_docx(table_pdf_blocks):
    docx_paras = [norm(b.text) for b in read_fixture("table/shaoyang_list_table.docx") if b.kind == "para"]
    assert [norm(b.text) for b in table_pdf_blocks if b.kind == "para"] == docx_paras


def test_table_docx_and_pdf_give_one_matching_table(table_pdf_blocks):
    docx_tables = [b for b in read_fixture("table/shaoyang_list_table.docx") if b.kind == "table"]
    pdf_tables = [b for b in table_pdf_blocks if b.kind == "table"]
    assert len(docx_tables) == len(pdf_tables) == 1  # pages stitched into one table
    from_docx, from_pdf = docx_tables[0].rows, pdf_tables[0].rows
    assert len(from_docx) == len(from_pdf) == 26 and all(len(r) == 9 for r in from_docx + from_pdf)
    assert [norm(c) for c in from_pdf[0]] == TABLE_COLUMNS
    for name in ("序号", "市级督办领导", "主体责任单位", "市直牵头单位", "整改时限"):  # merged columns included
        c = TABLE_COLUMNS.index(name)
        assert sum(norm(d[c]) == norm(p[c]) for d, p in zip(from_docx[1:], from_pdf[1:])) == 25, name
    assert sum(all(norm(x) == norm(y) for x, y in zip(d, p)) for d, p in zip(from_docx, from_pdf)) == 26


def test_pdf_table_cell_keeps_line_break_before_numbered_measure(table_pdf_blocks):
    rows = next(b for b in table_pdf_blocks if b.kind == "table").rows
    measures = rows[3][TABLE_COLUMNS.index("整改措施")]
    assert measures.startswith("1. 落实中央") and "\n2. 对“两高”项目实行清单管理" in measures


@pytest.mark.parametrize("footer", ["— 3 —", "- 3 -", "－3－", "第 3 页 共 9 页", "第3页", "3/9", "Page 3 of 9"])
def test_page_number_lines_copied_from_a_pdf_are_dropped_from_text(footer):
    """Text copied from a PDF keeps each page's number, often mid-sentence: "…2023年⏎— 3 —⏎6月底前完成"."""
    from parser.plan import parse_blocks
    text = ("某市关于促进房地产市场平稳健康发展的意见\n一、实施购房契税补贴\n给予已缴契税50%消费补贴，相关兑付工作2023年\n"
            f"{footer}\n6月底前完成。\n责任单位：市财政局、市市场监\n{footer}\n管局\n")
    blocks = read_document(text.encode(), "plan.txt")
    assert not any(footer in b.text for b in blocks)
    (task,) = parse_blocks(blocks, "plan.txt").tasks
    assert task.responsible_units == ["市财政局", "市市场监管局"]
    assert [m.due.isoformat() for m in task.milestones] == ["2023-06-30"]


def test_a_bare_number_line_in_text_is_kept():
    """Alone on its line a number may be a table's 序号 cell, not a page number."""
    blocks = read_document("某市重点任务\n3\n推进截污纳管工程\n".encode(), "plan.txt")
    assert "3" in [line for b in blocks for line in b.text.split("\n")]
