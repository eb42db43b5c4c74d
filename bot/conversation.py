"""The platform-free conversation: who is asking, 绑定 commands, then the answer.

Webhooks (DingTalk, WeCom) and the local `duban chat` all go through `Conversation.handle`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from knowledge import generation, people
from knowledge.directory import resolve_unit

from . import admin_chat, progress_chat
from .answer import Answer, answer_question
from .reminders import replan_after_change

_BIND = re.compile(r"^\s*(?:绑定|綁定)\s*(?:单位)?\s*[:：]?\s*(?P<unit>\S.*)$")
MAX_QUESTION = 500
# a command word alone: say how it is used
_BARE_COMMAND = {
    "绑定": "请发送“绑定 单位名称”，例如：绑定 市生态环境局",
    "销号": "请注明任务编号和整改情况，例如：申请销号 13：已完成招标",
    "申请销号": "请注明任务编号和整改情况，例如：申请销号 13：已完成招标",
    "申请延期": "请注明编号、时限和理由，例如：申请延期 13：2021-12-31 延至 2022-03-31，因汛期停工",
    "审核通过": "请注明任务编号，例如：审核通过 13",
    "退回": "请注明任务编号和理由，例如：退回 13：缺少验收材料",
    "撤销销号": "请注明任务编号，例如：撤销销号 13",
    "进展": "请注明编号和内容，例如：进展 13：已完成招标",
}


@dataclass
class Turn:
    """One incoming message, already stripped of platform details."""

    platform: str  # dingtalk / wecom / local
    user_id: str
    text: str
    chat_id: str | None = None
    chat_type: str = "single"
    as_unit: str | None = None  # local chat / ask: the unit chosen on the command line
    stamp: int | None = None  # the store's generation when the message was recorded (else read now)


class Conversation:
    def __init__(self, db, directory, today: Callable[[], date], now: Callable[[], datetime], inbox=None,
                 calendar=None, policy=None, cache_answers: bool = True):
        self.db = db
        self.cache_answers = cache_answers  # off: every question answered from the store (benchmarks)
        self.calendar, self.policy = calendar, policy  # reminder settings, for re-planning after 销号
        self.inbox = inbox  # the watched folder, for an administrator's 重新解析
        # officials ask the same things: answers and askers' units are kept while the store's generation stays
        self._answers: dict[tuple, Answer] = {}
        self._answers_stamp: tuple | None = None
        self._askers: dict[tuple, tuple[tuple, str | None]] = {}
        # commands carried out here: a message of the same burst (same stamp) must not get what was kept before
        self._writes = 0
        self.directory = directory
        self.today = today
        self.now = now

    def asker_and_stamp(self, turn: Turn) -> tuple[str | None, tuple]:
        """The asker's own unit (roster), else their binding, else the group's binding; with the
        store's generation (what was kept under an older one is stale)."""
        stamp = (turn.stamp if turn.stamp is not None else generation.current(self.db), self._writes)
        if turn.as_unit:
            return turn.as_unit, stamp
        key = (turn.platform, turn.user_id, turn.chat_id)
        kept = self._askers.get(key)
        if kept is None or kept[0] != stamp:
            kept = (stamp, people.unit_of_asker(self.db, turn.platform, turn.user_id, turn.chat_id))
            _keep(self._askers, key, kept)
        return kept[1], stamp

    def resolve(self, name: str) -> str | None:
        return resolve_unit(self.db, name, self.directory)

    def bind(self, turn: Turn, name: str) -> str:
        unit = self.resolve(name)
        if not unit:
            near = "、".join(n for n, _ in self.directory.search(name, limit=3))
            return f"未找到单位“{name}”。" + (f"您是否要找：{near}？" if near else "")
        official = people.official_by_platform_id(self.db, turn.platform, turn.user_id)
        allowed = official is not None and (official.unit == unit or official.is_admin)
        people.record(self.db, self.now(), turn.platform, turn.user_id, "绑定", unit, allowed)
        if official is None:
            return "您不在花名册中，无法绑定单位。请联系管理员将您加入花名册后再试。"
        if not allowed:
            return f"花名册登记您的单位是{official.unit}，不能绑定到{unit}。如需调整请联系管理员。"
        people.bind(self.db, turn.platform, "user", turn.user_id, unit, turn.user_id, self.now())
        if turn.chat_type == "group" and turn.chat_id:
            people.bind(self.db, turn.platform, "chat", turn.chat_id, unit, turn.user_id, self.now())
            return f"已绑定：本群 → {unit}。在本群询问“我单位哪些任务即将到期”即按{unit}回答。"
        return f"已绑定：{official.name} → {unit}。现在可以问“我单位哪些任务即将到期”。"

    def handle(self, turn: Turn) -> Answer:
        text = turn.text.strip()
        if len(text) > MAX_QUESTION:
            return Answer("too_long", None, None, [], f"问题过长，请简要描述（{MAX_QUESTION}字以内），例如“第13项谁牵头”。")
        (unit, stamp), today = self.asker_and_stamp(turn), self.today()
        key = (text, unit, today, stamp)
        kept = self._answers.get(key)
        if kept is not None:  # answers to questions, and the replies of commands that only read
            return kept
        done = self.command(turn, text)
        if done is not None:
            if generation.current(self.db) != stamp[0]:  # it changed what answers and askers' units depend on
                self._writes += 1  # (文件列表 and the other reading commands leave what was kept)
            elif admin_chat.reads_only(text):
                self._keep_answer(key, stamp, done)
            return done
        answer = answer_question(self.db, turn.text, asker_unit=unit, today=today, directory=self.directory)
        self._keep_answer(key, stamp, answer)
        return answer

    def _keep_answer(self, key: tuple, stamp, answer: Answer) -> None:
        if not self.cache_answers:
            return
        if stamp != self._answers_stamp:  # what was kept under another generation is never asked for again
            self._answers.clear()
            self._answers_stamp = stamp
        _keep(self._answers, key, answer, ANSWERS_KEPT)

    def command(self, turn: Turn, text: str) -> Answer | None:
        """Carry out 绑定, 销号/进展 and the document commands; None for a question."""
        bare = _BARE_COMMAND.get(text)
        if bare:
            return Answer("usage", None, None, [], bare)
        m = _BIND.match(turn.text)
        if m:
            reply = self.bind(turn, m.group("unit").strip())
            return Answer("bind", None, None, [], reply)
        admin = admin_chat.handle(self.db, self.directory, self.inbox, turn, self.now())
        if admin is not None:
            return Answer("documents", None, None, [], admin)
        cmd = progress_chat.parse_command(turn.text)
        if cmd:
            reply = progress_chat.apply(self.db, cmd, platform=turn.platform, user_id=turn.user_id,
                                        as_unit=turn.as_unit, now=self.now())
            if cmd.kind in progress_chat.REPLANS:
                # queued digests must not remind about a closed task (or miss a reopened one, or a moved date)
                replan_after_change(self.db, self.today(), self.now(), self.calendar, self.policy)
            return Answer(cmd.kind, turn.as_unit, None, [], reply)
        return None


# A province's officials ask the same few dozen things for a few hundred units: the answers kept must hold a
# day's working set, or a round of every unit's questions evicts each answer before it is asked again.
ANSWERS_KEPT = 4096


def _keep(cache: dict, key, value, limit: int = 512) -> None:
    """Insert, dropping the oldest entry once `limit` are kept."""
    if key not in cache and len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


def make_conversation(settings, db=None) -> Conversation:
    """The conversation `duban serve`, `duban ask` and `duban chat` answer through, from the settings."""
    from pathlib import Path

    from knowledge.db import open_db, use_wal
    from parser import UnitDirectory

    from . import clock
    directory = UnitDirectory.load(settings.units_file) if settings.units_file else UnitDirectory.load()
    if db is None:
        db = open_db(settings.db)
        use_wal(db)  # the server commits on every message: WAL keeps that off the disk's sync path
    inbox = None
    if settings.inbox_dir:
        from .inbox import Inbox
        inbox = Inbox(Path(settings.inbox_dir))
    return Conversation(db, directory, today=lambda: clock.today(settings.today), now=clock.now, inbox=inbox,
                        calendar=settings.calendar(), policy=settings.policy())
