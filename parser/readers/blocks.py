"""What every reader returns: the document as an ordered list of blocks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# A line that is only a page number, as printed at a page's foot: "— 3 —", "- 3 -", "3", "第3页 共9页", "3/9",
# "Page 3 of 9". Readers of paged formats drop such lines; the text reader drops them too (text copied from a
# PDF keeps them, mid-sentence), but not a bare number there, which may be a table's 序号 cell on its own line.
PAGE_NUMBER = re.compile(
    r"(?:[-—–－─~～\s]*\d{1,4}[-—–－─~～\s]*"
    r"|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}"
    r"|page\s*\d{1,4}(?:\s*of\s*\d{1,4})?)",
    re.IGNORECASE,
)


def is_page_number(line: str, bare_number: bool = True) -> bool:
    text = line.strip(" \t\u3000")
    return (len(text) <= 30 and PAGE_NUMBER.fullmatch(text) is not None
            and (bare_number or not text.isdigit()))


@dataclass
class Block:
    """A paragraph (text) or a table (rows of cell texts), in document order.

    Readers know nothing about what the text means. `heading` is a layout hint only
    (a Word heading style or a centred title line), never required by the parser.
    """

    kind: str  # "para" or "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    heading: bool = False
    page: int | None = None  # 1-based page of a paged format (PDF, OFD), for citing sources
    # a table whose reader knows its merged cells gives a vertically merged value in every row it covers, so
    # an empty cell is empty; without that knowledge (tables pasted as text) an empty cell may be one covered
    merges_filled: bool = False


def table_blocks(rows: list[list[str]], merges_filled: bool) -> list[Block]:
    """A table as blocks: rows above it holding one text (a title merged across the table, as sheets and
    Word tables often open with) become heading paragraphs, where the plan's title is looked for; the rest
    is one table block."""
    blocks: list[Block] = []
    while len(rows) > 1 and sum(1 for c in rows[0] if c.strip()) == 1:
        blocks.append(Block(kind="para", text=next(c.strip() for c in rows[0] if c.strip()), heading=True))
        rows = rows[1:]
    if rows:
        blocks.append(Block(kind="table", rows=rows, merges_filled=merges_filled))
    return blocks
