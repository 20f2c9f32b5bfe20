"""Metadata filters over replies: year or date range, department (folded), proposer, number; and a report
of what a filter matched and, when filters leave nothing, which one emptied the result.

Departments are folded against the names the index holds (see :mod:`index.departments`): an alias or the
canonical name (人社局), a prefix (民政 → 民政局, 住建 → 住房和城乡建设局), a part (社会保障), or a name the
alias table lacks as written in the letters (政法委). A place in front (海门区民政局, 海门民政) keeps to the
replies signed in that place. The same rules serve every filter: the API, the CLI, the web chat.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from index.departments import department_table, place_of, same_place, split_place
from index.errors import DafuError
from index.records import Reply


def involved_departments(reply: Reply) -> set[str]:
    """Canonical names of the departments a reply involves: lead, co-handling and the signing unit."""
    table = department_table()
    names = {table.canonical(u) for u in reply.units}
    if reply.signer:
        names.add(table.canonical(reply.signer))
    return names


@dataclass(frozen=True)
class DeptTerm:
    """A department as a user typed it, folded once: the place in front (or ''), the table's canonical
    names it can mean, and the bare rest (for names the alias table does not know)."""

    raw: str
    place: str
    names: frozenset[str]
    rest: str


@lru_cache(maxsize=4096)
def dept_term(raw: str) -> DeptTerm:
    table = department_table()
    place, rest = split_place(raw, table)
    return DeptTerm(raw.strip(), place, table.expand(rest), re.sub(r"\s+", "", rest))


def reply_place(reply: Reply) -> str:
    """Where the reply was signed (海门区), from the signing unit or the letterhead."""
    p = place_of(reply.signer or "")
    if p:
        return p
    head = (reply.reply_text or reply.text or "")[:80].split("\n")
    return next((q for line in head if (q := place_of(line.strip()))), "")


def term_hits(term: DeptTerm, reply: Reply) -> set[str]:
    """The reply's departments (canonical) that `term` names; empty when none or the place differs."""
    involved = involved_departments(reply)
    hit = involved & term.names
    if not hit and term.rest:
        known = department_table().aliases
        canon = department_table().canonical(term.rest)
        hit = {n for n in involved if n not in known and
               (n == canon or n.startswith(term.rest) or (len(term.rest) >= 2 and term.rest in n))}
    if hit and term.place and not same_place(term.place, reply_place(reply)):
        return set()
    return hit


def official_name(reply: Reply, canonical: str) -> str:
    """The department as this reply's place calls it: 海门区 + 民政局 (the signer's place, when known)."""
    place = reply_place(reply)
    return f"{place}{canonical}" if place and not canonical.startswith(place) else canonical


