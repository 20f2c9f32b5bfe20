"""Questions that count replies: "2023年答复了多少件建议？", "关于加装电梯的提案有几件？".

They ask how many letters there are, not a figure inside one. With a topic, the letters that cover it are
counted (the same answerability judgement as any answer) and listed with a couple of points each; with no
topic, the index's records are counted by the year, place, department and kind the question names, and the
first of them are listed. Nothing is counted from a letter's text.
"""
from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING

from index.departments import department_table, same_place
from index.records import number_label
from service.records import Answer
from service.units import written_units

if TYPE_CHECKING:
    from service.filters import Filters
    from service.query import Query
    from service.retrieval import Retriever

COUNT_RE = re.compile(r"(?:多少|几)(?:件|份|个|条)(?:提案|建议|议案|答复)|(?:提案|建议|议案|答复)(?:一共|总共|共)?(?:有)?(?:多少|几)(?:件|份)|"
                      r"(?:答复|办理|办复|回复)了?(?:多少|几)件|有(?:多少|几)件")
LIST_SHOWN = 10


def asks_count(text: str) -> bool:
    return bool(COUNT_RE.search(text))


def _kind(text: str) -> str:
    has_p, has_s = "提案" in text, "建议" in text
    return "提案" if has_p and not has_s else "建议" if has_s and not has_p else ""


def count_records(retriever: "Retriever", q: "Query", question: str, rewritten: str,
                  filters: "Filters | None" = None) -> Answer:
    """A count of the index's replies by the year, place, department and kind the question names."""
    t0 = time.perf_counter()
    index = retriever.index
    table = department_table()
    kind = _kind(q.text)
    depts = set(q.departments)
    co_asked = bool(re.search(r"协办|会办|参与|配合", q.text))
    # the API's or chat's filters (year range, department, proposer) from the per-field lookups: no letter decoded
    allowed = index.facets.mask(filters) if filters is not None else None
    years = q.years or q.relative_years  # "去年答复了多少件？": the calendar's year
    hits: list[tuple[str, str]] = []  # (date, reply id)
    for pos, meta in enumerate(index.facets.metas if not q.unknown_places else []):
        if not index.live_replies[pos] or (allowed is not None and not allowed[pos]):
            continue
        if years and meta.year not in years:
            continue
        if kind and meta.kind and meta.kind != kind:
            continue
        if q.places and not any(same_place(p, meta.place) for p in q.places):
            continue
        if depts:
            # the replies it answered (lead or signing unit); the ones it helped with only when that is asked
            own = {table.canonical(meta.lead_unit), table.canonical(meta.signer)}
            if co_asked:
                own |= {table.canonical(u) for u in meta.units}
            if not own & depts:
                continue
        hits.append((meta.date, index.reply_ids[pos]))
    noun = kind or "提案和建议"
    if q.unknown_places:
        head = f"已收录的答复中没有{'、'.join(q.unknown_places)}的答复。"
    else:
        where = "".join([*(f"{y}年" for y in years), "、".join(q.places)])
        who = "、".join(q.departments)
        head = (f"{where}{who}答复的{noun}共{len(hits)}件" if who else f"{where}已收录的{noun}答复共{len(hits)}件") + ("：" if hits else "。")
    hits.sort(reverse=True)  # newest first; only the letters listed are decoded
    replies = [index.replies[rid] for _, rid in hits[:LIST_SHOWN]]
    lines = [head]
    for r in replies:
        num = f"{number_label(r.number)}{r.kind}" if r.number else ""
        lines.append(f"- {num}《{r.title or '（无标题）'}》（{r.signer or r.lead_unit or '—'}，{r.reply_date or r.signed_date or '—'}）")
    if len(hits) > LIST_SHOWN:
        lines.append(f"- ……另有{len(hits) - LIST_SHOWN}件")
    related = []
    for r in replies:
        lead, co = written_units(r)
        related.append({**r.summary(), "lead_unit": lead, "co_units": co, "score": 0.0, "coverage": 0.0, "place": ""})
    return Answer(question, "\n".join(lines), [], [], related, not hits, rewritten, 0.0,
                  {"answer_ms": (time.perf_counter() - t0) * 1000}, uuid.uuid4().hex, head,
                  "" if hits else "not_found")


def count_topic(retriever: "Retriever", q: "Query", question: str, rewritten: str, filters: "Filters | None",
                top_k: int) -> Answer:
    """How many letters cover the topic (judged as for any answer), then those letters listed."""
    from service.answer import build_answer

    result = retriever.search(rewritten, filters=filters, top_k=top_k, query=q)
    covering = [g for g in result.replies if g.covers]
    if not covering:
        return build_answer(question, result, retriever.settings, retriever, rewritten)
    result.replies = covering
    a = build_answer(question, result, retriever.settings, retriever, rewritten, listing=True)
    topic = q.topic_phrase or "、".join(t for t in q.topic if len(t) > 1)[:20] or "这方面"
    more = "（检索到的前{}件中）".format(top_k) if len(covering) >= top_k else ""
    head = f"{more}共有{len(covering)}件答复谈到了{topic}："
    a.lead = head
    a.answer_markdown = f"{head}\n\n{a.answer_markdown}"
    return a
