"""Filter masks per field value, computed once per loaded index instead of once per reply per question.

A question with filters (year or date range, department, proposer, number) needs the set of replies
that pass. Looping over every reply and calling ``Filters.matches`` is O(replies) of Python per
question; here each field is prepared once, when the index is opened:

- year and date: one integer per reply, compared as arrays (vectorised, no Python loop);
- department: canonical name → replies involving it (lead, co-handling or signing unit);
- proposer: distinct proposer → replies (a filter matches by substring, over the distinct names);
- number: the number as written → replies, and each digit group (leading zeros dropped) → replies.

``mask(filters)`` gives exactly the replies ``service.filters.Filters.matches`` accepts
(tests/index/test_facets.py checks both agree on the dev corpus).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Protocol

import numpy as np

from index.departments import department_table, place_of, same_place, split_place

_DIGITS = re.compile(r"\d+")


class FilterLike(Protocol):
    year_from: int | None
    year_to: int | None
    date_from: str | None
    date_to: str | None
    departments: list[str]
    proposer: str | None
    number: str | None


@dataclass
class ReplyMeta:
    """The fields filters and retrieval read, without the letter's text (one per reply, stored per segment)."""

    year: int = 0  # 0: unknown
    date: str = ""  # reply_date or signed_date, ISO
    proposer: str = ""
    number: str = ""
    units: list[str] = field(default_factory=list)  # lead and co-handling units as written
    signer: str = ""
    lead_unit: str = ""
    kind: str = ""
    place: str = ""  # where the reply was signed (海门区): the signing unit's place, else the letterhead's

    def to_list(self) -> list:
        return [self.year, self.date, self.proposer, self.number, self.units, self.signer, self.lead_unit, self.kind,
                self.place]

    @classmethod
    def from_list(cls, v: list) -> "ReplyMeta":
        v = list(v) + [""] * (9 - len(v))
        m = cls(int(v[0] or 0), v[1] or "", v[2] or "", v[3] or "", list(v[4] or []), v[5] or "", v[6] or "", v[7] or "",
                v[8] or "")
        if not m.place and m.signer:  # stored before places were: the signing unit's is the usual one
            m.place = place_of(m.signer)
        return m

    @classmethod
    def of(cls, reply) -> "ReplyMeta":
        return cls(reply.year or 0, reply.reply_date or reply.signed_date or "", reply.proposer or "", reply.number or "",
                   list(reply.units), reply.signer or "", reply.lead_unit or "", reply.kind or "", reply_place(reply))


def reply_place(reply) -> str:
    """Where the reply was signed (海门区), from the signing unit or the letterhead (service.filters uses the same)."""
    p = place_of(reply.signer or "")
    if p:
        return p
    head = (reply.reply_text or reply.text or "")[:80].split("\n")
    return next((q for line in head if (q := place_of(line.strip()))), "")


@dataclass(frozen=True)
class DeptTerm:
    """A department as typed, folded: the place in front, the canonical names it can mean, the bare rest."""

    raw: str
    place: str
    names: frozenset[str]
    rest: str


def dept_term(raw: str) -> DeptTerm:
    table = department_table()
    place, rest = split_place(raw, table)
    return DeptTerm(raw.strip(), place, table.expand(rest), re.sub(r"\s+", "", rest))


