"""Importing the roster of officials (CSV or .xlsx: 姓名, 手机, 钉钉userId, 企业微信userid, 单位, 角色)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from knowledge import people

_HEADERS = {"姓名": "name", "手机": "mobile", "手机号": "mobile", "单位": "unit", "角色": "role"}


def _headers() -> dict[str, str]:
    """Column title → field; each platform in the registry adds its user-id column (→ "<platform>_id")."""
    from bot.platforms.registry import roster_headers
    return {**_HEADERS, **{h: f"{name}_id" for h, name in roster_headers().items()}}


class RosterError(Exception):
    pass


def _rows(path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".xlsx":
        import openpyxl
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many types for a bad file
            raise RosterError(f"无法读取 Excel 花名册 {path.name}：{e}") from e
        return [["" if c is None else str(c).strip() for c in row] for row in wb.active.iter_rows(values_only=True)]
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterError(f"花名册 {path.name} 不是 UTF-8 或 GBK 编码的 CSV")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def load_roster(path: str | Path, directory) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise RosterError(f"找不到花名册文件 {path}")
    rows = [r for r in _rows(path) if any(r)]
    if not rows:
        raise RosterError(f"花名册 {path.name} 是空的")
    headers = _headers()
    cols = {i: headers.get(h.replace(" ", "").lower() if "userid" in h.lower() else h.replace(" ", ""))
            for i, h in enumerate(rows[0])}
    if not {"name", "unit"} <= set(cols.values()):
        raise RosterError("花名册第一行应为表头：姓名, 手机, 钉钉userId, 企业微信userid, 单位, 角色")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        rec = {cols[i]: v for i, v in enumerate(row) if cols.get(i) and v}
        if not rec.get("name") or not rec.get("unit"):
            raise RosterError(f"花名册第 {n} 行缺少姓名或单位")
        unit, known = directory.resolve(rec["unit"])
        if not known:
            raise RosterError(f"花名册第 {n} 行：单位“{rec['unit']}”不在单位名录中")
        rec["unit"] = unit
        rec["role"] = rec.get("role") or "联络员"
        if rec["role"] not in people.ROLES:
            raise RosterError(f"花名册第 {n} 行：角色应为 {'/'.join(people.ROLES)} 之一")
        out.append(rec)
    return out
