"""Composition: the direct answer first, then cited supporting points; or precisely what is missing.

Every point is a sentence of a cited passage (offsets into ``Reply.text``); list numbering such as
（三） or 3. is left out of the point but kept in the passage. One function, :func:`answer_question`,
serves the CLI, the HTTP service, the web chat and eval: follow-up rewriting → question analysis →
retrieval (candidates, fusion, re-scoring, constraints) → answerability → composition.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from index.departments import department_table
from index.labels import has_facts, is_figure_row
from index.records import Chunk, Reply, letter_label, number_label
from index.settings import Settings
from service import fields as record_fields
from service.answerability import (PROBLEM_HEAD_RE, TOTAL_RE, alternatives, asked_classes, asked_details, asked_period,
                                   asked_shapes, holds_any, names_year, other_class, read_sentence, stated_periods,
                                   sentence_words as _words)
from service.counting import asks_count, count_records, count_topic
from service.filters import Filters
from service.limits import check_question
from service.query import ASKS_REPLY_RE, LIST_RE, Query, asks_future
from service.records import Answer, Citation, Point, ReplyHits, SearchResult
from service.tables import is_table_header, row_reading
from service.retrieval import NAMED_MAX, Retriever
from service.units import written_units

PLAN_LEAD_GAP = 0.5  # a plan leads a narrow answer when it holds the asked detail and is this far ahead of any done one
DETAIL_LEAD_GAP = 1.0  # how far below the best-scoring sentence one holding the asked detail (both asks of a
# two-part question) may be and still lead
LEAD_HOLD_TOP = 3  # …or further below, when none of the best few holds it (the sentence that made the letter answer)
DEPT_Z_GAP = 1.0  # a department's further letter joins a broad answer about its work within this many z of the best
SUPPORT_RATIO = 0.85  # a further reply is cited only if it covers the topic nearly as well as the best
MULTI_MAX_REPLIES = 4
MULTI_Z_GAP = 1.5  # tuning half (docs/tuning.md): a further reply of a several-reply answer is this close in z, or covers as well
LIST_MAX_REPLIES = 8
ENUM_PREFIX = re.compile(
    r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、.．]|\d{1,2}[.．、](?!\d)|"
    r"[①②③④⑤⑥⑦⑧⑨⑩]|第[一二三四五六七八九十]{1,3}[，,、]|[一二三四五六七八九十]是|首先[，,]|其次[，,]|最后[，,]|此外[，,]|同时[，,])\s*")
ASPECT_WORDS = {"amount": "具体数额", "date": "具体时间", "reason": "原因", "who": "具体单位"}
# what a missing figure is called, by the asked unit (多少钱: 金额, 几个: 数量, 多久: 时长)
UNIT_WORDS = {"money": "具体金额", "share": "具体金额或比例", "count": "具体数量", "percent": "具体比例", "time": "具体时长",
              "frequency": "具体频次", "length": "具体长度", "width": "具体宽度", "area": "具体面积"}


def _missing_words(q: Query) -> str:
    if q.aspect == "amount":
        units = [d.unit for d in asked_details(q.text, q.aspect) if d.aspect == "amount"]
        if len(set(units)) == 1 and units[0] in UNIT_WORDS:
            return UNIT_WORDS[units[0]]
    return ASPECT_WORDS.get(q.aspect, "所问的具体内容")


@dataclass
class _Cand:
    reply: Reply
    chunk: Chunk
    start: int
    end: int
    label: str
    sim: float
    score: float = 0.0
    held: frozenset = frozenset()  # the asked details it holds (answerability.Detail)
    prev: str = ""  # the sentence before it in the letter (the one that often names what its figure is about)
    problem: bool = False  # under a 存在的问题 heading while work done or planned is asked
    features: dict = field(default_factory=dict)  # what its score is made of (_features), for inspection and tuning

    @property
    def text(self) -> str:
        return self.reply.text[self.start:self.end]

    @property
    def reading(self) -> str:
        """The sentence as it reads: a table row under its header (2022年完成38.2公里, not "38.2")."""
        return read_sentence(self.reply.text, self.start, self.end)


@lru_cache(maxsize=65536)
def _bigrams(s: str) -> frozenset[str]:
    s = re.sub(r"\W", "", s)
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))




def _similar(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / max(1, min(len(x), len(y)))


FIGURE_RE = re.compile(r"\d+(?:\.\d+)?")
# which of two figures is asked when a letter gives both (预算480万元，实际支出463万元; 计划3000处，实际3426处)
STANCE_ASK = {"actual": re.compile(r"实际|真正|最终"),
              # 要新盖几个: works still to come (not 需要, 只要)
              "planned": re.compile(r"预算|准备|打算|计划|原定|目标|概算|(?<![需只主])要(?:新)?(?:建|盖|修|改|装|买|投|花|搞|弄)")}
STANCE_FIGURE = {"actual": re.compile(r"(?:实际|完成|兑付|已|累计)[^，,。；;]{0,10}?\d"),
                 "planned": re.compile(r"(?:预算|计划|目标|原定|概算|安排)[^，,。；;]{0,10}?\d")}


def asked_stances(text: str) -> set[str]:
    """The standings of the figures asked: per clause that asks a number (多少/几)."""
    return {k for m in re.finditer(r"[^，,？?；;。！!]+", text) if re.search(r"多少|几", m.group(0))
            for k, pat in STANCE_ASK.items() if pat.search(m.group(0))}


# what was done, asked broadly (做了哪些工作, 干了些啥, 搞得咋样, 效果怎么样): results lead the answer
WORK_ASK_RE = re.compile(r"(?:做|干|搞|办|想)了?(?:些|哪些|什么|啥)|哪些(?:工作|事|措施|举措|办法)|怎么样|咋样|如何|效果|成效|情况")
# a result stated with its measure (203条, 3.12亿元, 93.7%), not a year or a date
RESULT_RE = re.compile(r"\d+(?:[.,]\d+)*\s*(?:余|多)?\s*(?![年月日号])[万亿千百]?[\u4e00-\u9fff%％]")


def _overlap(a: _Cand, b: _Cand) -> float:
    """How much `a` repeats `b`. Two sentences of one letter with different figures state different facts
    (执业助理医师 5000元, 执业医师 10000元), however alike their wording: never near-duplicates."""
    s = _similar(a.text, b.text)
    if a.reply.id == b.reply.id:
        fa, fb = set(FIGURE_RE.findall(a.text)), set(FIGURE_RE.findall(b.text))
        if fa and fb and fa != fb:
            return min(s, 0.45)
    return s


def strip_enumeration(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the sentence without a leading （三）/3./第一，/一是 (the passage keeps it)."""
    m = ENUM_PREFIX.match(text, start, end)
    if m and end - m.end() >= 6:
        return m.end(), end
    return start, end


