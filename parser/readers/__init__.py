"""Document readers: bytes in, ordered Blocks out. The format is sniffed, never taken from the name."""
from __future__ import annotations

from parser.errors import DocumentError
from parser.readers.blocks import Block

__all__ = ["Block", "read_document", "sniff_format"]

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_OOXML = "EncryptionInfo".encode("utf-16-le")
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
_CLAIMS = {".docx": "Word", ".doc": "Word", ".wps": "Word", ".pdf": "PDF"}


def sniff_format(data: bytes) -> str:
    """"docx", "pdf", "ole2", "text", or a human name of another binary format."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "docx"
    if b"%PDF-" in data[:1024]:  # the spec tolerates junk before the header
        return "pdf"
    if data.startswith(_OLE2):
        return "ole2"
    for magic, name in _OTHER_MAGIC:
        if data.startswith(magic):
            return name
    return "text"


def read_document(data: bytes, filename: str) -> list[Block]:
    """Read a plan document (.docx, .pdf or text) into paragraph and table blocks.

    Raises DocumentError with a one-line Chinese message and a short code.
    """
    if not data or not data.strip(b" \t\r\n\x00"):
        raise DocumentError("文件为空（empty file）", code="empty")
    kind = sniff_format(data)
    if kind == "docx":
        from parser.readers.docx import read_docx
        return read_docx(data)
    if kind == "pdf":
        from parser.readers.pdf import read_pdf
        return read_pdf(data)
    if kind == "ole2":
        if _ENCRYPTED_OOXML in data:
            raise DocumentError("Word 文档已加密，需要密码（encrypted document）", code="encrypted")
        raise DocumentError("不支持旧版 .doc/.wps 格式，请另存为 .docx 后再上传（legacy .doc not supported）",
                            code="unsupported")
    claimed = _CLAIMS.get(_extension(filename))
    if kind != "text":
        what = f"{claimed} 文档" if claimed else "计划文档"
        raise DocumentError(f"不是有效的 {what}：文件内容是{kind}（not a {claimed or 'plan'} document）",
                            code="unsupported")
    if claimed:  # text bytes under a .docx/.pdf name: a broken or mislabelled file
        raise DocumentError(f"不是有效的 {claimed} 文档（not a {claimed} document）", code="unsupported")
    from parser.readers.text import read_text
    return read_text(data)


def _extension(filename: str) -> str:
    name = (filename or "").lower()
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""
