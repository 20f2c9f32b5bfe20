"""Who answers the gold questions: the index in this process, or a running dafu service over HTTP.

Both return :class:`eval.scoring.Response`: the answer (``Answer.to_dict()`` shape), the retrieval
ranking used for the ranking metrics, and timings.

* In-process: one search with depth ``max(top_k, 10)`` goes through the real :func:`answer_question`
  (a recording wrapper hands it the first ``top_k`` replies, exactly what a plain search with
  ``top_k`` returns), so the answer is the one users get and the ranking has 10 replies to score.
* HTTP (``--api URL``): ``POST URL/api/ask`` with ``{question, filters, top_k, history}``; the ranking
  is the cited reply ids in citation order, then the ``related`` ids.
"""
from __future__ import annotations

import importlib.util
import time
from typing import Any

from eval.gold import GoldItem, ReplyKey
from eval.scoring import RETRIEVAL_DEPTH, Response
from index.errors import DafuError

FOLLOWUP_MISSING = "follow-up rewriting is not available (service.followup missing); asked without the history"


class _RecordingRetriever:
    """Looks like a Retriever to answer_question; searches deeper and keeps the full result."""

    def __init__(self, inner, depth: int) -> None:
        self.inner = inner
        self.depth = depth
        self.last = None

    @property
    def settings(self):
        return self.inner.settings

    def search(self, question, filters=None, top_k=None, retriever=None, query=None):
        from dataclasses import replace

        k = top_k or self.inner.settings.top_k
        res = self.inner.search(question, filters=filters, top_k=max(k, self.depth), retriever=retriever, query=query)
        self.last = res
        return replace(res, replies=res.replies[:k])

    def __getattr__(self, name):  # anything else answer_question or a rewriter may use
        return getattr(self.inner, name)


def _top_passages(result, n: int = 5) -> list[str]:
    hits = [h for g in result.replies for h in g.hits]
    hits.sort(key=lambda h: -h.fused)
    return [h.chunk.text for h in hits[:n]]


class InProcessBackend:
    kind = "in-process"

    def __init__(self, index, settings, encoder=None) -> None:
        from service.retrieval import Retriever

        self.index = index
        self.settings = settings
        self.retriever = Retriever(index, settings, encoder)
        self.has_followup = importlib.util.find_spec("service.followup") is not None

    def catalogue(self) -> list[ReplyKey]:
        return [ReplyKey(r.id, r.number, r.reply_date, r.source) for r in self.index.replies.values()]

    def warm_up(self) -> None:
        """Load the encoder before timing anything (the first question would otherwise pay for it)."""
        from service.gazetteer import warm_up

        warm_up()
        if self.settings.retriever != "bm25":
            self.retriever.encoder.encode_queries(["预热"])

    def ask(self, item: GoldItem) -> Response:
        from service.answer import answer_question
        from service.filters import Filters

        notes: list[str] = []
        history = [dict(h) for h in item.history] or None
        if history and not self.has_followup:
            notes.append(FOLLOWUP_MISSING)
            history = None
        rec = _RecordingRetriever(self.retriever, RETRIEVAL_DEPTH)
        t0 = time.perf_counter()
        try:
            known = {k: v for k, v in (item.filters or {}).items() if k in Filters.__dataclass_fields__}
            filters = Filters(**known) if known else None
            ans = answer_question(rec, item.question, filters, top_k=self.settings.top_k, history=history)
        except DafuError as e:
            return Response({}, [], [], (time.perf_counter() - t0) * 1000, f"{type(e).__name__}: {e}", notes=notes)
        total = (time.perf_counter() - t0) * 1000
        ranked = [g.reply.id for g in rec.last.replies] if rec.last else []
        passages = _top_passages(rec.last) if rec.last else []
        return Response(ans.to_dict(), ranked, passages, total, None, ans.rewritten_question, notes)

    def track_all(self, as_of: str) -> list[dict[str, Any]]:
        """Every commitment of the index with its links and status as of `as_of` (service.track)."""
        from service.track import tracker_for

        tracker = tracker_for(self.index, self.retriever.encoder, self.settings.resolved_cache_dir)
        return [t.to_dict() for t in tracker.all(as_of)]

    def describe(self) -> dict[str, Any]:
        m = self.index.manifest
        return {"backend": self.kind, "index_version": self.index.version, "index_model": m.get("model"),
                "chunking": m.get("chunking"), "replies": len(self.index.replies), "chunks": len(self.index.chunks),
                "followup_rewriting": self.has_followup}


class ApiBackend:
    kind = "api"

    def __init__(self, url: str, top_k: int | None = None, client=None, timeout: float = 120.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.top_k = top_k
        self.client = client or httpx.Client(timeout=timeout)

    def catalogue(self) -> list[ReplyKey]:
        return []  # learnt from the responses (and from the gold's reply files, read locally)

    def warm_up(self) -> None:
        pass

    def _body(self, item: GoldItem) -> dict[str, Any]:
        body: dict[str, Any] = {"question": item.question, "filters": item.filters or None, "top_k": self.top_k,
                                "history": [{"question": h["question"]} for h in item.history] or None}
        return {k: v for k, v in body.items() if v is not None}

    def ask(self, item: GoldItem) -> Response:
        import httpx

        t0 = time.perf_counter()
        try:
            r = self.client.post(f"{self.url}/api/ask", json=self._body(item))
            total = (time.perf_counter() - t0) * 1000
            if r.status_code >= 400:
                return Response({}, [], None, total, f"HTTP {r.status_code}: {r.text[:300]}")
            data = r.json()
        except (httpx.HTTPError, ValueError) as e:
            return Response({}, [], None, (time.perf_counter() - t0) * 1000, f"{type(e).__name__}: {e}")
        cited = [c.get("reply_id", "") for c in data.get("citations") or []]
        related = [x.get("id", "") for x in data.get("related") or []]
        ranked = [x for x in dict.fromkeys(cited + related) if x]
        keys = [ReplyKey(c.get("reply_id", ""), str(c.get("number", "")), c.get("reply_date", ""), "")
                for c in data.get("citations") or []]
        keys += [ReplyKey(x.get("id", ""), str(x.get("number", "")), x.get("reply_date", ""), x.get("source", ""))
                 for x in data.get("related") or []]
        return Response(data, ranked, None, total, None, data.get("rewritten_question"), keys=[k for k in keys if k.id])

    def track_all(self, as_of: str) -> list[dict[str, Any]]:
        """GET URL/api/track?as_of=… (no topic: every commitment of the service's index)."""
        r = self.client.get(f"{self.url}/api/track", params={"as_of": as_of, "limit": 100000})
        if r.status_code >= 400:
            raise DafuError(f"{self.url}/api/track answered HTTP {r.status_code}: {r.text[:300]}")
        return r.json()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.kind, "url": self.url}
        try:
            r = self.client.get(f"{self.url}/api/stats")
            if r.status_code < 400:
                info["stats"] = r.json()
        except Exception:  # noqa: BLE001 - stats are informational only
            pass
        return info


def local_keys_for_paths(paths: list[str]) -> list[ReplyKey]:
    """Read reply files named by the gold set here, so their ids (content-derived) are known for --api runs."""
    from index.loader import load_paths

    if not paths:
        return []
    rep = load_paths(paths)
    return [ReplyKey(r.id, r.number, r.reply_date, r.source) for r in rep.replies]
