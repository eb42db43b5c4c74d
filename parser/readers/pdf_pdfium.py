"""A page's characters and their boxes read with PDFium (pypdfium2), as pdfplumber reports them.

PDFium parses a page many times faster than pdfminer, but its text page is not the PDF's
character stream: it adds generated spaces and line breaks, drops a text object whose glyphs have
no width (a lone space set in a font of its own), drops a space that follows a generated one,
drops overprinted duplicates, and marks a line-end hyphen 0x02. We keep only the characters the
PDF holds, put the dropped spaces back, and compute each box as pdfminer does: from the origin,
the font's advance width and the font size, through the character's matrix. The font's bottom is
taken at the baseline, as pdfminer does when the font descriptor gives no descent (LibreOffice's
PDFs); with a descent, pdfminer's boxes sit lower by it, which moves no character to another line.
Runs of spaces inside a line come back as one space (PDFium keeps one, and no count of the rest).

Pages that may hold a ruled table (pdf_objects.py), and text that is rotated, mirrored or set
vertically, are left to pdfplumber: `read` returns None for them.
"""
from __future__ import annotations

import ctypes
import threading

import pypdfium2 as pdfium

from parser.readers.pdf_lines import Char
from parser.readers.pdf_objects import page_objects
from parser.readers.pdf_pdfium_calls import (char_font_size, char_matrix, count_chars, glyph_width,
                                             is_generated, object_font, origin, text_object, unicode_at, unicodes)

_SPACE, _HYPHEN_MARK, _UNMAPPED = 0x20, 0x02, 0xFFFE
_BLANKS = frozenset((0x0D, 0x0A, _SPACE))  # what PDFium generates: line breaks and spaces
_LONE_BLANKS = (0x3000, 0x2003, 0xA0, _SPACE)  # ideographic, em, no-break space, space: widest first
_SLOW = _BLANKS | {0, _HYPHEN_MARK, _UNMAPPED}  # characters that need a second look
_SAME_POINT = 0.01  # pt: a generated space on the next character's origin
# PDFium keeps coordinates as 32-bit floats (56.8 comes back as 56.79999924): rounded to this many
# decimals they are the PDF's numbers again, as pdfminer reads them; the paragraph rules compare
# indents and margins exactly, and a text block indented by exactly two characters is common.
_DIGITS = 4
_PAGES_PER_OPENING = 100
_LOCK = threading.Lock()  # PDFium is not thread-safe: one call sequence at a time in a process


class Unsupported(Exception):
    """Text PDFium cannot give in pdfplumber's terms (rotated, mirrored, vertical): use pdfplumber."""


class PdfiumPages:
    """PDFium's reading of one PDF, page by page: `read` gives None where pdfplumber must read the
    page, and for every page when PDFium cannot open the file or counts its pages differently."""

    def __init__(self, data: bytes, page_count: int):
        self._data, self._document, self._pages_read = data, None, 0
        self._reader = _PageReader()
        with _LOCK:
            try:
                document = pdfium.PdfDocument(data)
            except Exception:  # PDFium only speeds reading up: what it cannot open, pdfplumber reads
                return
            if len(document) == page_count:
                self._document = document
            else:
                document.close()

    def __enter__(self) -> PdfiumPages:
        return self

    def __exit__(self, *exc) -> None:
        if self._document is not None:
            with _LOCK:
                self._document.close()

    def read(self, index: int, height: float) -> list[Char] | None:
        """Page `index`'s characters; `height` (pdfplumber's) turns PDF y into a top."""
        if self._document is None:
            return None
        with _LOCK:
            self._pages_read += 1
            if self._pages_read % _PAGES_PER_OPENING == 0:
                # The document keeps every font program it loaded: reopen it now and then, so a
                # long file whose pages bring fonts of their own is read in flat memory.
                self._document.close()
                self._document = pdfium.PdfDocument(self._data)
            page = None
            try:
                page = self._document[index]
                return self._reader.read(page, height)
            except Exception:  # a page PDFium cannot load, or text it cannot give (Unsupported)
                return None
            finally:
                if page is not None:
                    page.close()  # and its text page: memory stays flat on long files


