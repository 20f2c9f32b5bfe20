"""Date parsing for Chinese official documents: 2023-06-30, 2023/6/30, 2023年6月30日, 二〇二三年五月二十二日."""
from __future__ import annotations

import re
from datetime import date

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "两": 2}

DATE_RE = re.compile(r"((?:19|20)\d{2})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?")
CN_DATE_RE = re.compile(r"([〇○零一二三四五六七八九O]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")


def cn_number(s: str) -> int:
    """一百零五 → 105, 二十八 → 28, 十二 → 12, 七 → 7; digit by digit when there is no 十/百 (二〇二三 → 2023)."""
    if not re.search("[十百]", s):
        return int("".join(str(_CN_DIGITS[c]) for c in s))
    total, cur = 0, 0
    for c in s:
        if c in _CN_DIGITS:
            cur = _CN_DIGITS[c]
        elif c == "百":
            total += (cur or 1) * 100
            cur = 0
        elif c == "十":
            total += (cur or 1) * 10
            cur = 0
    return total + cur


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_date(s: str) -> str | None:
    """Return the first valid date in `s` as YYYY-MM-DD, or None."""
    for m in DATE_RE.finditer(s):
        iso = _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if iso:
            return iso
    for m in CN_DATE_RE.finditer(s):
        iso = _iso(cn_number(m.group(1)), cn_number(m.group(2)), cn_number(m.group(3)))
        if iso:
            return iso
    return None


def find_dates(s: str) -> list[tuple[int, int, str]]:
    """All valid dates in `s` as (start, end, iso)."""
    out = []
    for rx in (DATE_RE, CN_DATE_RE):
        for m in rx.finditer(s):
            iso = parse_date(m.group(0))
            if iso:
                out.append((m.start(), m.end(), iso))
    return sorted(out)