def _sentences(retriever: Retriever, g: ReplyHits) -> list[_Cand]:
    """Evidence sentences of one reply with their cosine to the question (sentence table), or, for an
    index without sentence vectors, the sentences of its retrieved chunks with the chunk's score."""
    idx = retriever.index
    st = idx.sentences
    out: list[_Cand] = []
    if st is not None and len(g.sentence_rows):
        first = st.rows_of(int(st.reply[int(g.sentence_rows[0])])).start  # the reply's rows are contiguous
        for row, sim in zip(g.sentence_rows, g.sentence_sims):
            label = st.label_of(int(row))
            if label not in ("done", "plan"):
                continue
            s, e = int(st.start[row]), int(st.end[row])
            if e - s < 6 or is_table_header(g.reply.text, s, e):  # a table's header says nothing of its own
                continue
            p = int(row) - 1
            prev = g.reply.text[int(st.start[p]):int(st.end[p])] if p >= first else ""
            out.append(_Cand(g.reply, idx.chunks[int(st.chunk[row])], s, e, label, float(sim), prev=prev))
        return out
    seen: set[tuple[int, int]] = set()
    top = max((h.fused for h in g.hits), default=1.0) or 1.0
    for h in g.hits:
        if h.chunk.part != "reply":
            continue
        for s in h.chunk.sentences:
            if s.label not in ("done", "plan") or s.end - s.start < 6 or (s.start, s.end) in seen:
                continue
            seen.add((s.start, s.end))
            out.append(_Cand(g.reply, h.chunk, s.start, s.end, s.label, h.fused / top))
    return out


@dataclass(frozen=True)
class ComposeWeights:
    """How a sentence's score is made (set on the tuning half of eval/dev; docs/tuning.md)."""

    sim: float = 0.5  # cosine with the question, z-scored over the candidate sentences
    lex: float = 1.0  # IDF-weighted share of the question's words in the sentence and its headings
    chars: float = 0.0  # share of the question's character pairs in the sentence (colloquial wording, typos)
    facts: float = 0.3  # holds figures, dates or completed measures
    detail: float = 1.0  # holds the asked detail (an amount in the asked unit, a date, a reason, a unit)
    label: float = 0.2  # done for work questions, plan for 下一步 questions
    problem: float = 0.5  # taken off a sentence under a 存在的问题 heading when work done or planned is asked
    year: float = 0.3  # states the figure for the asked year (2023年; 去年 read from the letter's own year)
    context: float = 0.5  # topic words of the sentence before, not repeated in this one
    total: float = 0.3  # money asked as a sum (一共, or what the government put in): a sentence stating a total
    rich: float = 1.0  # broad questions: how many results (figures other than years) the sentence states, up to 4
    stance: float = 0.5  # a figure of the asked standing (实际拆了多少: the actual one; 预算多少: the planned one)
    row: float = 1.0  # taken off a table row of bare figures (石桥街道 38 3900 168) when the question is broad
    row_read: float = 0.5  # taken off a table row that holds the asked figure only as read under its header
    cause: float = 1.0  # a reason asked: the sentence names the cause in so many words (由于, 原因是, 之所以)
    period: float = 0.5  # an amount asked per period (一个月补多少): a rate of that period, not of another (每年, 每学期)
    shape: float = 1.0  # a sentence of the asked shape (the remainder for 还剩几家, the change for 少了吗)
    section: float = 2.0  # "是怎么答复的": the first sentence stating results under each heading of the letter (its outline)


FEATURES = tuple(ComposeWeights.__dataclass_fields__)  # a sentence's features, in the weights' order (_Cand.features)
WEIGHTS = ComposeWeights()

# a heading on the work that deals with a difficulty (（二）解决老年乡村医生养老问题, 关于…问题), not one listing difficulties
ADDRESSES_RE = re.compile(r"(?:解决|破解|化解|应对|针对|关于|治理|整治|缓解)[^，,。；;]{0,14}(?:问题|困难)")
# a named rate asked (利用率到多少, 覆盖率是多少): the sentence that names it states it
RATE_ASK_RE = re.compile(r"([\u4e00-\u9fff]{1,4}率)(?:是|有|为|达到|到了|到|提高到|提升到)?(?:多少|几)")
REALIZED_ASK_RE = re.compile(r"了(?:几|多少)(?:个|家|所|座|处|辆|台|套|支|名|人|户|条|项|次)")
# a figure stated as a requirement (每队不少于1辆, 不低于15人, 至少2名) rather than as what was done
NORM_FIGURE_RE = re.compile(r"(?:不少于|不低于|至少|不得少于)\s*\d+(?:\.\d+)?\s*[^\d，,。；;、]{0,2}")
CAUSE_RE = re.compile(r"因为|由于|原因|之所以|主要是|考虑到|鉴于|因此|受[^，,。；;]{1,12}(?:影响|限制|制约)")


