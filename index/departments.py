"""Department names folded through the alias table kept in ``index/data/departments.json``.

A name a user types is folded to canonical names by :meth:`DepartmentTable.expand`: exactly (an alias or a
canonical name), else as a prefix of one (民政 → 民政局, 住建 → 住建局 → 住房和城乡建设局), else as a part of one
(社会保障 → 人力资源和社会保障局). A place in front (海门区民政局, 海门民政) is split off by
:func:`split_place` so that filters can keep to that place's units.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Iterator

# a bare level in front of a department: 区民政局, 市财政局
_SIMPLE_PREFIX = re.compile(r"^(?:区|市|县)")
# place names in front of a department, with the levels named: 南通市海门区民政局 -> city 南通市, district 海门区
_PLACE = re.compile(r"^(?P<city>[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|自治州|盟))?(?P<district>[\u4e00-\u9fff]{1,6}?(?:区|县|旗))?")
_LEVEL_ENDS = "省市区县州旗盟"
MAX_PREFIX = 20  # 南通市通州区, 新疆维吾尔自治区伊犁哈萨克自治州: chains of place names in front of a department
MAX_BARE_PLACE = 3  # 海门民政, 通州教育: a place written without 区/县 in front of a department
MIN_PART = 2  # shortest typed name folded by prefix or as a part (one character would match half the table)
# the youth league writes its place inside its name: 共青团蔹阳县委员会 is the 团县委 of 蔹阳县
_LEAGUE = re.compile(r"^(?:中国)?共青团[\u4e00-\u9fff]{1,12}?[省市区县州旗](?:委员会|委)$")


@dataclass(frozen=True, eq=False)  # hashed by identity (expand() results are cached per table)
class DepartmentTable:
    canonical_of: dict[str, str]  # alias or canonical -> canonical
    aliases: dict[str, list[str]]  # canonical -> aliases

    def canonical(self, name: str) -> str:
        """Canonical name for `name`; names the table does not know come back cleaned but unchanged."""
        n = re.sub(r"\s+", "", name or "").strip("，,;；、。")
        if not n:
            return ""
        if n in self.canonical_of:
            return self.canonical_of[n]
        if _LEAGUE.match(n):
            return self.canonical_of.get("共青团", "共青团")
        i = next(self.known_tails(n), None)
        return self.canonical_of[n[i:]] if i is not None else n

    def known_tails(self, unit: str) -> Iterator[int]:
        """Where a name the table knows may begin after a place in front (东湖区|城市管理局 → 3): every prefix ending
        in a level character whose rest the table knows, shortest first (so 泠岙区|城市管理局 before 泠岙区城市|管理局)."""
        for i, ch in enumerate(unit[:MAX_PREFIX], start=1):
            if ch in _LEVEL_ENDS and unit[i:] in self.canonical_of:
                yield i

    def known(self, name: str) -> bool:
        return self.canonical(name) in self.aliases

    def expand(self, term: str, parts: bool = True) -> frozenset[str]:
        """Canonical names `term` can mean: an exact alias or name; else every name or alias it begins
        (民政 → 民政局; 卫健 → 卫健委 → 卫生健康委员会); else (with `parts`) every one it is part of (社会保障)."""
        return _expand(self, re.sub(r"\s+", "", term or "").strip("，,;；、。"), parts)

    @cached_property
    def _names_longest_first(self) -> tuple[str, ...]:
        return tuple(sorted(self.canonical_of, key=len, reverse=True))

    def all_names(self) -> list[str]:
        """Every alias and canonical name, longest first (for matching inside text)."""
        return list(self._names_longest_first)

    def find_spans(self, text: str) -> list[tuple[int, int, str]]:
        """Every department named in `text`: (start, end, canonical), the longest alias winning where names overlap,
        in order of appearance."""
        found: list[tuple[int, int, str]] = []
        for name in self.all_names():
            if len(name) < 2 or name not in text:  # a substring test first: most names are absent
                continue
            for m in re.finditer(re.escape(name), text):
                if any(s < m.end() and m.start() < e for s, e, _ in found):
                    continue
                found.append((m.start(), m.end(), self.canonical_of[name]))
        return sorted(found)

    def find_in(self, text: str) -> list[str]:
        """Canonical departments named anywhere in `text` (longest alias wins), in order of appearance."""
        return list(dict.fromkeys(c for _, _, c in self.find_spans(text)))


@lru_cache(maxsize=8192)
def _expand(table: DepartmentTable, t: str, parts: bool = True) -> frozenset[str]:
    if not t:
        return frozenset()
    c = table.canonical(t)
    if c in table.aliases:
        return frozenset([c])
    bare = _SIMPLE_PREFIX.sub("", t, count=1) if len(t) > MIN_PART else t
    if len(bare) < MIN_PART:
        return frozenset()
    names = table.all_names()
    found = frozenset(table.canonical_of[n] for n in names if n.startswith(bare))
    if found or not parts:
        return found
    return frozenset(table.canonical_of[n] for n in names if bare in n)


def split_place(term: str, table: "DepartmentTable | None" = None) -> tuple[str, str]:
    """('海门区', '民政局') for 海门区民政局 / 南通市海门区民政局 (the lowest level named), ('海门', '民政') for
    海门民政; ('', term) when no place is in front or the rest would not be a department."""
    table = table or department_table()
    t = re.sub(r"\s+", "", term or "")
    if t in table.canonical_of:
        return "", t  # the alias table knows the whole name (区教育体育局)
    m = _PLACE.match(t)
    if m and m.end() and m.end() < len(t) and table.expand(t[m.end():]):
        return (m.group("district") or m.group("city")), t[m.end():]
    for i in range(MIN_PART, min(MAX_BARE_PLACE, len(t) - MIN_PART) + 1):  # 海门民政: a place without 区/县
        if table.expand(t[i:], parts=False) and not table.expand(t[:i]):
            return t[:i], t[i:]
    return "", t


def place_of(unit: str) -> str:
    """The lowest place level in an official unit name: 南通市海门区民政局 -> 海门区, 南通市民政局 -> 南通市.
    Where the department's own name holds a level character (泠岙区|城市管理局, not 泠岙区城市|管理局), the place
    ends where a name the table knows begins."""
    t = re.sub(r"\s+", "", unit or "")
    for i in department_table().known_tails(t):  # the prefixes canonical() reads as a place, shortest first
        if m := _PLACE.fullmatch(t[:i]):
            return m.group("district") or m.group("city") or ""
    m = _PLACE.match(t)
    if not m or not m.end() or m.end() >= len(unit.strip()):
        return ""
    return m.group("district") or m.group("city") or ""


def same_place(wanted: str, place: str) -> bool:
    """海门 / 海门区 / 南通市海门区 name the same place as 海门区."""
    if not wanted or not place:
        return False
    short = lambda p: re.sub(r"(?:省|自治区|市|自治州|盟|区|县|旗)$", "", p)  # noqa: E731
    return short(wanted) == short(place) or place.endswith(wanted) or wanted.endswith(place)


@lru_cache(maxsize=1)
def department_table() -> DepartmentTable:
    raw = json.loads(resources.files("index").joinpath("data/departments.json").read_text("utf-8"))
    canonical_of: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}
    for canon, al in raw["departments"].items():
        aliases[canon] = list(al)
        canonical_of[canon] = canon
        for a in al:
            canonical_of.setdefault(a, canon)
    return DepartmentTable(canonical_of, aliases)


def split_units(value: str) -> list[str]:
    """Split a list of units written with ; ； 、 , ， or spaces between them."""
    parts = re.split(r"[;；、,，/\s]+", value or "")
    return [p for p in (x.strip() for x in parts) if p]
