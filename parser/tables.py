"""清单 and 分工 tables (one row per item, or several sub-rows per item) → RawItems.

Columns are recognised by their header words (parser.table_forms), in any order and under title
rows. Rows arrive as every reader gives them: a vertically merged cell is either repeated in the rows it
covers (Word, PDF, spreadsheets, web pages: the reader knows the merges) or left empty there (pasted text).
Only in the second case does an empty cell of a carried column take the value above (`carry_down`): where
merges are known, an empty cell is empty, and guessing would name a unit or a date the row does not have.
"""
from __future__ import annotations

import re

from .fields import TAIL, find_inline_fields, find_role_sentence
from .items import cn_number
from .lexicon import UNIT_ENDINGS
from .paragraphs import is_heading_like, marker_of
from .table_forms import (IGNORED_KEYS, TEXT_KEYS, UNIT_KEYS, column_keys, infer_unlabelled, is_none,
                          looks_numbered, shifted_header)
from .tasks import Measure, RawItem

# Columns whose merged cell covers several items: where merges are not known, an empty cell in a later item's
# row takes the value above. Other columns (配合单位, 目标, 措施) are often empty for real.
_CARRIED = ("supervising_leaders", "principal_units", "lead_units", "responsible_units", "deadline")
_STRENGTH = ("lead_units", "principal_units", "responsible_units", "cooperating_units")  # strongest first
_HEADER_SCAN = 6
_CONTINUATION_STARTS = ("和", "及", "与", "、", "等", "（", "(", "）", ")")
_STAND_INS = ("content", "measures", "goal")  # the item's text where no column is headed 任务 or 问题, in order


def _norm(cell: str | None) -> str:
    return re.sub(r"\s", "", cell or "")


def _header(rows: list[list[str]]) -> tuple[list[str], int]:
    """The header row (after any title rows), or two header rows read as one
    ("责任单位" over "牵头单位 | 配合单位"). Returns the header and the index of the first data row."""
    start = next((i for i in range(min(_HEADER_SCAN, len(rows)))
                  if len(column_keys(rows[i])) >= 2 and _has_text_column(column_keys(rows[i]))), None)
    if start is None:
        start = next((i for i in range(min(_HEADER_SCAN, len(rows))) if len(column_keys(rows[i])) >= 2), 0)
    if len(rows) >= start + 3:
        top, sub = rows[start], rows[start + 1]
        merged = [(s or t or "") if (s or "").strip() else (t or "") for t, s in zip(top, sub)]
        if len(column_keys(merged)) > len(column_keys(top)) and not re.search(r"\d", "".join(sub)):
            return merged, start + 2
    return rows[start], start + 1


def _has_text_column(keys: dict[int, str]) -> bool:
    return any(k in TEXT_KEYS for k in keys.values())


def _layout(rows: list[list[str]]) -> tuple[dict[int, str], int]:
    """Column index → meaning, and the first data row."""
    header, skip = _header(rows)
    data = rows[skip:]
    header = shifted_header(list(header), data)
    keys = infer_unlabelled(column_keys(header), header, data)
    if "task" not in keys.values() and "problem" not in keys.values():
        # without a task column the item's text is its 内容 column, else its 措施 or 目标 column
        # (主要内容 | 责任单位, 政策措施 | 负责部门, 工作目标及措施 | 牵头单位)
        stand_in = next((k for k in _STAND_INS if k in keys.values()), None)
        keys = {i: ("task" if k == stand_in else k) for i, k in keys.items()}
    return keys, skip


def is_task_table(rows: list[list[str]]) -> bool:
    if len(rows) < 2:
        return False
    keys = set(_layout(rows)[0].values())
    assigns = keys - {"number", "scope", "remark", "category", *TEXT_KEYS}
    return bool(keys & {"problem", "task"}) and bool(assigns)


