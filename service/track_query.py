"""Questions to the commitment tracker: by topic (`dafu track`, GET /api/track, the 跟踪 tab) and in the chat
("去年答应新增的助餐点建了没有？" is answered from the same links as the tracker's timeline)."""
from __future__ import annotations

import datetime as _dt
import re
import time
import uuid
from typing import Any, Iterable

from index.departments import department_table
from index.errors import DafuError
from service.filters import Filters
from service.records import Answer, Citation, Point
from service.track import CommitmentTracker, tracker_for
from service.track_records import FULFILMENT_LABEL, STATUS_LABEL, STATUSES, Tracked
from service.units import written_units
from index.records import number_label

YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")


def parse_as_of(value: str | None) -> str:
    """YYYY-MM-DD from a date (2025-06-30, 2025年6月30日) or a year (→ its last day); today when empty."""
    if not value:
        return _dt.date.today().isoformat()
    from index.dates import parse_date

    v = value.strip()
    d = f"{v}-12-31" if re.fullmatch(r"(?:19|20)\d{2}", v) else parse_date(v)
    if not d:
        raise DafuError(f"as_of {value!r} is not a date; expected YYYY-MM-DD (e.g. 2025-06-30) or a year")
    return d


def tracker_of(retriever) -> CommitmentTracker:
    """The tracker of the retriever's index version (sentence vectors from its encoder, cached on disk)."""
    return tracker_for(retriever.index, retriever.encoder, retriever.settings.resolved_cache_dir)


def known_districts(tracker: CommitmentTracker) -> list[str]:
    """Districts the index's replies answer for (learned from their signing units and titles)."""
    return sorted({inf["district"] for inf in tracker.info.values() if inf["district"]})


def match_district(name: str, districts: Iterable[str]) -> list[str]:
    """Districts of the index that `name` names: 临江区, or its short form 临江."""
    n = re.sub(r"\s+", "", name or "")
    if not n:
        return []
    return [d for d in districts if d == n or (len(d) > 2 and d[:-1] == n)]


def track_topic(retriever, topic: str, *, district: str | None = None, departments: list[str] | None = None,
                year_from: int | None = None, year_to: int | None = None, status: str | None = None,
                as_of: str | None = None, max_replies: int = 40) -> list[Tracked]:
    """The commitments made in replies on `topic` (replies the retriever finds covering it; empty topic: all),
    oldest first. Departments are folded through the alias table, `district` may be a short form (临江)."""
    as_of = parse_as_of(as_of)
    index = retriever.index
    tracker = tracker_of(retriever)
    if status and status not in STATUSES:
        raise DafuError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    dists: list[str] | None = None
    if district:
        dists = match_district(district, known_districts(tracker))
        if not dists:
            raise DafuError(f"district {district!r} is not a district of this index; known: "
                            f"{'、'.join(known_districts(tracker)) or '(none)'}")
    filters = Filters(year_from=year_from, year_to=year_to, departments=list(departments or []))
    topic = (topic or "").strip()
    if topic:
        res = retriever.search(topic, filters=None if filters.is_empty() else filters, top_k=max_replies)
        on_topic = {g.reply.id for g in res.replies if on_topic_reply(retriever, g)}
    else:
        on_topic = set(index.replies)
    wanted = [c.id for c in tracker.commitments
              if c.reply_id in on_topic and filters.matches(index.replies[c.reply_id])
              and (dists is None or c.district in dists)]
    out = [t for t in tracker.all(as_of, wanted) if not status or t.status == status]
    out.sort(key=lambda t: (t.commitment.reply_date, t.commitment.reply_id, t.commitment.start))
    return out


TOPIC_COVERAGE = 0.5  # IDF-weighted share of the topic's words a reply must contain to be on the topic


def on_topic_reply(retriever, g) -> bool:
    """A reply is on the topic when it has most of the topic's words (IDF-weighted), or when it is as close in
    meaning as the retriever's 'sure' bar (a paraphrased topic: 老人吃饭 for 老年助餐)."""
    if not g.constraints_ok:
        return False
    if g.coverage >= TOPIC_COVERAGE:
        return True
    bar = getattr(retriever, "min_dense", None)
    return bar is not None and g.dense_best is not None and g.dense_best >= bar + retriever.settings.dense_sure_margin


