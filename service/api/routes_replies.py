"""Reading the corpus: GET /api/replies, /api/replies/{id}, /api/departments, /api/stats."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from service.api.models import DepartmentPublic, ErrorPublic, ReplyDetail, ReplyList, ReplyQuery, StatsPublic
from service.api.routes_ask import core_of

router = APIRouter(tags=["答复 replies"], responses={422: {"model": ErrorPublic, "description": "invalid request"}})

ReplyId = Annotated[str, Path(min_length=1, max_length=200, description="reply id, e.g. 28_20230630",
                              examples=["28_20230630"])]
NOT_READY = {503: {"model": ErrorPublic, "description": "no index loaded"}}


@router.get("/api/replies", response_model=ReplyList, responses={**NOT_READY, 422: {"model": ErrorPublic}},
            summary="答复列表（筛选、分页） (list replies)")
async def list_replies(request: Request, query: Annotated[ReplyQuery, Query()]) -> dict[str, Any]:
    """Newest first. `q` matches the number, title or a department (aliases such as 人社局 are folded);
    `departments` may repeat (`?departments=教体局&departments=人社局`)."""
    core = core_of(request)
    return await run_in_threadpool(core.list_replies, query.q, query.core_filters(), query.page, query.page_size)


@router.get("/api/replies/{reply_id}", response_model=ReplyDetail,
            responses={**NOT_READY, 404: {"model": ErrorPublic, "description": "unknown reply id"}},
            summary="一件答复的全部字段和全文 (one reply, full text)")
async def get_reply(request: Request, reply_id: ReplyId) -> dict[str, Any]:
    """All fields and the full `text`; a citation's `start`/`end` slice its passage out of `text` exactly."""
    return await run_in_threadpool(core_of(request).get_reply, reply_id)


@router.get("/api/departments", response_model=list[DepartmentPublic], responses=NOT_READY,
            summary="承办单位（规范名、简称、件数） (departments)")
async def departments(request: Request) -> list[dict[str, Any]]:
    """Canonical names of the departments in the index, with their aliases and how many replies name them."""
    return await run_in_threadpool(core_of(request).departments)


@router.get("/api/stats", response_model=StatsPublic, responses=NOT_READY, summary="索引统计 (index statistics)")
async def stats(request: Request) -> dict[str, Any]:
    return await run_in_threadpool(core_of(request).stats)