def _split_measures(text: str) -> tuple[str, list[Measure]]:
    """Lines of a 整改措施 cell: lead-in, （一）unit group heads, numbered measures."""
    lead, out, group = "", [], None
    for line in (ln.strip() for ln in text.split("\n")):
        if not line:
            continue
        line = re.sub(r"^(整改措施|工作措施|具体措施)\s*[:：]\s*", "", line)
        if not line:
            continue
        m = marker_of(line)
        if m and m.level <= 2 and is_heading_like(line):
            group = line[m.end:].strip()
        elif m:
            out.append(Measure(line[m.end:].strip(), group))
        elif out:
            out[-1].text += line
        else:
            lead += line
    return lead, out


def _section_label(row: list[str]) -> str | None:
    """A row spanning the table (its one text in the first column, the rest empty) is a section
    heading such as "一、知识产权保护方面（共5项）", not an item. Returns the section's numeral."""
    if len(row) < 3 or not (row[0] or "").strip() or any((c or "").strip() for c in row[1:]):
        return None
    text = row[0].strip()
    if looks_numbered(text):
        return None
    m = marker_of(text)
    return m.label if m else ""


def _number_of(cells: dict[str, str]) -> str:
    return re.sub(r"[\s、.．（）()]", "", cells.get("number", ""))


class _Items:
    """Rows folded into items: sub-rows join their item, merged cells carry down."""

    def __init__(self, keys: dict[int, str], carry_down: bool):
        self.keys = keys
        self.carry_down = carry_down
        self.items: list[dict[str, str]] = []
        self.rows_in: list[int] = []  # rows folded into each item
        self.above: dict[str, str] = {}  # last value of each carried column in this section
        self.last_no: str | None = None

    def section(self) -> None:
        self.above, self.last_no = {}, None

    def add(self, row: list[str]) -> None:
        cells = {}
        for i, c in enumerate(row):
            key = self.keys.get(i)
            if key is None or key in IGNORED_KEYS:
                continue
            value = "" if is_none(c) else (c or "").strip()
            cells[key] = (cells[key] + "；" + value) if cells.get(key) and value else (cells.get(key) or value)
        explicit_none = {self.keys[i] for i, c in enumerate(row) if i in self.keys and is_none(c)}
        number = _number_of(cells)
        if "number" in self.keys.values():  # an empty 序号 is a sub-row; a repeated one a merged cell
            continues = bool(self.items) and (not number or number == self.last_no)
        else:
            continues = bool(self.items) and not (cells.get("problem") or cells.get("task"))
        if continues:
            self._append(self.items[-1], cells)
            self.rows_in[-1] += 1
        elif cells.get("problem") or cells.get("task"):
            for key in _CARRIED if self.carry_down else ():
                if not cells.get(key) and key not in explicit_none and self.above.get(key):
                    cells[key] = self.above[key]
            self.last_no = number
            self.items.append(dict(cells))
            self.rows_in.append(1)
        else:
            return
        for key in _CARRIED:
            if cells.get(key) or key in explicit_none:
                self.above[key] = cells.get(key, "")

    @staticmethod
    def _append(item: dict[str, str], cells: dict[str, str]) -> None:
        for k, v in cells.items():
            if v and k != "number" and v not in item.get(k, ""):
                sep = "\n" if k in ("measures", "content") else ("" if k in ("problem", "task") else "；")
                item[k] = (item[k] + sep + v) if item.get(k) else v


def _merged_rows(rows: list[list[str]], carry_down: bool) -> list[tuple[dict[str, str], str | None, int]]:
    """(cells, section numeral where numbering restarted, number of rows) per item."""
    keys, skip = _layout(rows)
    header_rows = [[_norm(c) for c in h] for h in rows[:skip]]
    folded = _Items(keys, carry_down)
    section: str | None = None
    seen: set[str] = set()
    restarted: list[str | None] = []
    for row in rows[skip:]:
        if [_norm(c) for c in row] in header_rows:
            continue  # a header repeated on every page
        label = _section_label(row)
        if label is not None:
            section = label
            folded.section()
            continue
        before = len(folded.items)
        folded.add(row)
        if len(folded.items) > before:
            number = _number_of(folded.items[-1])
            restarted.append(section if number and number in seen and section else None)
            seen.add(number)
    return list(zip(folded.items, restarted, folded.rows_in))