def _idf(retriever: Retriever | None, words: set[str]) -> dict[str, float]:
    """IDF of each word over the index's chunks (rare words such as 危桥 weigh more than 工作)."""
    if retriever is None:
        return {t: 1.0 for t in words}
    n = len(retriever.index.chunks) or 1
    return {t: float(np.log((n + 1) / (len(retriever.index.bm25.postings(t)) + 0.5))) for t in words}


def _score(cands: list[_Cand], q: Query, plan_first: bool, w: ComposeWeights | None = None,
           retriever: Retriever | None = None) -> None:
    w = w or WEIGHTS
    if not cands:
        return
    sims = np.array([c.sim for c in cands])
    sd = sims.std()
    z = (sims - sims.mean()) / sd if sd > 1e-9 else np.zeros(len(cands))
    topic = set(q.topic) or set(q.content)
    idf = _idf(retriever, topic)
    total = sum(idf.values()) or 1.0
    details = asked_details(q.text, q.aspect, inferred=True)
    qpairs = _bigrams("".join(q.topic) or q.dense_text)
    shapes = asked_shapes(q.text)
    classes = asked_classes(q.text)
    broad = not q.narrow and bool(WORK_ASK_RE.search(q.text))
    stances = asked_stances(q.text) if q.aspect == "amount" else set()
    period = asked_period(q.text) if q.aspect == "amount" and w.period else None
    # a count of what was done (配了几辆, 建了多少个) asked without a cap or floor in mind
    realized = q.aspect == "amount" and not shapes and bool(REALIZED_ASK_RE.search(q.text))
    rate_word = m.group(1)[-3:] if q.aspect == "amount" and (m := RATE_ASK_RE.search(q.text)) else ""  # 平时利用率 → 利用率
    leads = _section_leads(cands) if w.section and not q.narrow and ASKS_REPLY_RE.search(q.text) else set()
    for i, (c, zi) in enumerate(zip(cands, z)):
        f = _features(c, float(zi), q, plan_first, topic, idf, total, details, qpairs, shapes, classes, broad, stances,
                      period, realized, rate_word, w)
        f["section"] = 1.0 if i in leads else 0.0
        c.features = f
        c.score = float(sum(getattr(w, k) * x for k, x in f.items() if x))


def _section_leads(cands: list[_Cand]) -> set[int]:
    """The first sentence stating results (a figure) under each heading of each letter: what a summary of the reply
    follows (一、…（一）…: its first result, 2022年全区新增五年制高职专业3个, not the general words before it)."""
    first: dict[tuple[str, tuple[str, ...]], int] = {}
    for i, c in enumerate(cands):
        if c.label != "done" or not RESULT_RE.search(c.text) or is_figure_row(c.text):
            continue
        key = (c.reply.id, tuple(c.chunk.heading_path))
        if key not in first or c.start < cands[first[key]].start:
            first[key] = i
    return set(first.values())


def _features(c: _Cand, zi: float, q: Query, plan_first: bool, topic: set[str], idf: dict[str, float], total: float,
              details, qpairs, shapes, classes, broad: bool, stances: set[str], period: str | None, realized: bool,
              rate_word: str, w: ComposeWeights) -> dict[str, float]:
    """What a sentence's score is made of, one value per weight of ComposeWeights (the score is their weighted sum;
    `section` is set by _score, which sees all the candidates; `c.held` and `c.problem` are set on the way)."""
    t = c.reading  # a table row as its header reads it
    head = " ".join(c.chunk.heading_path)
    words = _words(t) | _words(head)
    f = dict.fromkeys(FEATURES, 0.0)
    f["sim"] = zi
    f["lex"] = sum(idf[word] for word in words & topic) / total
    if c.prev:  # topic words named just before it ("…更换软管。县财政按每户380元…")
        f["context"] = sum(idf[word] for word in (_words(c.prev) & topic) - words) / total
    if w.chars:
        f["chars"] = len(qpairs & _bigrams(c.text)) / max(1, len(qpairs))
    if has_facts(c.text):
        f["facts"] = 1.0
    if broad and c.label == "done":
        f["rich"] = min(4, len(RESULT_RE.findall(c.text))) / 4
    held = holds_any(t, details, head) if details else []
    if held and realized and NORM_FIGURE_RE.search(t):
        # 配了几辆: what was equipped (配备消防车14辆), not the standard (每队不少于1辆): held without its norms
        held = holds_any(NORM_FIGURE_RE.sub("", t), details, head)
    c.held = frozenset(held)
    if held and not other_class(t, classes) and not (
            plan_first and c.label != "plan"):  # "啥时候能用上": the date of a plan, not one of the past
        f["detail"] = 1 + 0.5 * (len(held) - 1)  # both asks of a two-part question in one sentence
        if any(d.aspect == "reason" for d in held) and CAUSE_RE.search(c.text):
            f["cause"] = 1.0  # 为啥: a sentence that states the cause itself (由于…), not only one under a 问题 heading
        if any(d.unit == "money" and d.rate is None for d in held) and TOTAL_RE.search(c.text):
            f["total"] = 1.0  # 政府投了多少钱: the sum (累计投入3.86亿元) rather than one item of it
    if period and c.held:  # 每月补多少: 每人每月200元 rather than 每人每年2.4万元
        stated = stated_periods(t)
        f["period"] = 1.0 if period in stated else -1.0 if stated else 0.0
    if stances and any(STANCE_FIGURE[k].search(c.text) for k in stances):
        f["stance"] += 1.0
    if rate_word and c.held and rate_word in t:
        f["stance"] += 1.0  # 利用率到多少: the sentence stating 利用率 (65.2%), not another share (增长18.4%)
    if any(p.search(c.text) for p in shapes):  # the remainder for 还剩几家, the change for 少了吗
        f["shape"] = 1.0
    if (q.years or q.relative) and any(
            names_year(t, y, c.reply.year) for y in {*q.years, *(c.reply.year + o for o in q.relative if c.reply.year)}):
        f["year"] = 1.0
    if (c.label == "plan") == plan_first:
        f["label"] = 1.0
    # bare figures (石桥街道 38 3900 168): no point for a broad question, nor for a narrow one when the row
    # neither holds what is asked nor names the topic itself (合计 3500 3812 1989 571.8 under a heading that does)
    if w.row and is_figure_row(c.text) and (not q.narrow or not (c.held or _words(t) & topic)):
        f["row"] = -1.0
    elif c.held and is_figure_row(c.text):
        f["row_read"] = -1.0  # a row read under its header answers where no sentence says as much in words
    c.problem = q.aspect in ("work", "progress", "plan") and bool(PROBLEM_HEAD_RE.search(head)) and not ADDRESSES_RE.search(head)
    if c.problem:
        f["problem"] = -1.0  # a difficulty the letter admits is not work done
    return f


