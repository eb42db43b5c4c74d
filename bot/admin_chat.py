"""Chat commands about the documents themselves: 文件列表, 重新解析 (administrators), and history
("第七项原来的整改时限是什么")."""
from __future__ import annotations

import re

from knowledge import document_queries, people, queries
from parser import cn_number

_LIST = re.compile(r"^\s*(?:文件列表|文件清单|有哪些文件|查看文件|版本列表|查看版本|文件版本)\s*(?:第?\s*(?P<page>\d{1,3})\s*页?)?"
                   r"\s*[？?]?\s*$")
LIST_PAGE = 20  # documents per 文件列表 reply: a province's store holds hundreds
REMOVED_SHOWN = 10
HISTORY_DOCS = 3  # documents shown for "第7项原来的…" when several have item 7
_RESCAN = re.compile(r"^\s*(?:重新解析|重新导入|解析收件箱|导入新文件)\s*$")
_HISTORY = re.compile(r"(?:(?:文件\s*(?P<fdoc>\d{1,4})\s*的?)|(?P<doc>\d{1,4})\s*[-－—])?"
                      r"第?\s*(?P<n>\d{1,3}|[一二三四五六七八九十]{1,3})\s*[项号条]?.{0,6}"
                      r"(?:原来|原先|之前|以前|上一版|旧版|修改前|调整前)")


def list_documents(db, page: int = 1) -> str:
    """Each document under its number: the N of 〔文件N〕 in answers and of "销号 N-M"; LIST_PAGE a reply."""
    page = max(page, 1)
    docs, total = document_queries.document_page(db, (page - 1) * LIST_PAGE, LIST_PAGE)
    gone, n_gone = document_queries.removed_documents(db, REMOVED_SHOWN)
    if not total:
        return "尚未导入任何文件。" + (f"（已移除 {n_gone} 个文件）" if n_gone else "")
    if not docs:
        return f"共{total}个文件，没有第{page}页。发送“文件列表”查看第1页。"
    lines = ["**已入库文件**" + (f"（共{total}个，第{page}页）" if total > LIST_PAGE else "")]
    for d in docs:
        example = "（示例，导入正式文件后自动移除）" if d["example"] else ""
        lines.append(f"- [{d['id']}] {d['title']}（当前第{d['current_version']}版）{example}")
        for v in d["versions"]:
            lines.append(f"  第{v['version']}版：{v['source_name']}，{v['ingested_at'][:16].replace('T', ' ')}")
    if page * LIST_PAGE < total:
        lines.append(f"（发送“文件列表 {page + 1}”查看下一页）")
    if gone:
        more = f"等{n_gone}个" if n_gone > len(gone) else ""
        lines.append("已移除：" + "、".join(f"[{i}] {t}" for i, t in gone) + more)
    return "\n".join(lines)


def rescan(db, directory, inbox, turn, now) -> str:
    official = people.official_by_platform_id(db, turn.platform, turn.user_id)
    allowed = turn.platform == "local" or bool(official and official.is_admin)
    people.record(db, now, turn.platform, turn.user_id, "重新解析", "", allowed)
    if not allowed:
        return "只有管理员可以重新解析文件。此次操作已记录。"
    if inbox is None:
        return "未配置收件箱目录（配置项 [store] inbox），无法重新解析。"
    waiting = inbox.request_rescan()
    if not waiting:
        return "收件箱中没有待处理的文件。"
    return (f"已安排重新解析收件箱中的 {waiting} 个文件，将在后台逐个入库（不影响问答）。"
            f"稍后发送“文件列表”查看结果。")


def history(db, number: int, document: int | None = None) -> str:
    """The task numbered `number` across versions, per document when several plans have it (the revised
    ones first, at most HISTORY_DOCS)."""
    found, total = document_queries.task_versions(db, number, document=document, limit=HISTORY_DOCS)
    if not found:
        return f"没有找到第{number}项任务" + (f"（文件{document}）。" if document else "。")
    if total == 1:
        return _history_of(number, found[0][1])
    titles = queries.document_titles(db, (d for d, _ in found))
    note = (f"\n\n另有{total - len(found)}个文件也有第{number}项，请注明文件编号，如“{found[0][0]}-{number}原来的整改时限”。"
            if total > len(found) else "")
    return "\n\n".join(f"〔文件{d}〕《{titles[d]}》\n{_history_of(number, vs)}" for d, vs in found) + note


def _history_of(number: int, versions: list[dict]) -> str:
    if len(versions) == 1:
        v = versions[0]
        gone = "该项已在新版本中撤销。" if v["status"] == "withdrawn" else ""
        return f"第{number}项只有一个版本（第{v['version']}版），整改时限：{v['deadline_text'] or '无'}。{gone}"
    lines = [f"**第{number}项的历次版本**"]
    for v in versions:
        dues = "、".join(sorted({m["due"] for m in v["milestones"]})) or "无日期"
        state = "（已撤销）" if v["status"] == "withdrawn" else ""
        lines.append(f"- 第{v['version']}版{state}（当时编号{v['number']}）：整改时限“{v['deadline_text'] or '无'}”；"
                     f"时限节点：{dues}")
    return "\n".join(lines)


def reads_only(text: str) -> bool:
    """文件列表 and 原来的第N项: replies made from the store alone (whoever asks), kept as answers are."""
    return bool(_LIST.match(text) or _HISTORY.search(text))


def handle(db, directory, inbox, turn, now) -> str | None:
    """A reply if the text is one of these commands, else None."""
    if m := _LIST.match(turn.text):
        return list_documents(db, int(m.group("page") or 1))
    if _RESCAN.match(turn.text):
        return rescan(db, directory, inbox, turn, now)
    m = _HISTORY.search(turn.text)
    if m and (n := cn_number(m.group("n"))) is not None:
        doc = m.group("doc") or m.group("fdoc")
        return history(db, n, int(doc) if doc else None)
    return None
