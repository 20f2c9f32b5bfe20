"""Backends for the web-chat tests: a fake with realistic dicts (incl. hostile markup) and an in-process one."""
from __future__ import annotations

import uuid
from typing import Any, Iterator

EVIL = "<script>alert(1)</script>"

LETTER = (
    "关于加强职业技能培训的建议\n"
    "提出者：张<b>三</b>\n"
    "您提出的关于加强职业技能培训的建议收悉，现答复如下：\n"
    "一、主要做法\n"
    f"2023年全区开展补贴性职业技能培训1.2万人次{EVIL}，其中新就业形态劳动者培训3000人次。"
    "建成公共实训基地2个，联合企业开展新型学徒制培训800人。\n"
    "二、下一步打算\n"
    "我局将进一步扩大培训规模，推动<b>培训</b>与就业岗位精准对接。\n"
    "南通市通州区人力资源和社会保障局\n2023年6月30日\n"
)


def _span(text: str, needle: str) -> tuple[int, int]:
    i = text.index(needle)
    return i, i + len(needle)


def fake_reply() -> dict[str, Any]:
    return {"id": "r1", "text": LETTER, "source": "r1.txt", "proposer": "张<b>三</b>", "number": "12", "kind": "建议",
            "title": "关于加强职业技能培训的建议<i>", "proposal": "", "lead_unit": "人力资源和社会保障局",
            "co_units": ["财政局"], "reply_date": "2023-06-30", "reply_text": "", "signer": "南通市通州区人力资源和社会保障局",
            "signed_date": "2023-06-30", "proposal_span": [0, 0], "reply_span": [0, len(LETTER)], "title_span": [0, 13],
            "field_sources": {}, "content_hash": "x"}


def fake_answer(question: str) -> dict[str, Any]:
    """An answer whose first point and citation contain `<script>` (as the document does)."""
    t = LETTER
    done1 = f"2023年全区开展补贴性职业技能培训1.2万人次{EVIL}，其中新就业形态劳动者培训3000人次。"
    plan1 = "我局将进一步扩大培训规模，推动<b>培训</b>与就业岗位精准对接。"
    cs1, ce1 = _span(t, done1 + "建成公共实训基地2个，联合企业开展新型学徒制培训800人。")
    s1, e1 = _span(t, done1)
    s2, e2 = _span(t, plan1)
    r = fake_reply()
    base = {k: r[k] for k in ("number", "title", "proposer", "lead_unit", "co_units", "reply_date", "kind")}
    cits = [{"n": 1, "reply_id": "r1", **base, "passage": t[cs1:ce1], "start": cs1, "end": ce1,
             "heading_path": ["一、主要做法"], "score": 0.9},
            {"n": 2, "reply_id": "r1", **base, "passage": t[s2:e2], "start": s2, "end": e2,
             "heading_path": ["二、下一步打算"], "score": 0.8}]
    points = [{"text": t[s1:e1], "kind": "done", "citations": [1], "reply_id": "r1", "start": s1, "end": e1},
              {"text": t[s2:e2], "kind": "plan", "citations": [2], "reply_id": "r1", "start": s2, "end": e2}]
    return {"answer_id": uuid.uuid4().hex, "question": question, "answer_markdown": "…", "points": points,
            "citations": cits, "related": [], "no_answer": False, "rewritten_question": question,
            "relevance": 0.8, "timings": {}}


def not_found_answer(question: str) -> dict[str, Any]:
    r = fake_reply()
    rel = {k: r[k] for k in ("id", "number", "kind", "title", "proposer", "lead_unit", "co_units", "reply_date")}
    return {"answer_id": uuid.uuid4().hex, "question": question, "answer_markdown": "未找到能直接回答这个问题的答复。",
            "points": [], "citations": [], "related": [rel], "no_answer": True, "rewritten_question": question,
            "relevance": 0.0, "timings": {}}