def track_dicts(retriever, topic: str, **kw: Any) -> list[dict[str, Any]]:
    """track_topic as the JSON list of `dafu track --json` and GET /api/track."""
    return [t.to_dict() for t in track_topic(retriever, topic, **kw)]


# -- the chat: "去年答应新增的助餐点建了没有？" -------------------------------------------------------------------
PROMISE_RE = re.compile(r"答应|承诺|许诺|保证|说过|说要|表示要|提出要|计划|打算|要求")
STATUS_Q_RE = re.compile(
    r"(?:了|过)?没有?[？?。!！\s]*$|了吗|有没有(?:建|做|完成|落实|兑现|办)|吗[？?。\s]*$|怎么样了|进展(?:如何|怎样|怎么样)|"
    r"落实(?:了|得|情况)|兑现|完成(?:了|得|情况)|做到|到位|实现了")
RELATIVE_YEARS = {"大前年": -3, "前年": -2, "去年": -1, "上一年": -1, "今年": 0, "本年": 0}
_CUE_WORDS = re.compile("|".join(["答应", "承诺", "许诺", "保证", "说过", "说要", "表示", "提出", "计划", "打算", "要求",
                                  "建了没有", "了没有", "没有", "有没有", "了吗", "怎么样", "进展", "如何", "落实", "兑现",
                                  "完成", "做到", "到位", "实现", "情况", *RELATIVE_YEARS]))
MAX_COMMITMENTS = 3


def is_commitment_question(question: str) -> bool:
    """A question about whether a promise was kept: a promise word and a status question (了没有, 兑现了吗 …)."""
    q = (question or "").strip()
    return bool(PROMISE_RE.search(q) and STATUS_Q_RE.search(q))


def _question_year(q: str, today: _dt.date) -> int | None:
    m = YEAR_RE.search(q)
    if m:
        return int(m.group(1))
    for word, delta in sorted(RELATIVE_YEARS.items(), key=lambda kv: -len(kv[0])):
        if word in q:
            return today.year + delta
    return None


def _match_commitments(tracker: CommitmentTracker, retriever, question: str, filters: Filters | None,
                       year: int | None) -> tuple[list[int], bool]:
    """(commitment positions that the question is about, best first; whether they are from the year asked)."""
    index = tracker.index
    table = department_table()
    depts = set(table.find_in(question))
    dists = [d for d in known_districts(tracker) if d in question or (len(d) > 2 and d[:-1] in question)]
    text = _CUE_WORDS.sub(" ", YEAR_RE.sub(" ", question))
    for d in dists:
        text = text.replace(d, " ").replace(d[:-1], " ")
    for name in table.all_names():
        if len(name) >= 2 and name in text:
            text = text.replace(name, " ")
    words = {t for t in tracker._content(text)}
    if not words:
        return [], False
    weights = {t: tracker.idf(t) for t in words}
    total = sum(weights.values())
    scored: list[tuple[float, int]] = []
    for ci, c in enumerate(tracker.commitments):
        r = index.replies[c.reply_id]
        if filters is not None and not filters.matches(r):
            continue
        if dists and c.district not in dists:
            continue
        if depts and c.department not in depts:
            continue
        own, title = set(tracker._content(c.text)), set(tracker._content(r.title))
        share = sum(v * (1.0 if t in own else 0.5) for t, v in weights.items() if t in own | title) / total
        if share >= 0.5:
            scored.append((share, ci))
    if not scored:
        return [], False
    in_year = [x for x in scored if year is not None and tracker.commitments[x[1]].year == year]
    pool = in_year or scored
    if not in_year:  # nothing from the year asked (or none named): the most recent promise(s) on it
        latest = max(tracker.commitments[ci].year or 0 for _, ci in pool)
        pool = [x for x in pool if (tracker.commitments[x[1]].year or 0) == latest]
    pool.sort(key=lambda x: (-x[0], tracker.commitments[x[1]].reply_date, tracker.commitments[x[1]].start))
    best = pool[0][0]
    return [ci for s, ci in pool if s >= best - 1e-9][:MAX_COMMITMENTS], bool(in_year)


