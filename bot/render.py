"""Chinese markdown replies for the bot (DingTalk / WeCom markdown subset; the platform layer splits).

Every due item names the task (第13项 / 正文（一）1), what is due, the date, the days left
(剩N天 / 今天到期 / 逾期N天) and the units by role. Overdue comes first. Sections are capped
(MAX_ITEMS, then "另有N项…"), and max_bytes shrinks the cap until the reply fits.
"""
from __future__ import annotations

import re
from functools import lru_cache

from parser import find_dates
from parser import ROLE_LABELS

MAX_ITEMS = 15
# The order officials read units in: who owns it, who leads, who is responsible, who helps.
DISPLAY_ROLES = ("principal_units", "lead_units", "responsible_units", "cooperating_units")
_TRUNCATED = "……（内容较长，已截断）"

BIND_HINT = "请先发送“绑定 单位名称”，例如：绑定 市生态环境局"
NO_DATA = "还没有导入任何整改方案。请先导入文件：duban ingest 文件"
NOT_CHINESE = ("请用中文提问。例如：\n- 我单位哪些任务即将到期\n- 有哪些逾期任务\n- 第13项谁牵头\n"
               "发送“帮助”查看全部用法。")


def task_label(section: str, number) -> str:
    return f"第{number}项" if section == "list" else f"正文{number}"


def days_text(days: int) -> str:
    if days == 0:
        return "今天到期"
    return f"逾期{-days}天" if days < 0 else f"剩{days}天"


def units_text(units, *, leaders: bool = False) -> str:
    """{role: [...]} → "主体责任单位：…；牵头单位：…"; a bound unit list → "责任单位：新邵县"."""
    if isinstance(units, list):
        return f"责任单位：{'、'.join(units)}" if units else ""
    roles = (("supervising_leaders",) if leaders else ()) + DISPLAY_ROLES
    return "；".join(f"{ROLE_LABELS[r]}：{'、'.join(units[r])}" for r in roles if units.get(r))


def what_is_due(entry: dict) -> str:
    """The milestone text, or the task title when the text is only the date (整改时限 "2021年12月31日")."""
    # a measure's own number can lead the milestone text ("1.2021年12月31日前，…"): not part of it
    text = re.sub(r"^\d{1,2}[.、．]", "", "".join((entry.get("text") or "").split()))
    if not text or _only_a_date(text):
        return f"整改时限到期：{entry['title']}"
    return text


@lru_cache(maxsize=4096)
def _only_a_date(text: str) -> bool:
    """"2021年12月31日" / "2027年第三季度" / "2022年底前": nothing but the date is said."""
    if len(text) > 24:  # a date with something to do is longer; this keeps long texts off the parser
        return False
    rest, end = "", 0
    for hit in find_dates(text):
        rest += text[end:hit.start]
        end = hit.end
    return not (rest + text[end:]).strip(" ，,。；;：:前完成")


def _group(entries: list[dict]) -> list[list[dict]]:
    """Entries of one task on one date become one line (list-15 has 2021-12-31 three times)."""
    groups: dict[tuple, list[dict]] = {}
    for e in entries:
        # the same number and date in two plans are two lines; a unit list means bound milestones
        key = (e.get("document"), e["section"], e["number"], e["due"],
               tuple(e["units"]) if isinstance(e["units"], list) else ())
        groups.setdefault(key, []).append(e)
    return list(groups.values())


def plan_tags(entries: list[dict]) -> dict:
    """{document: "文件N", …} when the entries come from more than one plan, else {}. N is the
    document's own number, the one 文件列表 shows and 销号 N-M takes (knowledge.documents)."""
    docs = list(dict.fromkeys(e.get("document") for e in entries))
    return {d: f"文件{d}" for d in docs} if len(docs) > 1 else {}


def _legend(tags: dict, entries: list[dict]) -> list[str]:
    titles = {e.get("document"): e.get("plan") for e in entries}
    return [f"〔{tag}〕《{titles.get(doc) or '未命名文件'}》" for doc, tag in tags.items()]


