"""Change notices: after a new version of a plan, each affected unit gets one message saying what
changed for it (new task, date moved earlier or later, unit added or removed, task withdrawn)."""
from __future__ import annotations

from collections import defaultdict

from parser import ROLE_LABELS, ROLES

from .render import task_label as label


def _when(before: str | None, after: str | None) -> str:
    if before and after:
        return "提前" if after < before else "推迟"
    return ""


def _units_of(item: dict) -> list[str]:
    return [u for r in ROLES if r != "supervising_leaders" for u in item.get("units", {}).get(r, [])]


def lines_by_unit(diff: dict, new_units: dict[tuple, dict], old_units: dict[tuple, dict],
                  expand) -> dict[str, list[str]]:
    """{unit: [notice lines]} from a version diff. `new_units`/`old_units` map (section, number) to
    units by role; `expand` turns a collective into its member units."""
    out: dict[str, list[str]] = defaultdict(list)

    def tell(units, line):
        for u in expand(units):
            if line not in out[u]:
                out[u].append(line)

    for t in diff["added"]:
        units = new_units.get((t["section"], str(t["number"])), {})
        for role in ROLES[1:]:
            for u in units.get(role, []):
                tell([u], f"新增任务：{label(t['section'], str(t['number']))} {t['title'][:40]}"
                          f"（您单位为{ROLE_LABELS[role]}）")
    for t in diff["withdrawn"]:
        units = old_units.get((t["section"], str(t["number"])), {})
        tell([u for r in ROLES[1:] for u in units.get(r, [])],
             f"任务已撤销：原{label(t['section'], str(t['number']))} {t['title'][:40]}")
    for t in diff["changed"]:
        key = (t["section"], str(t["number"]))
        units = new_units.get(key, {})
        everyone = [u for r in ROLES[1:] for u in units.get(r, [])]
        name = label(t["section"], str(t["number"]))
        dated = any(c["field"].startswith("milestone_") for c in t["changes"])
        for c in t["changes"]:
            f = c["field"]
            if f == "deadline_text" and dated:
                continue  # the moved dates below say it precisely, and only to the units concerned
            if f == "milestone_due":
                tell(c.get("units") or everyone, f"{name}“{c['text'][:30]}”时限由 {c['before']} 调整为 {c['after']}"
                                                 f"（{_when(c['before'], c['after'])}）")
            elif f == "milestone_added":
                tell(c.get("units") or everyone, f"{name}新增时限节点：{c['after']} {c['text'][:30]}")
            elif f == "milestone_removed":
                tell(c.get("units") or everyone, f"{name}取消时限节点：{c['before']} {c['text'][:30]}")
            elif f == "deadline_text":
                tell(everyone, f"{name}整改时限由“{c['before'] or '无'}”改为“{c['after'] or '无'}”")
            elif f == "number":
                tell(everyone, f"原{label(t['section'], str(c['before']))}调整为{name}")
            elif f in ROLES and f != "supervising_leaders":
                what = "新增为" if c["after"] == "added" else "不再是"
                tell([c["unit"]], f"您单位{what}{name}的{ROLE_LABELS[f]}")
    return dict(out)


def notice_messages(title: str, version: int, lines: dict[str, list[str]]) -> list[dict]:
    msgs = []
    for unit, ls in sorted(lines.items()):
        body = "\n".join([f"### 方案调整通知：{unit}", f"《{title}》已更新为第{version}版，涉及您单位的变化：",
                          *[f"- {x}" for x in ls], "请按新版本执行。已报送的进展和销号保持有效。"])
        msgs.append({"unit": unit, "kind": "notice", "title": f"方案调整通知：{unit}", "body": body,
                     "reminders": []})
    return msgs


def build_notices(db, title: str, version: int, diff: dict, old, new) -> list[dict]:
    """The `notices` hook of knowledge.ingest.ingest_plan: one message per affected unit."""
    from knowledge.directory import expand_units
    from knowledge.outbox import channels

    lines = lines_by_unit(diff, {(s.section, s.number): s.units for s in new},
                          {(s.section, s.number): s.units for s in old}, lambda us: expand_units(db, us))
    chans = channels(db)
    msgs = notice_messages(title, version, lines)
    for m in msgs:
        m["status"] = "pending" if m["unit"] in chans else "no_channel"
    return msgs
