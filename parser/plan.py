"""Entry point: bytes of an official document → Plan (pure: no database, no network)."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from .citations import cite
from .date_forms import EVENT_SPAN
from .errors import DocumentError
from .items import body_item, find_task_nodes, is_list_style, list_item, numbered_across, task_number
from .lexicon import DOC_KINDS
from .model import Plan
from .outline import build_tree, split_attachment
from .normalize import arabic_date_lines, normalize_width, split_lost_breaks
from .paragraphs import label_words, rejoin, split_at_elements
from .readers import read_document
from .role_clauses import apply_list_notes
from .readers.blocks import Block
from .tables import is_task_table, table_items
from .tasks import build_task
from .units import UnitDirectory

_DOC_NO = re.compile(r"[^\s，。：:]{0,12}[〔\[［【（(]\s*((?:19|20)\d\d)\s*[〕\]］】）)]\s*\d+\s*号")
# the date line under the issuing office; a text copy may have joined it to the office's name (a label before
# the date makes it a time limit, not the signature: 完成时限：2023年6月30日)
_DATE_LINE = re.compile(r"^(?:[^。；，:：\d]{2,30}?)?\s*((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
_DECLARED = re.compile(r"(\d+|[一二三四五六七八九十百]+)\s*项(?:具体)?(?:整改|重点|主要)?(?:任务|问题)")
# 【牵头单位】X → 牵头单位：X
_BRACKET_LABEL = re.compile(rf"【\s*((?:市直|市级)?(?:{label_words()}))\s*】\s*")
_TITLE_END = re.compile(f"(?:{'|'.join(DOC_KINDS)})$")


def _doc_year(paragraphs: list[str], title: str) -> tuple[int | None, str | None]:
    for p in paragraphs[:15]:
        m = _DOC_NO.search(p)
        if m:
            return int(m.group(1)), m.group(0)
    for p in paragraphs:
        m = _DATE_LINE.match(p)
        if m:
            return int(m.group(1)), None
    m = re.search(r"((?:19|20)\d\d)\s*年", title)
    return (int(m.group(1)), None) if m else (None, None)


def _issued(paragraphs: list[str]) -> date | None:
    """The date line under the issuing office (a line holding only a date)."""
    for p in paragraphs:
        if m := _DATE_LINE.match(p):
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def _title(blocks: list[Block], paragraphs: list[str], source_name: str) -> str:
    """The plan's own title: a heading, or a short line ending in 方案/通知/…; for a covering notice
    "关于印发《X》的通知" it is X, so the same plan is recognised with or without its notice."""
    found = next((b.text.strip() for b in blocks[:3] if b.kind == "para" and b.heading), None)
    if found is None:
        found = next((p for p in paragraphs[:5] if len(p) <= 80 and _TITLE_END.search(p.strip("》"))), None)
    if found is None:
        return Path(source_name).stem
    inner = re.search(r"(?:印发|转发|关于)\s*《([^》]{4,})》\s*的?(?:通知|函)$", found.replace("\n", ""))
    return inner.group(1) if inner else found.replace("\n", "")


def _declared_count(paragraphs: list[str]) -> int | None:
    from .items import cn_number
    for p in paragraphs:
        m = _DECLARED.search(p)
        before = p[:m.start()][-24:] if m else ""
        if m and (re.search(r"涉及|指出|反馈|梳理|交办|列出|明确|排查出", before) or "共" in before[-6:]
                  or "具体" in m.group(0)):
            return cn_number(m.group(1))
    return None


def parse_blocks(blocks: list[Block], source_name: str, *, year: int | None = None,
                 directory: UnitDirectory | None = None) -> Plan:
    lines = [(q, b.heading) for b in blocks if b.kind == "para"
             for q in split_lost_breaks(arabic_date_lines(normalize_width(b.text)))]
    heads = {i for i, (_, heading) in enumerate(lines) if heading}
    paras = rejoin([q for q, _ in lines], heads)
    paras = [q for p in paras for q in split_at_elements(p)]
    title = _title(blocks, paras, source_name)
    directory = directory or UnitDirectory.for_document(title + "".join(paras[:12])[:2000])
    titled = title != Path(source_name).stem
    found_year, doc_no = _doc_year(paras, title)
    plan = Plan(title=title, source_name=source_name, year=year or found_year, doc_number=doc_no, titled=titled,
                issued=_issued(paras))
    plan.declared_task_count = _declared_count(paras)
    plan.directory = directory

    paras = [re.sub(r"(^|[。；;：:])；", r"\1", _BRACKET_LABEL.sub(r"；\1：", p)) for p in paras]
    body, attachment = split_attachment(paras)
    raws = []
    listed = []
    for node in find_task_nodes(build_tree(attachment)):
        if node.marker.level in (1, 3) or is_list_style(node):
            listed.append(list_item(node, "list"))
        else:
            listed.append(body_item(node, task_number(node)))
    for b in blocks:
        if b.kind == "table" and is_task_table(b.rows):
            listed.extend(table_items(b.rows, carry_down=not b.merges_filled))
    body_nodes = find_task_nodes(build_tree(body), extend=True, attached_list=bool(listed))
    items = [n for n in body_nodes if not is_list_style(n)]
    printed = numbered_across(items)  # 1、…4、 running across （一）（二）: "1" … "4"
    short = [task_number(n) for n in items]
    full = not printed and len(set(short)) < len(short)  # （一） under both 一、 and 二、: 一（一）, 二（一）
    chosen = {id(n) for n in body_nodes}
    for node in body_nodes:
        own_only = any(id(c) in chosen for c in node.children)
        raws.append(list_item(node, "list") if is_list_style(node)
                    else body_item(node, task_number(node, full, printed), own_only))
        raws[-1].list_id = id(node.parent) if full else node.level  # one list while numbers run on
        raws[-1].where = task_number(node, True)
    raws += listed
    doc_text = re.sub(r"\s", "", "".join(paras) + "".join("".join(c or "" for row in b.rows for c in row)
                                                            for b in blocks if b.kind == "table"))
    apply_list_notes(raws)
    timed = any(r.fields.get("deadline") for r in raws)  # the plan states time limits item by item
    plan.tasks = [build_task(r, directory, plan.year, doc_text, plan.issued, limits_stated=timed) for r in raws]
    cite(plan.tasks, [_place(r) for r in raws], blocks)
    _check(plan, directory)
    return plan


def _place(raw) -> str:
    """A task's section path: 正文 四（二） for the body, 附件 第13项 for a 清单 item."""
    if raw.section == "body":
        return f"正文 {raw.where or raw.number}"
    return f"附件 第{raw.number}项" if isinstance(raw.number, int) or str(raw.number).isdigit() else f"附件 {raw.number}"


