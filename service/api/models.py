"""Request (…Request / …Create, extra="forbid") and response (…Public) models of the HTTP API.

Examples are in Chinese and show up in the OpenAPI document at /docs.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

# The question limit is DAFU_MAX_QUESTION_CHARS, enforced by the core (service/limits.py) for every entry point;
# the models only cap what the setting itself may be. create_app writes the configured limit into the OpenAPI schema.
QUESTION_CEILING = 20_000
Question = Field(min_length=1, max_length=QUESTION_CEILING, description="问题，1–DAFU_MAX_QUESTION_CHARS（默认 500）个字符")


def _strip_nonempty(v: str, what: str) -> str:
    v = v.strip()
    if not v:
        raise ValueError(f"{what} is empty (only spaces); send 1–DAFU_MAX_QUESTION_CHARS (default 500) characters")
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests -------------------------------------------------------------------------------------
class FiltersIn(Strict):
    """Metadata filters; every key is optional. Departments may be aliases (人社局 → 人力资源和社会保障局)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"year_from": 2022, "year_to": 2023, "departments": ["教体局"], "proposer": "戴红玲", "number": "28"}]})

    year_from: int | None = Field(None, ge=1949, le=2100, description="答复年份起")
    year_to: int | None = Field(None, ge=1949, le=2100, description="答复年份止")
    date_from: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="答复日期起 YYYY-MM-DD")
    date_to: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="答复日期止 YYYY-MM-DD")
    departments: list[str] = Field(default_factory=list, max_length=20, description="主办或协办单位（可用简称）")
    proposer: str | None = Field(None, max_length=100, description="提出者（委员/代表/单位）")
    number: str | None = Field(None, max_length=50, description="提案/建议号，如 28")

    @field_validator("departments")
    @classmethod
    def _depts(cls, v: list[str]) -> list[str]:
        v = [d.strip() for d in v if d and d.strip()]
        if any(len(d) > 50 for d in v):
            raise ValueError("a department name is longer than 50 characters")
        return v

    @model_validator(mode="after")
    def _range(self):
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise ValueError(f"year_from {self.year_from} is after year_to {self.year_to}; the range would be empty")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}; the range would be empty")
        return self

    def to_core(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v not in (None, "", [])}


class HistoryTurn(Strict):
    question: str = Field(min_length=1, max_length=QUESTION_CEILING, description="earlier question, as asked")
    answer_id: str | None = Field(None, max_length=64, description="answer_id of the answer to that question")


class AskRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "通州在产教融合方面做了哪些工作？"},
        {"question": "那人社局呢？", "filters": {"year_from": 2023},
         "history": [{"question": "通州在产教融合方面做了哪些工作？", "answer_id": "4ad688b9f0964c0f9131be1fd0d92815"}]},
    ]})

    question: str = Question
    filters: FiltersIn | None = None
    top_k: int | None = Field(None, ge=1, le=50, description="replies to retrieve (default DAFU_TOP_K)")
    history: list[HistoryTurn] | None = Field(None, max_length=20, description="earlier turns, oldest first")

    @field_validator("question")
    @classmethod
    def _q(cls, v: str) -> str:
        return _strip_nonempty(v, "question")


class SearchRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "产教融合 校企合作", "filters": {"departments": ["教育局"]}, "top_k": 5}]})

    query: str = Field(min_length=1, max_length=QUESTION_CEILING, validation_alias=AliasChoices("query", "question"),
                       description="search text, 1–DAFU_MAX_QUESTION_CHARS characters (`question` is accepted as well)")
    filters: FiltersIn | None = None
    top_k: int | None = Field(None, ge=1, le=50)

    @field_validator("query")
    @classmethod
    def _q(cls, v: str) -> str:
        return _strip_nonempty(v, "query")


