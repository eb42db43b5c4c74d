"""The platform-free answer path: question text + asker's unit → Answer (structured tasks + reply).

answer_question(db, "我单位哪些任务即将到期", asker_unit="邵阳县", today=…) reads the store through
knowledge.queries only; the chat platforms and the CLI (duban ask / chat) render Answer.reply.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Callable

from knowledge import generation, queries
from knowledge.directory import known_unit_names, leader_titles, resolve_unit
from knowledge.progress import history

from . import render
from .intent import MAX_NUMBERS, Intent, parse_question, tokenizer
from .contacts import render_contacts
from .summary import render_summary
from .windows import cn_date

DUE_SOON_DAYS = 30


@dataclass
class Answer:
    intent: str
    unit: str | None
    window: tuple[date, date] | None
    listed: list[dict] | Callable[[], list[dict]] = field(default_factory=list)
    reply: str = ""

    @property
    def tasks(self) -> list[dict]:
        """What the answer is about, as JSON (up to LIST_LIMIT per section, more than a reply shows).
        A list answer reads it only when asked for (duban ask --json): a chat reply needs its first lines."""
        if callable(self.listed):
            self.listed = self.listed()
        return self.listed

    def to_json(self) -> dict:
        return {"intent": self.intent, "unit": self.unit,
                "window": [d.isoformat() for d in self.window] if self.window else None,
                "tasks": self.tasks, "reply": self.reply}


def _directory(directory):
    if directory is not None:
        return directory
    from parser.units import default_directory
    return default_directory()


def entry(task: queries.TaskRow, today: date, item: queries.DueItem | None = None) -> dict:
    """One task (and optionally one of its milestones) as the JSON the CLI and tests see."""
    due = item.due if item else None
    return {"document": task.document_id, "section": task.section, "number": task.number_value, "title": task.title,
            "due": due.isoformat() if due else None, "text": item.text if item else None,
            "days": (due - today).days if due else None,
            "units": list(item.units) if item and item.units else
            {r: list(v) for r, v in task.units.items() if v},
            "done": bool(item.done) if item else False, "status": task.status}


def _with_plans(db, entries: list[dict]) -> list[dict]:
    """Each entry's plan title: a store may hold several plans numbered alike."""
    titles = queries.document_titles(db, (e["document"] for e in entries))
    for e in entries:
        e["plan"] = titles.get(e["document"])
    return entries


def _canonical(db, directory, name: str | None) -> str | None:
    return resolve_unit(db, name, directory) if name else None


def _suggest(directory, db, name: str) -> list[str]:
    """Closest known units for a name that matched nothing (UnitDirectory.search, then the store)."""
    out = [n for n, _ in directory.search(name, limit=5)]
    if not out:
        from rapidfuzz import fuzz, process
        out = [n for n, _, _ in process.extract(name, known_unit_names(db), scorer=fuzz.WRatio, limit=3)]
    return out[:3]


def _short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[:n] + "…"


_NAMES: dict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = {}
MAX_DOCS = 3  # a task number asked about is shown for at most this many documents


