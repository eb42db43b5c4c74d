"""`duban ingest FILE…`: parse and store files, with a progress bar and a summary table."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from knowledge.ingest import ingest_plan, sha256_of
from parser.errors import DocumentError
from parser.plan import parse_document

_STATUS = {"new": "新文件", "new_version": "新版本", "unchanged": "未变化（已入库）"}


def ingest_one(path: Path, db, directory, year=None):
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(f"无法读取文件 {path}：{e.strerror}") from e
    plan = parse_document(data, path.name, year=year, directory=directory)
    return ingest_plan(db, plan, sha256_of(data), directory=directory)


def ingest_files(paths: list[str], db, directory, year=None) -> int:
    console = Console(stderr=False)
    results = []
    with Progress(console=console, transient=True, disable=len(paths) < 2) as progress:
        bar = progress.add_task("解析入库", total=len(paths))
        for p in paths:
            try:
                results.append((p, ingest_one(Path(p), db, directory, year), None))
            except DocumentError as e:
                results.append((p, None, str(e)))
            progress.advance(bar)
    table = Table(title="入库结果")
    for col in ("文件", "状态", "版本", "任务", "时限节点", "提示"):
        table.add_column(col)
    for p, r, err in results:
        if r is None:
            table.add_row(Path(p).name, "[red]失败[/red]", "", "", "", err)
        else:
            table.add_row(Path(p).name, _STATUS[r.status], str(r.version), str(r.tasks), str(r.milestones),
                          "；".join(r.warnings[:3]))
    console.print(table)
    failed = [e for _, r, e in results if r is None]
    if failed and len(paths) == 1:
        raise DocumentError(failed[0])
    return 1 if failed else 0