class ReplyQuery(Strict):
    q: str | None = Field(None, max_length=100, description="text in number, title or department (aliases folded)")
    year_from: int | None = Field(None, ge=1949, le=2100)
    year_to: int | None = Field(None, ge=1949, le=2100)
    date_from: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="答复日期起 YYYY-MM-DD")
    date_to: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="答复日期止 YYYY-MM-DD")
    departments: list[str] = Field(default_factory=list, max_length=20)
    proposer: str | None = Field(None, max_length=100)
    number: str | None = Field(None, max_length=50)
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)

    @model_validator(mode="after")
    def _range(self):
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise ValueError(f"year_from {self.year_from} is after year_to {self.year_to}; the range would be empty")
        return self

    def core_filters(self) -> dict[str, Any]:
        d = self.model_dump(exclude={"q", "page", "page_size"})
        return {k: v for k, v in d.items() if v not in (None, "", [])}


class FeedbackCreate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"answer_id": "4ad688b9f0964c0f9131be1fd0d92815", "rating": "up", "comment": "引用准确，很有帮助"},
        {"answer_id": "4ad688b9f0964c0f9131be1fd0d92815", "rating": "down", "comment": "没有回答人社局的部分"}]})

    answer_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


# -- responses ------------------------------------------------------------------------------------
FILTER_REPORT_DOC = ("what the filters matched (null without filters): `departments` [{term, matched (official names, e.g. "
                     "民政 → 海门区民政局), replies}], `matched` (replies passing every filter), `empty` (when that is 0: the "
                     "filter that emptied the result, `drop` = the request keys to remove, `without` = replies then, "
                     "`options` for every filter), `message` (the same in words)")

class PointPublic(BaseModel):
    text: str = Field(description="an exact sentence of the cited passage (list numbering such as （三） left out)")
    kind: Literal["done", "plan", "field"] = Field(description="done: what was done; plan: what is promised; field: a line of the reply's record")
    citations: list[int]
    reply_id: str = ""
    start: int = 0
    end: int = 0
    role: Literal["direct", "support", "field"] = Field("support", description="direct: answers the asked aspect (shown first)")
    reading: str = Field("", description="for a row of a table flattened to text ('新建防火通道 公里 35 38.2 764'), the row as its "
                                         "header reads it ('…，2022年完成38.2公里，完成投资764万元'); shown in place of `text`")


class CitationPublic(BaseModel):
    n: int
    reply_id: str
    number: str
    title: str
    proposer: str
    lead_unit: str
    co_units: list[str]
    reply_date: str
    passage: str = Field(description="== GET /api/replies/{reply_id} text[start:end]")
    start: int
    end: int
    heading_path: list[str]
    score: float
    kind: str = ""
    place: str = Field("", description="where the reply comes from (learned from its signing unit), e.g. 通州区")


class ReplySummary(BaseModel):
    id: str
    number: str = ""
    kind: str = ""
    title: str = ""
    proposer: str = ""
    lead_unit: str = ""
    co_units: list[str] = []
    reply_date: str = ""
    signer: str = ""
    signed_date: str = ""
    source: str = ""
    year: int | None = None


class RelatedPublic(ReplySummary):
    score: float = 0.0
    coverage: float = 0.0
    place: str = Field("", description="where the reply comes from (learned from its signing unit)")


class AnswerPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "answer_id": "4ad688b9f0964c0f9131be1fd0d92815", "question": "通州在产教融合方面做了哪些工作？",
        "answer_markdown": "**已开展的工作**\n- 2022年全区新增五年制高职专业3个,高职类专业达到13个; [1]",
        "points": [{"text": "2022年全区新增五年制高职专业3个,高职类专业达到13个;", "kind": "done", "citations": [1],
                    "reply_id": "28_20230630", "start": 1575, "end": 1605}],
        "citations": [{"n": 1, "reply_id": "28_20230630", "number": "28",
                       "title": "关于积极推进产教融合,助力通州产业创新高地打造的建议", "proposer": "戴红玲",
                       "lead_unit": "教育体育局", "co_units": ["人力资源和社会保障局", "发展和改革委员会"],
                       "reply_date": "2023-06-30", "passage": "(二)产教融合深入推进。……", "start": 1502, "end": 1790,
                       "heading_path": ["一、主要做法", "(二)产教融合深入推进"], "score": 1.0, "kind": "提案"}],
        "related": [], "no_answer": False, "rewritten_question": "通州在产教融合方面做了哪些工作？", "relevance": 0.9,
        "filters": {}, "index_version": "v-20240101T000000-abcdef", "timings": {"retrieve_ms": 12.3, "answer_ms": 2.1}}]})

    answer_id: str
    question: str
    answer_markdown: str
    points: list[PointPublic]
    citations: list[CitationPublic]
    related: list[RelatedPublic]
    no_answer: bool
    rewritten_question: str
    relevance: float = 0.0
    filters: dict[str, Any] = Field(default_factory=dict, description="filters applied (after follow-up rewriting)")
    index_version: str = ""
    timings: dict[str, float] = Field(default_factory=dict, description="retrieve_ms, embed_ms, answer_ms, total_ms")
    filter_report: dict[str, Any] | None = Field(None, description=FILTER_REPORT_DOC)
    hints: list[str] = Field(default_factory=list, description="hints on the question, e.g. to ask in Chinese")
    lead: str = Field("", description="the direct answer in plain text: the sentences that answer the asked aspect, "
                                      "or a sentence from the reply's record for questions about its fields")
    missing: str = Field("", description="when no_answer: what is missing — place, year, topic, detail, or not_found")


