"""One task asked about by its number: "第13项谁牵头", "正文（一）1", "第13、14项", "2-13" / "文件2第13项"."""
from __future__ import annotations

import re
from dataclasses import replace

from knowledge import details, numbered, queries, review
from knowledge.progress import history
from parser import lexicon

from ..answer import Answer, entry, with_plans
from ..windows import to_int
from .. import render
from .base import Context, QuestionKind

_CN = lexicon.CN_NUMERALS
_DAY_AFTER = "前|之前|以前|后|以后|之后|到期|截止|止|至|到|左右"  # what follows a day of the month, never a task
MAX_DOCS = 3  # a task number asked about is shown for at most this many documents
_BODY_RE = re.compile(rf"正文(?:第)?\(?([{_CN}]{{1,3}})\)?(?:项|条)?(\d{{1,2}})?|第?\(([{_CN}]{{1,3}})\)(\d{{1,2}})?")
_LIST_RES = [
    re.compile(rf"第([0-9]{{1,3}}|[{_CN}]{{1,4}})(?:项|条|个|号)"),
    # "13号" — not a day of the month: "3月5号和6号", "十号前", "15号到期"
    re.compile(rf"(?<![0-9{_CN}月年日./-])(?<!号[和、及与])([0-9]{{1,3}}|[{_CN}]{{1,4}})号"
               rf"(?!楼|院|线|文|令|{_DAY_AFTER})"),
    re.compile(rf"(?:清单|任务|事项|编号)([0-9]{{1,3}}|[{_CN}]{{1,4}})(?![0-9天日周月年号个])"),
    re.compile(rf"(?<![第0-9{_CN}])([{_CN}]{{1,4}}|[0-9]{{1,3}})(?:项|条)(?!任务|工作|事项|措施)"),
    re.compile(r"^([0-9]{1,3})$"),
]


_NUM = rf"(?:[0-9]{{1,3}}|[{_CN}]{{1,4}})"
_NOT_A_DATE = rf"(?<![0-9{_CN}月年日./-])"
_NUMBER_LIST_RE = re.compile(rf"{_NOT_A_DATE}第?({_NUM}(?:\s*(?:项|条|号)?\s*(?:[、,，和及与]|以及)\s*第?{_NUM})+)\s*(?:项|条|号)")
_NUMBER_RANGE_RE = re.compile(rf"{_NOT_A_DATE}第?({_NUM})\s*(?:项|条|号)?\s*(?:至|到|-|—|~)\s*第?({_NUM})\s*(?:项|条|号)")
MAX_NUMBERS = 5


def _numbers_asked(text: str) -> tuple[int, ...]:
    """Several list numbers asked about together, in order: "第13项和第14项", "第13、14项", "第13至15项";
    () for one. The answer shows the first MAX_NUMBERS and says how many more were asked."""
    found: list[int | None] = []
    if m := _NUMBER_RANGE_RE.search(text):
        a, b = to_int(m.group(1)), to_int(m.group(2))
        if a is not None and b is not None and 0 < a < b < 1000:
            found = list(range(a, b + 1))
    elif m := _NUMBER_LIST_RE.search(text):
        found = [to_int(n) for n in re.findall(_NUM, m.group(1))]
    numbers = tuple(dict.fromkeys(n for n in found if n is not None and 0 < n < 1000))
    return numbers if len(numbers) > 1 else ()


_DOC_ITEM_RES = [  # document N's list item M, numbered as 文件列表 shows the documents
    re.compile(rf"文件([0-9]{{1,4}})的?第?([0-9]{{1,3}}|[{_CN}]{{1,4}})(?:项|条|号)?"),
    # not 第13-15项 (a range of items) nor dates (2021-12-31, 12-31)
    re.compile(r"(?<![0-9./第-])([0-9]{1,4})[-－—]([0-9]{1,3})(?![0-9./-]|月|日|号|项|条)"),
]


def _document_item(text: str) -> tuple[int, int] | None:
    """(document, item) for "2-13谁牵头" / "文件2第13项"."""
    for rx in _DOC_ITEM_RES:
        if m := rx.search(text):
            n = to_int(m.group(2))
            if n is not None and 0 < n < 1000:
                return int(m.group(1)), n
    return None


def _task_number(text: str) -> tuple[int | str, str] | None:
    if m := _BODY_RE.search(text):
        cn, sub = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return f"（{cn}）{sub or ''}", "body"
    for rx in _LIST_RES:
        if m := rx.search(text):
            n = to_int(m.group(1))
            if n is not None and 0 < n < 1000:
                return n, "list"
    return None