def _pick(cands: list[_Cand], n: int, per_reply: int | None, quota: dict[str, int] | None,
          mmr_lambda: float, chosen: list[_Cand] | None = None) -> list[_Cand]:
    chosen = list(chosen or [])
    pool = sorted([c for c in cands if c not in chosen], key=lambda c: -c.score)
    taken: dict[str, int] = {}
    for c in chosen:
        taken[c.reply.id] = taken.get(c.reply.id, 0) + 1
    target = len(chosen) + n
    while pool and len(chosen) < target:
        best_i, best_v = -1, float("-inf")
        for i, c in enumerate(pool):
            if quota is not None and quota.get(c.label, 0) <= 0:
                continue
            if per_reply is not None and taken.get(c.reply.id, 0) >= per_reply:
                continue
            red = max((_overlap(c, o) for o in chosen), default=0.0)
            if red > 0.75:  # a near-duplicate (e.g. the same measure in another year's letter)
                continue
            v = mmr_lambda * c.score - (1 - mmr_lambda) * red
            if v > best_v:
                best_i, best_v = i, v
        if best_i < 0:
            break
        c = pool.pop(best_i)
        if quota is not None:
            quota[c.label] -= 1
        taken[c.reply.id] = taken.get(c.reply.id, 0) + 1
        chosen.append(c)
    return chosen


def _label(r: Reply, places: tuple[str, ...] = (), with_year: bool = False) -> str:
    return letter_label(r.number, r.kind, places[-1] if places else "", f"{r.year}年" if with_year and r.year else "", r.title)


def _citation(n: int, c: _Cand, place: str = "") -> Citation:
    r = c.reply
    lead, co = written_units(r)
    return Citation(n, r.id, r.number, r.title, r.proposer, lead, co, r.reply_date,
                    c.chunk.text, c.chunk.start, c.chunk.end, list(c.chunk.heading_path), round(c.score, 4), r.kind,
                    place)


def _record_citation(n: int, r: Reply, start: int, end: int, place: str = "") -> Citation:
    """A citation of a line of the letter that states a field of its record (the title, 主办/协办, the date)."""
    return Citation(n, r.id, r.number, r.title, r.proposer, *written_units(r), r.reply_date, r.text[start:end],
                    start, end, [], 1.0, r.kind, place)


def _cite_line(c: Citation, place: str = "") -> str:
    co = "、".join(c.co_units)
    kind = c.kind or "提案/建议"
    unit = f"主办：{c.lead_unit or '—'}" + (f"；协办：{co}" if co else "")
    head = f" ｜ {' > '.join(c.heading_path)}" if c.heading_path else ""
    where = f"{place} ｜ " if place else ""
    return (f"[{c.n}] {where}{number_label(c.number)}{kind}《{c.title or '（无标题）'}》 ｜ 提出者：{c.proposer or '—'} ｜ "
            f"{unit} ｜ 答复日期：{c.reply_date or '—'}{head}\n    > {c.passage.strip()}")


def _escape_md(text: str) -> str:
    return re.sub(r"([\\`*_<>\[\]])", r"\\\1", text)