def _label(e: dict, tags: dict) -> str:
    tag = tags.get(e.get("document"))
    return task_label(e["section"], e["number"]) + (f"〔{tag}〕" if tag else "")


def _item(group: list[dict], tags: dict) -> str:
    e = group[0]
    texts = []
    for g in group:
        t = what_is_due(g)
        if t not in texts:
            texts.append(t)
    informative = [t for t in texts if not t.startswith("整改时限到期")] or texts
    what = "；".join(informative)
    if len(what) > 90:
        what = what[:88] + "…"
    when = f"{e['due']}（{days_text(e['days'])}）" if e["due"] else "无明确时限"
    line = f"- **{_label(e, tags)}** {when}：{what}"
    units = units_text(e["units"])
    return line + (f"\n  {units}" if units else "")


def _section(title: str, groups: list[list[dict]], limit: int, narrow_hint: str, tags: dict,
             total: int | None = None, count_to: int | None = None) -> list[str]:
    """`groups`: the list's first lines (or all of it); `total`: how many lines it has in all,
    `count_to` + 1 meaning more than `count_to`."""
    total = len(groups) if total is None else total
    more = count_to is not None and total > count_to
    shown = groups[:limit]
    lines = [f"**{title}（{f'{count_to}项以上' if more else f'{total}项'}）**"]
    lines += [_item(g, tags) for g in shown]
    if total > len(shown):
        rest = f"{count_to - len(shown)}项以上" if more else f"{total - len(shown)}项"
        lines.append(f"另有{rest}，请缩小范围（如{narrow_hint}）")
    return lines


def fit(build, max_bytes: int | None) -> str:
    """build(limit) → text; shrink the per-section limit until the text fits max_bytes (UTF-8)."""
    for limit in (MAX_ITEMS, 10, 6, 3, 1):
        text = build(limit)
        if max_bytes is None or len(text.encode()) <= max_bytes:
            return text
    return truncate(text, max_bytes)


def truncate(text: str, max_bytes: int) -> str:
    """Cut at a line boundary so the reply stays readable, and say that it was cut."""
    budget = max_bytes - len(_TRUNCATED.encode()) - 1
    out, used = [], 0
    for line in text.split("\n"):
        size = len(line.encode()) + 1
        if used + size > budget:
            break
        out.append(line)
        used += size
    return "\n".join(out + [_TRUNCATED])


def render_due(heading: str, late: list[dict], soon: list[dict], *, soon_title: str | None,
               narrow_hint: str = "“本周到期”", max_bytes: int | None = None, footer: str = "",
               totals: tuple[int | None, int | None] = (None, None), count_to: int | None = None,
               late_title: str = "已逾期", late_count: int = 0) -> str:
    """What falls due in the window asked about, then one line counting the overdue ones (`late_count`);
    or the overdue ones listed (`late`) before the window. Empty sections say so. `late`/`soon` may be
    the first lines only, with `totals` the sections' line counts (see _section)."""
    late_g, soon_g = _group(late), _group(soon)

    def build(limit: int) -> str:
        shown = [e for g in late_g[:limit] + soon_g[:limit] for e in g]
        tags = plan_tags(shown)
        lines = [heading]
        if late:
            lines += _section(late_title, late_g, limit, "“本月逾期”或指定单位", tags, totals[0], count_to)
        elif soon_title is None:
            lines.append("没有逾期未完成的时限节点。")
        if soon_title is not None:
            if soon:
                lines += _section(soon_title, soon_g, limit, narrow_hint, tags, totals[1], count_to)
            else:
                lines.append(f"{soon_title}：没有需要完成的时限节点。")
        if late_count:
            many = f"{count_to}项以上" if count_to is not None and late_count > count_to else f"{late_count}项"
            lines.append(f"另有{many}已逾期（发送“逾期任务”查看）")
        lines += _legend(tags, shown)
        if footer:
            lines.append(footer)
        return "\n".join(lines)
    return fit(build, max_bytes)


