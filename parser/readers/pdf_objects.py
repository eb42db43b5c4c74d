"""What a page's object list tells that PDFium's text page does not: rulings and lone blanks.

Rulings: pdfplumber finds a ruled table where at least two horizontal and two vertical edges
cross, so a page is handed to it when its paths could make that many; a box (both sides at least
pdfplumber's 3 pt minimum edge) counts two each way, a thin path one in its direction.
Lone blanks: PDFium's text page skips a text object narrower than 0.01 pt; a single space set
in a font of its own is such an object, and the space matters (pdf_text.spacing).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from parser.readers.pdf_pdfium_calls import (FORM, PATH, TEXT, count_objects, form_count, form_object,
                                             get_object, object_bounds, object_font_size, object_matrix,
                                             object_type)

_EPSILON = 0.01  # PDFium's own size epsilon
_EDGE = 3.0  # pdfplumber's edge_min_length
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass
class PageObjects:
    ruled: bool = False  # the paths could make a ruled table
    lone_blanks: list = field(default_factory=list)  # (text object, font size, matrix to the page)


def page_objects(page: int, seen: set[int]) -> PageObjects:
    """Walk the page's objects, into form XObjects; `seen` = text objects the text page has."""
    walk = _Walk(seen)
    walk.objects([get_object(page, i) for i in range(count_objects(page))], _IDENTITY)
    return PageObjects(walk.rulings[0] >= 2 and walk.rulings[1] >= 2, walk.lone)


class _Walk:
    def __init__(self, seen: set[int]):
        self.seen = seen
        self.rulings = [0, 0]  # horizontal, vertical
        self.lone: list = []
        self._floats = (ctypes.c_float * 6)()

    def objects(self, objects: list[int], form: Matrix) -> None:
        for obj in objects:
            kind = object_type(obj)
            if kind == PATH:
                self._ruling(self._bounds(obj, form))
            elif kind == TEXT and obj not in self.seen:
                left, _, right, _ = self._bounds(obj, _IDENTITY)
                if right - left < _EPSILON:
                    size = ctypes.c_float()
                    object_font_size(obj, ctypes.addressof(size))
                    self.lone.append((obj, size.value, concat(self._matrix(obj), form)))
            elif kind == FORM:
                inner = [form_object(obj, i) for i in range(form_count(obj))]
                self.objects(inner, concat(self._matrix(obj), form))

    def _ruling(self, bounds: tuple[float, float, float, float]) -> None:
        left, bottom, right, top = bounds
        width, height = right - left, top - bottom
        if min(width, height) >= _EDGE:
            self.rulings[0] += 2
            self.rulings[1] += 2
        else:
            self.rulings[0] += width >= height
            self.rulings[1] += height >= width

    def _bounds(self, obj: int, form: Matrix) -> tuple[float, float, float, float]:
        """The object's bounding box on the page (bounds are given in its form's space)."""
        f = self._floats
        base, step = ctypes.addressof(f), ctypes.sizeof(ctypes.c_float)
        object_bounds(obj, base, base + step, base + 2 * step, base + 3 * step)
        if form == _IDENTITY:
            return f[0], f[1], f[2], f[3]
        corners = [apply(form, x, y) for x in (f[0], f[2]) for y in (f[1], f[3])]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        return min(xs), min(ys), max(xs), max(ys)

    def _matrix(self, obj: int) -> Matrix:
        f = self._floats
        object_matrix(obj, ctypes.addressof(f))
        return f[0], f[1], f[2], f[3], f[4], f[5]


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def concat(first: Matrix, then: Matrix) -> Matrix:
    """`first` followed by `then` (PDF row-vector order: first × then)."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = then
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)
