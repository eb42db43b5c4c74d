"""The bundled example plan, for a store created for a demo: loaded only into an empty store,
marked as an example (never reminded about), and retired by the first real ingest."""
from __future__ import annotations

from importlib import resources

from knowledge.ingest import ingest_plan, sha256_of
from parser import parse_document

EXAMPLE = "example_plan.txt"


def load_example(db, directory) -> str | None:
    """Load the example into an empty store (one that never held a document); None otherwise. The
    text returned says what was loaded and how to remove it."""
    if db.execute("SELECT count(*) FROM documents").fetchone()[0]:
        return None
    data = resources.files("bot").joinpath("data", EXAMPLE).read_bytes()
    plan = parse_document(data, EXAMPLE, directory=directory)
    result = ingest_plan(db, plan, sha256_of(data), directory=directory, example=True)
    return (f"《{plan.title}》（文件{result.document_id}，示例，不发送提醒）。导入正式文件时自动移除；"
            f"也可运行 duban remove {result.document_id}")
