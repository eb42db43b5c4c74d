"""Rule-based understanding of officials' questions (jieba + rapidfuzz + cn2an; no LLM).

parse_question("发改委下个月到期的任务", today=…, unit_names=[…]) → Intent(kind="due_in_window",
unit="发改委", window=(2022-01-01, 2022-01-31)). The intent carries the unit *as typed and found
among unit_names* (a name or alias); turning it into a canonical unit is the answer layer's job.

This module reads a question's parts (units, 我单位, what is asked, the time window, a topic); which
kind of question it is comes from the ordered table in bot.questions, where each kind keeps its
detection, its answer and its help example together.
"""
from __future__ import annotations

import gc
import logging
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Callable


from parser import lexicon

from .unit_mentions import find_unit, normalize
from .windows import parse_window

_CN = lexicon.CN_NUMERALS


@dataclass
class Intent:
    kind: str
    text: str = ""                    # the normalised question
    unit: str | None = None           # a known unit name/alias mentioned in the question
    unit_fuzzy: bool = False          # unit found by typo-level fuzzy matching
    unit_guess: str | None = None     # a unit-like phrase not among the known names (市环保厅)
    more_units: tuple[str, ...] = ()  # further units named ("发改委和住建局…"), each answered in turn;
    unit_roles: dict = field(default_factory=dict)  # then `unit` is the first named, and a role word after
                                                    # a unit is its own ("发改委牵头、住建局配合")
    leader: str | None = None         # a 督办领导 title asked about ("市长督办的任务"), kind "leader_tasks"
    mine: bool = False                # 我单位 / 我们 / 本单位
    everyone: bool = False            # 全市 / 所有单位
    window: tuple[date, date] | None = None
    window_label: str | None = None
    number: int | str | None = None   # 13 (list) or "（一）1" (body)
    document: int | None = None       # "2-13" / "文件2第13项": document 2's item (文件列表's numbers)
    more_numbers: tuple[int, ...] = ()  # further list items asked about together ("第13项和第14项谁牵头")
    section: str | None = None
    ask: str = "content"              # content / lead / units / leaders / deadline / measures
    role: str | None = None           # unit_tasks restricted to a role (发改委牵头的任务 → lead_units)
    state: str | None = None          # unit_tasks in one state: "open" (还有哪些没销号 / 未完成的任务),
                                      # "completed" (已销号的任务), "ongoing" (长期坚持的任务)
    topic: str | None = None          # search phrase (长阳矿区)
    fallback: str | None = None       # kind to use when a search finds nothing


# ---- jieba: loaded lazily, once, with bot/data/words.txt (≈0.1 s; the full dictionary takes ≈1 s) ----

_jieba = None
_jieba_lock = threading.Lock()
_added_words: set[str] = set()
_last_words: tuple[str, ...] = ()  # the answer path passes one tuple of names while the store stays the same


def _import_jieba():
    """jieba imports pkg_resources (about 75 ms) only to open its own data files, and opens them by path
    without it: hide it for that one import unless something else has loaded it already."""
    hide = "pkg_resources" not in sys.modules
    if hide:
        sys.modules["pkg_resources"] = None  # makes `import pkg_resources` raise ImportError
    try:
        import jieba
    finally:
        if hide:
            del sys.modules["pkg_resources"]
    return jieba


def tokenizer(words: list[str] | tuple[str, ...] = ()):
    """The jieba module, initialised on first use, with `words` added so they segment whole."""
    global _jieba, _last_words
    if _jieba is not None and words is _last_words:  # added already: no walk over thousands of names per question
        return _jieba
    with _jieba_lock:
        if _jieba is None:
            jieba = _import_jieba()

            from .wordlist import path
            jieba.setLogLevel(logging.WARNING)
            _jieba = jieba.Tokenizer(dictionary=path())  # a word list sized for questions (bot/wordlist.py)
            _jieba.initialize()
        for w in words:
            if w not in _added_words and len(w) >= 2:
                _jieba.add_word(w, freq=200000)
                _added_words.add(w)
        if isinstance(words, tuple):
            _last_words = words
    return _jieba


