"""Questions: POST /api/ask, /api/ask/stream (server-sent events), /api/search; POST /api/feedback."""
from __future__ import annotations

import json
from typing import Any, AsyncIterator

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from service.api.models import (AnswerPublic, AskRequest, ErrorPublic, FeedbackCreate, FeedbackPublic, SearchPublic,
                                SearchRequest)
from service.api.security import safe_markdown
from service.core import ServiceCore

router = APIRouter(tags=["问答 ask"],
                   responses={413: {"model": ErrorPublic, "description": "body over 1 MiB"},
                              422: {"model": ErrorPublic, "description": "invalid request"}})

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorPublic, "description": "body not parseable, or a filter the core cannot use (the message says which)"},
    409: {"model": ErrorPublic, "description": "the index was built with another embedding model"},
    422: {"model": ErrorPublic, "description": "request body invalid (length, unknown keys, types)"},
    429: {"model": ErrorPublic, "description": "too many questions from this client (Retry-After)"},
    503: {"model": ErrorPublic, "description": "no index loaded"},
}

STREAM_DOC = {200: {"description": "text/event-stream: `point` events (one per point, as JSON with its `index`), "
                                   "then `citations` (JSON list), then `done` (the whole answer, as POST /api/ask)",
                    "content": {"text/event-stream": {"example": 'event: point\ndata: {"text": "2022年全区新增五年制高职专业3个,'
                                                                '高职类专业达到13个;", "kind": "done", "citations": [1], "index": 0}\n\n'
                                                                'event: citations\ndata: [...]\n\nevent: done\ndata: {...}\n\n'}}}}


def core_of(request: Request) -> ServiceCore:
    return request.app.state.core


def _history(body: AskRequest) -> list[dict[str, Any]]:
    return [h.model_dump() for h in body.history or []]


@router.post("/api/ask", response_model=AnswerPublic, responses=ERRORS, summary="回答问题，每一点都带引用 (cited answer)")
async def ask(body: AskRequest, request: Request) -> dict[str, Any]:
    """Retrieve, then answer extractively: every point is a sentence of a cited passage, and each citation's
    `start`/`end` slice its `passage` out of `GET /api/replies/{reply_id}`'s `text`. With `history`, a follow-up
    ("那人社局呢？", "2021年的呢？", "第二条具体怎么做的？") is rewritten first; see `rewritten_question` and `filters`."""
    core = core_of(request)
    answer = await run_in_threadpool(core.ask, body.question, body.filters.to_core() if body.filters else None,
                                     body.top_k, _history(body))
    request.app.state.metrics.observe_answer(answer)
    answer["answer_markdown"] = safe_markdown(answer["answer_markdown"])
    return answer


@router.post("/api/ask/stream", responses={**ERRORS, **STREAM_DOC}, response_class=EventSourceResponse,
             summary="同一回答，以服务器推送事件返回 (server-sent events)")
async def ask_stream(body: AskRequest, request: Request) -> EventSourceResponse:
    """The answer of POST /api/ask as server-sent events. Errors (empty index, bad filters) come back as a normal
    JSON error response before the stream starts."""
    core = core_of(request)
    answer = await run_in_threadpool(core.ask, body.question, body.filters.to_core() if body.filters else None,
                                     body.top_k, _history(body))
    request.app.state.metrics.observe_answer(answer)
    answer["answer_markdown"] = safe_markdown(answer["answer_markdown"])
    answer = AnswerPublic.model_validate(answer).model_dump(mode="json")

    async def events() -> AsyncIterator[dict[str, str]]:
        for ev in ServiceCore.stream_events(answer):
            yield {"event": ev["event"], "data": json.dumps(ev["data"], ensure_ascii=False)}

    return EventSourceResponse(events(), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/api/search", response_model=SearchPublic, responses=ERRORS, summary="检索段落，不生成回答 (hits only)")
async def search(body: SearchRequest, request: Request) -> dict[str, Any]:
    """Hybrid retrieval (dense + BM25, fused), hits grouped by reply, best first."""
    core = core_of(request)
    return await run_in_threadpool(core.search, body.query, body.filters.to_core() if body.filters else None, body.top_k)


@router.post("/api/feedback", response_model=FeedbackPublic, status_code=201, tags=["反馈 feedback"],
             responses={400: {"model": ErrorPublic, "description": "body is not parseable JSON"},
                        404: {"model": ErrorPublic, "description": "unknown answer_id"},
                        429: {"model": ErrorPublic, "description": "too many feedback posts from this client (Retry-After)"},
                        503: {"model": ErrorPublic, "description": "feedback cannot be stored right now"},
                        422: {"model": ErrorPublic, "description": "invalid body"}},
             summary="对回答点赞或点踩 (rate an answer)")
async def feedback(body: FeedbackCreate, request: Request) -> dict[str, Any]:
    """Stored durably with the question, the answer and its citations; `dafu feedback export` writes it out."""
    core = core_of(request)
    out = await run_in_threadpool(core.feedback, body.answer_id, body.rating, body.comment)
    request.app.state.metrics.feedback.labels(body.rating).inc()
    return out
