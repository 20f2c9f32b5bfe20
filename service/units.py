"""Departments as the letter writes them, for what a reader sees.

The record keeps canonical names (``index.departments``: 教体局 and 教育局 fold to 教育体育局) so that
filters and facets match however a name is typed. An answer, though, should name the unit the way the
letter does — "青川市教育局", "县行政审批局" — not the alias table's canonical form, which belongs to one
city's set of departments. Matching stays canonical; only the display changes.
"""
from __future__ import annotations

import re

from index.departments import department_table
from index.records import Reply
from service.gazetteer import signer_places

_LEVEL = "市区县"
_UNIT_END = "局委办会院所队站厅处室团联协馆司"
_UNDER_BODY = re.compile(r"(?:国家[\u4e00-\u9fff]{2,10}总局|[\u4e00-\u9fff]{2,14}(?:集团|公司))[\u4e00-\u9fff]{1,10}[省市区县州]|国网[\u4e00-\u9fff]{1,10}")
_CO_LINE = re.compile(r"^[ \t\u3000]*(?:协办|会办)(?:单位|部门)?[ \t\u3000]*[:：][ \t\u3000]*([^\n]+)", re.M)
_PLACE_LINE = re.compile(r"[\u4e00-\u9fff]{1,12}[省市区县州旗盟]")


def _written(text: str, canonical: str, signer: str, places: tuple[str, ...] = ()) -> str:
    table = department_table()
    if not canonical:
        return ""
    if signer and table.canonical(signer) == canonical:
        return re.sub(r"\s+", "", signer)
    # the fullest name the letter uses (人力资源和社会保障局 before 人社局); not a bare stem (人社) or 教育部门
    pool = {canonical, *table.aliases.get(canonical, [])}
    names = sorted((n for n in pool if len(n) >= 2 and not n.endswith("部门")
                    and (n[-1] in _UNIT_END or not any(o != n and o.startswith(n) for o in pool))),
                   key=len, reverse=True)
    for name in names:
        i = text.find(name)
        if i < 0:
            continue
        ls = text.rfind("\n", 0, i) + 1
        le = text.find("\n", i)
        line = text[ls:len(text) if le < 0 else le].strip()
        if line.endswith(name) and _PLACE_LINE.fullmatch(line[: -len(name)]):  # a letterhead: 东湖区城市管理局
            return line
        # a unit under a national body, named with it: 国家税务总局松澜县税务局, 国网XX市供电公司
        head = re.split(r"[、，,：:；;（(\s和与及]", text[max(0, i - 24):i])[-1]
        if _UNDER_BODY.fullmatch(head):
            return head + name
        # written with the letter's own place in front (茗坪县民政局 in a letter signed in 茗坪县)
        if (place := next((p for p in places if head.endswith(p)), "")):
            return place + name
        return (text[i - 1] if i > 0 and text[i - 1] in _LEVEL else "") + name
    return canonical


def written_units(reply: Reply) -> tuple[str, list[str]]:
    """(lead unit, co-handling units) as the letter names them: the signing unit when it is the lead,
    else the first alias of each unit found in the letter (with a 市/区/县 in front when written so),
    else the canonical name. A few substring searches per unit: cheap enough for the ≤ 15 replies an
    answer shows, so nothing is cached (a cache keyed by the letter would hold thousands of texts)."""
    text = reply.text
    table = department_table()
    # a 协办 line of the header lists them as the letter writes them: take each from there
    listed: dict[str, str] = {}
    if m := _CO_LINE.search(text, 0, reply.reply_span[0] + 400 if reply.reply_span[1] else 1500):
        for piece in re.split(r"[、，,；;\s]+", m.group(1)):
            if piece:
                listed.setdefault(table.canonical(piece), piece)
    places = tuple(sorted({re.sub(r"^中共", "", p) for p in signer_places(reply.signer or "")}, key=len, reverse=True))
    return _written(text, reply.lead_unit or "", reply.signer or ""), [
        listed.get(u) or _written(text, u, "", places) for u in reply.co_units]
