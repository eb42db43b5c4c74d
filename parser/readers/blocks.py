"""What every reader returns: the document as an ordered list of blocks."""
from __future__ import annotations

from dataclasses import dataclass, field


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
    # an empty cell is empty; without that knowledge (pasted text, web tables) an empty cell may be one covered
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
