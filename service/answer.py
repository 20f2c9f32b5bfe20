"""Extractive, cited answers: every point is a sentence of a cited passage; below a relevance bar, 'not found'.

One function, :func:`answer_question`, serves the CLI, the HTTP service and the web chat.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, replace
from functools import lru_cache

from index.departments import department_table
from index.labels import has_facts
from index.records import EVIDENCE_LABELS, Chunk, Reply
from index.settings import Settings
from index.tokenize import default_tokenizer
from service.filters import Filters
from service.limits import check_question
from service.records import Answer, Citation, Point, ReplyHits, SearchResult
from service.retrieval import Retriever

WORK_Q = re.compile(r"做了|哪些工作|什么工作|采取|措施|做法|成效|进展|落实|推进|开展|情况|怎么答复|如何答复|答复|回复")
PLAN_Q = re.compile(r"下一步|计划|打算|今后|将来|未来|准备|规划")
SUPPORT_RATIO = 0.85  # a further reply is cited only if it covers the question nearly as well as the best
# questions over several replies: 各区…分别, 历年, 哪些提案, or a department's replies in general
MULTI_Q = re.compile(r"各区|各地|各部门|分别|历年|各年|每年|哪些提案|哪些建议|哪些答复|答复了哪些|有哪些答复|都有哪些|的答复有哪些|的答复提到")
MULTI_MAX_REPLIES = 4
# "which proposals did <department> answer?": list that department's replies, two points each
LIST_Q = re.compile(r"(?:答复|办理|办复|承办|主办)(?:了|过)?哪些(?:提案|建议|议案)|哪些(?:提案|建议|议案)")
LIST_MAX_REPLIES = 8


@dataclass
class _Cand:
    reply: Reply
    chunk: Chunk
    chunk_score: float
    start: int
    end: int
    label: str
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.reply.text[self.start:self.end]


@lru_cache(maxsize=65536)
def _bigrams(s: str) -> frozenset[str]:
    s = re.sub(r"\W", "", s)
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))


@lru_cache(maxsize=65536)
def _words(text: str) -> frozenset[str]:
    return frozenset(default_tokenizer().tokens(text))


def _similar(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / max(1, min(len(x), len(y)))


def _sentences_of(group: ReplyHits) -> list[_Cand]:
    best: dict[tuple[int, int], _Cand] = {}
    top = max((h.fused for h in group.hits), default=1.0) or 1.0
    for h in group.hits:
        if h.chunk.part != "reply":
            continue
        for s in h.chunk.sentences:
            if s.label not in EVIDENCE_LABELS or s.end - s.start < 6:
                continue
            key = (s.start, s.end)
            if key not in best or best[key].chunk_score < h.fused / top:
                best[key] = _Cand(group.reply, h.chunk, h.fused / top, s.start, s.end, s.label)
    return list(best.values())


def _score(c: _Cand, qtokens: set[str], plan_first: bool) -> float:
    words = _words(c.text) | _words(" ".join(c.chunk.heading_path))
    lexical = len(words & qtokens) / max(1, len(qtokens))
    s = 0.45 * c.chunk_score + 0.35 * lexical
    if has_facts(c.text):
        s += 0.15
    if (c.label == "plan") == plan_first:
        s += 0.05
    return s


def select_points(groups: list[ReplyHits], question: str, qtokens: list[str], max_points: int,
                  mmr_lambda: float = 0.7, per_reply: int | None = None, by_reply: bool = False) -> list[_Cand]:
    """Pick the sentences that answer the question: done first (plan first for 下一步 questions), no near-duplicates."""
    plan_first = bool(PLAN_Q.search(question)) and not re.search(r"做了|已经|成效", question)
    cands = [c for g in groups for c in _sentences_of(g)]
    qt = set(qtokens)
    for c in cands:
        c.score = _score(c, qt, plan_first)
    cands.sort(key=lambda c: -c.score)
    chosen: list[_Cand] = []
    quota = {"done": max_points - max_points // 3, "plan": max(1, max_points // 3)}
    if plan_first:
        quota = {"plan": max_points - max_points // 3, "done": max(1, max_points // 3)}
    taken: dict[str, int] = {}
    while cands and len(chosen) < max_points:
        best_i, best_v = -1, float("-inf")
        for i, c in enumerate(cands):
            if quota.get(c.label, 0) <= 0:
                continue
            if per_reply is not None and taken.get(c.reply.id, 0) >= per_reply:
                continue
            red = max((_similar(c.text, o.text) for o in chosen), default=0.0)
            v = mmr_lambda * c.score - (1 - mmr_lambda) * red
            if red > 0.75:  # a near-duplicate (e.g. the same measure in another year's letter)
                continue
            if v > best_v:
                best_i, best_v = i, v
        if best_i < 0:
            break
        c = cands.pop(best_i)
        quota[c.label] -= 1
        taken[c.reply.id] = taken.get(c.reply.id, 0) + 1
        chosen.append(c)
    order = {g.reply.id: i for i, g in enumerate(groups)}
    first = "plan" if plan_first else "done"
    if by_reply:
        chosen.sort(key=lambda c: (order[c.reply.id], c.label != first, c.start))
    else:
        chosen.sort(key=lambda c: (c.label != first, order[c.reply.id], c.start))
    return chosen


def _related(groups: list[ReplyHits], limit: int = 5) -> list[dict]:
    return [{**g.reply.summary(), "score": round(g.score, 6), "coverage": round(g.coverage, 3)} for g in groups[:limit]]


def _cite_line(c: Citation) -> str:
    co = "、".join(c.co_units)
    kind = c.kind or "提案/建议"
    unit = f"主办：{c.lead_unit or '—'}" + (f"；协办：{co}" if co else "")
    head = f" ｜ {' > '.join(c.heading_path)}" if c.heading_path else ""
    return (f"[{c.n}] 第{c.number or '—'}号{kind}《{c.title or '（无标题）'}》 ｜ 提出者：{c.proposer or '—'} ｜ "
            f"{unit} ｜ 答复日期：{c.reply_date or '—'}{head}\n    > {c.passage.strip()}")


def render_markdown(points: list[Point], citations: list[Citation], by_reply: bool = False) -> str:
    """Points under 已开展的工作 / 下一步打算; with `by_reply`, under each reply's number and title."""
    lines: list[str] = []
    current = None
    cites = {c.n: c for c in citations}
    for p in points:
        c = cites[p.citations[0]]
        key = p.reply_id if by_reply else p.kind
        if key != current:
            current = key
            if lines:
                lines.append("")
            if by_reply:
                lines.append(f"**第{c.number or '—'}号{c.kind}《{c.title or '（无标题）'}》（{c.lead_unit or '—'}，{c.reply_date or '—'}）**")
            else:
                lines.append("**已开展的工作**" if p.kind == "done" else "**下一步打算**")
        mark = ("（已办）" if p.kind == "done" else "（计划）") if by_reply else ""
        lines.append(f"- {mark}{p.text}" + "".join(f" [{n}]" for n in p.citations))
    if citations:
        lines += ["", "**来源**"]
        lines += [_cite_line(c) for c in citations]
    return "\n".join(lines)


