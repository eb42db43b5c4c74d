"""`duban remove DOC`: take a document out of answers and reminders (its history and audit stay)."""
from __future__ import annotations

from knowledge import documents
from knowledge.db import open_db

from . import clock
from .errors import UsageError


def cmd_remove(args) -> int:
    db = open_db(args.db)
    try:
        doc = documents.resolve(db, args.document)
    except LookupError as e:
        raise UsageError(str(e)) from None
    if not doc.active:
        print(f"文件{doc.id}《{doc.title}》已于 {doc.archived_at[:16].replace('T', ' ')} 移除，无需再次移除。")
        return 0
    documents.archive(db, doc.id, at=clock.now(), by="cli")
    print(f"已移除文件{doc.id}《{doc.title}》：其任务不再出现在回答和提醒中，进展、销号和操作记录保留。"
          f"重新导入该文件即可恢复。")
    return 0


def register(sub) -> None:
    sp = sub.add_parser("remove", help="移除一个文件（不再回答、不再提醒；记录保留）")
    sp.add_argument("document", help="文件编号（见“文件列表”）或标题")
    sp.set_defaults(func=cmd_remove)
