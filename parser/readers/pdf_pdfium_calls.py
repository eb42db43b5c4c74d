"""The PDFium calls the PDF reader makes, with pointers passed as plain addresses.

pypdfium2's bindings take typed pointers; converting one costs more than the call itself, and a
page makes a few calls per character. The same entry points, declared with `c_void_p` for every
pointer, take and return plain integers. Only functions of PDFium's public API, as pypdfium2
declares them.
"""
from __future__ import annotations

import ctypes

import pypdfium2.raw as pdfium_c


def _bind(name: str):
    function = getattr(pdfium_c, name)

    def plain(kind):
        return ctypes.c_void_p if kind is not None and issubclass(kind, ctypes._Pointer) else kind

    prototype = ctypes.CFUNCTYPE(plain(function.restype), *map(plain, function.argtypes))
    return prototype(ctypes.cast(function, ctypes.c_void_p).value)


# text page: per character
count_chars = _bind("FPDFText_CountChars")
unicode_at = _bind("FPDFText_GetUnicode")
is_generated = _bind("FPDFText_IsGenerated")
text_object = _bind("FPDFText_GetTextObject")
origin = _bind("FPDFText_GetCharOrigin")
char_font_size = _bind("FPDFText_GetFontSize")
char_matrix = _bind("FPDFText_GetMatrix")
_get_text = _bind("FPDFText_GetText")
# text objects and fonts
object_font = _bind("FPDFTextObj_GetFont")
object_font_size = _bind("FPDFTextObj_GetFontSize")
glyph_width = _bind("FPDFFont_GetGlyphWidth")
# page objects
count_objects = _bind("FPDFPage_CountObjects")
get_object = _bind("FPDFPage_GetObject")
object_type = _bind("FPDFPageObj_GetType")
object_bounds = _bind("FPDFPageObj_GetBounds")
object_matrix = _bind("FPDFPageObj_GetMatrix")
form_count = _bind("FPDFFormObj_CountObjects")
form_object = _bind("FPDFFormObj_GetObject")
TEXT, PATH, FORM = pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM


def unicodes(text_page: int, count: int) -> list[int]:
    """Each character's code point. One call for the page's text when it holds every character
    (so its positions are the characters' indexes); one call per character otherwise."""
    buffer = (ctypes.c_ushort * (count + 1))()
    if _get_text(text_page, 0, count, ctypes.addressof(buffer)) == count + 1:
        return buffer[:count]
    return [unicode_at(text_page, index) for index in range(count)]
