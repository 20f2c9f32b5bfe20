"""Records of commitment tracking: linking parameters, evidence, a tracked commitment and its JSON shape."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from index.commitments import Commitment

STATUSES = ("reported", "in_progress", "not_reported", "pending")
FULFILMENTS = ("met", "partly", "unclear")
STATUS_LABEL = {"reported": "已报告", "in_progress": "仍在推进", "not_reported": "未见报告", "pending": "未到期"}
FULFILMENT_LABEL = {"met": "达成", "partly": "部分完成", "unclear": "无法比较"}


@dataclass(frozen=True)
class TrackParams:
    """Linking thresholds (tuned on the `tune` half of eval/dev/track; see docs/tracking.md)."""

    topic_dense: float = 0.5  # mean-centred title-vector cosine above which two replies are on the same topic
    topic_words: float = 0.5  # …or this IDF-weighted share of one title's words found in the other
    title_word_weight: float = 0.4  # weight of words the titles share with the sentence (topic, not measure)
    dense_floor: float = 0.85  # sentence cosine counted from here…
    dense_weight: float = 2.0  # …with this weight
    unit_bonus: float = 0.1  # the sentence gives a figure in the unit of one of the targets
    report_min: float = 0.5  # score from which a done sentence reports on the commitment
    late_margin: float = 0.2  # a report only about years after the due year needs this much more
    restate_min: float = 0.6  # score from which a later plan sentence restates it
    per_reply: int = 2  # report sentences kept per reply
    figure_context_min: float = 0.25  # share of the target's context words a compared figure's context needs


# sentence cosine from which the dense term counts, per model family (measured on eval/dev/track, docs/tracking.md);
# for other models the dense term is left out and words, figures and years decide
DENSE_FLOOR_BY_MODEL = {"e5": 0.85, "fake": 0.6}


def default_params(model: str) -> TrackParams:
    low = (model or "").lower()
    for key, floor in DENSE_FLOOR_BY_MODEL.items():
        if key in low:
            return TrackParams(dense_floor=floor)
    return TrackParams(dense_weight=0.0)


@dataclass
class Evidence:
    """A passage of a later reply that reports on (or restates) a commitment."""

    reply_id: str
    number: str
    year: int | None
    reply_date: str
    title: str
    department: str
    district: str
    kind: str  # "report" | "restated"
    text: str  # == reply.text[start:end]
    start: int
    end: int
    heading_path: list[str] = field(default_factory=list)
    score: float = 0.0
    via: str = ""  # a report inherited from the restatement with this commitment id

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Tracked:
    commitment: Commitment
    status: str
    fulfilment: str | None
    due: str  # effective due date
    due_stated: bool
    evidence: list[Evidence]
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    as_of: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `dafu track --json` and GET /api/track (one commitment)."""
        c = self.commitment
        return {
            "id": c.id,
            "text": c.text,
            "measure": c.measure,
            "targets": [{"text": f.text, "value": f.value, "unit": f.unit, "at_most": f.at_most} for f in c.targets],
            "source": {"reply_id": c.reply_id, "number": c.number, "year": c.year, "reply_date": c.reply_date,
                       "title": self.title, "department": c.department, "district": c.district, "topic": c.topic,
                       "citation": {"start": c.start, "end": c.end, "text": c.text, "heading_path": list(c.heading_path)}},
            "due": self.due,
            "due_stated": self.due_stated,
            "due_text": c.due_text,
            "status": self.status,
            "fulfilment": self.fulfilment,
            "status_label": STATUS_LABEL[self.status] + (f"（{FULFILMENT_LABEL[self.fulfilment]}）" if self.fulfilment else ""),
            "comparisons": self.comparisons,
            "evidence": [e.to_dict() for e in self.evidence],
            "as_of": self.as_of,
        }



def end_of_year(y: int) -> str:
    return f"{y:04d}-12-31"


def effective_due(c: Commitment) -> tuple[str, bool]:
    """(due date, stated?): the stated one, else the end of the year after the reply's year ("" if unknown)."""
    if c.due:
        return c.due, True
    return (end_of_year(c.year + 1), False) if c.year else ("", False)
