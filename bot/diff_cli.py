"""`duban diff DOC [--from V --to V]` and `duban diff OLD_FILE NEW_FILE`."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from knowledge import cli_queries, versions
from knowledge.db import open_db
from parser.model import ROLE_LABELS
from parser.plan import parse_file

from .errors import UsageError
from .render import task_label as label

console = Console()
_FIELD = {"title": "标题", "deadline_text": "整改时限", "number": "编号", "milestone_due": "时限节点日期",
          "milestone_added": "新增时限节点", "milestone_removed": "取消时限节点", "milestone_units": "时限节点单位",
          **ROLE_LABELS}


def _doc(db, ref: str) -> tuple[int, int]:
    row = cli_queries.document_by_ref(db, ref)
    if not row:
        raise UsageError(f"没有找到文件“{ref}”；用 duban status 查看已入库文件的编号")
    return row


def compute(args) -> dict:
    if args.new is not None:
        old, new = Path(args.doc), Path(args.new)
        return versions.diff(versions.snaps_of_plan(parse_file(old)), versions.snaps_of_plan(parse_file(new)))
    db = open_db(args.db)
    doc_id, current = _doc(db, args.doc)
    to = args.to or current
    frm = args.from_ or to - 1
    have = cli_queries.version_numbers(db, doc_id)
    for v in (frm, to):
        if v not in have:
            raise UsageError(f"该文件没有第 {v} 版（现有：{'、'.join(map(str, sorted(have)))}）")
    return versions.diff(versions.snaps_of_version(db, doc_id, frm), versions.snaps_of_version(db, doc_id, to))


def cmd_diff(args) -> int:
    d = compute(args)
    if args.json:
        print(json.dumps(d, ensure_ascii=False, indent=1))
        return 0
    if not (d["added"] or d["withdrawn"] or d["changed"]):
        console.print("两个版本的任务没有差别。")
    for t in d["added"]:
        console.print(f"[green]新增[/green] {label(t['section'], str(t['number']))} {t['title']}")
    for t in d["withdrawn"]:
        console.print(f"[red]撤销[/red] {label(t['section'], str(t['number']))} {t['title']}")
    for t in d["changed"]:
        console.print(f"[yellow]变更[/yellow] {label(t['section'], str(t['number']))} {t['title']}")
        for c in t["changes"]:
            what = _FIELD.get(c["field"], c["field"])
            who = f"{c['unit']} " if c.get("unit") else ""
            text = f"“{c['text'][:30]}” " if c.get("text") else ""
            console.print(f"    {what}：{who}{text}{c['before'] or '—'} → {c['after'] or '—'}", markup=False)
    return 0


def register(sub) -> None:
    sp = sub.add_parser("diff", help="比较文件的两个版本，或两个文件")
    sp.add_argument("doc", help="已入库文件的编号或标题；或旧文件路径")
    sp.add_argument("new", nargs="?", help="新文件路径（比较两个文件时）")
    sp.add_argument("--from", dest="from_", type=int, help="旧版本号（默认当前版本的上一版）")
    sp.add_argument("--to", type=int, help="新版本号（默认当前版本）")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_diff)