def _check(plan: Plan, directory: UnitDirectory) -> None:
    """Self-checks become warnings: counts, items without deadlines, units not in the directory."""
    if not plan.tasks:
        raise DocumentError("未识别出任何任务：文档中没有带编号且注明责任单位的条目（no recognisable structure）",
                            code="no_structure")
    listed = [t for t in plan.tasks if t.section == "list"]
    if plan.declared_task_count is not None and plan.declared_task_count not in (len(listed), len(plan.tasks)):
        plan.warnings.append(f"文件称共有 {plan.declared_task_count} 项任务，清单实际列出 {len(listed)} 项"
                             f"（declared {plan.declared_task_count}, found {len(listed)}）")
    numbers = [t.number for t in listed if isinstance(t.number, int)]
    if numbers:
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        if missing:
            plan.warnings.append(f"清单编号不连续，缺少第 {'、'.join(map(str, missing))} 项")
    for t in plan.tasks:
        if t.section == "list" and not t.milestones and not t.ongoing:
            plan.warnings.append(f"第 {t.number} 项没有可识别的整改时限")
    unknown: list[str] = []
    for t in plan.tasks:
        for role, units in t.units_by_role().items():
            if role == "supervising_leaders":
                continue
            for u in units:
                if not directory.resolve(u)[1] and u not in unknown:
                    unknown.append(u)
    plan.unknown_units = unknown
    if unknown and directory.region:  # only a local directory can tell a misspelt unit from a new one
        plan.warnings.append(f"{len(unknown)} 个单位不在单位名录中：{'、'.join(unknown[:10])}"
                             + ("等" if len(unknown) > 10 else ""))
    if plan.issued is None:
        for t in plan.tasks:
            if m := EVENT_SPAN.search(t.full_text):
                plan.warnings.append(f"第 {t.number} 项的时限“{m.group(0)}”从文件印发之日起计算，"
                                     f"但文件没有成文日期，未能换算成日期；请核对后补充")
    if plan.year is None and any(t.deadline_text and re.match(r"^\s*\d{1,2}\s*月", t.deadline_text)
                                 for t in plan.tasks):
        plan.warnings.append("无法确定文件年份，未注明年份的时限未能识别；请用 --year 指定")


def parse_document(data: bytes, filename: str, *, year: int | None = None,
                   directory: UnitDirectory | None = None) -> Plan:
    return parse_blocks(read_document(data, filename), Path(filename).name, year=year, directory=directory)


def parse_file(path: str | Path, **kw) -> Plan:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(f"无法读取文件 {path}：{e.strerror}", code="unreadable") from e
    return parse_document(data, path.name, **kw)