def render_markdown(lead: str, points: list[Point], citations: list[Citation], places: dict[str, tuple[str, ...]],
                    by_reply: bool) -> str:
    """The direct answer, then the points under 已开展的工作 / 下一步打算 — or, when several replies are
    cited, under each reply's place, number and title — then the sources."""
    lines: list[str] = []
    if lead:
        lines += [lead, ""]
    cites = {c.n: c for c in citations}
    current = None
    for p in points:
        if p.role in ("direct", "field"):  # in the lead already
            continue
        c = cites[p.citations[0]]
        key = p.reply_id if by_reply else p.kind
        if key != current:
            current = key
            if lines and lines[-1] != "":
                lines.append("")
            if by_reply:
                place = places.get(p.reply_id, ())
                lines.append(f"**{place[-1] if place else ''}{number_label(c.number)}{c.kind}《{_escape_md(c.title or '（无标题）')}》"
                             f"（{c.lead_unit or '—'}，{c.reply_date or '—'}）**")
            else:
                lines.append("**已开展的工作**" if p.kind == "done" else "**下一步打算**")
        mark = ("（已办）" if p.kind == "done" else "（计划）") if by_reply else ""
        lines.append(f"- {mark}{_escape_md(p.shown)}" + "".join(f" [{n}]" for n in p.citations))
    if citations:
        lines += ["", "**来源**"]
        lines += [_cite_line(c, (places.get(c.reply_id) or ("",))[-1]) for c in citations]
    return "\n".join(lines).strip()


def _related(groups: list[ReplyHits], limit: int = 5) -> list[dict]:
    out = []
    for g in groups[:limit]:
        lead, co = written_units(g.reply)
        out.append({**g.reply.summary(), "lead_unit": lead, "co_units": co, "score": round(g.score, 6),
                    "coverage": round(g.coverage, 3), "place": g.place})
    return out


def _topic_words(q: Query) -> str:
    return q.topic_phrase or "、".join(t for t in q.topic if len(t) > 1)[:20] or "这方面"


def missing_markdown(result: SearchResult, retriever: Retriever) -> tuple[str, list[ReplyHits]]:
    """What is missing and what exists: '崇川区的答复中没有家庭医生签约方面的内容；通州区第51号…谈到了…'."""
    q = result.query
    groups = result.replies
    alts = alternatives(result, settings=retriever.settings)
    if q is None:
        return "未找到能直接回答这个问题的答复。", alts
    topic = _topic_words(q)
    about = topic if topic.endswith("方面") else f"{topic}方面"
    where = "、".join(q.places + q.unknown_places)
    years = "、".join(f"{y}年" for y in q.years)
    head = ""
    if q.unknown_places and not q.places:
        head = f"已收录的答复中没有{'、'.join(q.unknown_places)}的答复"
        if alts:
            head += f"；其他地方的答复谈到了{topic}："
        else:
            head += "。"
    elif result.missing == "place":
        head = f"{where}的答复中没有{about}的内容；下列答复谈到了{topic}："
    elif result.missing == "year":
        head = f"{years}{where}的答复中没有{about}的内容；其他年份的答复谈到了{topic}："
    elif result.missing == "detail":
        g = next((g for g in groups if g.on_topic and g.constraints_ok), None)
        label = _label(g.reply, g.places) if g else ""
        when = f"{years}的" if years and g is not None and any(y != g.reply.year for y in q.years) else ""
        head = f"{label}答复谈到了{topic}，但没有说明{when}{_missing_words(q)}。"
        alts = [g] if g else []
    elif result.missing == "topic":
        scope = f"{years}{where}".strip()
        head = f"{scope}的答复中没有{about}的内容。"
    lines = [head or "未找到能直接回答这个问题的答复。"]
    if alts:
        for g in alts:
            first = _first_sentence(retriever, g)
            lines.append(f"- {_label(g.reply, g.places)}（{written_units(g.reply)[0] or g.reply.signer or '—'}，"
                         f"{g.reply.reply_date or '—'}）：{_escape_md(first)}" if first else f"- {_label(g.reply, g.places)}")
    elif (near := [g for g in groups if g.coverage > 0][:5]) and not head:  # a letter sharing no word is not related
        lines += ["", "以下答复可能相关："]
        for g in near:
            r = g.reply
            lines.append(f"- {g.place}{number_label(r.number)}《{_escape_md(r.title or '（无标题）')}》 ｜ "
                         f"{written_units(r)[0] or r.signer or '—'} ｜ {r.reply_date or '—'}")
    return "\n".join(lines), alts


def _first_sentence(retriever: Retriever, g: ReplyHits) -> str:
    """The reply's evidence sentence closest to the question (for 'what exists' lines)."""
    cands = _sentences(retriever, g)
    if not cands:
        return ""
    c = max([c for c in cands if not is_figure_row(c.text)] or cands, key=lambda c: c.sim)  # a sentence before a row
    s, e = strip_enumeration(c.reply.text, c.start, c.end)
    return row_reading(c.reply.text, c.start, c.end) or c.reply.text[s:e]


def _not_found(question: str, result: SearchResult, retriever: Retriever, rewritten: str, t0: float) -> Answer:
    md, alts = missing_markdown(result, retriever)
    related_groups = alts + [g for g in result.replies if g not in alts]
    a = Answer(question, md, [], [], _related(related_groups), True, rewritten, result.relevance,
               {**result.timings, "answer_ms": (time.perf_counter() - t0) * 1000}, uuid.uuid4().hex)
    a.missing = result.missing or "not_found"
    return a


