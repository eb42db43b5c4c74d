"""OFD (GB/T 33190, the national fixed-layout format): the text layer, page by page.

An OFD is a zip: OFD.xml names the document root (Doc_0/Document.xml), which lists the pages;
each page's Content.xml holds TextObjects (Boundary "x y w h" in mm) with TextCode runs positioned
by X/Y inside their object. Runs are placed on the page, grouped into lines by their baseline,
ordered left to right, and lines become paragraphs the way a printed 公文 reads: a line that
starts indented or follows a short line opens a paragraph. All XML goes through defusedxml.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from defusedxml import ElementTree

from parser.errors import DocumentError
from parser.limits import Limits
from parser.readers.blocks import Block, is_page_number
from parser.readers.container import open_zip, read_member




@dataclass
class _Run:
    x: float
    y: float
    size: float
    text: str
    x1: float


def read_ofd(data: bytes) -> list[Block]:
    with open_zip(data, "ofd") as archive:
        names = {n.lstrip("/"): n for n in archive.namelist()}
        root = _xml(read_member(archive, names.get("OFD.xml", "OFD.xml"), "ofd"))
        doc_root = _text_of(root, "DocRoot")
        if not doc_root:
            raise DocumentError("OFD 文件缺少 DocRoot，文件不完整（missing DocRoot）", code="corrupt")
        doc_path = doc_root.strip().lstrip("/")
        document = _xml(read_member(archive, names.get(doc_path, doc_path), "ofd"))
        pages = [p.get("BaseLoc", "") for p in _all(document, "Page")]
        Limits.from_env().check_pages(len(pages))
        lines: list[tuple[int, list[_Run]]] = []
        for number, base in enumerate(pages):
            path = _resolve(doc_path, base)
            content = _xml(read_member(archive, names.get(path, path), "ofd"))
            lines.extend((number, line) for line in _lines(_runs(content))
                         if not is_page_number("".join(r.text for r in line)))
    Limits.from_env().check_paragraphs(len(lines))
    blocks = _paragraphs(lines)
    if not blocks:
        raise DocumentError("OFD 文件没有文字层（扫描件），需要先做文字识别（OCR）（no text layer）", code="no_text")
    return blocks


def _xml(data: bytes):
    try:
        return ElementTree.fromstring(data)
    except Exception as exc:  # ParseError, or defusedxml refusing entities / DTDs
        raise DocumentError(f"OFD 文件已损坏，无法读取（corrupt OFD part: {type(exc).__name__}）",
                            code="corrupt") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _all(element, name: str):
    return [e for e in element.iter() if _local(e.tag) == name]


def _text_of(element, name: str) -> str:
    found = _all(element, name)
    return (found[0].text or "") if found else ""


def _resolve(doc_path: str, base: str) -> str:
    """Page paths are relative to the document's folder, or absolute within the package."""
    if base.startswith("/"):
        return base.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(doc_path), base))


def _floats(value: str | None) -> list[float]:
    try:
        return [float(v) for v in (value or "").split()]
    except ValueError:
        return []


def _delta_width(delta: str | None, chars: int, size: float) -> float:
    """Width of a run from its DeltaX ("5.5 5.5" or the compressed "g 3 5.5")."""
    tokens = (delta or "").split()
    total, i, count = 0.0, 0, 0
    try:
        while i < len(tokens):
            if tokens[i] == "g" and i + 2 < len(tokens):
                n, step = int(tokens[i + 1]), float(tokens[i + 2])
                total, count, i = total + n * step, count + n, i + 3
            else:
                total, count, i = total + float(tokens[i]), count + 1, i + 1
    except ValueError:
        return chars * size
    return total + max(chars - count, 1) * size


def _runs(page) -> list[_Run]:
    runs = []
    for obj in _all(page, "TextObject"):
        box = _floats(obj.get("Boundary"))
        if len(box) != 4:
            continue
        size = (_floats(obj.get("Size")) or [box[3]])[0]
        for code in _all(obj, "TextCode"):
            text = (code.text or "").strip()
            if not text:
                continue
            x = box[0] + ((_floats(code.get("X")) or [0.0])[0])
            y = box[1] + ((_floats(code.get("Y")) or [size])[0])
            runs.append(_Run(x, y, size, text, x + _delta_width(code.get("DeltaX"), len(text), size)))
    return runs


def _lines(runs: list[_Run]) -> list[list[_Run]]:
    """Runs sharing a baseline (within half a character) are one line, left to right."""
    lines: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: (r.y, r.x)):
        if lines and abs(lines[-1][0].y - run.y) <= 0.5 * max(run.size, lines[-1][0].size):
            lines[-1].append(run)
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r.x) for line in lines]


def _line_text(line: list[_Run]) -> str:
    """Runs of one line; a gap wider than a character (a signature block's columns) is a space."""
    out = line[0].text
    for before, run in zip(line, line[1:]):
        out += (" " if run.x - before.x1 > run.size else "") + run.text
    return out


def _paragraphs(lines: list[tuple[int, list[_Run]]]) -> list[Block]:
    if not lines:
        return []
    left = min(line[0].x for _, line in lines)
    right = max(line[-1].x1 for _, line in lines)
    blocks: list[Block] = []
    text, prev_short, page = "", True, 1
    for number, line in lines:
        size = max(r.size for r in line)
        line_text = _line_text(line)
        indented = line[0].x - left > 1.2 * size
        if text and (prev_short or indented):
            blocks.append(Block(kind="para", text=text, page=page))
            text = ""
        if not text:
            page = number + 1  # a paragraph is cited by the page it starts on
        text += line_text
        prev_short = line[-1].x1 < right - 2 * size
    if text:
        blocks.append(Block(kind="para", text=text, page=page))
    for b in blocks:
        b.text = re.sub(r"\s+", " ", b.text).strip()
    return [b for b in blocks if b.text]