def preload(words: list[str] | tuple[str, ...] = ()) -> None:
    """Load jieba now (about a second) instead of inside a reply window, then freeze the start-up heap:
    jieba's dictionary is long-lived, and every full garbage collection would otherwise walk it again
    (about 10 ms, a pause in the middle of some answer)."""
    tokenizer(words)
    gc.freeze()




# Typing slips on a question's key words (same-sounding characters): (slip, word). Each slip is
# written so that ordinary words stay as they are: 到其他单位, 超其所能, 逾越 are not touched.
TYPOS = [
    (re.compile(r"(逾|到|超|过)其(?![他它中余次实后间所外内实])"), r"\1期"),  # 逾其 → 逾期, 到其 → 到期
    (re.compile(r"[愈渝]期"), "逾期"),
    (re.compile(r"(?<![\u4e00-\u9fff])销好|销毫"), "销号"),
]


def correct_typos(q: str) -> str:
    for slip, word in TYPOS:
        q = slip.sub(word, q)
    return q




# ---- phrases ----------------------------------------------------------------------------------

_MINE_RE = re.compile(r"我|本单位|本局|本委|本办|咱")
_EVERYONE_RE = re.compile(r"全市|所有单位|全部单位|各单位|所有任务|全部任务|整体|总体")
_ASKS = [  # (ask, pattern) — first match wins
    ("progress", re.compile(r"进展|进度|完成了吗|完成没|销号了吗|销号没|办结了吗|落实情况|整改情况"
                            r"|推进情况")),
    ("leaders", re.compile(r"督办领导|哪位领导|哪个领导|谁督办|领导是谁|市级领导|督办人")),
    ("lead", re.compile(r"牵头单位|谁牵头|哪个单位牵头|哪家牵头|牵头的|牵头部门|谁来牵头|牵头是")),
    ("units", re.compile(r"责任单位|谁负责|哪些单位|哪个单位|配合单位|主体责任|负责单位|谁来|谁管|归谁|哪个部门"
                         r"|哪些部门|责任部门|谁的")),
    ("deadline", re.compile(r"整改时限|时限|截止|什么时候|何时|啥时候|完成时间|期限|到期|几号|哪天|时间节点|节点"
                            r"|时间")),
    ("measures", re.compile(r"整改措施|整改要求|措施|要求|怎么整改|如何整改|怎么改|怎么做|做什么|干什么|怎么办")),
    ("content", re.compile(r"是什么|内容|什么问题|讲的|说的|具体|详情|情况|介绍")),
]

# Multi-character phrases that are never a search topic.
_STOP_PHRASES = re.compile("|".join([
    r"请问|请帮我|帮我|帮忙|麻烦|查询|查一下|查查|看一下|看看|一下|告诉我|我想知道|想知道|想问|问一下|了解",
    r"我们单位|我单位|本单位|我们|咱们|我的|单位|部门|全市|所有|全部|各项",
    r"有哪些|哪些|有什么|什么|有没有|多少|几项|几个|是不是|是否|还有|现在|目前|一共|总共|分别",
    r"任务|事项|工作|清单|问题|情况|相关|关于|对应|具体|主要|列表|列出|列一下",
    r"整改时限|整改要求|整改措施|整改目标|整改任务|整改|时限|截止时间|截止|时间|期限|节点|完成|落实|推进|进展|进度",
    r"即将|快要|将要|马上|临近|近期|最近|到期|逾期|超期|过期|未完成|没完成|需要|应该|要求|措施|内容|具体",
    r"谁牵头|牵头单位|牵头|谁负责|负责|责任单位|配合单位|配合|主体责任|督办领导|督办|领导|是谁|谁来|归谁|哪个",
    r"怎么|如何|何时|啥时候|时候|哪天|几号|是啥|介绍|详情|说明|讲的|说的",
]))
_STOP_CHARS = set("的吗呢了啊吧呀嘛么是有要请查看和与及在把给我你啥都还哪个几项条号谁该得地就也又中里么")


def _stopped(token: str) -> bool:
    return len(token) == 1 and token in _STOP_CHARS


# ---- unit mentions ----------------------------------------------------------------------------

