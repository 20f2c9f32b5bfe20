"""Staff review of answers (bearer token DAFU_ADMIN_TOKEN): list recent answers, grade one, export gold cases.

The same workflow as `dafu feedback review` and the web chat's 审阅 tab (service.review explains how a review
becomes a gold case for `dafu eval run`).
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from service.api.auth import require_admin
from service.api.models import ErrorPublic, Strict
from service.api.routes_admin import AUTH_ERRORS
from service.api.routes_ask import core_of

router = APIRouter(tags=["管理 admin"], dependencies=[Depends(require_admin)],
                   responses={422: {"model": ErrorPublic, "description": "invalid request"}})


class ReviewCreate(Strict):
    points: list[Literal["correct", "wrong", "unsupported"]] = Field(
        description="one grade per point of the answer, in order", max_length=50)
    verdict: Literal["complete", "incomplete"] = Field(description="does the answer say all it should?")
    missing: list[str] = Field(default_factory=list, max_length=20, description="facts the answer should have stated")
    relevant: list[str] = Field(default_factory=list, max_length=20, description="reply ids that answer it but were not cited")
    must_include: list[str] | None = Field(None, max_length=20, description="key facts to check (default: from correct points)")
    note: str = Field("", max_length=2000)
    reviewer: str = Field("", max_length=100)


@router.get("/api/admin/answers", responses=AUTH_ERRORS, summary="最近的回答，供审阅 (recent answers to review)")
async def answers(request: Request, limit: int = Query(20, ge=1, le=500),
                  status: Literal["unreviewed", "reviewed", "all"] = "unreviewed") -> list[dict[str, Any]]:
    """Newest first, each with its question, points, citations, users' ratings and review (null if none)."""
    return await run_in_threadpool(core_of(request).reviews.recent, limit, status)


@router.put("/api/admin/answers/{answer_id}/review", responses={**AUTH_ERRORS, 404: {"model": ErrorPublic}},
            summary="审阅一条回答 (grade its points and completeness)")
async def review(request: Request, answer_id: str, body: ReviewCreate) -> dict[str, Any]:
    store = core_of(request).reviews
    return (await run_in_threadpool(lambda: store.save(answer_id, **body.model_dump()))).to_dict()


@router.post("/api/admin/reviews/export", responses=AUTH_ERRORS,
             summary="把审阅过的回答导出为评测集 (reviewed answers → gold JSONL for dafu eval run)")
async def export(request: Request) -> dict[str, Any]:
    """Writes `$DAFU_HOME/gold-reviewed.jsonl` on the server and returns its text under `jsonl`, with the count of
    cases and the reviews that could not become one (`skipped`, with the reason)."""
    core = core_of(request)
    token = core.settings.admin_token.get_secret_value() if core.settings.admin_token else None
    return await run_in_threadpool(core.review_export, token, None)