def _unit_fields(fields: dict[str, str]) -> None:
    """Role words inside a unit cell: "牵头单位：X；配合单位：Y", "X牵头，Y配合"."""
    for k in [k for k in fields if k.endswith("_units")]:
        inline = find_inline_fields(fields[k])
        if inline and inline[0] == 0:
            del fields[k]
            fields.update(inline[1])
            continue
        if "牵头" in fields[k] and not re.search(r"[（(]牵头[）)]", fields[k]):
            found = find_role_sentence(fields[k])
            if found:
                del fields[k]
                fields.update({f: v for f, v in found[1].items() if f != TAIL})


_LEAD_NOTE = re.compile(r"[（(]\s*牵头\s*[）)]$")


def _strongest_role_once(fields: dict[str, str]) -> None:
    """Units of several sub-rows: a unit keeps its strongest role (lead anywhere → lead), once."""
    def pieces(value: str) -> list[str]:
        return [p.strip() for p in re.split(r"[、，,；;\n]", value) if p.strip()]

    def bare(unit: str) -> str:
        return re.sub(r"等(?:部门|单位)?$", "", _LEAD_NOTE.sub("", unit))

    lead_noted = {bare(p) for k in UNIT_KEYS for p in pieces(fields.get(k, "")) if _LEAD_NOTE.search(p)}
    taken: set[str] = set()
    for key in _STRENGTH:
        if key not in fields:
            continue
        kept = []
        for p in pieces(fields[key]):
            b = bare(p)
            if b in taken or (key != "lead_units" and b in lead_noted and not _LEAD_NOTE.search(p)):
                continue
            taken.add(b)
            kept.append(p)
        fields[key] = "、".join(kept)


def _unit_lines(cell: str) -> str:
    """A unit cell's line breaks: between lines that are each a whole unit name (or list), a separator; else
    none (a name wrapped in a PDF cell: "市自然资源⏎和规划局", "市人民政府⏎办公室")."""
    lines = [ln.strip() for ln in cell.split("\n") if ln.strip()]
    return ("；" if len(lines) > 1 and all(_whole_unit_line(ln) for ln in lines) else "").join(lines)


def _whole_unit_line(line: str) -> bool:
    bare = _LEAD_NOTE.sub("", line).removesuffix("等")
    if bare.startswith(_CONTINUATION_STARTS):
        return False
    ending = next((e for e in UNIT_ENDINGS if bare.endswith(e)), None)
    return ending is not None and len(bare) > len(ending) + 1  # "办公室" alone ends a wrapped name


def table_items(rows: list[list[str]], carry_down: bool = True) -> list[RawItem]:
    """The items of a task table; `carry_down`: its merged cells are not known (see the module's docstring)."""
    items: list[RawItem] = []
    for cells, section, n_rows in _merged_rows(rows, carry_down):
        raw_no = _number_of(cells)
        number = cn_number(raw_no) if raw_no else len(items) + 1
        if number is None:
            number = raw_no
        if section:
            number = f"{section}{raw_no}"
        text = cells.get("problem") or cells.get("task") or ""
        fields = {k: (_unit_lines(v) if k in UNIT_KEYS else v.replace("\n", "")) for k, v in cells.items()
                  if k not in ("number", "problem", "task", "measures", "content") and v}
        _unit_fields(fields)
        if n_rows > 1:
            _strongest_role_once(fields)
        fields = {k: v for k, v in fields.items() if v}
        item = RawItem("list", number, text.replace("\n", ""), cells.get("problem", "").replace("\n", ""), fields)
        measure_cell = "\n".join(c for c in (cells.get("measures"), cells.get("content")) if c)
        lead, measures = _split_measures(measure_cell)
        item.measures = measures
        item.measure_text = lead + ("" if "problem" in cells else cells.get("task", "").replace("\n", ""))
        items.append(item)
    return items
