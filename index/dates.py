"""Date parsing for Chinese official documents: 2023-06-30, 2023/6/30, 2023年6月30日, 二〇二三年五月二十二日."""
from __future__ import annotations

import re
from datetime import date

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

DATE_RE = re.compile(r"((?:19|20)\d{2})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?")
CN_DATE_RE = re.compile(r"([〇○零一二三四五六七八九O]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")


def _cn_small(s: str) -> int:
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_DIGITS[s[1]]
    if s.endswith("十"):
        return _CN_DIGITS[s[0]] * 10
    if "十" in s:
        a, b = s.split("十")
        return _CN_DIGITS[a] * 10 + _CN_DIGITS[b]
    return _CN_DIGITS[s]


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
        y = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        iso = _iso(y, _cn_small(m.group(2)), _cn_small(m.group(3)))
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
