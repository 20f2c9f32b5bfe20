"""Department names folded through the alias table kept in ``index/data/departments.json``."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

# Place-name prefixes in front of a department: 南通市通州区教育体育局 -> 教育体育局.
_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|自治州|州|盟))?(?:[\u4e00-\u9fff]{1,6}?(?:区|县|旗))?")
_SIMPLE_PREFIX = re.compile(r"^(?:区|市|县)")


@dataclass(frozen=True)
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
        for cand in (_PREFIX.sub("", n, count=1), _SIMPLE_PREFIX.sub("", n, count=1)):
            if cand in self.canonical_of:
                return self.canonical_of[cand]
            c2 = _SIMPLE_PREFIX.sub("", cand, count=1)
            if c2 in self.canonical_of:
                return self.canonical_of[c2]
        return n

    def known(self, name: str) -> bool:
        return self.canonical(name) in self.aliases

    @cached_property
    def _names_longest_first(self) -> tuple[str, ...]:
        return tuple(sorted(self.canonical_of, key=len, reverse=True))

    def all_names(self) -> list[str]:
        """Every alias and canonical name, longest first (for matching inside text)."""
        return list(self._names_longest_first)

    def find_in(self, text: str) -> list[str]:
        """Canonical departments named anywhere in `text` (longest alias wins), in order of appearance."""
        found: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for name in self.all_names():
            if len(name) < 2:
                continue
            for m in re.finditer(re.escape(name), text):
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                found.append((m.start(), self.canonical_of[name]))
        out: list[str] = []
        for _, c in sorted(found):
            if c not in out:
                out.append(c)
        return out


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