def stream_events(answer: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for p in answer["points"]:
        yield {"event": "point", "data": p}
    yield {"event": "citations", "data": answer["citations"]}
    yield {"event": "done", "data": answer}


class FakeBackend:
    """Answers every question with `fake_answer`, except questions containing 火星 (not found)."""

    def __init__(self) -> None:
        self.feedbacks: list[tuple[str, str, str | None]] = []
        self.calls: list[tuple[str, Any]] = []

    def _answer(self, question: str) -> dict[str, Any]:
        return not_found_answer(question) if "火星" in question else fake_answer(question)

    def ask(self, question, filters=None, top_k=None, history=None):
        self.calls.append(("ask", {"question": question, "filters": filters, "history": history}))
        return self._answer(question)

    def ask_stream(self, question, filters=None, top_k=None, history=None):
        self.calls.append(("ask_stream", {"question": question, "filters": filters, "history": history}))
        yield from stream_events(self._answer(question))

    def search(self, query, filters=None, top_k=None):
        return {"query": query, "replies": [], "relevance": 0.0, "query_tokens": [], "timings": {}}

    def get_reply(self, reply_id):
        if reply_id != "r1":
            raise KeyError(f"unknown reply {reply_id}")
        return fake_reply()

    def list_replies(self, q=None, filters=None, page=1, page_size=20):
        self.calls.append(("list_replies", {"q": q, "filters": filters, "page": page}))
        r = fake_reply()
        items = [{k: r[k] for k in ("id", "number", "kind", "title", "proposer", "lead_unit", "co_units", "reply_date")}]
        return {"items": items, "total": 1, "page": page, "page_size": page_size}

    def departments(self):
        return [{"name": "人力资源和社会保障局", "aliases": ["人社局"], "count": 1}, {"name": "财政局", "aliases": [], "count": 1}]

    def feedback(self, answer_id, rating, comment=None):
        self.feedbacks.append((answer_id, rating, comment))
        return {"ok": True}

    def stats(self):
        return {"replies": 1, "years": [2023]}


class InProcessBackend:
    """The protocol over a Retriever, with the same answer function the service uses (for tests only)."""

    def __init__(self, retriever) -> None:
        self.r = retriever
        self.feedbacks: list[tuple[str, str, str | None]] = []

    def _filters(self, f):
        from service.filters import Filters

        return Filters(**(f or {})) if f else None

    def ask(self, question, filters=None, top_k=None, history=None):
        from service.answer import answer_question

        try:
            return answer_question(self.r, question, self._filters(filters), top_k, history).to_dict()
        except ModuleNotFoundError:  # follow-up rewriting not in this checkout yet
            return answer_question(self.r, question, self._filters(filters), top_k).to_dict()

    def ask_stream(self, question, filters=None, top_k=None, history=None):
        yield from stream_events(self.ask(question, filters, top_k, history))

    def search(self, query, filters=None, top_k=None):
        return self.r.search(query, filters=self._filters(filters), top_k=top_k).to_dict()

    def get_reply(self, reply_id):
        return self.r.index.reply(reply_id).to_dict()

    def list_replies(self, q=None, filters=None, page=1, page_size=20):
        f = self._filters(filters)
        reps = [r for r in self.r.index.replies.values() if (f is None or f.matches(r))
                and (not q or q in r.number or q in r.title or q in r.proposer or q in r.text)]
        items = [r.summary() for r in reps[(page - 1) * page_size: page * page_size]]
        return {"items": items, "total": len(reps), "page": page, "page_size": page_size}

    def departments(self):
        from index.departments import department_table

        table, counts = department_table(), {}
        for r in self.r.index.replies.values():
            for u in r.units:
                counts[table.canonical(u)] = counts.get(table.canonical(u), 0) + 1
        return [{"name": n, "aliases": table.aliases.get(n, []), "count": c} for n, c in sorted(counts.items())]

    def feedback(self, answer_id, rating, comment=None):
        self.feedbacks.append((answer_id, rating, comment))
        return {"ok": True}

    def stats(self):
        years = sorted({r.year for r in self.r.index.replies.values() if r.year})
        return {"replies": len(self.r.index.replies), "years": years}
