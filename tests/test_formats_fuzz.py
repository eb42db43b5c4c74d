"""Corrupt inputs: byte-flipped and truncated copies of the seed .docx and .pdf (../shared/fixtures/seed)
either parse or raise DocumentError ("文件已损坏…", exit 2) — never an internal error.

Mutations are deterministic (a fixed random seed), so a failure names a reproducible case. The .docx
is mutated whole. The .pdf's byte flips go into its first page, taken out of the seed PDF with
pypdfium2 (so the objects, xref, content stream and fonts are the seed's own), and outside the
embedded font programs (streams over 20 kB, 93% of the bytes): a damaged font stream sends pdfminer
through its byte-by-byte recovery, 1–2 s a case, and reading all 52 pages takes over a second, so
200 such runs would dominate the suite. Truncations are made of the whole seed PDF.
"""
from __future__ import annotations

import io
import random
import re
import time

import pytest

from conftest import FIXTURES, run_cli
from parser.errors import DocumentError
from parser.plan import parse_document

MUTATIONS = 200
PDF_FLIPS = 150  # each a full parse of a one-page PDF (~0.1 s): kept to about 15 s here


def mutations(data: bytes, count: int, seed: int, truncations: int, spans: list[tuple[int, int]] | None = None):
    """(description, bytes): `truncations` cuts at random points, the rest 1–8 flipped bytes each,
    placed inside `spans` (all of the file when not given)."""
    rng = random.Random(seed)
    spans = spans or [(0, len(data))]
    offsets = [0]
    for a, b in spans:
        offsets.append(offsets[-1] + b - a)

    def position() -> int:
        k = rng.randrange(offsets[-1])
        i = next(i for i in range(len(spans)) if offsets[i + 1] > k)
        return spans[i][0] + k - offsets[i]

    for i in range(count):
        if i < truncations:
            cut = rng.randrange(1, len(data))
            yield f"truncated at {cut}", data[:cut]
            continue
        out = bytearray(data)
        spots = sorted(position() for _ in range(rng.randint(1, 8)))
        for spot in spots:
            out[spot] ^= 1 << rng.randrange(8)
        yield f"bits flipped at {spots}", bytes(out)


def assert_only_document_errors(cases, name: str) -> dict[str, int]:
    outcome = {"parsed": 0, "rejected": 0}
    for description, data in cases:
        try:
            parse_document(data, name)
            outcome["parsed"] += 1
        except DocumentError as e:
            assert str(e) and "\n" not in str(e), description
            outcome["rejected"] += 1
        except Exception as e:  # noqa: BLE001 - the point of the test
            pytest.fail(f"{name} {description}: internal error {type(e).__name__}: {e}")
    return outcome


def first_pages(pdf: bytes, pages: int) -> bytes:
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(pdf)
    extract = pdfium.PdfDocument.new()
    extract.import_pages(source, list(range(pages)))
    buffer = io.BytesIO()
    extract.save(buffer)
    return buffer.getvalue()


def outside_large_streams(pdf: bytes, limit: int = 20_000) -> list[tuple[int, int]]:
    large = [(m.start(), m.end()) for m in re.finditer(rb"stream\r?\n.*?endstream", pdf, re.S)
             if m.end() - m.start() > limit]
    bounds = [0] + [x for span in large for x in span] + [len(pdf)]
    return [(a, b) for a, b in zip(bounds[::2], bounds[1::2]) if b > a]


def test_flipped_and_truncated_docx_parse_or_raise_document_error(shared):
    data = (FIXTURES / "seed" / "shaoyang_plan.docx").read_bytes()
    started = time.monotonic()
    outcome = assert_only_document_errors(mutations(data, MUTATIONS, 20261206, truncations=40), "plan.docx")
    assert outcome["rejected"] >= 40  # every truncation loses the zip directory
    assert time.monotonic() - started < 120  # a hang guard, not a benchmark


def test_flipped_pdf_pages_parse_or_raise_document_error(shared):
    data = first_pages((FIXTURES / "seed" / "shaoyang_plan.pdf").read_bytes(), 1)
    started = time.monotonic()
    cases = mutations(data, PDF_FLIPS, 20261207, truncations=0, spans=outside_large_streams(data))
    outcome = assert_only_document_errors(cases, "plan.pdf")
    assert outcome["parsed"] + outcome["rejected"] == PDF_FLIPS
    assert time.monotonic() - started < 120  # a hang guard, not a benchmark


def test_truncated_seed_pdf_raises_document_error(shared):
    data = (FIXTURES / "seed" / "shaoyang_plan.pdf").read_bytes()
    outcome = assert_only_document_errors(mutations(data, 50, 20261208, truncations=50), "plan.pdf")
    assert outcome["rejected"] == 50


def test_a_flipped_docx_exits_2_with_the_damaged_message(tmp_path, shared):
    """The CLI form of the failure: one line, "已损坏", exit 2 (not 1 "内部错误")."""
    data = bytearray((FIXTURES / "seed" / "shaoyang_plan.docx").read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside word/document.xml's deflated data
    path = tmp_path / "flipped.docx"
    path.write_bytes(bytes(data))
    code, out, err = run_cli(["parse", str(path)])
    assert code == 2, err
    assert "已损坏" in err and "内部错误" not in err and len(err.strip().splitlines()) == 1
