"""Typed results of retrieval and answering (plain dataclasses; the API has its own pydantic models)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from index.records import Chunk, Reply, number_label

if TYPE_CHECKING:
    from service.query import Query


@dataclass
class Hit:
    """One retrieved chunk with each retriever's score and rank (None: that retriever did not return it)."""

    chunk: Chunk
    reply: Reply
    fused: float
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None

    @property
    def start(self) -> int:
        return self.chunk.start

    @property
    def end(self) -> int:
        return self.chunk.end

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk.id,
            "reply_id": self.reply.id,
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "part": self.chunk.part,
            "label": self.chunk.label,
            "heading_path": list(self.chunk.heading_path),
            "fused": self.fused,
            "dense_score": self.dense_score,
            "dense_rank": self.dense_rank,
            "bm25_score": self.bm25_score,
            "bm25_rank": self.bm25_rank,
        }


@dataclass
class ReplyHits:
    """Hits grouped by reply, best first."""

    reply: Reply
    score: float
    hits: list[Hit]
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_best: float | None = None
    coverage: float = 0.0  # IDF-weighted share of the question's words found in this reply
    constraints_ok: bool = True  # the reply matches the years and districts the question names
    department_ok: bool | None = None  # None: the question names no department; else whether this reply involves it
    identified: bool = False  # the question names this reply's proposal number or proposer
    covers: bool = False  # this reply's evidence covers the question's topic (and asked detail)
    bm25_best: float | None = None
    fused: float = 0.0  # first-stage fused score (z units)
    sentence_best: float | None = None  # best cosine of the question with one of its sentences
    sentence_z: float | None = None  # that cosine in standard deviations above the question's cosine with any sentence
    sentence_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # rows of the sentence table
    sentence_sims: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    topic_coverage: float = 0.0  # IDF-weighted share of the question's topic words in this reply's evidence
    place_ok: bool = True
    year_ok: bool = True
    places: tuple[str, ...] = ()  # where the reply comes from, outermost first (learned from its signer)
    on_topic: bool = False  # covers the topic, whatever the named place/year (answerability stage)
    detail_ok: bool = True  # holds the asked detail (a figure, a date, a reason) where one is asked
    year_stated: bool = False  # the sentence holding the detail states it for the asked year (2023年…批准1212宗)

    @property
    def place(self) -> str:
        return self.places[-1] if self.places else ""

    def to_dict(self) -> dict[str, Any]:
        return {**self.reply.summary(), "score": self.score, "dense_rank": self.dense_rank,
                "bm25_rank": self.bm25_rank, "coverage": self.coverage, "topic_coverage": self.topic_coverage,
                "sentence_best": self.sentence_best, "place": self.place, "covers": self.covers,
                "hits": [h.to_dict() for h in self.hits]}


@dataclass
class SearchResult:
    question: str
    replies: list[ReplyHits]
    query_tokens: list[str] = field(default_factory=list)
    relevance: float = 0.0  # IDF-weighted share of the question's words found in the best reply, 0..1
    timings: dict[str, float] = field(default_factory=dict)
    answerable: bool = False  # the best reply covers the question (answerability stage)
    query: "Query | None" = None  # what the question asks (service.query)
    others: list[ReplyHits] = field(default_factory=list)  # replies that fail the named place/year
    missing: str = ""  # why it is not answerable: "", "place", "year", "topic", "detail"

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.question, "relevance": self.relevance, "answerable": self.answerable,
                "query_tokens": self.query_tokens, "replies": [r.to_dict() for r in self.replies], "timings": self.timings}


@dataclass
class Citation:
    n: int
    reply_id: str
    number: str
    title: str
    proposer: str
    lead_unit: str
    co_units: list[str]
    reply_date: str
    passage: str  # == reply.text[start:end]
    start: int
    end: int
    heading_path: list[str]
    score: float
    kind: str = ""  # 提案 / 建议
    place: str = ""  # where the reply comes from (learned from its signing unit), e.g. 通州区

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Point:
    text: str  # an exact sentence of the cited passage (list numbering left out)
    kind: str  # done | plan | field
    citations: list[int]
    reply_id: str = ""
    start: int = 0
    end: int = 0
    role: str = "support"  # direct (answers the asked aspect; shown first) | support | field
    reading: str = ""  # a flattened table's row as its header reads it (shown in place of the bare row)

    @property
    def shown(self) -> str:
        return self.reading or self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    question: str
    answer_markdown: str
    points: list[Point]
    citations: list[Citation]
    related: list[dict[str, Any]]
    no_answer: bool
    rewritten_question: str
    relevance: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    answer_id: str = ""
    lead: str = ""  # the direct answer in plain text (the 'direct' points, or a sentence from the record)
    missing: str = ""  # not found: "place" | "year" | "topic" | "detail" | "not_found"
    # the composition's scored candidate sentences (service.answer._Cand, with .features and .score): what `dafu eval
    # weights` refits; not serialised
    composed: list[Any] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer_id": self.answer_id,
            "question": self.question,
            "answer_markdown": self.answer_markdown,
            "points": [p.to_dict() for p in self.points],
            "citations": [c.to_dict() for c in self.citations],
            "related": self.related,
            "no_answer": self.no_answer,
            "rewritten_question": self.rewritten_question,
            "relevance": self.relevance,
            "timings": self.timings,
            "lead": self.lead,
            "missing": self.missing,
        }

    def plain_text(self) -> str:
        """The answer with its citations as plain text (for copying)."""
        lines = [self.rewritten_question or self.question, ""]
        if self.no_answer:
            lines.append(self.answer_markdown)
        elif self.lead:
            lines += [self.lead, ""]
        for i, p in enumerate(self.points, 1):
            lines.append(f"{i}. {p.text}{''.join(f'[{n}]' for n in p.citations)}")
        if self.citations:
            lines += ["", "来源："]
            for c in self.citations:
                co = "、".join(c.co_units)
                lines.append(f"[{c.n}] {number_label(c.number)}《{c.title}》 提出者：{c.proposer} 主办：{c.lead_unit}"
                             + (f" 协办：{co}" if co else "") + f" 答复日期：{c.reply_date}")
                lines.append(f"    “{c.passage}”")
        return "\n".join(lines)
