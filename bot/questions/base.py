"""What every question kind is made of, and what the kinds about a unit's tasks share."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Callable

from ..answer import Answer, canonical, suggest
from ..intent import Intent, Reading
from .. import render


@dataclass(frozen=True)
class QuestionKind:
    """One kind of question: how it is recognised, how it is answered, how the help shows it.

    `detect(intent, reading)` says whether the question is of this kind (and fills the intent's
    fields the answer needs); `plain` kinds are told from the text alone, before the units named
    in it are read. `answer(ctx, intent)` returns the Answer. `examples` are the help's lines."""

    name: str
    detect: Callable[[Intent, Reading], bool]
    answer: Callable[["Context", Intent], Answer]
    examples: tuple[str, ...] = ()
    plain: bool = False


@dataclass
class Context:
    """Who asks (their canonical unit), about which store, on which day, in how many bytes."""

    db: object
    directory: object
    asker: str | None
    today: date
    max_bytes: int | None = None
    answer: Callable[["Context", Intent], Answer] | None = None  # the registry's dispatch, for fallbacks


ROLE_WORDS = {"lead_units": "牵头", "cooperating_units": "配合"}


def listing_role(intent: Intent, reading: Reading) -> None:
    """A list of tasks in one role: "发改委牵头的任务", "我单位配合的任务"."""
    if "牵头" in reading.rest:
        intent.role = "lead_units"
    elif "配合" in reading.rest:
        intent.role = "cooperating_units"


def target_unit(ctx: Context, intent: Intent):
    """(unit or None for all units, footer hint), or an Answer when the unit cannot be decided."""
    db, directory = ctx.db, ctx.directory
    if intent.unit:
        unit = canonical(db, directory, intent.unit)
        if unit:
            return unit, (f"（已按“{unit}”理解“{intent.unit}”）" if intent.unit_fuzzy else "")
        guess = intent.unit
    elif intent.unit_guess and not directory.is_region(intent.unit_guess):
        guess = intent.unit_guess
    else:
        guess = None
    if guess:
        names = suggest(directory, db, guess)
        tip = f"您是不是要找：{'、'.join(names)}？" if names else "请使用单位全称或常用简称。"
        return Answer(intent.kind, None, intent.window, [], f"没有找到单位“{guess}”。{tip}")
    if intent.everyone or (intent.unit_guess and directory.is_region(intent.unit_guess)):
        return None, ""
    if ctx.asker:
        return ctx.asker, ""
    if intent.mine or intent.kind == "unit_tasks":
        return Answer(intent.kind, None, intent.window, [], f"还不知道您是哪个单位。{render.BIND_HINT}")
    return None, f"（以上为全市情况。绑定单位后可只看本单位：{render.BIND_HINT[3:]}）"


def for_each_unit(one: Callable[[Context, Intent, str | None, str], Answer]):
    """An answer about a unit's tasks: `one(ctx, intent, unit, hint)` for the unit decided by
    target_unit; for several units named ("发改委和住建局下个月到期的任务"), one part each, in one reply."""
    def answer(ctx: Context, intent: Intent) -> Answer:
        if intent.more_units:
            roles = intent.unit_roles
            units = (intent.unit, *intent.more_units)
            share = ctx.max_bytes and ctx.max_bytes // len(units)
            parts = [answer(replace(ctx, max_bytes=share),
                            replace(intent, unit=u, more_units=(), unit_fuzzy=False,
                                    role=roles.get(u) if any(roles.values()) else intent.role)) for u in units]
            return Answer(parts[0].intent, parts[0].unit, parts[0].window,
                          lambda: [t for p in parts for t in p.tasks], "\n\n".join(p.reply for p in parts))
        target = target_unit(ctx, intent)
        if isinstance(target, Answer):
            return target
        return one(ctx, intent, *target)
    return answer
