"""Word 97–2003 (.doc) and WPS (.wps) binaries: converted to .docx by LibreOffice, then read as such.

Nothing in Python reads these formats well, and LibreOffice does. The conversion runs in a
temporary folder with its own LibreOffice profile (so it never collides with a desktop session
or another conversion) and a time limit. Without LibreOffice the user is told how to convert.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from parser.errors import DocumentError
from parser.readers.blocks import Block

CONVERT_TIMEOUT = 120  # seconds; a first start of LibreOffice takes a few
_NO_OFFICE = ("这是旧版 Word/WPS 文档（.doc/.wps），本机未安装 LibreOffice，无法直接读取；请用 Word 或 WPS 打开后"
              "“另存为” .docx 再上传，或安装 LibreOffice（legacy .doc/.wps needs LibreOffice）")


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def read_legacy_word(data: bytes) -> list[Block]:
    from parser.readers.docx import read_docx

    return read_docx(convert_to_docx(data))


def convert_to_docx(data: bytes) -> bytes:
    office = soffice_path()
    if office is None:
        raise DocumentError(_NO_OFFICE, code="unsupported")
    with tempfile.TemporaryDirectory(prefix="duban-doc-") as tmp:
        source = Path(tmp, "document.doc")
        source.write_bytes(data)
        profile = Path(tmp, "profile").as_uri()
        command = [office, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck",
                   "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(Path(tmp, "out")), str(source)]
        try:
            subprocess.run(command, capture_output=True, timeout=CONVERT_TIMEOUT, check=False,
                           env={**os.environ, "HOME": tmp}, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise DocumentError(f"旧版 Word/WPS 文档转换超时（超过 {CONVERT_TIMEOUT} 秒），请另存为 .docx 后再上传"
                                "（conversion timed out）", code="corrupt") from None
        except OSError as exc:
            raise DocumentError(_NO_OFFICE, code="unsupported") from exc
        result = Path(tmp, "out", "document.docx")
        if not result.exists() or result.stat().st_size == 0:
            raise DocumentError("旧版 Word/WPS 文档已损坏，LibreOffice 无法转换；请用 Word 或 WPS 打开后另存为 .docx 再上传"
                                "（conversion failed）", code="corrupt")
        return result.read_bytes()