_NOT_UNITS = {"督办", "怎么办", "我市", "全市", "我县", "我区", "城市", "县市"}
_ORGAN_END = ("局", "厅", "委", "办", "委员会", "办公室", "中心", "支队", "县", "市")
_ORGAN_LAST = frozenset(e[-1] for e in _ORGAN_END)  # a question without any of these names no organ


def _unit_guess(tokens: list[str]) -> str | None:
    """A unit-like phrase (…局/厅/委/办/县) that is not a known name: 市环保厅, 市水务中心."""
    for i, tok in enumerate(tokens):
        if not tok.endswith(_ORGAN_END) or tok in _NOT_UNITS or _stopped(tok):
            continue
        j, phrase = i, tok
        while j > 0 and not _stopped(tokens[j - 1]) and not _STOP_PHRASES.fullmatch(tokens[j - 1]) \
                and len(phrase) + len(tokens[j - 1]) <= 10:
            j -= 1
            phrase = tokens[j] + phrase
        if len(phrase) >= 3:
            return phrase
    return None


# ---- topics -----------------------------------------------------------------------------------

_WORDLIKE_RE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_RUN_RE = re.compile(r"[^\x00]+")


def _topic(text: str, masked: list[tuple[int, int]], tokens: Callable[[], list[str]]) -> str | None:
    """The longest run of characters that are not question words, time words or punctuation."""
    mask = [False] * len(text)
    for a, b in masked:
        for i in range(a, b):
            mask[i] = True
    for m in _STOP_PHRASES.finditer(text):
        for i in range(m.start(), m.end()):
            mask[i] = True
    if not _runs(text, mask):  # the tokens only mask more: no segmenting needed to find nothing
        return None
    pos = 0
    for tok in tokens():
        if _stopped(tok) or not _WORDLIKE_RE.search(tok):
            for i in range(pos, pos + len(tok)):
                mask[i] = True
        pos += len(tok)
    runs = _runs(text, mask)
    return max(runs, key=len) if runs else None


def _runs(text: str, mask: list[bool]) -> list[str]:
    """The unmasked runs of two characters or more that are not a bare number."""
    runs = _RUN_RE.findall("".join("\x00" if m else c for m, c in zip(mask, text)))
    return [r for r in runs if len(r) >= 2 and not r.isdigit()]


_TIME_SPANS_RE = re.compile(
    rf"(?:\d{{4}}[年/.-])?(?:\d{{1,2}}[月/.-])?(?:\d{{1,2}}[日号])?(?:底|末)?(?:前|之前|以前|内|以内|之内)"
    rf"|\d{{4}}年|\d{{1,2}}月|(?:未来|近|最近)?(?:半|\d+|[{_CN}]+)个?(?:天|日|周|星期|礼拜|月|年)(?:内|之内|以内)?"
    r"|本周|这周|下周|本月|这个月|下个月|下月|本季度|下季度|年底|年内|今年|明年|上半年|下半年|今天|明天|星期|礼拜")


# ---- the parser -------------------------------------------------------------------------------

_STATE_RES = [  # (state, pattern): first match wins, "没销号" before "销号了"
    ("open", re.compile(r"[没未](?:有)?销号|[没未](?:有)?完成|尚未完成|还没|在办|未办结|没办结|[没未][干做办弄]完")),
    ("completed", re.compile(r"已(?:经)?(?:销号|完成|办结|整改到位)|(?:销号|完成|办结)了(?![吗么没])|完成销号")),
    ("ongoing", re.compile("|".join(w for w in lexicon.ONGOING_DEADLINE_WORDS if len(w) > 2)
                           + r"|长期任务|长期性|持续性|没有(?:具体)?时限|无(?:具体)?时限|没有(?:具体)?期限|没有截止")),
]


def _state(q: str) -> tuple[str, tuple[int, int]] | None:
    for state, rx in _STATE_RES:
        if m := rx.search(q):
            return state, m.span()
    return None


def _role_after(q: str, name: str) -> str | None:
    tail = q[q.find(name) + len(name):][:4]
    return "lead_units" if "牵头" in tail else "cooperating_units" if "配合" in tail else None