def _date_int(d: str) -> int:
    digits = d[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def _positions(groups: dict) -> dict:
    return {k: np.asarray(v, np.int64) for k, v in groups.items()}


class ReplyFacets:
    """Per-field lookups over replies by position (the index's reply positions)."""

    def __init__(self, metas: Iterable[ReplyMeta]) -> None:
        metas = list(metas)
        self.metas = metas
        self.size = len(metas)
        self.years = np.array([m.year for m in metas], dtype=np.int32)
        self.dates = np.array([_date_int(m.date) for m in metas], dtype=np.int64)
        table = department_table()
        canon_cache: dict[str, str] = {}

        def canon(u: str) -> str:
            c = canon_cache.get(u)
            if c is None:
                c = canon_cache[u] = table.canonical(u)
            return c

        by_dept: dict[str, list[int]] = defaultdict(list)
        by_proposer: dict[str, list[int]] = defaultdict(list)
        by_number: dict[str, list[int]] = defaultdict(list)
        by_digits: dict[str, list[int]] = defaultdict(list)
        by_signer: dict[str, list[int]] = defaultdict(list)
        by_last: dict[str, list[int]] = defaultdict(list)
        by_place: dict[str, list[int]] = defaultdict(list)
        for i, m in enumerate(metas):
            by_place[m.place].append(i)
            names = {canon(u) for u in m.units}
            if m.signer:
                names.add(canon(m.signer))
                by_signer[m.signer].append(i)
            for n in names:
                by_dept[n].append(i)
            by_proposer[m.proposer].append(i)
            by_number[m.number].append(i)
            groups = _DIGITS.findall(m.number)
            for d in {g.lstrip("0") for g in groups}:
                by_digits[d].append(i)
            if groups:
                by_last[groups[-1].lstrip("0")].append(i)
        self.by_department = _positions(by_dept)
        self.by_proposer = _positions(by_proposer)
        self.by_number = _positions(by_number)
        self.by_digits = _positions(by_digits)
        self.by_signer = _positions(by_signer)
        self.by_last_number = _positions(by_last)  # the proposal number a reply is known by (第28号)
        self.by_place = _positions(by_place)
        self._max_proposer = max((len(p) for p in self.by_proposer), default=0)

    # -- what the corpus holds (learned from the index, for retrieval) -------------------------------
    def proposers(self, min_len: int = 2) -> set[str]:
        return {p for p in self.by_proposer if len(p) >= min_len}

    def signers(self) -> list[str]:
        return list(self.by_signer)

    def proposers_in(self, text: str, min_len: int = 2) -> set[str]:
        """Proposer names that occur in `text`: its substrings looked up (no pass over the names)."""
        if self._max_proposer == 0:
            return set()
        out = set()
        n = len(text)
        for i in range(n):
            for j in range(i + min_len, min(n, i + self._max_proposer) + 1):
                if text[i:j] in self.by_proposer:
                    out.add(text[i:j])
        return out

    # -- masks ---------------------------------------------------------------------------------------
    def _from(self, positions: Iterable[np.ndarray]) -> np.ndarray:
        m = np.zeros(self.size, bool)
        for p in positions:
            m[p] = True
        return m

    def department_mask(self, names: Iterable[str]) -> np.ndarray:
        """Replies involving one of the canonical `names` (lead, co-handling or signing unit)."""
        table = department_table()
        return self._from(self.by_department[c] for c in {table.canonical(x) for x in names} if c in self.by_department)

    def place_mask(self, place: str) -> np.ndarray:
        return self._from(pos for p, pos in self.by_place.items() if same_place(place, p))

    def term_hits(self, term: DeptTerm) -> dict[str, np.ndarray]:
        """For a typed department: canonical name → replies (positions) it names there, as
        service.filters.term_hits decides per reply (names the table gives; else the letters' own names;
        kept to the place typed in front)."""
        hits = {c: self.by_department[c] for c in term.names if c in self.by_department}
        named = self._from(hits.values())
        if term.rest:
            table = department_table()
            canon, rest = table.canonical(term.rest), term.rest
            for n, pos in self.by_department.items():
                if n not in table.aliases and (n == canon or n.startswith(rest) or (len(rest) >= 2 and rest in n)):
                    pos = pos[~named[pos]]  # only for replies the table's names did not hit
                    if len(pos):
                        hits[n] = np.union1d(hits.get(n, pos), pos)
        if term.place:
            ok = self.place_mask(term.place)
            hits = {c: pos[ok[pos]] for c, pos in hits.items()}
        return {c: pos for c, pos in hits.items() if len(pos)}

    def departments_mask(self, raws: Iterable[str]) -> np.ndarray:
        """Replies that a filter's typed departments select (any of them)."""
        return self._from(p for raw in raws if raw and raw.strip() for p in self.term_hits(dept_term(raw)).values())

    def proposer_mask(self, needle: str) -> np.ndarray:
        needle = needle.strip()
        return self._from(pos for p, pos in self.by_proposer.items() if needle in p)

    def number_mask(self, want: str) -> np.ndarray:
        want = want.strip()
        groups = _DIGITS.findall(want)
        parts = [self.by_number.get(want, np.zeros(0, np.int64))]
        if len(groups) == 1:
            parts.append(self.by_digits.get(groups[0].lstrip("0"), np.zeros(0, np.int64)))
        return self._from(parts)

    def part_masks(self, f: FilterLike) -> dict[str, np.ndarray]:
        """One mask per condition, keyed like Filters.parts(): year, date, departments, proposer, number."""
        out: dict[str, np.ndarray] = {}
        known = self.years > 0
        if f.year_from or f.year_to:
            m = np.ones(self.size, bool)
            if f.year_from:
                m &= (self.years >= f.year_from) & known
            if f.year_to:
                m &= (self.years <= f.year_to) & known
            out["year"] = m
        if f.date_from or f.date_to:
            m = np.ones(self.size, bool)
            dated = self.dates > 0
            if f.date_from:
                m &= (self.dates >= _date_int(f.date_from)) & dated
            if f.date_to:
                m &= (self.dates <= _date_int(f.date_to)) & dated
            out["date"] = m
        if f.departments:
            out["departments"] = self.departments_mask(f.departments)
        if f.proposer:
            out["proposer"] = self.proposer_mask(f.proposer)
        if f.number:
            out["number"] = self.number_mask(f.number)
        return out

    def mask(self, f: FilterLike) -> np.ndarray:
        """Replies (bool per position) that pass the filters; the same as Filters.matches for each."""
        m = np.ones(self.size, bool)
        for part in self.part_masks(f).values():
            m &= part
        return m
