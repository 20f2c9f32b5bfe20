"""Commitment tracking: GET /api/track (the promises on a topic and what later replies reported),
GET /api/track/districts (the districts the index's replies answer for)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from service.api.models import ErrorPublic
from service.api.routes_ask import core_of

router = APIRouter(tags=["跟踪 track"], responses={422: {"model": ErrorPublic, "description": "invalid request"},
                                                  503: {"model": ErrorPublic, "description": "no index loaded"}})

Status = Literal["reported", "in_progress", "not_reported", "pending"]


class TrackQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field("", max_length=100, description="话题，如 老年助餐；空：全部承诺")
    district: str | None = Field(None, max_length=50, description="区县，如 通州区 或 通州")
    departments: list[str] = Field(default_factory=list, max_length=20, description="承诺所在答复的部门（可用简称）")
    year_from: int | None = Field(None, ge=1949, le=2100, description="承诺所在答复的年份起")
    year_to: int | None = Field(None, ge=1949, le=2100, description="承诺所在答复的年份止")
    status: Status | None = Field(None, description="只看这一状态")
    as_of: str | None = Field(None, pattern=r"^\d{4}(-\d{2}-\d{2})?$", description="按这一天判断是否到期（默认今天）")
    limit: int = Field(500, ge=1, le=100_000, description="最多返回的承诺数")


class CitationSpan(BaseModel):
    start: int
    end: int
    text: str = Field(description="== GET /api/replies/{reply_id} text[start:end]")
    heading_path: list[str] = []


class ReplyRefPublic(BaseModel):
    """The reply a commitment or its evidence comes from."""

    reply_id: str
    number: str
    year: int | None
    reply_date: str
    title: str
    department: str
    district: str


class SourcePublic(ReplyRefPublic):
    topic: str
    citation: CitationSpan


class EvidencePublic(ReplyRefPublic):
    kind: Literal["report", "restated"] = Field(description="report: a done-type passage reports on it; "
                                                            "restated: a later reply plans it again")
    text: str = Field(description="== GET /api/replies/{reply_id} text[start:end]")
    start: int
    end: int
    heading_path: list[str] = []
    score: float
    via: str = Field("", description="inherited from the restating commitment with this id")


class TargetPublic(BaseModel):
    text: str
    value: float
    unit: str
    at_most: bool = Field(description="a ceiling (压缩至20个工作日以内): lower is better")


class ComparisonPublic(BaseModel):
    target: str
    target_value: float
    reported: str | None
    reported_value: float | None
    verdict: Literal["met", "partly", "unclear"]
    reply_id: str = ""
    start: int | None = None
    end: int | None = None


class CommitmentPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "35_20220624@510", "text": "2022年计划新增老年助餐点20个，重点向老年人口集中的老旧小区倾斜。",
        "measure": "新增老年助餐点20个", "targets": [{"text": "20个", "value": 20, "unit": "个", "at_most": False}],
        "source": {"reply_id": "35_20220624", "number": "35", "year": 2022, "reply_date": "2022-06-24",
                   "title": "关于进一步提升老年助餐服务质量的建议", "department": "民政局", "district": "临江区",
                   "topic": "进一步提升老年助餐服务质量",
                   "citation": {"start": 510, "end": 545, "text": "2022年计划新增老年助餐点20个，…", "heading_path": []}},
        "due": "2022-12-31", "due_stated": True, "due_text": "2022年", "status": "reported", "fulfilment": "met",
        "status_label": "已报告（达成）", "comparisons": [], "evidence": [], "as_of": "2025-06-30"}]})

    id: str
    text: str = Field(description="the promise: a plan sentence of the reply")
    measure: str
    targets: list[TargetPublic]
    source: SourcePublic
    due: str = Field(description="stated due date, else the end of the year after the reply")
    due_stated: bool
    due_text: str
    status: Status
    fulfilment: Literal["met", "partly", "unclear"] | None = Field(description="for status reported")
    status_label: str
    comparisons: list[ComparisonPublic]
    evidence: list[EvidencePublic]
    as_of: str


@router.get("/api/track", response_model=list[CommitmentPublic],
            summary="承诺跟踪：答复中的承诺及后续答复的报告 (commitment tracking)")
async def track(request: Request, query: Annotated[TrackQuery, Query()]) -> list[dict[str, Any]]:
    """The promises made in the replies on `topic` (all with an empty topic), oldest first; each with the later
    replies that report on it (same district, same department or topic), its status as of `as_of` and the cited
    passages (offsets into GET /api/replies/{id} `text`)."""
    core = core_of(request)
    items = await run_in_threadpool(core.track, query.topic, query.model_dump(exclude={"topic", "limit"}))
    return items[:query.limit]


@router.get("/api/track/districts", response_model=list[str], summary="答复涉及的区县 (districts)")
async def districts(request: Request) -> list[str]:
    """Districts learned from the replies' signing units (and titles)."""
    return await run_in_threadpool(core_of(request).track_districts)
