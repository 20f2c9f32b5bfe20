"""The web chat's form inputs as API filters: shared by the 问答, 答复浏览 and 跟踪 tabs."""
from __future__ import annotations

from typing import Any

ANY = "不限"  # the choice that sets no filter (years, districts)


def as_int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "", ANY) else None
    except (TypeError, ValueError):
        return None


def make_filters(year_from: Any = None, year_to: Any = None, departments: Any = None, proposer: Any = None) -> dict:
    """The filters dict of the API (only the keys that are set; a reversed year range is swapped)."""
    f: dict[str, Any] = {}
    y1, y2 = as_int(year_from), as_int(year_to)
    if y1 and y2 and y1 > y2:
        y1, y2 = y2, y1
    if y1:
        f["year_from"] = y1
    if y2:
        f["year_to"] = y2
    depts = [departments] if isinstance(departments, str) else list(departments or [])
    depts = [d.strip() for d in depts if d and d.strip()]
    if depts:
        f["departments"] = depts
    if proposer and str(proposer).strip():
        f["proposer"] = str(proposer).strip()
    return f
