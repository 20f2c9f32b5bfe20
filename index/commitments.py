"""Commitments: what a reply promises in its plan sentences (下一步工作打算), as typed records.

One commitment per plan-labelled sentence of the reply letter (labels from :mod:`index.labels`, carried by
the chunks' :class:`~index.records.Sentence` s). Each record holds the sentence's offsets into ``Reply.text``
(``reply.text[start:end] == text``), the measure, the target figures with their units, the due date when the
sentence (or its heading) states one, and the reply's department, district and topic. Districts come from
the letter itself (the signing unit, else the title), departments through the alias table: nothing here knows
one city's places.

The index builder writes these records to ``commitments.jsonl`` in every index version; linking them to
later replies is :mod:`service.track`'s job.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from index.departments import department_table
from index.records import Chunk, Reply
from index.textnorm import to_halfwidth

# -- figures -------------------------------------------------------------------------------------
# unit -> (group, factor to the group's base unit). Figures are comparable only within one group.
UNITS: dict[str, tuple[str, float]] = {
    "公里": ("length", 1.0), "千米": ("length", 1.0), "km": ("length", 1.0), "米": ("length", 0.001),
    "万平方米": ("area", 1e4), "平方米": ("area", 1.0), "亩": ("mu", 1.0),
    "亿元": ("money", 1e8), "万元": ("money", 1e4), "元": ("money", 1.0),
    "人次": ("person_times", 1.0), "户次": ("person_times", 1.0),
    "人": ("people", 1.0), "名": ("people", 1.0), "位": ("people", 1.0),
    "户": ("households", 1.0),
    "部": ("machines", 1.0), "台": ("machines", 1.0), "辆": ("vehicles", 1.0),
    "个": ("count", 1.0), "处": ("count", 1.0), "座": ("count", 1.0), "所": ("count", 1.0), "家": ("count", 1.0),
    "条": ("count", 1.0), "项": ("count", 1.0), "套": ("count", 1.0), "间": ("count", 1.0), "块": ("count", 1.0),
    "门": ("count", 1.0), "张": ("beds", 1.0), "床": ("beds", 1.0),
    "%": ("percent", 1.0), "个百分点": ("points", 1.0), "百分点": ("points", 1.0),
    "个工作日": ("days", 1.0), "工作日": ("days", 1.0), "天": ("days", 1.0),
    "小时": ("hours", 1.0), "次": ("times", 1.0), "场": ("times", 1.0), "期": ("times", 1.0),
    "份": ("portions", 1.0), "吨": ("tons", 1.0), "万吨": ("tons", 1e4),
}
_MULT = {"万": 1e4, "亿": 1e8, "千": 1e3}
_CN_NUM = "零〇一二两三四五六七八九十百千"
_NUM = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千]{1,6})"
FIGURE_RE = re.compile(
    r"(?<![A-Za-z\d.\-])(?P<num>" + _NUM + r")(?:\s*[~～\-—至到]\s*(?P<hi>" + _NUM + r"))?\s*(?P<approx>余|多)?\s*"
    r"(?P<mult>万|亿|千)?(?P<unit>" + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True)) + r")"
    r"(?![\u4e00-\u9fff]{0,0}年)")
CLAUSE_BREAK = re.compile(r"[，,；;。：:！？!?、]")
YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
# a figure counted as a stock (total so far) rather than an increment
CUMULATIVE_RE = re.compile(r"累计|总数|总量|共计|总计|共建成|共有|全区共|全县共|全市共|截至|总里程|保有量")
# "at most" targets: lower is better
AT_MOST_BEFORE = re.compile(r"压缩至|压缩到|压减至|降至|降低至|降低到|减少至|减少到|缩短至|缩短到|控制在|不超过|不高于|低于")
AT_MOST_AFTER = re.compile(r"^(?:以内|以下|之内)")
# words that say when or how, not what is counted
_THIN = re.compile(r"(?:19|20)\d{2}年(?:\d{1,2}月)?(?:底|末)?(?:前|起|内|以来)?|[\W\d]|其中|计划|力争|争取|完成|实现|新增|新建|共|累计|全区|全县|全市|年底前|年内")
ORIGIN_BEFORE = re.compile(r"(?:由|从)(?:原来的|原先的|原)?$")


def _cn_int(s: str) -> float | None:
    """一 … 九千九百九十九 (and 两) as a number; None when it is not a plain Chinese numeral."""
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    units = {"十": 10, "百": 100, "千": 1000}
    total, cur = 0, 0
    for ch in s:
        if ch in digits:
            cur = digits[ch]
        elif ch in units:
            total += (cur or 1) * units[ch]
            cur = 0
        else:
            return None
    return float(total + cur)


def _num(s: str | None) -> float | None:
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return _cn_int(s)


@dataclass
class Figure:
    """A number with its unit, as written in a sentence; `value` is in the unit group's base unit."""

    value: float
    unit: str  # the unit as written (万 folded into the value): 个, 公里, 人次, %, 元 …
    group: str
    text: str  # as written, e.g. "1.5万人次"
    start: int  # offsets into Reply.text
    end: int
    context: str = ""  # the clause before the figure (what is counted)
    year: int | None = None  # the last year named before it in the sentence
    cumulative: bool = False  # a total so far (累计/总数/截至…), not an increment
    at_most: bool = False  # a ceiling (压缩至20个工作日以内): lower is better
    origin: bool = False  # a starting value (由45个工作日…)
    high: float | None = None  # upper end of a range (3~5个)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Figure":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def parse_figures(text: str, offset: int = 0) -> list[Figure]:
    """Figures with units in `text` (a sentence); offsets are `offset` + the position in `text`."""
    t = to_halfwidth(text)  # same length: offsets stay valid
    out: list[Figure] = []
    for m in FIGURE_RE.finditer(t):
        unit = m.group("unit")
        if unit in ("米",) and re.match(r"[\u4e00-\u9fff]", t[m.end():m.end() + 1] or "") and t[m.end()] in "饭粮面":
            continue  # 大米, 米饭
        lo = _num(m.group("num"))
        if lo is None:
            continue
        if re.fullmatch(r"[一二两三四五六七八九十百千]+", m.group("num")) and unit in ("个", "项", "次", "期", "名", "位", "家", "条", "门"):
            # 一个/两项 in running text are words, not targets, unless a measure noun follows immediately
            if lo <= 2 and not m.group("mult"):
                continue
        mult = _MULT.get(m.group("mult") or "", 1.0)
        group, factor = UNITS[unit]
        hi = _num(m.group("hi"))
        breaks = [b.end() for b in CLAUSE_BREAK.finditer(t, 0, m.start())]
        clause_start = breaks[-1] if breaks else 0
        before = t[clause_start:m.start()]
        context = before
        if len(_THIN.sub("", before)) < 2 and len(breaks) >= 1:  # 其中2021年新建280个: what is counted is said before
            context = t[(breaks[-2] if len(breaks) >= 2 else 0):m.start()]
        years = [int(y) for y in YEAR_RE.findall(t[:m.start()])]
        out.append(Figure(
            value=lo * mult * factor, unit=unit, group=group, text=text[m.start():m.end()],
            start=offset + m.start(), end=offset + m.end(), context=context.strip(),
            year=years[-1] if years else None, cumulative=bool(CUMULATIVE_RE.search(before)),
            at_most=bool(AT_MOST_BEFORE.search(before) or AT_MOST_AFTER.match(t[m.end():])),
            origin=bool(ORIGIN_BEFORE.search(before)), high=None if hi is None else hi * mult * factor))
    return out


