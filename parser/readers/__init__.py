"""Document readers: bytes in, ordered Blocks out. The format is sniffed, never taken from the name.

Zips are told apart by their member names (.docx, .xlsx, .ofd), OLE2 compound files by their
stream names (.doc/.wps, .xls), web pages by their opening tags; everything else is text.
"""
from __future__ import annotations

import re

from parser.errors import DocumentError
from parser.readers.blocks import Block
from parser.readers.container import ole_format, open_zip, zip_format

__all__ = ["Block", "read_document", "sniff_format"]

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Binary formats people upload by mistake: name them instead of calling them "bad encoding".
_OTHER_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"II*\x00", "TIFF 图片"),
    (b"MM\x00*", "TIFF 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"{\\rtf", "RTF 文档"),
)
# A saved web page opens with one of these tags (after a BOM, whitespace or an XML declaration).
_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}>\s*)?(?:<!--.{0,2000}?-->\s*)*"
                         rb"<(?:!doctype\s+html|html|head|body|meta|title|table|div|p)[\s>/]",
                         re.IGNORECASE | re.DOTALL)
_CLAIMS = {".docx": "Word", ".doc": "Word", ".wps": "Word", ".pdf": "PDF", ".xlsx": "Excel", ".xls": "Excel",
           ".ofd": "OFD"}


def sniff_format(data: bytes) -> str:
    """"docx", "xlsx", "ofd", "zip", "pdf", "doc", "xls", "encrypted", "ole2", "html", "text",
    or a human name of another binary format."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return zip_format(data)
    if b"%PDF-" in data[:1024]:  # the spec tolerates junk before the header
        return "pdf"
    if data.startswith(_OLE2):
        return ole_format(data)
    for magic, name in _OTHER_MAGIC:
        if data.startswith(magic):
            return name
    if _HTML_START.match(data[:4096]):
        return "html"
    return "text"


def _encrypted(data: bytes) -> list[Block]:
    raise DocumentError("文档已加密，需要密码；请取消密码后再上传（encrypted document）", code="encrypted")


def _unknown_zip(data: bytes) -> list[Block]:
    open_zip(data, "zip").close()  # a damaged archive is reported as damaged
    raise DocumentError("压缩包中没有可识别的文档（不是 .docx、.xlsx 或 .ofd）（unsupported archive）",
                        code="unsupported")


# format → (module of parser.readers, its reader) or a function, in one place; a reader's module (and the
# library behind it) is imported only when a document of its format comes.
_READERS = {
    "docx": ("docx", "read_docx"),
    "pdf": ("pdf", "read_pdf"),
    "xlsx": ("sheets", "read_sheets"),
    "xls": ("sheets", "read_sheets"),
    "ofd": ("ofd", "read_ofd"),
    "doc": ("legacy", "read_legacy_word"),
    "html": ("html", "read_html"),
    "text": ("text", "read_text"),
    "encrypted": _encrypted,
    "zip": _unknown_zip,
    "ole2": ("legacy", "read_legacy_word"),  # other OLE2 word processors (WPS, Works): LibreOffice knows more
}


def _reader(kind: str):
    found = _READERS.get(kind)
    if isinstance(found, tuple):
        import importlib
        return getattr(importlib.import_module(f"parser.readers.{found[0]}"), found[1])
    return found


def read_document(data: bytes, filename: str) -> list[Block]:
    """Read a plan document (.docx, .doc/.wps, .pdf, .ofd, .xlsx/.xls, .html or text) into paragraph
    and table blocks. Raises DocumentError with a one-line Chinese message and a short code."""
    if not data or not data.strip(b" \t\r\n\x00"):
        raise DocumentError("文件为空（empty file）", code="empty")
    kind = sniff_format(data)
    claimed = _CLAIMS.get(_extension(filename))
    if kind == "text" and claimed:  # text bytes under a .docx/.pdf name: a broken or mislabelled file
        raise DocumentError(f"不是有效的 {claimed} 文档（not a {claimed} document）", code="unsupported")
    reader = _reader(kind)
    if reader is None:
        what = f"{claimed} 文档" if claimed else "计划文档"
        raise DocumentError(f"不是有效的 {what}：文件内容是{kind}（not a {claimed or 'plan'} document）",
                            code="unsupported")
    return reader(data)


def _extension(filename: str) -> str:
    name = (filename or "").lower()
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""