def _names(db, directory) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(unit names for segmentation, 督办领导 titles longest first), kept while the store's generation
    stays the same."""
    key = (id(db), id(directory), generation.current(db))
    if key not in _NAMES:
        _NAMES.clear()
        _NAMES[key] = (tuple(sorted(set(known_unit_names(db)) | set(directory.all_names()))),
                       tuple(sorted(leader_titles(db), key=len, reverse=True)))
    return _NAMES[key]


def answer_question(db, text: str, *, asker_unit: str | None, today: date, directory=None,
                    max_bytes: int | None = None) -> Answer:
    """Understand `text` and answer it from the store. Always returns a non-empty reply."""
    if not queries.has_tasks(db):
        return Answer("no_data", None, None, [], render.NO_DATA)
    directory = _directory(directory)
    names, leaders = _names(db, directory)
    intent = parse_question(text, today=today, unit_names=names, leaders=leaders)
    asker = _canonical(db, directory, asker_unit) or asker_unit
    if intent.kind == "leader_tasks":
        return _leader_tasks_answer(db, intent.leader, today, max_bytes)

    if intent.kind == "help":
        return Answer("help", asker, None, [], render.render_help())
    if intent.kind == "unknown":
        return Answer("unknown", asker, None, [], render.render_help(short=True))
    if intent.kind == "task" and intent.more_numbers:  # one part per number, in the order asked
        numbers = (intent.number, *intent.more_numbers)
        shown = numbers[:MAX_NUMBERS]
        parts = [_task_answer(db, replace(intent, number=n, more_numbers=()), asker, today,
                              max_bytes and max_bytes // (len(shown) + 1)) for n in shown]
        rest = numbers[len(shown):]
        again = (f"第{rest[0]}至{rest[-1]}项" if len(rest) > 1 and list(rest) == list(range(rest[0], rest[-1] + 1))
                 else f"第{'、'.join(map(str, rest))}项")
        note = f"\n\n（一次最多列出{MAX_NUMBERS}项，另有{len(rest)}项未列出，请再问“{again}”）" if rest else ""
        return Answer("task", asker, None, [t for p in parts for t in p.tasks],
                      "\n\n".join(p.reply for p in parts) + note)
    if intent.kind == "task":
        return _task_answer(db, intent, asker, today, max_bytes)
    if intent.kind == "search":
        found = _search_answer(db, intent, asker, today, max_bytes)
        if found or not intent.fallback:
            return found or Answer("unknown", asker, None, [],
                                   f"没有找到与“{_short(intent.topic)}”相关的任务。\n" + render.render_help(short=True))
        intent.kind = intent.fallback

    if intent.more_units:  # "发改委和住建局下个月到期的任务": one answer per unit, in one reply
        roles = intent.unit_roles
        parts = [_unit_answer(db, directory, replace(intent, unit=u, more_units=(), unit_fuzzy=False,
                                                     role=roles.get(u) if any(roles.values()) else intent.role),
                              asker, today, max_bytes and max_bytes // (1 + len(intent.more_units)))
                 for u in (intent.unit, *intent.more_units)]
        return Answer(parts[0].intent, parts[0].unit, parts[0].window,
                      lambda: [t for p in parts for t in p.tasks], "\n\n".join(p.reply for p in parts))
    return _unit_answer(db, directory, intent, asker, today, max_bytes)


def _unit_answer(db, directory, intent: Intent, asker: str | None, today: date, max_bytes) -> Answer:
    target = _target_unit(db, directory, intent, asker)
    if isinstance(target, Answer):
        return target
    unit, hint = target
    if intent.kind == "summary":
        return Answer("summary", unit, None, [], render_summary(db, unit, today, hint))
    if intent.kind == "contacts":
        return Answer("contacts", unit, None, [], render_contacts(db, unit))
    if intent.kind == "unit_tasks":
        return _unit_tasks_answer(db, directory, intent, unit, today, max_bytes, hint)
    return _due_answer(db, intent, unit, today, max_bytes, hint)


def _target_unit(db, directory, intent: Intent, asker: str | None):
    """(unit or None for all units, footer hint), or an Answer when the unit cannot be decided."""
    if intent.unit:
        unit = _canonical(db, directory, intent.unit)
        if unit:
            return unit, (f"（已按“{unit}”理解“{intent.unit}”）" if intent.unit_fuzzy else "")
        guess = intent.unit
    elif intent.unit_guess and not directory.is_region(intent.unit_guess):
        guess = intent.unit_guess
    else:
        guess = None
    if guess:
        names = _suggest(directory, db, guess)
        tip = f"您是不是要找：{'、'.join(names)}？" if names else "请使用单位全称或常用简称。"
        return Answer(intent.kind, None, intent.window, [], f"没有找到单位“{guess}”。{tip}")
    if intent.everyone or (intent.unit_guess and directory.is_region(intent.unit_guess)):
        return None, ""
    if asker:
        return asker, ""
    if intent.mine or intent.kind == "unit_tasks":
        return Answer(intent.kind, None, intent.window, [], f"还不知道您是哪个单位。{render.BIND_HINT}")
    return None, f"（以上为全市情况。绑定单位后可只看本单位：{render.BIND_HINT[3:]}）"


COUNT_TO = 200  # lines counted per section; a longer list says "200项以上"
LIST_LIMIT = 60  # items per section in Answer.tasks


def _due_answer(db, intent: Intent, unit: str | None, today: date, max_bytes, hint: str) -> Answer:
    lines = render.MAX_ITEMS  # only what a reply can show is read; the rest is only counted
    if intent.kind == "overdue":
        window, soon_title = None, None
    elif intent.kind == "due_soon":
        window = (today, today + timedelta(days=DUE_SOON_DAYS))
        soon_title = f"{DUE_SOON_DAYS}天内到期"
    else:
        window = intent.window
        soon_title = _window_title(intent)
    # a period already over (2021年第三季度, asked in 2022): its open items are its overdue ones
    late_from = window[0] if window and window[1] < today else None
    if late_from:
        soon_title = None
    late_end = window[1] if late_from else today - timedelta(days=1)
    role = intent.role if unit else None  # "发改委牵头的任务什么时候到期": the tasks it leads
    late, n_late = queries.due_lines(db, start=late_from, end=late_end, unit=unit, lines=lines, count_to=COUNT_TO,
                                     role=role)
    soon, n_soon = [], 0
    if window and not late_from:
        soon, n_soon = queries.due_lines(db, start=max(window[0], today), end=window[1], unit=unit, lines=lines,
                                         count_to=COUNT_TO, role=role)
    whose = f"**{unit or '全市'}**{_ROLE_WORDS.get(role or '', '')}"
    heading = f"{whose} · {'逾期任务' if intent.kind == 'overdue' else '到期提醒'}（今天 {cn_date(today)}）"
    late_e, soon_e = [entry(i.task, today, i) for i in late], [entry(i.task, today, i) for i in soon]
    _with_plans(db, late_e + soon_e)
    reply = render.render_due(heading, late_e, soon_e, soon_title=soon_title, max_bytes=max_bytes, footer=hint,
                              totals=(n_late, n_soon), count_to=COUNT_TO,
                              late_title=f"{intent.window_label}到期、仍未完成" if late_from else "已逾期")

    def listed() -> list[dict]:
        if late_from:
            return _with_plans(db, [entry(i.task, today, i) for i in queries.due_items(
                db, start=late_from, end=window[1], unit=unit, limit=LIST_LIMIT, role=role)])
        items = queries.overdue(db, today, unit=unit, limit=LIST_LIMIT, role=role)
        if window:
            items += queries.due_items(db, start=max(window[0], today), end=window[1], unit=unit, limit=LIST_LIMIT,
                                       role=role)
        return _with_plans(db, [entry(i.task, today, i) for i in items])
    return Answer(intent.kind, unit, window, listed, reply)


def _window_title(intent: Intent) -> str:
    start, end = intent.window
    label = intent.window_label or ""
    span = f"{cn_date(start)}至{cn_date(end)}" if start != end else cn_date(end)
    return f"{label}到期（{span}）" if not label.endswith("前") else f"{label}到期（{span}）"


UNIT_TASKS_LIMIT = 60  # counted per answer; the reply reads and shows the most urgent render.MAX_ITEMS
_STATE_WORDS = {"open": "未销号", "completed": "已销号", "ongoing": "长期坚持（持续推进）"}
_ROLE_WORDS = {"lead_units": "牵头", "cooperating_units": "配合"}


def _unit_tasks_answer(db, directory, intent: Intent, unit: str | None, today, max_bytes, hint) -> Answer:
    role_asked = intent.role if unit else None
    total, pairs = queries.tasks_with_next_due(db, unit, UNIT_TASKS_LIMIT, show=render.MAX_ITEMS, role=role_asked,
                                               state=intent.state)
    entries = _with_plans(db, [entry(t, today, i) for t, i in pairs])
    role = _ROLE_WORDS.get(role_asked or "", "")
    state = _STATE_WORDS.get(intent.state, "")
    more = total > UNIT_TASKS_LIMIT
    count = f"{UNIT_TASKS_LIMIT}项以上，按时限先后列出" if more else f"{total}项"
    heading = f"**{unit or '全市'}**{role}{state}的整改任务共{count}（今天 {cn_date(today)}）"
    if role:  # "邵阳县牵头的任务": it has tasks, none in that role
        empty = f"没有{unit}{role}的{state}任务。"
    elif state:
        empty = f"目前没有{state}的任务。"
    else:
        empty = "方案中没有该单位承担的任务。"
    reply = render.render_unit_tasks(heading, entries, max_bytes=max_bytes, footer=hint,
                                     total=UNIT_TASKS_LIMIT if more else total, more=more, empty=empty)

    def listed() -> list[dict]:
        pairs = queries.tasks_with_next_due(db, unit, UNIT_TASKS_LIMIT, role=role_asked, state=intent.state)[1]
        return _with_plans(db, [entry(t, today, i) for t, i in pairs])
    return Answer("unit_tasks", unit, None, listed, reply)


def _leader_tasks_answer(db, leader: str, today: date, max_bytes) -> Answer:
    total, pairs = queries.tasks_supervised_by(db, leader, show=render.MAX_ITEMS)
    heading = f"**{leader}**督办的整改任务共{total}项（今天 {cn_date(today)}）"
    reply = render.render_unit_tasks(heading, _with_plans(db, [entry(t, today, i) for t, i in pairs]),
                                     max_bytes=max_bytes, total=total)

    def listed() -> list[dict]:
        return _with_plans(db, [entry(t, today, i) for t, i in queries.tasks_supervised_by(db, leader)[1]])
    return Answer("leader_tasks", leader, None, listed, reply)


def _detail_entries(db, task: queries.TaskRow, today: date) -> tuple[dict, list[dict]]:
    detail = queries.task_detail(db, task.id)
    detail["progress"] = history(db, task.id, limit=3)  # shown when asked "进展如何" / "完成了吗"
    entries = _with_plans(db, [entry(task, today, m) for m in detail["milestones"]] or [entry(task, today)])
    return detail, entries


def _task_answer(db, intent: Intent, asker, today, max_bytes) -> Answer:
    total = queries.count_by_number(db, intent.number, intent.section)  # once: also decides whose come first
    found = queries.task_by_number(db, intent.number, intent.section, limit=MAX_DOCS, prefer_unit=asker,
                                   total=total) if total else []
    if not found:
        label = render.task_label(intent.section or "list", intent.number)
        return Answer("task", asker, None, [],
                      f"没有找到{label}任务，请核对编号（清单任务如“第13项”，正文任务如“正文（二）”）。")
    # the same number in several plans: the asker's own come first; say how many more there are
    note = f"\n\n另有 {total - MAX_DOCS} 个文件也有该编号，请在问题中注明文件名称。" if total > MAX_DOCS else ""
    entries, replies = [], []
    for t in found:
        detail, es = _detail_entries(db, t, today)
        entries += es
        reply = render.render_task(detail, es, intent.ask, max_bytes=max_bytes)
        replies.append(f"《{es[0]['plan']}》\n{reply}" if len(found) > 1 else reply)  # which plan's item
    return Answer("task", asker, None, entries, "\n\n".join(replies) + note)


def _search_hits(db, topic: str) -> list[queries.TaskRow]:
    hits = queries.search(db, topic, limit=10)
    if not hits and len(topic) >= 4:
        # no verbatim phrase: rank tasks by how many of the topic's words they contain
        words = [w for w in tokenizer().lcut(topic) if len(w) >= 2]
        score: dict[int, list] = {}
        for w in words:
            for t in queries.search(db, w, limit=10):
                score.setdefault(t.id, [0, t])[0] += 1
        need = max(2, (len(words) + 1) // 2) if len(words) > 1 else 1
        hits = [t for n, t in sorted(score.values(), key=lambda x: -x[0]) if n >= need]
    # list items are the 整改清单's concrete problems; body measures are general: list first
    return sorted(hits, key=lambda t: t.section != "list")


def _search_answer(db, intent: Intent, asker, today, max_bytes) -> Answer | None:
    hits = _search_hits(db, intent.topic)
    if not hits:
        return None
    top = hits[0]
    detail, entries = _detail_entries(db, top, today)
    shown = hits[:4]
    titles = queries.document_titles(db, (t.document_id for t in shown))
    several = len(titles) > 1  # hits from several plans: say which plan each is in
    related = [render.task_label(t.section, t.number_value) + (f"（《{titles[t.document_id]}》）" if several else "")
               for t in shown[1:]]
    where = f"《{titles[top.document_id]}》中" if several else ""
    reply = f"与“{_short(intent.topic)}”最相关的是{where}：\n" + render.render_task(detail, entries, intent.ask,
                                                                             related=related, max_bytes=max_bytes)
    return Answer("search", asker, None, entries, reply)