@dataclass
class Reading:
    """What the question kinds (bot.questions) are detected from: the normalised text, where a unit
    was named, and the parts that cost something to find, each read when a kind first asks for it."""

    q: str
    today: date
    names: tuple[str, ...]
    leaders: tuple[str, ...]
    intent: Intent
    rest: str = ""  # the text with the named unit blanked out
    span: tuple[int, int] | None = None  # where the unit was named

    @cached_property
    def tokens(self) -> list[str]:
        """The question segmented once (with the store's unit names as words), for the unit guess and the topic."""
        return tokenizer(self.names).lcut(self.q)

    @cached_property
    def window(self):
        return parse_window(self.rest, self.today)

    @cached_property
    def state(self) -> tuple[str, tuple[int, int]] | None:
        return _state(self.q)

    @cached_property
    def topic(self) -> str | None:
        """The longest run that is not a question word, a time or a state; with an adjacent unit."""
        masked = [self.span] if self.span else []
        masked += [m.span() for m in _TIME_SPANS_RE.finditer(self.q)] + ([self.state[1]] if self.state else [])
        topic = _topic(self.q, masked, lambda: self.tokens)
        guess = self.intent.unit_guess
        if topic and guess and topic in guess:
            return None  # "市环保厅有哪些任务": the phrase is an unknown unit, not a topic
        if topic and len(topic) < 3 and self.intent.ask == "content":
            return None  # a bare two-character word ("天气") is too weak to search on without a question about it
        # the topic phrase may include the unit ("邵阳县污水处理厂"): search the whole run
        return _with_unit(self.q, topic, self.span) if topic else None


def read_units(intent: Intent, reading: Reading) -> None:
    """The units named (longest first, then up to three more), 我单位 / 全市, what is asked of a task."""
    q, names = reading.q, reading.names
    unit, span, fuzzy = find_unit(q, names)
    intent.unit, intent.unit_fuzzy = unit, fuzzy
    rest = q if span is None else q[:span[0]] + "\x00" + q[span[1]:]
    more, left = [], rest
    while span is not None and len(more) < 3:
        other, span2, fuzzy2 = find_unit(left, names)
        if other is None or fuzzy2:
            break
        more.append(other)
        left = left[:span2[0]] + "\x00" + left[span2[1]:]
    intent.more_units = tuple(more)
    intent.mine = bool(_MINE_RE.search(rest))
    intent.everyone = not unit and bool(_EVERYONE_RE.search(rest))
    intent.ask = next((a for a, p in _ASKS if p.search(rest)), "content")
    if unit is None and not _ORGAN_LAST.isdisjoint(q):  # else no token ends like an organ: no segmenting
        intent.unit_guess = _unit_guess(reading.tokens)
    reading.rest, reading.span = rest, span


def order_units(intent: Intent, q: str) -> None:
    """Several units are answered one at a time, in the order named, each in its own role if given."""
    if intent.more_units:
        named = sorted((intent.unit, *intent.more_units), key=lambda u: (q.find(u) < 0, q.find(u)))
        intent.unit, intent.more_units = named[0], tuple(named[1:])
        intent.unit_roles = {u: _role_after(q, u) for u in named}


def parse_question(text: str, *, today: date, unit_names: list[str], leaders: tuple[str, ...] = ()) -> Intent:
    """Understand one question: its parts, then its kind, the first of bot.questions.KINDS (an
    ordered table) that detects it. Never raises; unintelligible text gives kind "unknown"."""
    from .questions import detect
    q = correct_typos(normalize(text))
    # the answer path passes one sorted tuple, kept while the store stays the same: no copy to make
    names = unit_names if isinstance(unit_names, tuple) else tuple(sorted(set(unit_names)))
    intent = Intent(kind="unknown", text=q)
    return detect(intent, Reading(q, today, names, leaders, intent, rest=q))


def _with_unit(q: str, topic: str, span: tuple[int, int] | None) -> str:
    """Extend the topic over an adjacent unit mention: 邵阳县 + 污水处理厂."""
    if span is None:
        return topic
    i = q.find(topic)
    if span[1] == i:
        return q[span[0]:i + len(topic)]
    if span[0] == i + len(topic):
        return q[i:span[1]]
    return topic