def render_unit_tasks(heading: str, entries: list[dict], *, max_bytes: int | None = None,
                      footer: str = "", total: int | None = None, more: bool = False,
                      empty: str = "方案中没有该单位承担的任务。") -> str:
    """A unit's tasks, each with its next open milestone (the most urgent first); `entries` may be
    the first ones only, `total` how many there are (`more`: at least that many)."""
    total = len(entries) if total is None else total
    def build(limit: int) -> str:
        lines = [heading]
        tags = plan_tags(entries[:limit])
        if not entries:
            lines.append(empty)
        for e in entries[:limit]:
            nxt = ("已销号" if e.get("status") == "completed" else
                   f"下一时限 {e['due']}（{days_text(e['days'])}）：{what_is_due(e)}" if e["due"]
                   # 持续推进 only where the document says so (长期坚持, 持续推进 …: the task's ongoing flag)
                   else "无未完成的时限节点（持续推进）" if e.get("ongoing") else "无未完成的时限节点")
            lines.append(f"- **{_label(e, tags)}** {e['title']}\n  {nxt}")
            units = units_text(e["units"])
            if units:
                lines.append(f"  {units}")
        shown = min(limit, len(entries))
        if total > shown:
            lines.append(f"另有{total - shown}项{'以上' if more else ''}，请缩小范围（如“本月到期”或“牵头的任务”）")
        lines += _legend(tags, entries[:limit])
        if footer:
            lines.append(footer)
        return "\n".join(lines)
    return fit(build, max_bytes)


def citation(section: str | None, page: int | None, within: str | None = None) -> str:
    """"见附件第13项 整改时限，第31页": where in the document (`within`: the task's own section, left out)."""
    if not section:
        return ""
    where = section[len(within):].strip() if within and section.startswith(within) else section
    where = re.sub(r"^(附件|正文) ", r"\1", where)
    page_text = f"第{page}页" if page else ""
    return "见" + "，".join(x for x in (where, page_text) if x) if where or page_text else ""


def milestone_line(e: dict, within: str | None = None) -> str:
    state = "已完成" if e.get("done") else days_text(e["days"])
    bound = f"〔{'、'.join(e['units'])}〕" if isinstance(e["units"], list) and e["units"] else ""
    moved = f"（原时限 {e['extended_from']}，已批准延期）" if e.get("extended_from") else ""
    src = e.get("source") or {}
    cited = citation(src.get("section"), src.get("page"), within) if e.get("milestone_id") else ""
    return f"- {e['due']}（{state}）{what_is_due(e)}{bound}{moved}" + (f"（{cited}）" if cited else "")


def render_task(detail: dict, entries: list[dict], ask: str, *, related: list[str] | None = None,
                max_bytes: int | None = None) -> str:
    """One task, answering what was asked: content / lead / units / leaders / deadline / measures."""
    t = detail["task"]
    label = task_label(t.section, t.number_value)
    closed = f"（已销号 {(detail.get('completed_at') or '')[:10]}）" if t.status == "completed" else ""
    head = f"**{label}** {t.title}{closed}"
    within = detail.get("cite_section")
    lines = [head, f"出处：{citation(within, detail.get('cite_page'))[1:]}" if within else ""]
    if ask == "progress":
        from knowledge.progress import KINDS
        lines.append(f"状态：{'已销号' if closed else '未销号'}" + (f"（{detail.get('completed_by')}）"
                                                               if closed and detail.get("completed_by") else ""))
        reports = detail.get("progress") or []
        lines += (["最近进展："] + [f"- {p.at[:10]} {KINDS.get(p.kind, p.kind)}"
                                    f"{('：' + p.text) if p.text else ''}（{p.official or p.unit or '—'}）"
                                    for p in reports]) if reports else ["尚无进展报告（报告进展：发送“进展 编号：内容”）。"]
        ask = "deadline"  # then the time limit and its open milestones
    if ask == "lead":
        lines.append(f"牵头单位：{'、'.join(t.units.get('lead_units') or []) or '未列明'}")
    elif ask == "leaders":
        leaders = t.units.get("supervising_leaders") or []
        lines.append(f"督办领导：{'、'.join(leaders)}" if leaders else "该任务未列明督办领导（正文任务不设督办领导）。")
    elif ask == "units":
        lines.append(units_text(t.units, leaders=True) or "未列明责任单位。")
    elif ask == "measures":
        measures = detail["measures"] or [detail.get("full_text") or ""]
        lines.append("整改措施：")
        lines += [f"{i}. {m[:120]}" for i, m in enumerate(measures, 1) if m]
    if ask in ("content", "deadline"):
        if ask == "content":
            problem = (detail.get("problem_text") or "").strip()
            if problem and t.section == "list":
                lines.append(f"问题：{problem[:150]}{'…' if len(problem) > 150 else ''}")
            lines.append(units_text(t.units, leaders=True))
        if t.deadline_text:
            lines.append(f"整改时限：{t.deadline_text}")
        dated = sorted((e for e in entries if e["due"]), key=lambda e: e["due"])
        if dated:
            lines.append("时限节点：")
            lines += [milestone_line(e, within) for e in dated]
        elif t.ongoing:  # the document says 长期坚持 / 持续推进
            lines.append("时限节点：无具体日期（持续推进）")
        elif not t.deadline_text:
            lines.append("时限节点：文件未列明具体时限")
    if related:
        lines.append(f"相关任务：{'、'.join(related)}")
    text = "\n".join(line for line in lines if line)
    return text if max_bytes is None or len(text.encode()) <= max_bytes else truncate(text, max_bytes)