# -- due dates -----------------------------------------------------------------------------------
def _end_of_month(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


_CN_SMALL = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_PLAN_PERIOD = {"十四五": 2025, "十五五": 2030, "十三五": 2020}


def parse_due(sentence: str, reply_year: int | None, context: str = "") -> tuple[str, str]:
    """(due date YYYY-MM-DD, the words that state it) for a plan sentence; ("", "") when none is stated.

    Reads explicit dates (2023年10月, 2022年底前, 2023年上半年, 到2025年), periods relative to the reply's
    year (年底前, 年内, 今年, 明年, 三年内, 上半年) and five-year-plan periods (十四五末). Years before the reply's
    year are references to the past, not due dates. `context` (the heading path) is read after the sentence.
    """
    t = to_halfwidth(sentence)
    found: list[tuple[str, str]] = []
    for m in re.finditer(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?:份|底|末)?", t):
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            found.append((_end_of_month(y, mo), m.group(0)))
    for m in re.finditer(r"((?:19|20)\d{2})\s*年\s*(上半年|下半年|年底|年末|底|末|一季度|二季度|三季度|四季度|第[一二三四]季度)?", t):
        if re.match(r"\s*\d{1,2}\s*月", t[m.end():]):
            continue  # handled above
        y, part = int(m.group(1)), m.group(2) or ""
        if t[m.end():m.end() + 2] in ("以来", "以前") or t[max(0, m.start() - 1):m.start()] in ("自", "从"):
            continue
        month = 6 if part == "上半年" else 3 * "一二三四".index(part[-3]) + 3 if "季度" in part else 12
        found.append((_end_of_month(y, month), m.group(0)))
    if reply_year:
        rel = [(r"(?:今年|本年度?|年内|年底前|年底|年末|当年)", 0, 12), (r"(?<![一二三四五六七八九十\d])上半年", 0, 6),
               (r"明年|下一年", 1, 12)]
        for pat, add, month in rel:
            for m in re.finditer(pat, t):
                found.append((_end_of_month(reply_year + add, month), m.group(0)))
        for m in re.finditer(r"(?:未来|今后)?([一二两三四五六七八九十]|\d{1,2})年(?:内|时间|之内)", t):
            n = _CN_SMALL.get(m.group(1)) or (int(m.group(1)) if m.group(1).isdigit() else 0)
            if 0 < n <= 10:
                found.append((_end_of_month(reply_year + n, 12), m.group(0)))
    for key, y in _PLAN_PERIOD.items():
        if key in t and re.search(key + r"(?:末|期间|时期|期末|内)", t):
            found.append((_end_of_month(y, 12), key))
    floor = f"{reply_year:04d}-01-01" if reply_year else "0000"
    found = [f for f in found if f[0] >= floor]
    if not found and context:
        return parse_due(context, reply_year)
    if not found:
        return "", ""
    return max(found)


# -- district, department, topic of a reply ------------------------------------------------------
_PLACE_RE = re.compile(r"([\u4e00-\u9fff]{2,6}?(?:自治县|自治州|区|县|市|旗))(?=[\u4e00-\u9fff]{2,}(?:局|委|办|会|中心|院|政府|公司|处|所|站|队|部|室))")
_TITLE_PLACE_RE = re.compile(r"^关于(?:[\u4e00-\u9fff]{2,4}?市)?([\u4e00-\u9fff]{2,3}?(?:区|县))")
_NOT_PLACE = re.compile(r"(?:全|我|本|该|各|城|社|园|辖|景|片|小|郊|老|山|街|校|学|新|市|库|矿|灾|特|保护)(?:区|县|市)$")


def _places(text: str, title: bool = False) -> list[str]:
    found = [m.group(1) for m in _PLACE_RE.finditer(text or "")]
    if title:
        found += [m.group(1) for m in _TITLE_PLACE_RE.finditer(text or "")]
    return [p for p in found if not _NOT_PLACE.search(p)]


def district_of(reply: Reply) -> str:
    """The district (区/县) the reply answers for, from its signing unit (江澜市临江区民政局 → 临江区), else
    a place the title names; a city-level signer gives the city; "" when the letter names none."""
    for text, title in ((reply.signer, False), (reply.title, True)):
        places = _places(text, title)
        if places:
            county = [p for p in places if p[-1] in "区县旗"]
            return (county or places)[-1]
    return ""


def department_of(reply: Reply) -> str:
    """Canonical lead department (the signing unit when the header names none)."""
    table = department_table()
    if reply.lead_unit:
        return table.canonical(reply.lead_unit)
    return table.canonical(reply.signer) if reply.signer else ""


_TOPIC_RE = re.compile(r"^(?:关于)?(.*?)(?:的)?(?:提案|建议|议案|意见|答复)?$")


def topic_of(reply: Reply) -> str:
    """The title without 关于…的建议/提案: what the proposal is about."""
    title = re.sub(r"\s+", "", reply.title or "")
    m = _TOPIC_RE.match(title)
    return (m.group(1) if m else title) or title


# -- commitments ---------------------------------------------------------------------------------
_LEAD_RE = re.compile(
    r"^(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.．、]|[一二三四五六七八九十]{1,3}[、.．])?\s*"
    r"(?:下一步|今后|接下来|未来|后续|同时|此外|另外)?[，,]?\s*(?:我局|我委|我办|我们|我区|我县|我市)?"
    r"(?:将|拟|计划|力争|准备|争取|继续|进一步)*")


@dataclass
class Commitment:
    """One promise of a reply: a plan sentence with what it commits to."""

    id: str  # f"{reply_id}@{start}"
    reply_id: str
    text: str  # == reply.text[start:end]
    start: int
    end: int
    measure: str  # the sentence's first clause with a target (or its first clause), plan words stripped
    targets: list[Figure] = field(default_factory=list)
    due: str = ""  # YYYY-MM-DD when the sentence (or its heading) states a date or period, else ""
    due_text: str = ""  # the words that state it: 2022年底前, 年内, 三年内 …
    department: str = ""
    district: str = ""
    topic: str = ""
    heading_path: list[str] = field(default_factory=list)
    reply_date: str = ""
    number: str = ""

    @property
    def year(self) -> int | None:
        return int(self.reply_date[:4]) if self.reply_date[:4].isdigit() else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["targets"] = [f.to_dict() for f in self.targets]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Commitment":
        d = dict(d)
        d["targets"] = [Figure.from_dict(f) for f in d.get("targets", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


_PLAN_CUE = re.compile(r"^(?:预计|力争|计划|拟|将|确保|争取)|计划|力争|预计")
_PART_RE = re.compile(r"^(?:其中|含)")


def measure_of(sentence: str, targets: list[Figure], start: int) -> str:
    """The clause that carries the promise, leading plan and time words removed."""
    clauses: list[tuple[int, int]] = []
    pos = 0
    for m in re.finditer(r"[，,；;。！!？?]", sentence):
        clauses.append((pos, m.start()))
        pos = m.end()
    if pos < len(sentence):
        clauses.append((pos, len(sentence)))
    clauses = [(a, b) for a, b in clauses if b > a]
    if not clauses:
        return sentence.strip()
    pick = clauses[0]
    if targets:
        t0 = targets[0].start - start
        pick = next(((a, b) for a, b in clauses if a <= t0 < b), pick)
    text = sentence[pick[0]:pick[1]].strip()
    if not targets and not _PLAN_CUE.search(text):  # 区级中央厨房…开工建设，…，预计2023年10月投入使用
        later = next((sentence[a:b].strip() for a, b in clauses[1:] if _PLAN_CUE.match(sentence[a:b].strip())), "")
        if later:
            text = f"{text}，{later}"
    text = re.sub(r"^(?:(?:19|20)\d{2}年(?:\d{1,2}月)?(?:底|末)?(?:前|起|内)?|年底前|年内|今年|明年|到|至)+[，,]?", "", text)
    text = _LEAD_RE.sub("", text, count=1) or text
    return text.strip("，, ") or sentence.strip()


def reply_commitments(reply: Reply, chunks: Iterable[Chunk]) -> list[Commitment]:
    """The commitments of one reply, in text order: its plan-labelled reply sentences (each once)."""
    seen: dict[tuple[int, int], list[str]] = {}
    for c in chunks:
        if c.part != "reply" or c.reply_id != reply.id:
            continue
        for s in c.sentences:
            if s.label == "plan" and (s.start, s.end) not in seen:
                seen[(s.start, s.end)] = list(c.heading_path)
    if not seen:
        return []
    district, dept, topic = district_of(reply), department_of(reply), topic_of(reply)
    year = reply.year
    out: list[Commitment] = []
    for (s, e), path in sorted(seen.items()):
        text = reply.text[s:e]
        if len(re.sub(r"\W", "", text)) < 6:
            continue
        # targets: not a starting value (由45个工作日…) and not a part of another figure (其中续建3.5公里)
        targets = [f for f in parse_figures(text, s) if not f.origin and not _PART_RE.match(f.context)]
        due, due_text = parse_due(text, year, " ".join(path))
        out.append(Commitment(
            id=f"{reply.id}@{s}", reply_id=reply.id, text=text, start=s, end=e,
            measure=measure_of(text, targets, s), targets=targets, due=due, due_text=due_text,
            department=dept, district=district, topic=topic, heading_path=path,
            reply_date=reply.reply_date or reply.signed_date, number=reply.number))
    return out


def extract_commitments(replies: Iterable[Reply], chunks: Iterable[Chunk]) -> list[Commitment]:
    """Every reply's commitments, replies in the order given."""
    by_reply: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_reply.setdefault(c.reply_id, []).append(c)
    out: list[Commitment] = []
    for r in replies:
        out.extend(reply_commitments(r, by_reply.get(r.id, [])))
    return out