def _field_answer(question: str, result: SearchResult, q: Query, rewritten: str, t0: float) -> Answer | None:
    named = [g for g in result.replies if g.identified and g.constraints_ok]
    if q.years and len(named) > 1:  # "2022年第28号提案": the year of the letter itself, not one it mentions
        named = [g for g in named if g.reply.year in q.years] or named
    if len(named) > 1 and q.numbers:  # the number names letters of several years or places: answer each
        targets = named[:NAMED_MAX]
    else:
        g0 = named[0] if named else (result.replies[0] if result.answerable else None)
        targets = [g0] if g0 is not None else []
    if not targets:
        return None
    several = len(targets) > 1
    wanted = list(q.fields)
    if "lead_unit" in wanted and "co_units" not in wanted:  # who handled it: the co-handling units belong to the answer
        wanted.insert(wanted.index("lead_unit") + 1, "co_units")
    pieces = []
    for g in targets:
        found = record_fields.facts(g.reply, wanted)
        absent = [f for f in q.fields if f not in {x.field for x in found}]
        pieces.append((g, found, absent))

    def where(g: ReplyHits) -> str:  # "通州区2023年" in front of the number when several letters share it
        return f"{g.place}{g.reply.year}年" if several and g.reply.year else (g.place if several else "")

    def unstated(g: ReplyHits, absent: list[str]) -> str:
        r = g.reply
        subject = f"{where(g) or g.place}{number_label(r.number)}{r.kind or ''}".strip() if r.number else f"《{r.title}》"
        return f"{subject}的答复中没有写明{'、'.join(record_fields.FIELD_WORDS[f] for f in absent)}。"

    if not any(found for _, found, _ in pieces):
        if not (targets[0].identified or result.answerable):
            return None
        # the reply is the one asked about, but its letter does not state the field: say so, never guess
        md = "\n".join(_escape_md(unstated(g, absent)) for g, _, absent in pieces)
        a = Answer(question, md, [], [], _related(targets + [x for x in result.replies if x not in targets]), True,
                   rewritten, result.relevance, {**result.timings, "answer_ms": (time.perf_counter() - t0) * 1000},
                   uuid.uuid4().hex)
        a.missing = "field"
        return a
    cites: list[Citation] = []
    points: list[Point] = []
    leads: list[str] = []
    md_leads: list[str] = []
    for g, found, absent in pieces:
        r = g.reply
        if not found:
            leads.append(unstated(g, absent))
            md_leads.append(_escape_md(leads[-1]))
            continue
        lead = record_fields.sentence(r, found, where(g))
        if absent:
            lead += f"答复中没有写明{'、'.join(record_fields.FIELD_WORDS[f] for f in absent)}。"
        by_span: dict[tuple[int, int], int] = {}
        marks: list[int] = []
        for f in found:
            n = by_span.get((f.start, f.end))
            if n is None:  # two fields on one line (主办 … 协办 …) share one citation
                n = by_span[(f.start, f.end)] = len(cites) + 1
                cites.append(_record_citation(n, r, f.start, f.end, g.place))
                points.append(Point(r.text[f.start:f.end], "field", [n], r.id, f.start, f.end, role="field"))
                marks.append(n)
        leads.append(lead)
        md_leads.append(_escape_md(lead) + "".join(f" [{n}]" for n in marks))
    lead = "\n".join(leads)
    md = render_markdown("\n".join(md_leads), [], cites, {g.reply.id: g.places for g in targets}, False)
    a = Answer(question, md, points, cites, _related([x for x in result.replies if x not in targets]), False, rewritten,
               result.relevance, {**result.timings, "answer_ms": (time.perf_counter() - t0) * 1000}, uuid.uuid4().hex)
    a.lead = lead
    return a


def _close_to(g: ReplyHits, top: ReplyHits) -> bool:
    """A further reply covers the topic nearly as well as the best and matches about as closely."""
    return g.topic_coverage >= SUPPORT_RATIO * top.topic_coverage and (g.sentence_best or 0) >= (top.sentence_best or 0) - 0.03


def _beside(g: ReplyHits, top: ReplyHits) -> bool:
    """A further reply stands beside the best in an answer over several ("各地…都做了什么"): it covers the topic nearly
    as well, or its best sentence comes within MULTI_Z_GAP of the best one's (the topic in other words); a letter on a
    neighbouring topic that only got over the bar (畜禽粪污 for 水产养殖尾水) does not."""
    if g.topic_coverage >= SUPPORT_RATIO * top.topic_coverage or g.sentence_z is None or top.sentence_z is None:
        return True
    return g.sentence_z >= top.sentence_z - MULTI_Z_GAP


def _leads(g: ReplyHits, q: Query) -> bool:
    """The department the question names answered this letter (主办, or signed it)."""
    table = department_table()
    return table.canonical(g.reply.lead_unit or g.reply.signer or "") in q.departments


