"""Typed records shared by indexing, retrieval, the service, the web chat and eval.

Offsets (`start`, `end`) always index into `Reply.text`, the decoded source text of
the reply (BOM removed, line ends normalised to ``\\n``), so ``reply.text[start:end]``
is exactly the passage that was cited.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Part = Literal["title", "proposal", "reply"]
Label = Literal["done", "plan", "courtesy", "heading", "proposal", "title"]
EVIDENCE_LABELS = ("done", "plan")


@dataclass
class Reply:
    """One government reply to one proposal (提案) or suggestion (建议)."""

    id: str
    text: str  # full decoded source text; all offsets point into it
    source: str = ""  # source path (or upload name)
    proposer: str = ""
    number: str = ""  # proposal number as written, e.g. "28" or "〔2023〕28号"
    kind: str = ""  # "提案" | "建议" | "" when unknown
    title: str = ""
    proposal: str = ""
    lead_unit: str = ""  # canonical department name where the alias table knows it
    co_units: list[str] = field(default_factory=list)
    reply_date: str = ""  # ISO date YYYY-MM-DD, "" when unknown
    reply_text: str = ""
    signer: str = ""  # signing unit at the foot of the letter
    signed_date: str = ""  # ISO date at the foot of the letter
    proposal_span: tuple[int, int] = (0, 0)  # offsets of the proposal text in `text`
    reply_span: tuple[int, int] = (0, 0)  # offsets of the reply text in `text`
    title_span: tuple[int, int] = (0, 0)
    field_sources: dict[str, str] = field(default_factory=dict)  # field -> "label"/"pattern:…"/"meta"
    content_hash: str = ""

    @property
    def year(self) -> int | None:
        d = self.reply_date or self.signed_date
        return int(d[:4]) if len(d) >= 4 and d[:4].isdigit() else None

    @property
    def units(self) -> list[str]:
        return [u for u in [self.lead_unit, *self.co_units] if u]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["proposal_span"] = list(self.proposal_span)
        d["reply_span"] = list(self.reply_span)
        d["title_span"] = list(self.title_span)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Reply":
        d = dict(d)
        for k in ("proposal_span", "reply_span", "title_span"):
            if k in d:
                d[k] = tuple(d[k])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})

    def summary(self) -> dict[str, Any]:
        """Fields without the long texts (for listings)."""
        return {
            "id": self.id,
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "proposer": self.proposer,
            "lead_unit": self.lead_unit,
            "co_units": list(self.co_units),
            "reply_date": self.reply_date,
            "signer": self.signer,
            "signed_date": self.signed_date,
            "source": self.source,
        }


@dataclass
class Sentence:
    start: int
    end: int
    label: Label


@dataclass
class Chunk:
    """A retrievable passage: a span of `Reply.text` inside one part of the letter."""

    id: str  # f"{reply_id}#{n}"
    reply_id: str
    text: str  # == reply.text[start:end]
    start: int
    end: int
    part: Part
    heading_path: list[str] = field(default_factory=list)
    label: Label = "done"  # dominant label of its sentences
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Chunk":
        d = dict(d)
        d["sentences"] = [Sentence(**s) for s in d.get("sentences", [])]
        return cls(**d)


def number_label(number: str | None) -> str:
    """How a proposal number reads in a sentence: '28' → 第28号; '〔2023〕31号' stays as written (no 第…号号)."""
    n = (number or "").strip()
    if not n:
        return "第—号"
    if n.endswith("号"):
        return n
    return f"第{n}号"


def letter_label(number: str | None, kind: str | None = "", place: str = "", year: str = "", title: str = "") -> str:
    """How an answer names a letter: 通州区第51号提案, with its year (通州区2023年第51号提案) where two letters of one
    place are cited; 《title》 for a letter without a number (第—号 when it has neither)."""
    if not number and title:
        return f"{place}{year}《{title}》"
    return f"{place}{year}{number_label(number)}{kind or ''}"


# -- one id per letter ---------------------------------------------------------------------------------
# An id is the proposal number and the reply date (index.parse.make_reply_id), so that a letter exported
# twice is one record. Numbers repeat across places and replies cluster at the end of June: two different
# letters (another place's 第23号, answered the same day) must not be taken for two copies of one.
def key_of(record: "Reply | Any") -> str:
    """Who wrote the letter and what kind it answers (of a Reply, or of the ReplyMeta an index keeps)."""
    who = re.sub(r"\s+", "", record.signer or record.lead_unit or "")
    return f"{who}|{record.kind or ''}"


def same_letter(a: str, b: str) -> bool:
    """Are two letter keys the same letter (or can it not be told: a side without a signing unit or kind)?"""
    (ua, ka), (ub, kb) = a.split("|", 1), b.split("|", 1)
    return not ((ua and ub and ua != ub) or (ka and kb and ka != kb))


def settle_id(reply: "Reply", holder: "Reply | Any | None") -> None:
    """`holder` already has reply.id (a Reply or a ReplyMeta; None when the id is free): when it is another
    letter, not a copy of this one, the reply takes an id of its own (its number and date, and a hash of its key)."""
    if holder is not None and not same_letter(key_of(holder), key_of(reply)):
        reply.id = f"{reply.id}-{hashlib.sha1(key_of(reply).encode('utf-8')).hexdigest()[:6]}"