def render_help(short: bool = False) -> str:
    """The examples of every question kind (bot.questions), and how to report."""
    from .questions import examples
    lines = "\n".join(f"- {e}" for e in examples())
    if short:
        return f"没太明白您的问题。可以这样问：\n{lines}\n发送“帮助”查看全部用法。"
    return ("**督办助手可以回答：**\n" + lines +
            "\n\n问“我单位…”前，请先发送“绑定 单位名称”（例如：绑定 市生态环境局）。"
            "\n也可以在问题里直接写单位，如“住建局本月到期的任务”。"
            "\n报送：进展 13：已完成招标 / 申请销号 13：整改情况 / 申请延期 13：2021-12-31 延至 2022-03-31，理由。"
            "\n督办办：审核通过 13 / 退回 13：理由。")


def split_at_items(text: str, limit_bytes: int) -> list[str]:
    """Parts of at most `limit_bytes` UTF-8 bytes, cut between items, never inside one: an item is a
    "- " line with the indented lines under it (its units), any other line stands alone. An item
    longer than the limit is cut at its lines (a line longer than the limit, between characters)."""
    blocks: list[list[str]] = []
    for line in text.split("\n"):
        if blocks and line.startswith("  ") and blocks[-1][0].startswith("- "):
            blocks[-1].append(line)  # an item's own continuation line
        else:
            blocks.append([line])
    parts: list[str] = []
    current: list[str] = []
    size = -1  # bytes of "\n".join(current); each piece is measured once (replies run to thousands of lines)
    for block in blocks:
        chunk = "\n".join(block)
        chunk_bytes = len(chunk.encode())
        if chunk_bytes > limit_bytes:  # one oversized item: its lines, each cut to fit
            pieces = [p for ln in block for p in _chunks(ln, limit_bytes)]
        else:
            pieces = [chunk]
        for piece in pieces:
            piece_bytes = chunk_bytes if piece is chunk else len(piece.encode())
            if current and size + 1 + piece_bytes > limit_bytes:
                parts.append("\n".join(current))
                current, size = [], -1
            if current == [""]:  # a blank line does not open a part
                current, size = [], -1
            current.append(piece)
            size += 1 + piece_bytes
    if current:
        parts.append("\n".join(current))
    return [p for p in parts if p.strip()]


def _chunks(line: str, limit_bytes: int) -> list[str]:
    out, start, size = [], 0, 0
    for i, ch in enumerate(line):
        width = len(ch.encode())
        if size + width > limit_bytes:
            out.append(line[start:i])
            start, size = i, 0
        size += width
    return out + [line[start:]]