def build_answer(question: str, result: SearchResult, settings: Settings, retriever: Retriever,
                 rewritten: str | None = None, listing: bool = False) -> Answer:
    """`listing`: the replies in `result` were selected by a department filter for a 'which proposals'
    question; each gets a couple of points instead of one reply being answered in depth."""
    t0 = time.perf_counter()
    groups = result.replies
    rewritten = rewritten or question
    q = result.query or retriever.understand(rewritten)
    if q.fields and groups:
        fa = _field_answer(question, result, q, rewritten, t0)
        if fa is not None:
            return fa
    if not groups or (not listing and not result.answerable):
        return _not_found(question, result, retriever, rewritten, t0)
    top = groups[0]
    covering = [g for g in groups if g.covers]
    if listing:
        support = groups[:LIST_MAX_REPLIES]
    elif q.multi:
        # …and the same place's letter of another year on the topic ("这两年分别筛了多少人": each year's letter)
        support = [top] + [g for g in covering[1:MULTI_MAX_REPLIES + 2] if g is not top and (
            _beside(g, top) or (g.places == top.places and g.reply.year != top.reply.year))][:MULTI_MAX_REPLIES - 1]
    elif q.narrow:
        # the same place's letter on the topic from another year states its own figure ("一户补多少": 1200元 in
        # 2023, 1500元 in 2024): both, each labelled, when the question names no year
        support = [top] + ([g for g in covering if g is not top and not q.years and not q.letter_years and g.places == top.places
                            and g.reply.year != top.reply.year and g.detail_ok and _close_to(g, top)][:1])
    else:
        support = [top] + [g for g in covering if g is not top and _close_to(g, top)][:2]
        if top.department_ok:  # "生态环境局答复中有哪些污染治理措施": the department's other letters sharing the topic
            support += [g for g in groups if g not in support and g.department_ok and g.constraints_ok and g.topic_coverage > 0
                        and (g.sentence_z or 0) >= (top.sentence_z or 0) - DEPT_Z_GAP][:3 - len(support)]
    if top.department_ok:  # the question names a department and the best reply is theirs: keep to its replies
        support = [g for g in support if g.department_ok]
        if _leads(top, q):  # …and to those it answered (主办), not those it only helped with (协办)
            support = [g for g in support if _leads(g, q)]
    if top.identified:  # the question names the letter (第114号提案讲的是什么): that letter, not its place's others
        support = [g for g in support if g.identified]
    plan_first = q.aspect == "plan" or asks_future(q)
    cands = [c for g in support for c in _sentences(retriever, g)]
    _score(cands, q, plan_first, retriever=retriever)
    several = len(support) > 1
    if listing:
        chosen = _pick(cands, 2 * len(support), 2, None, settings.mmr_lambda)
        direct: list[_Cand] = []
    else:
        direct = _direct(cands, q, several, settings, plan_first)
        if q.narrow and not several:
            n_more = max(0, settings.max_points_narrow - len(direct))
        else:
            n_more = max(0, (min(12, max(settings.max_points, 3 * len(support))) if several else settings.max_points) - len(direct))
        quota = {"done": n_more - n_more // 3, "plan": max(1, n_more // 3)}
        if plan_first:
            quota = {"plan": n_more - n_more // 3, "done": max(1, n_more // 3)}
        if q.narrow and not several:
            quota = None
        per_reply = -(-n_more // len(support)) if several else None
        chosen = _pick(cands, n_more, per_reply, quota, settings.mmr_lambda, chosen=direct)
    if not chosen:
        return _not_found(question, result, retriever, rewritten, t0)
    order = {g.reply.id: i for i, g in enumerate(support)}
    first = "plan" if plan_first else "done"
    rest = [c for c in chosen if c not in direct]
    if several or listing:
        rest.sort(key=lambda c: (order[c.reply.id], c.label != first, c.start))
    elif q.narrow:  # a narrow question's supporting points closest to what was asked first
        rest.sort(key=lambda c: (c.label != first, -c.score))
    else:  # a broad one reads in the letter's order
        rest.sort(key=lambda c: (c.label != first, c.start))
    cites: dict[str, Citation] = {}
    points: list[Point] = []
    places = {g.reply.id: g.places for g in support}
    for role, group in (("direct", direct), ("support", rest)):
        for c in group:
            cit = cites.get(c.chunk.id)
            if cit is None:
                cit = _citation(len(cites) + 1, c, (places.get(c.reply.id) or ("",))[-1])
                cites[c.chunk.id] = cit
            s, e = strip_enumeration(c.reply.text, c.start, c.end)
            points.append(Point(c.reply.text[s:e], c.label, [cit.n], c.reply.id, s, e, role=role,
                                reading=row_reading(c.reply.text, c.start, c.end) or ""))
    citations = list(cites.values())
    lead_parts = []
    title_lead = ""
    if not listing and not several and not q.topic and (q.numbers or q.proposers) and top.identified:
        # "第57号提案讲的是什么事？": the reply named, nothing else asked — its title first, cited, then what it says
        title = record_fields.facts(top.reply, ["title"])
        if title:
            f, r = title[0], top.reply
            citations = [_record_citation(1, r, f.start, f.end, (top.places or ("",))[-1])] + [replace(c, n=c.n + 1) for c in citations]
            for p in points:
                p.citations = [n + 1 for n in p.citations]
            points.insert(0, Point(r.text[f.start:f.end], "field", [1], r.id, f.start, f.end, role="field"))
            title_lead = record_fields.sentence(r, title)
            lead_parts.append(_escape_md(title_lead) + " [1]")
    # letters of one place (two years' replies on the topic) are told apart by their year
    same_place = several and len({(places.get(g.reply.id) or ("",))[-1] for g in support}) < len(support)
    for p in points:
        if p.role != "direct":
            continue
        label = ""
        if several:
            r = next(g.reply for g in support if g.reply.id == p.reply_id)
            label = f"{_label(r, places.get(r.id, ()), same_place)}："
        lead_parts.append(f"{label}{_escape_md(p.shown)}" + "".join(f" [{n}]" for n in p.citations))
    lead = "\n".join(lead_parts)
    cited = {c.reply_id for c in citations}
    related = _related([g for g in groups if g.reply.id not in cited])
    md = render_markdown(lead, points, citations, places, by_reply=several or listing)
    a = Answer(question, md, points, citations, related, False, rewritten, result.relevance,
               {**result.timings, "answer_ms": (time.perf_counter() - t0) * 1000}, uuid.uuid4().hex)
    a.lead = "\n".join(([title_lead] if title_lead else []) + [p.shown for p in points if p.role == "direct"])
    a.composed = cands
    return a


def _direct(cands: list[_Cand], q: Query, several: bool, settings: Settings, plan_first: bool) -> list[_Cand]:
    """1–3 sentences that answer the asked aspect (one per reply when several are cited)."""
    if settings.compose == "flat" or not cands:
        return []
    ranked = sorted(cands, key=lambda c: -c.score)
    want = "plan" if plan_first else "done"
    pool = ranked
    if not (q.aspect == "amount" and asked_stances(q.text) == {"planned"}):  # 预算/准备了多少: a plan's figure answers
        # …and a sentence of the asked shape (its "shape" feature, _features) answers whatever its label ("处理完了没":
        # "D级危房412户已全部完成整治，…剩余46户预计8月底前全部完成" reads as a plan for its ending)
        pool = [c for c in ranked if c.label == want or (want == "done" and c.features.get("shape"))] or ranked
    pool = [c for c in pool if not c.problem] or pool  # what was done answers 怎么答复的 / 做了什么, not what is lacking
    out: list[_Cand] = []
    details = asked_details(q.text, q.aspect, inferred=True)
    if several:  # one per reply, in the replies' rank order (cands come reply by reply, best reply first)
        for rid in dict.fromkeys(c.reply.id for c in cands):
            best_of = next((c for c in pool if c.reply.id == rid), None)
            if best_of is None:
                continue
            if q.narrow and details:  # …the reply's sentence holding what was asked, as for one reply below
                holding = next((c for c in pool if c.reply.id == rid and c.held), None)
                if holding is not None and holding.score >= best_of.score - DETAIL_LEAD_GAP:
                    best_of = holding
            out.append(best_of)
            if len(out) >= 3:
                break
        return out
    if q.narrow and details:  # a narrow question is answered by a sentence that holds what it asks, where one does
        holding = [c for c in pool if c.held]
        # ... a plan, when the letter answers it only with one (准备先在哪几个镇试点: 计划2024年在芦湾镇、梅渚镇…):
        # the best sentence of all holds the detail and is well ahead of every done sentence holding it
        if (not plan_first and ranked[0].held and ranked[0].label == "plan"
                and ranked[0].score >= (holding[0].score if holding else float("-inf")) + PLAN_LEAD_GAP):
            holding = [ranked[0]] + holding
            pool = [ranked[0]] + pool
        if holding and (holding[0].score >= pool[0].score - DETAIL_LEAD_GAP or not any(c.held for c in pool[:LEAD_HOLD_TOP])):
            pool = holding + [c for c in pool if not c.held]
    best = pool[0]
    out.append(best)
    if len(details) > 1:  # a two-part question: one sentence that answers both, close enough, leads alone;
        # else the best sentence for the ask the first one leaves open follows it
        both = next((c for c in pool if len(c.held) == len(details) and c.score >= best.score - DETAIL_LEAD_GAP), None)
        if both is not None:
            return [both]
        open_ = [d for d in details if d not in best.held]
        second = next((c for c in pool[1:] if set(c.held) & set(open_) and _overlap(c, best) < 0.5), None)
        if second is not None:
            return [best, second]
    for c in pool[1:3]:
        if c.score >= best.score - 0.25 and _overlap(c, best) < 0.5 and (
                not q.narrow or holds_any(c.reading, [d._replace(rate=False) for d in details])):
            out.append(c)
    return out[:2]


def answer_question(retriever: Retriever, question: str, filters: Filters | None = None, top_k: int | None = None,
                    history: list[dict] | None = None) -> Answer:
    """The one answer function: optional follow-up rewriting, retrieval, answerability, composition."""
    question = check_question(question, retriever.settings)  # one limit for every entry point (service/limits.py)
    from service.track_query import answer_commitment_question  # "去年答应的…建了没有？": from the tracker's links

    if not history and (tracked := answer_commitment_question(retriever, question, filters)) is not None:
        return tracked
    rewritten, filters = question, filters
    if history:
        from service.followup import rewrite

        rewritten, filters = rewrite(question, history, filters, gazetteer=getattr(retriever, "gazetteer", None))
    q = retriever.understand(rewritten)
    bare_year = bool(q.years) and not (q.topic or q.places or q.unknown_places or q.departments or q.fields
                                       or q.numbers or q.proposers)  # "2023年的答复": that year's letters, listed
    if bare_year or (asks_count(rewritten) and not (q.fields or q.numbers or q.proposers)):  # "2023年答复了多少件建议？"
        if not q.topic:
            return count_records(retriever, q, question, rewritten, filters)
        return count_topic(retriever, q, question, rewritten, filters, max(top_k or 0, 2 * LIST_MAX_REPLIES))
    if q.listing:  # "人社局答复了哪些提案？": that department's replies (the filter given, or the one named)
        # a place named with it keeps to that place's unit (石门县交通运输局, not every 交通运输局)
        named_depts = [f"{p}{d}" for p in q.places for d in q.departments] or q.departments
        listed = filters if filters and filters.departments else replace(filters or Filters(), departments=named_depts)
        result = retriever.search(rewritten, filters=listed, top_k=max(top_k or 0, LIST_MAX_REPLIES), query=q)
        if result.replies and re.search(r"主办|牵头|主持办理", rewritten):  # asked what it led, not what it helped with
            table = department_table()
            named = {table.canonical(d) for d in (q.departments or listed.departments)}
            led = [g for g in result.replies if table.canonical(g.reply.lead_unit or g.reply.signer or "") in named]
            result.replies = led or result.replies
        if result.replies:  # "which proposals" lists; "what did it say" answers a single reply in depth
            as_list = len(result.replies) > 1 or bool(LIST_RE.search(rewritten))
            return build_answer(question, result, retriever.settings, retriever, rewritten, listing=as_list)
    result = retriever.search(rewritten, filters=filters, top_k=top_k, query=q)
    return build_answer(question, result, retriever.settings, retriever, rewritten)