def not_found_markdown(groups: list[ReplyHits]) -> str:
    lines = ["未找到能直接回答这个问题的答复。"]
    if groups:
        lines += ["", "以下答复可能相关："]
        for g in groups[:5]:
            r = g.reply
            lines.append(f"- 第{r.number or '—'}号《{r.title or '（无标题）'}》 ｜ {r.lead_unit or r.signer or '—'} ｜ {r.reply_date or '—'}")
    return "\n".join(lines)


def is_answerable(result: SearchResult) -> bool:
    return bool(result.replies) and result.answerable


def build_answer(question: str, result: SearchResult, settings: Settings, rewritten: str | None = None,
                 listing: bool = False) -> Answer:
    """`listing`: the replies in `result` were selected by a department filter for a 'which proposals'
    question; each gets a couple of points instead of one reply being answered in depth."""
    t0 = time.perf_counter()
    groups = result.replies
    rewritten = rewritten or question
    if not groups or (not listing and not is_answerable(result)):
        md = not_found_markdown(groups)
        return Answer(question, md, [], [], _related(groups), True, rewritten, result.relevance,
                      {**result.timings, "answer_ms": (time.perf_counter() - t0) * 1000}, uuid.uuid4().hex)
    top = groups[0]
    if listing:
        support = groups[:LIST_MAX_REPLIES]
        max_points = min(2 * LIST_MAX_REPLIES, max(settings.max_points, 2 * len(support)))
        per_reply = 2 if len(support) > 1 else None
    elif MULTI_Q.search(rewritten):
        support = [top] + [g for g in groups[1:MULTI_MAX_REPLIES] if g.covers]
        max_points = min(12, max(settings.max_points, 3 * len(support)))
        per_reply = -(-max_points // len(support)) if len(support) > 1 else None
    else:
        support = [top] + [g for g in groups[1:3] if g.covers and g.coverage >= SUPPORT_RATIO * top.coverage]
        max_points, per_reply = settings.max_points, None
    if top.department_ok:  # the question names a department and the best reply is theirs: keep to its replies
        support = [g for g in support if g.department_ok]
    chosen = select_points(support, rewritten, result.query_tokens, max_points, settings.mmr_lambda, per_reply,
                           by_reply=listing)
    if not chosen:
        md = not_found_markdown(groups)
        return Answer(question, md, [], [], _related(groups), True, rewritten, result.relevance,
                      {**result.timings, "answer_ms": (time.perf_counter() - t0) * 1000}, uuid.uuid4().hex)
    cites: dict[str, Citation] = {}
    points: list[Point] = []
    for c in chosen:
        cit = cites.get(c.chunk.id)
        if cit is None:
            r = c.reply
            cit = Citation(len(cites) + 1, r.id, r.number, r.title, r.proposer, r.lead_unit, list(r.co_units),
                           r.reply_date, c.chunk.text, c.chunk.start, c.chunk.end, list(c.chunk.heading_path),
                           round(c.chunk_score, 4), r.kind)
            cites[c.chunk.id] = cit
        points.append(Point(c.text, c.label, [cit.n], c.reply.id, c.start, c.end))
    citations = list(cites.values())
    cited = {c.reply_id for c in citations}
    related = _related([g for g in groups if g.reply.id not in cited])
    md = render_markdown(points, citations, by_reply=listing)
    return Answer(question, md, points, citations, related, False, rewritten, result.relevance,
                  {**result.timings, "answer_ms": (time.perf_counter() - t0) * 1000}, uuid.uuid4().hex)


def answer_question(retriever: Retriever, question: str, filters: Filters | None = None, top_k: int | None = None,
                    history: list[dict] | None = None) -> Answer:
    """The one answer function: optional follow-up rewriting, retrieval, extractive answer."""
    question = check_question(question, retriever.settings)  # one limit for every entry point (service/limits.py)
    rewritten, filters = question, filters
    if history:
        from service.followup import rewrite

        rewritten, filters = rewrite(question, history, filters)
    depts = department_table().find_in(rewritten)
    if depts and LIST_Q.search(rewritten) and not (filters and filters.departments):
        listed = replace(filters or Filters(), departments=depts)
        result = retriever.search(rewritten, filters=listed, top_k=max(top_k or 0, LIST_MAX_REPLIES))
        if result.replies:
            return build_answer(question, result, retriever.settings, rewritten, listing=True)
    result = retriever.search(rewritten, filters=filters, top_k=top_k)
    return build_answer(question, result, retriever.settings, rewritten)