def _citation(retriever, n: int, reply_id: str, start: int, end: int) -> Citation:
    """The chunk of `reply_id` that holds text[start:end] (the point is a sentence of it)."""
    index = retriever.index
    r = index.replies[reply_id]
    chunk = next((index.chunks[i] for i in index.reply_chunks.get(reply_id, [])
                  if index.chunks[i].part == "reply" and index.chunks[i].start <= start and end <= index.chunks[i].end), None)
    cs, ce, path = (chunk.start, chunk.end, list(chunk.heading_path)) if chunk else (start, end, [])
    return Citation(n, r.id, r.number, r.title, r.proposer, *written_units(r), r.reply_date,
                    r.text[cs:ce], cs, ce, path, 1.0, r.kind)


def _verdict(t: Tracked) -> str:
    if t.status == "reported":
        rows = [r for r in t.comparisons if r.get("reported")]
        figures = "；".join(f"目标{r['target']}，报告{r['reported']}" for r in rows)
        return f"{STATUS_LABEL['reported']}，{FULFILMENT_LABEL[t.fulfilment or 'unclear']}" + (f"（{figures}）" if figures else "")
    if t.status == "in_progress":
        return "仍在推进：后来的答复再次把它列入计划，尚未报告完成"
    if t.status == "not_reported":
        return f"未见报告：期限{t.due}已过，之后的答复没有报告这项工作"
    return f"未到期：期限{t.due}，目前还没有后续答复报告"


def answer_commitment_question(retriever, question: str, filters: Filters | None = None,
                               today: _dt.date | None = None) -> Answer | None:
    """An answer from the commitment links when `question` asks whether a promise was kept (else None, and the
    ordinary answer applies). Points: the promise (plan) and the passages that report on it (done), each an
    exact sentence of its cited passage."""
    if not is_commitment_question(question):
        return None
    t0 = time.perf_counter()
    today = today or _dt.date.today()
    tracker = tracker_of(retriever)
    year = _question_year(question, today)
    picked, in_year = _match_commitments(tracker, retriever, question, filters, year)
    if not picked or (year is not None and not in_year and YEAR_RE.search(question)):
        # "2023年计划新建的…完成了没有？" with no promise in a 2023 letter: a later letter may report on 2023, which
        # the ordinary answer finds; a relative year (去年) with none gets the latest promise, said so
        return None
    as_of = today.isoformat()
    cites: dict[tuple[str, int], Citation] = {}
    points: list[Point] = []
    lines: list[str] = []
    if year is not None and not in_year:
        lines.append(f"没有找到{year}年答复中的相关承诺；以下是最近一次答复中的承诺。")
        lines.append("")

    def cite(reply_id: str, start: int, end: int) -> int:
        c = _citation(retriever, len(cites) + 1, reply_id, start, end)
        key = (reply_id, c.start)
        if key not in cites:
            cites[key] = c
        return cites[key].n

    for ci in picked:
        t = tracker.status(tracker.commitments[ci], as_of)
        c = t.commitment
        n = cite(c.reply_id, c.start, c.end)
        points.append(Point(c.text, "plan", [n], c.reply_id, c.start, c.end))
        where = f"{c.district}{c.department}".strip() or "—"
        lines.append(f"**承诺**（{c.year or '—'}年{number_label(c.number)}答复，{where}，{c.reply_date or '—'}）：{c.text} [{n}]")
        lines.append(f"**跟踪结果**：{_verdict(t)}")
        for e in t.evidence[:3]:
            m = cite(e.reply_id, e.start, e.end)
            kind = "done" if e.kind == "report" else "plan"
            points.append(Point(e.text, kind, [m], e.reply_id, e.start, e.end))
            label = "报告" if e.kind == "report" else "再次列入计划"
            lines.append(f"- {e.year or '—'}年{number_label(e.number)}答复{label}：{e.text} [{m}]")
        lines.append("")
    citations = sorted(cites.values(), key=lambda c: c.n)
    if citations:
        from service.answer import _cite_line

        lines += ["**来源**", *[_cite_line(c) for c in citations]]
    return Answer(question, "\n".join(lines).strip(), points, citations, [], False, question, 1.0,
                  {"answer_ms": (time.perf_counter() - t0) * 1000, "tracked": 1.0}, uuid.uuid4().hex)
