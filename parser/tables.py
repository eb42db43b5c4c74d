"""清单 and 分工 tables (one row per item) → RawItems.

Columns are recognised by their header text (序号 / 问题 / 重点任务 / 市级督办领导 / 主体责任单位 /
牵头单位 / 配合单位 / 责任单位 / 整改时限 / 完成时限 / 整改目标 / 整改措施), in any order.
"""
from __future__ import annotations

import re

from .fields import TAIL, find_inline_fields, find_role_sentence, key_of_label
from .items import cn_number
from .paragraphs import is_heading_like, marker_of
from .tasks import Measure, RawItem

_NUMBER_COLS = ("序号", "编号", "序")
_PROBLEM_COLS = ("问题", "存在问题", "反馈问题", "问题描述")
_TASK_COLS = ("任务", "重点任务", "工作任务", "任务内容", "工作内容", "整改任务", "主要任务", "工作事项", "事项",
              "重点工作", "主要工作", "具体工作", "工作要点", "工作重点", "项目名称", "建设内容")


def _column_keys(header: list[str]) -> dict[int, str]:
    keys: dict[int, str] = {}
    for i, cell in enumerate(header):
        h = re.sub(r"\s", "", cell or "")
        if not h:
            continue
        if h in _NUMBER_COLS:
            keys[i] = "number"
        elif (k := key_of_label(h)) is not None:
            keys[i] = k
        elif any(c in h for c in _PROBLEM_COLS):
            keys[i] = "problem"
        elif any(c in h for c in _TASK_COLS) or h in ("内容", "措施"):
            keys[i] = "task"
    return keys


def _header(rows: list[list[str]]) -> tuple[list[str], int]:
    """The header row (after any title rows), or two header rows read as one
    ("责任单位" over "牵头单位 | 配合单位"). Returns the header and the index of the first data row."""
    start = next((i for i in range(min(3, len(rows))) if len(_column_keys(rows[i])) >= 2), 0)
    if len(rows) >= start + 3:
        top, sub = rows[start], rows[start + 1]
        merged = [(s or t or "") if (s or "").strip() else (t or "") for t, s in zip(top, sub)]
        if len(_column_keys(merged)) > len(_column_keys(top)) and not re.search(r"\d", "".join(sub)):
            return merged, start + 2
    return rows[start], start + 1


def is_task_table(rows: list[list[str]]) -> bool:
    if len(rows) < 2:
        return False
    keys = set(_column_keys(_header(rows)[0]).values())
    return bool(keys & {"problem", "task"}) and bool(keys - {"number", "problem", "task"})


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


def _merged_rows(rows: list[list[str]]) -> list[dict[str, str]]:
    """One cell dict per item. A row with an empty 序号 (split across pages, or a sub-row) or with the
    same 序号 as the row above (a vertically merged cell read once per row) continues that item:
    cells that differ are appended, so a sub-row's own measures, deadline and units are kept."""
    header, skip = _header(rows)
    keys = _column_keys(header)
    merged: list[dict[str, str]] = []
    last_no = None
    for row in rows[skip:]:
        if any([re.sub(r"\s", "", c or "") for c in row] == [re.sub(r"\s", "", c or "") for c in h]
               for h in rows[:skip]):
            continue  # repeated header
        cells = {keys[i]: (c or "").strip() for i, c in enumerate(row) if i in keys}
        raw_no = re.sub(r"[\s、.．（）()]", "", cells.get("number", ""))
        if merged and (not raw_no or raw_no == last_no):
            item = merged[-1]
            for k, v in cells.items():
                if v and k != "number" and v not in item.get(k, ""):
                    sep = "\n" if k == "measures" else ("" if k in ("problem", "task") else "；")
                    item[k] = (item[k] + sep + v) if item.get(k) else v
            continue
        if not (cells.get("problem") or cells.get("task")):
            continue
        last_no = raw_no
        merged.append(dict(cells))
    return merged


def table_items(rows: list[list[str]]) -> list[RawItem]:
    items: list[RawItem] = []
    for cells in _merged_rows(rows):
        raw_no = re.sub(r"[\s、.．（）()]", "", cells.get("number", ""))
        number = cn_number(raw_no) if raw_no else len(items) + 1
        text = cells.get("problem") or cells.get("task") or ""
        fields = {k: v.replace("\n", "") for k, v in cells.items()
                  if k not in ("number", "problem", "task", "measures") and v}
        for k in [k for k in fields if k.endswith("_units")]:
            inline = find_inline_fields(fields[k])
            if inline and inline[0] == 0:  # "牵头单位：X；配合单位：Y" inside one cell
                del fields[k]
                fields.update(inline[1])
                continue
            if "牵头" in fields[k] and not re.search(r"[（(]牵头[）)]", fields[k]):
                found = find_role_sentence(fields[k])
                if found:
                    del fields[k]
                    fields.update({f: v for f, v in found[1].items() if f != TAIL})
        item = RawItem("list", number if number is not None else raw_no, text.replace("\n", ""),
                       cells.get("problem", "").replace("\n", ""), fields)
        lead, measures = _split_measures(cells.get("measures", ""))
        item.measures = measures
        item.measure_text = lead + ("" if "problem" in cells else cells.get("task", "").replace("\n", ""))
        items.append(item)
    return items
