"""Who to contact at a unit, from the roster: "发改委的联络员是谁", "住建局联系电话"."""
from __future__ import annotations

from knowledge import people

_ORDER = {"负责人": 0, "联络员": 1, "督办领导": 2, "督办": 3, "管理员": 4}


def render_contacts(db, unit: str | None) -> str:
    if unit is None:
        return "请说明是哪个单位，例如：“发改委的联络员是谁”。"
    officials = sorted(people.officials_of_unit(db, unit), key=lambda o: (_ORDER.get(o.role, 9), o.id))
    if not officials:
        return f"花名册中没有{unit}的人员。请管理员导入花名册（duban roster import 文件）。"
    lines = [f"**{unit}**的联系人（花名册）："]
    for o in officials:
        lines.append(f"- {o.name}（{o.role}）")  # names only: anyone in a group may ask; numbers stay in the roster
    return "\n".join(lines)