class _PageReader:
    """Characters of one page after another."""

    def __init__(self):
        self._out = (ctypes.c_double * 2)()  # out-parameters, reused: origin x, y
        self._matrix = (ctypes.c_float * 6)()
        self._widths: dict[int, dict[int, float]] = {}  # font -> code point -> advance, 1/1000 em
        self._height = 0.0

    def read(self, page, height: float) -> list[Char] | None:
        # Per page: PDFium frees a font no open page uses, and its address may then be reused.
        self._widths = {}
        self._height = height
        text_page = page.get_textpage()
        try:
            styles: dict[int, tuple] = {}  # text object -> its style; also the objects seen
            chars = self._chars(ctypes.cast(text_page.raw, ctypes.c_void_p).value, styles)
        finally:
            text_page.close()
        objects = page_objects(ctypes.cast(page.raw, ctypes.c_void_p).value, set(styles))
        if objects.ruled:
            return None
        for obj, size, matrix in objects.lone_blanks:
            chars.append(self._lone_blank(obj, size, matrix, chars))
        return chars

    def _lone_blank(self, obj: int, size: float, matrix: tuple, chars: list[Char]) -> Char:
        """The blank of a text object PDFium skipped for having no width. The text page cannot say
        which blank it is; its room (up to the next character on the line) can: the widest blank
        the font gives a width that fits. A room over 1.5 em is a gap, not a blank's width: a space."""
        style = self._style_of(object_font(obj), size, *matrix[:4])
        x, y = round(matrix[4], _DIGITS), round(matrix[5], _DIGITS)
        baseline = self._height - y
        room = min((ch.x0 - x for ch in chars if ch.x0 > x and abs(ch.bottom - baseline) < 1), default=None)
        font, size, a, _, _, _, _, widths = style
        advances = {code: a * 0.001 * size * self._advance(font, code, widths) for code in _LONE_BLANKS}
        if room is None or room > 1.5 * a * size:
            fits = [code for code in (_SPACE, *_LONE_BLANKS) if advances[code] > 0]
        else:
            fits = sorted((code for code in _LONE_BLANKS if 0 < advances[code] <= room + _SAME_POINT),
                          key=lambda code: -advances[code])
        return self._char(fits[0] if fits else _SPACE, x, y, style)

    def _chars(self, text_page: int, styles: dict[int, tuple]) -> list[Char]:
        """The text page's characters in its order, without the generated ones."""
        out, height, chars = self._out, self._height, []
        x_out = ctypes.addressof(out)
        y_out = x_out + ctypes.sizeof(ctypes.c_double)
        pending = None  # (x, y, style) of an in-object generated space, see _second_look
        for index, code in enumerate(unicodes(text_page, count_chars(text_page))):
            obj = text_object(text_page, index)
            origin(text_page, index, x_out, y_out)
            x, y = round(out[0], _DIGITS), round(out[1], _DIGITS)
            style = (styles.get(obj) or self._style(styles, obj, text_page, index)) if obj else None
            if style is None or pending is not None or code in _SLOW:
                pending = self._second_look(text_page, index, code, x, y, style, pending, chars)
                continue
            font, size, a, _, _, d, aligned, widths = style
            advance = widths.get(code)
            if advance is None:
                advance = self._advance(font, code, widths)
            if not aligned:
                chars.append(self._char(code, x, y, style))
                continue
            top = y + d * size
            chars.append(Char(chr(code), x, x + a * (advance * 0.001 * size), height - top, height - y, top - y))
        if pending is not None:
            chars.append(self._char(_SPACE, *pending))
        return chars

    def _second_look(self, text_page: int, index: int, code: int, x: float, y: float, style, pending,
                     chars: list[Char]):
        """Blanks, hyphen marks and unmapped characters; and the space PDFium drops after a
        kerning gap it turned into a generated space: that space sits on the origin of the next
        character, so a next character elsewhere means a dropped space. Returns the new pending."""
        generated = code in _BLANKS and is_generated(text_page, index)
        if pending is not None and (generated or max(abs(x - pending[0]), abs(y - pending[1])) > _SAME_POINT):
            chars.append(self._char(_SPACE, *pending))
        if generated or style is None:
            return (x, y, style) if generated and code == _SPACE and style is not None else None
        if code == _UNMAPPED:
            code = unicode_at(text_page, index)  # the text buffer's 0xFFFE: a hyphen mark or no text
        if code == _HYPHEN_MARK:
            code = ord("-")
        if code:
            chars.append(self._char(code, x, y, style))
        return None

    def _style(self, styles: dict, obj: int, text_page: int, index: int) -> tuple:
        """A text object's style, read at its first character."""
        m = self._matrix
        char_matrix(text_page, index, ctypes.addressof(m))
        styles[obj] = style = self._style_of(object_font(obj), char_font_size(text_page, index), *m[:4])
        return style

    def _style_of(self, font: int, size: float, a: float, b: float, c: float, d: float) -> tuple:
        """(font, size, matrix a b c d, axis-aligned?, the font's widths); only pdfminer's upright
        text: pdfplumber reads the rest."""
        if not (a * d > 0 and b * c <= 0):
            raise Unsupported("rotated or mirrored text")
        size, a, b, c, d = (round(v, _DIGITS) for v in (size, a, b, c, d))
        return font, size, a, b, c, d, b == 0 and c == 0 and a > 0 and d > 0, self._widths.setdefault(font, {})

    def _char(self, code: int, x: float, y: float, style: tuple) -> Char:
        """pdfminer's box: (0, 0) to (advance, font size) from the origin through the matrix."""
        font, size, a, b, c, d, _, widths = style
        advance = self._advance(font, code, widths) * 0.001 * size
        xs = (x, x + a * advance, x + c * size, x + a * advance + c * size)
        ys = (y, y + b * advance, y + d * size, y + b * advance + d * size)
        height = self._height
        return Char(chr(code), min(xs), max(xs), height - max(ys), height - min(ys), max(ys) - min(ys))

    def _advance(self, font: int, code: int, widths: dict[int, float]) -> float:
        """The glyph's advance in 1/1000 em from the font's widths (PDFium maps the code point back
        to the character code)."""
        if code in widths:
            return widths[code]
        width = ctypes.c_float()
        glyph_width(font, code, 1000.0, ctypes.addressof(width))
        if width.value < 0:  # a vertical font's advance: pdfminer boxes those differently
            raise Unsupported("vertical writing")
        widths[code] = width.value
        return width.value
