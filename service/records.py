"""Typed results of retrieval and answering (plain dataclasses; the API has its own pydantic models)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from index.records import Chunk, Reply


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
    covers: bool = False  # this reply alone counts as covering the question (Retriever.covers)

    def to_dict(self) -> dict[str, Any]:
        return {**self.reply.summary(), "score": self.score, "dense_rank": self.dense_rank,
                "bm25_rank": self.bm25_rank, "coverage": self.coverage, "hits": [h.to_dict() for h in self.hits]}


@dataclass
class SearchResult:
    query: str
    replies: list[ReplyHits]
    query_tokens: list[str] = field(default_factory=list)
    relevance: float = 0.0  # IDF-weighted share of the question's words found in the best reply, 0..1
    timings: dict[str, float] = field(default_factory=dict)
    answerable: bool = False  # the best reply covers the question (Retriever.covers)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "relevance": self.relevance, "answerable": self.answerable, "query_tokens": self.query_tokens,
                "replies": [r.to_dict() for r in self.replies], "timings": self.timings}


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Point:
    text: str  # an exact sentence of the cited passage
    kind: str  # done | plan
    citations: list[int]
    reply_id: str = ""
    start: int = 0
    end: int = 0

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
        }

    def plain_text(self) -> str:
        """The answer with its citations as plain text (for copying)."""
        lines = [self.rewritten_question or self.question, ""]
        if self.no_answer:
            lines.append(self.answer_markdown)
        for i, p in enumerate(self.points, 1):
            lines.append(f"{i}. {p.text}{''.join(f'[{n}]' for n in p.citations)}")
        if self.citations:
            lines += ["", "来源："]
            for c in self.citations:
                co = "、".join(c.co_units)
                lines.append(f"[{c.n}] 第{c.number}号《{c.title}》 提出者：{c.proposer} 主办：{c.lead_unit}"
                             + (f" 协办：{co}" if co else "") + f" 答复日期：{c.reply_date}")
                lines.append(f"    “{c.passage}”")
        return "\n".join(lines)