def _detect(intent, reading) -> bool:
    rest = reading.rest
    if found := _document_item(rest):
        intent.document, intent.number, intent.section = *found, "list"
        return True
    if found := _task_number(rest):
        intent.number, intent.section = found
        if intent.section == "list" and (several := _numbers_asked(rest)):
            intent.number, intent.more_numbers = several[0], several[1:]
        return True
    return False


def _answer(ctx: Context, intent) -> Answer:
    if not intent.more_numbers:
        return _one(ctx, intent, ctx.max_bytes)
    numbers = (intent.number, *intent.more_numbers)  # one part per number, in the order asked
    shown = numbers[:MAX_NUMBERS]
    parts = [_one(ctx, replace(intent, number=n, more_numbers=()), ctx.max_bytes and ctx.max_bytes // (len(shown) + 1))
             for n in shown]
    rest = numbers[len(shown):]
    again = (f"第{rest[0]}至{rest[-1]}项" if len(rest) > 1 and list(rest) == list(range(rest[0], rest[-1] + 1))
             else f"第{'、'.join(map(str, rest))}项")
    note = f"\n\n（一次最多列出{MAX_NUMBERS}项，另有{len(rest)}项未列出，请再问“{again}”）" if rest else ""
    return Answer("task", ctx.asker, None, [t for p in parts for t in p.tasks], "\n\n".join(p.reply for p in parts) + note)


def detail_entries(db, task: queries.TaskRow, today, ask: str = "progress") -> tuple[dict, list[dict]]:
    """A task's detail (with its latest reports when `ask` is about progress) and its milestones as entries."""
    return details_entries(db, [task], today, ask)[0]


def details_entries(db, tasks: list[queries.TaskRow], today, ask: str) -> list[tuple[dict, list[dict]]]:
    """detail_entries of several tasks, read together."""
    read = details.of_tasks(db, tasks)
    groups = [[entry(t, today, m) for m in d["milestones"]] or [entry(t, today)] for t, d in zip(tasks, read)]
    by_task = {t.id: d["sources"][0] for t, d in zip(tasks, read) if d["sources"][0]}
    by_milestone = {mid: src for d in read for mid, src in d["sources"][1].items()}
    with_plans(db, [e for g in groups for e in g], (by_task, by_milestone))
    for t, detail, entries in zip(tasks, read, groups):
        if ask == "progress":  # the latest reports are shown only when asked "进展如何" / "完成了吗"
            detail["progress"] = history(db, t.id, limit=3)
        if detail["milestones"]:  # dates an approved 延期 replaced: shown beside the new ones
            moved = review.extensions_of(db, t.id)
            for m, e in zip(detail["milestones"], entries):
                if m.milestone_id in moved:
                    e["extended_from"] = moved[m.milestone_id]
    return list(zip(read, groups))


def _one(ctx: Context, intent, max_bytes) -> Answer:
    db, doc = ctx.db, intent.document
    total = numbered.count_by_number(db, intent.number, intent.section, doc)  # once: also decides whose come first
    found = numbered.task_by_number(db, intent.number, intent.section, limit=MAX_DOCS, prefer_unit=ctx.asker,
                                   total=total, document=doc) if total else []
    if not found:
        label = render.task_label(intent.section or "list", intent.number)
        if doc is not None:
            return Answer("task", ctx.asker, None, [], f"文件{doc}中没有{label}任务。发送“文件列表”可查看文件编号。")
        return Answer("task", ctx.asker, None, [],
                      f"没有找到{label}任务，请核对编号（清单任务如“第13项”，正文任务如“正文（二）”）。")
    # the same number in several plans: the asker's own come first; say how many more there are
    note = f"\n\n另有 {total - MAX_DOCS} 个文件也有该编号，请在问题中注明文件名称。" if total > MAX_DOCS else ""
    entries, replies = [], []
    for detail, es in details_entries(db, found, ctx.today, intent.ask):
        entries += es
        reply = render.render_task(detail, es, intent.ask, max_bytes=max_bytes)
        replies.append(f"《{es[0]['plan']}》\n{reply}" if len(found) > 1 else reply)  # which plan's item
    return Answer("task", ctx.asker, None, entries, "\n\n".join(replies) + note)


TASK = QuestionKind("task", _detect, _answer,
                    ("第13项是什么 / 第13项谁牵头 / 第7项什么时候完成", "2-13谁牵头（文件2的第13项，编号见“文件列表”）"))
