"""A topic asked about: a place or a matter named in the tasks ("长阳矿区的整改时限", "尾矿库治理谁负责")."""
from __future__ import annotations

from knowledge import queries

from ..answer import Answer, short
from ..intent import tokenizer
from .. import render
from .base import Context, QuestionKind
from .due import SOON_RE

SEARCH_CANDIDATES = 10  # matches ranked for a topic (a reply shows the first four)


def _detect(intent, reading) -> bool:
    if not reading.topic:
        return False
    intent.topic = reading.topic
    # nothing found: a question that also reads as a due list or a unit's list is answered as that
    intent.fallback = ("due_soon" if SOON_RE.search(reading.rest) else
                       "unit_tasks" if (intent.unit or intent.mine) else None)
    return True


def _hits(db, topic: str) -> list[queries.TaskRow]:
    hits = queries.search(db, topic, limit=SEARCH_CANDIDATES)
    words = [w for w in tokenizer().lcut(topic) if len(w) >= 2] or [topic]
    if not hits and len(topic) >= 4:
        # no verbatim phrase: the tasks that contain enough of the topic's words
        score: dict[int, list] = {}
        for w in words:
            for t in queries.search(db, w, limit=10):
                score.setdefault(t.id, [0, t])[0] += 1
        need = max(2, (len(words) + 1) // 2) if len(words) > 1 else 1
        hits = [t for n, t in sorted(score.values(), key=lambda x: -x[0]) if n >= need]
    # the task about the topic first: its title and problem weigh more than a measure naming it in
    # passing ("尾矿库治理": 第15项 is about 尾矿库, 第5项 lists it among others); list items (the
    # 整改清单's concrete problems) before the body's general measures on a tie
    scores = queries.relevance(db, [t.id for t in hits], words, topic)
    order = {t.id: i for i, t in enumerate(hits)}
    return sorted(hits, key=lambda t: (-scores.get(t.id, 0), t.section != "list", order[t.id]))


def _answer(ctx: Context, intent) -> Answer:
    from .task import detail_entries
    db = ctx.db
    hits = _hits(db, intent.topic)
    if not hits:
        if intent.fallback:
            return ctx.answer(ctx, _as(intent, intent.fallback))
        return Answer("unknown", ctx.asker, None, [],
                      f"没有找到与“{short(intent.topic)}”相关的任务。\n" + render.render_help(short=True))
    top = hits[0]
    detail, entries = detail_entries(db, top, ctx.today, intent.ask)
    shown = hits[:4]
    titles = queries.document_titles(db, (t.document_id for t in shown))
    several = len(titles) > 1  # hits from several plans: say which plan each is in
    related = [render.task_label(t.section, t.number_value) + (f"（《{titles[t.document_id]}》）" if several else "")
               for t in shown[1:]]
    where = f"《{titles[top.document_id]}》中" if several else ""
    reply = f"与“{short(intent.topic)}”最相关的是{where}：\n" + render.render_task(detail, entries, intent.ask,
                                                                            related=related, max_bytes=ctx.max_bytes)
    return Answer("search", ctx.asker, None, entries, reply)


def _as(intent, kind: str):
    intent.kind = kind
    return intent


SEARCH = QuestionKind("search", _detect, _answer,
                      ("污水处理厂的整改时限 / 黑臭水体的整改要求（任务里的地名、事项）",))