class HitPublic(BaseModel):
    chunk_id: str
    reply_id: str
    text: str
    start: int
    end: int
    part: str
    label: str
    heading_path: list[str]
    fused: float
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None


class ReplyHitsPublic(ReplySummary):
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None
    coverage: float = 0.0
    hits: list[HitPublic]


class SearchPublic(BaseModel):
    query: str
    relevance: float
    query_tokens: list[str]
    replies: list[ReplyHitsPublic]
    timings: dict[str, float] = {}
    index_version: str = ""


class ReplyList(BaseModel):
    items: list[ReplySummary]
    total: int
    page: int
    page_size: int
    filter_report: dict[str, Any] | None = Field(None, description=FILTER_REPORT_DOC)


class ReplyDetail(ReplySummary):
    text: str = Field(description="full decoded text; citation offsets slice it")
    proposal: str = ""
    reply_text: str = ""
    proposal_span: list[int] = [0, 0]
    reply_span: list[int] = [0, 0]
    title_span: list[int] = [0, 0]
    field_sources: dict[str, str] = {}
    content_hash: str = ""
    chunks: int = 0
    lead_unit_as_written: str = Field("", description="the lead unit as the letter names it (青川市教育局); lead_unit is canonical, for filters")
    co_units_as_written: list[str] = Field(default_factory=list, description="the co-handling units as the letter names them")
    index_version: str = ""


class DepartmentPublic(BaseModel):
    name: str
    aliases: list[str]
    count: int = Field(description="replies where it is the lead or a co-unit")
    lead_count: int = 0


class StatsPublic(BaseModel):
    replies: int
    chunks: int
    model: str
    dim: int
    index_version: str
    created: str
    size_bytes: int
    years: dict[str, int]
    kinds: dict[str, int]
    departments: int
    retriever: str
    answers: int
    feedback: dict[str, int]


class FeedbackPublic(BaseModel):
    feedback_id: int
    answer_id: str
    rating: Literal["up", "down"]
    comment: str
    created: str


class IndexWritePublic(BaseModel):
    version: str
    replies: int = Field(description="replies in the new index version")
    chunks: int
    embedded: int
    reused: int
    seconds: float


class UploadedReply(BaseModel):
    id: str
    number: str
    title: str
    file: str


class SkippedFile(BaseModel):
    file: str
    reason: str


class UploadPublic(IndexWritePublic):
    added: list[UploadedReply]
    skipped: list[SkippedFile]
    duplicates_merged: int = 0
    warnings: list[str] = []


class DeletePublic(IndexWritePublic):
    removed: list[str]


class ErrorPublic(BaseModel):
    error: str = Field(description="kind of error, e.g. validation_error, not_found, unauthorized")
    detail: str = Field(description="what was wrong and what is accepted")
    errors: list[dict[str, Any]] | None = None


class HealthPublic(BaseModel):
    status: str
    index_version: str | None = None
    detail: str | None = Field(None, description="why not ready; or, while ready, what is degraded")


class ReadyPublic(HealthPublic):
    degraded: list[str] | None = Field(None, description="parts not working while the index is served (e.g. feedback storage)")
