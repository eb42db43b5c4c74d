"""Zip and OLE2 containers: tell the format apart by what is inside, and refuse zip bombs.

.docx, .xlsx and .ofd are all zips; .doc, .wps and .xls are all OLE2 compound files. The member
names (word/document.xml, xl/workbook.xml, OFD.xml) and stream names (WordDocument, Workbook) say
which one a file is, whatever it is called. Only directories are read here: nothing is inflated.
"""
from __future__ import annotations

import io
import zipfile

from parser.errors import DocumentError

MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200
RATIO_CHECK_MIN_SIZE = 10 * 1024 * 1024

# (member that identifies the format, format) in order of precedence.
ZIP_FORMATS = (
    ("word/document.xml", "docx"),
    ("xl/workbook.xml", "xlsx"),
    ("OFD.xml", "ofd"),
)
# Name prefixes found in the local headers of a zip whose directory is lost (truncated files).
_ZIP_PREFIXES = ((b"word/", "docx"), (b"xl/", "xlsx"), (b"OFD.xml", "ofd"), (b"Doc_0/", "ofd"))
# OLE2 stream names (case-insensitive) → format. "Book" is the Excel 5/95 workbook stream.
OLE_FORMATS = (
    ("encryptioninfo", "encrypted"),  # an OOXML file saved with a password
    ("worddocument", "doc"),
    ("workbook", "xls"),
    ("book", "xls"),
)
# What the user is told a damaged container of each kind is.
KIND_NAMES = {"docx": "Word 文档", "xlsx": "Excel 表格", "ofd": "OFD 文件", "zip": "文件",
              "doc": "Word 文档", "xls": "Excel 表格", "ole2": "Office 文档"}


def zip_format(data: bytes) -> str:
    """"docx", "xlsx", "ofd", or "zip" (an archive that is none of them). A zip whose directory
    cannot be read is named from the member names in its local headers, so a truncated .xlsx is
    still reported as a damaged Excel file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = {i.filename.lstrip("/") for i in archive.infolist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        head = data[:1 << 20]
        found = [(head.find(prefix), kind) for prefix, kind in _ZIP_PREFIXES if prefix in head]
        return min(found)[1] if found else "zip"
    for member, kind in ZIP_FORMATS:
        if member in names or any(n.lower() == member.lower() for n in names):
            return kind
    return "zip"


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive, after checking its directory: sizes and compression ratios within bounds."""
    what = KIND_NAMES.get(kind, "文件")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise DocumentError(f"{what}已损坏或不完整（corrupt or truncated file）", code="corrupt") from None
    total = sum(i.file_size for i in infos)
    bomb = any(i.file_size > RATIO_CHECK_MIN_SIZE and i.file_size > MAX_RATIO * max(i.compress_size, 1)
               for i in infos)
    if total > MAX_TOTAL_UNCOMPRESSED or bomb:
        archive.close()
        raise DocumentError(f"{what}解压后过大，疑似压缩炸弹，已拒绝（document too large when unpacked）",
                            code="too_large")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes:
    """One member's bytes; a damaged member is a damaged document, not an internal error."""
    try:
        return archive.read(name)
    except KeyError:
        raise DocumentError(f"{KIND_NAMES.get(kind, '文件')}缺少 {name}，文件不完整（missing part）",
                            code="corrupt") from None
    except Exception as exc:  # zlib.error, BadZipFile (CRC), EOFError … on damaged bytes
        raise DocumentError(f"{KIND_NAMES.get(kind, '文件')}已损坏，无法读取（corrupt part: {type(exc).__name__}）",
                            code="corrupt") from exc


def ole_format(data: bytes) -> str:
    """"doc", "xls", "encrypted" or "ole2" from the compound file's stream names."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:  # a damaged header or directory: say what it most likely is
        return _ole_format_by_bytes(data)
    try:
        names = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
        for stream, kind in OLE_FORMATS:
            if stream in names:
                if kind == "doc" and _word_encrypted(ole):
                    return "encrypted"
                return kind
        return "ole2"
    finally:
        ole.close()


def _ole_format_by_bytes(data: bytes) -> str:
    for stream, kind in OLE_FORMATS:
        word = {"worddocument": "WordDocument", "workbook": "Workbook", "book": "Book",
                "encryptioninfo": "EncryptionInfo"}[stream]
        if word.encode("utf-16-le") in data:
            return kind
    return "ole2"


def _word_encrypted(ole) -> bool:
    """FIB flag fEncrypted (bit 8 of the flags word at offset 10 of the WordDocument stream)."""
    try:
        with ole.openstream("WordDocument") as stream:
            head = stream.read(12)
    except Exception:
        return False
    return len(head) >= 12 and bool(int.from_bytes(head[10:12], "little") & 0x0100)
