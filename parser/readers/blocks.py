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
