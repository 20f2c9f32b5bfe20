"""Metadata filters over replies: year or date range, department (aliases folded), proposer, number."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.departments import department_table
from index.errors import DafuError
from index.records import Reply


def involved_departments(reply: Reply) -> set[str]:
    """Canonical names of the departments a reply involves: lead, co-handling and the signing unit."""
    table = department_table()
    names = {table.canonical(u) for u in reply.units}
    if reply.signer:
        names.add(table.canonical(reply.signer))
    return names


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
        year = reply.year
        if self.year_from and (year is None or year < self.year_from):
            return False
        if self.year_to and (year is None or year > self.year_to):
            return False
        d = reply.reply_date or reply.signed_date
        if self.date_from and (not d or d < self.date_from):
            return False
        if self.date_to and (not d or d > self.date_to):
            return False
        if self.departments:
            table = department_table()
            if not {table.canonical(x) for x in self.departments} & involved_departments(reply):
                return False
        if self.proposer and self.proposer.strip() not in reply.proposer:
            return False
        if self.number:
            want = self.number.strip()
            nums = re.findall(r"\d+", want)
            if want != reply.number and not (len(nums) == 1 and nums[0].lstrip("0") in
                                             [n.lstrip("0") for n in re.findall(r"\d+", reply.number)]):
                return False
        return True

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}