@dataclass
class Filters:
    year_from: int | None = None
    year_to: int | None = None
    date_from: str | None = None  # YYYY-MM-DD
    date_to: str | None = None
    departments: list[str] = field(default_factory=list)
    proposer: str | None = None
    number: str | None = None

    def __post_init__(self) -> None:
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise DafuError(f"year range {self.year_from}–{self.year_to} is empty: year_from must not be after year_to")
        for name in ("date_from", "date_to"):
            v = getattr(self, name)
            if v and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                raise DafuError(f"{name} {v!r} is not a date like 2023-06-30")

    def is_empty(self) -> bool:
        return not any([self.year_from, self.year_to, self.date_from, self.date_to, self.departments, self.proposer, self.number])

    def matches(self, reply: Reply) -> bool:
        return all(test(reply) for _, _, _, test in self.parts())

    def parts(self) -> list[tuple[str, str, list[str], Any]]:
        """The filter as separate conditions: (key, label, the request keys that set it, predicate)."""
        out: list[tuple[str, str, list[str], Any]] = []
        if self.year_from or self.year_to:
            a, b = self.year_from, self.year_to
            label = f"年份 {a}" if a == b else f"年份 {a or '…'}–{b or '…'}"
            out.append(("year", label, ["year_from", "year_to"], self._year_ok))
        if self.date_from or self.date_to:
            out.append(("date", f"答复日期 {self.date_from or '…'} 至 {self.date_to or '…'}", ["date_from", "date_to"],
                        self._date_ok))
        if self.departments:
            terms = [dept_term(d) for d in self.departments if d and d.strip()]
            out.append(("departments", f"部门 {'、'.join(t.raw for t in terms)}", ["departments"],
                        lambda r, terms=terms: any(term_hits(t, r) for t in terms)))
        if self.proposer:
            out.append(("proposer", f"提出者 {self.proposer.strip()}", ["proposer"],
                        lambda r: self.proposer.strip() in r.proposer))
        if self.number:
            out.append(("number", f"编号 {self.number.strip()}", ["number"], self._number_ok))
        return out

    def _year_ok(self, reply: Reply) -> bool:
        year = reply.year
        if self.year_from and (year is None or year < self.year_from):
            return False
        return not (self.year_to and (year is None or year > self.year_to))

    def _date_ok(self, reply: Reply) -> bool:
        d = reply.reply_date or reply.signed_date
        if self.date_from and (not d or d < self.date_from):
            return False
        return not (self.date_to and (not d or d > self.date_to))

    def _number_ok(self, reply: Reply) -> bool:
        want = self.number.strip()
        nums = re.findall(r"\d+", want)
        return want == reply.number or (len(nums) == 1 and nums[0].lstrip("0") in
                                        [n.lstrip("0") for n in re.findall(r"\d+", reply.number)])

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def filter_report(filters: Filters | None, replies: Iterable[Reply]) -> dict[str, Any] | None:
    """What the filters select in `replies`, for the filter area and for a not-found answer.

    ``departments``: per typed name, the official names it matched ("民政" → 海门区民政局、通州区民政局) and how
    many replies; ``matched``: replies passing every filter; when that is 0, ``empty`` names the filter that
    emptied the result (the one whose removal brings back the most replies), with ``drop`` (the request keys
    to remove) and ``without`` (replies then); ``message`` says it in one sentence."""
    if filters is None or filters.is_empty():
        return None
    replies = list(replies)
    parts = filters.parts()
    passes = [[test(r) for r in replies] for _, _, _, test in parts]
    every = [all(col) for col in zip(*passes)] if passes else [True] * len(replies)
    depts = []
    for raw in filters.departments:
        if not raw or not raw.strip():
            continue
        t = dept_term(raw)
        names: dict[str, int] = {}
        n = 0
        for r in replies:
            hit = term_hits(t, r)
            if hit:
                n += 1
                for c in sorted(hit):
                    o = official_name(r, c)
                    names[o] = names.get(o, 0) + 1
        depts.append({"term": t.raw, "matched": sorted(names, key=lambda k: (-names[k], k)), "replies": n})
    report: dict[str, Any] = {"matched": sum(every), "total": len(replies), "departments": depts, "empty": None}
    lines = [f"{d['term']} → {'、'.join(d['matched'])}" if d["matched"] else f"{d['term']} → 索引中没有这个部门"
             for d in depts]
    if report["matched"] == 0 and replies:
        options = []
        for i, (key, label, keys, _) in enumerate(parts):
            others = [p for j, p in enumerate(passes) if j != i]
            without = sum(all(col) for col in zip(*others)) if others else len(replies)
            options.append({"filter": key, "label": label, "drop": keys, "without": without, "alone": sum(passes[i])})
        options.sort(key=lambda o: (-o["without"], o["alone"]))
        best = options[0] if options and options[0]["without"] > 0 else None
        if best is None:
            best = {"filter": "all", "label": "全部筛选条件", "drop": sorted({k for o in options for k in o["drop"]}),
                    "without": len(replies), "alone": 0}
        report["empty"] = {**best, "options": options}
        if best["filter"] == "all":
            lines.append(f"筛选后没有答复：这些条件不能同时满足；去掉全部筛选条件有 {best['without']} 件答复。")
        else:
            why = "没有匹配的答复" if best["alone"] == 0 else "与其他条件不能同时满足"
            lines.append(f"筛选后没有答复：「{best['label']}」{why}，去掉这个条件有 {best['without']} 件答复。")
    report["message"] = "\n".join(lines)
    return report


def without(filters: Filters, keys: Iterable[str]) -> Filters | None:
    """`filters` with the request keys in `keys` removed (None when nothing is left)."""
    d = {k: v for k, v in filters.to_dict().items() if k not in set(keys)}
    f = Filters(**d)
    return None if f.is_empty() else f
