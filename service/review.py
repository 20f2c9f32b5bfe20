"""Staff review of the answers users got, turned into gold cases that `dafu eval run` scores.

A reviewer grades each point of a stored answer ``correct`` / ``wrong`` / ``unsupported`` (the sentence is
in the cited reply but does not answer the question, or the citation does not bear it out) and the answer as a
whole ``complete`` / ``incomplete``; optionally lists facts the answer missed, replies that answer the
question but were not cited, and the key facts to check. Reviews live in the feedback file (table
``reviews``); :func:`gold_case` turns one into a line of the gold format (eval/README.md):

* ``relevant``: the replies cited by points marked correct, plus the replies the reviewer added; replies cited
  only by wrong or unsupported points are not relevant.
* ``must_include``: the reviewer's key facts if given, else the facts of the correct points (numbers with their
  measure word, quoted names; a short clause when a point has neither), plus the facts the reviewer said were
  missing (so an incomplete answer fails the case until the gap is fixed).
* ``spans``: the correct points' sentences (they must stay among the cited passages).
* ``answerable``: false when the answer rightly found nothing, or every point was wrong and the reviewer
  marked it complete (nothing was missing: the right answer is "not found").
* ``history`` and ``filters``: as the user asked (earlier questions of the conversation, the user's own filters).

An answer marked incomplete that has no correct point and no added reply cannot become a case (nothing says
what the right answer is); :func:`export_gold` lists it as skipped with that reason.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from index.errors import DafuError
from service.feedback import FeedbackStore, UnknownAnswerError

GRADES = ("correct", "wrong", "unsupported")
VERDICTS = ("complete", "incomplete")
GRADE_LABELS = {"correct": "正确", "wrong": "错误", "unsupported": "无依据"}
VERDICT_LABELS = {"complete": "完整", "incomplete": "不完整"}
GOLD_FILTER_KEYS = ("year_from", "year_to", "departments", "proposer", "number")
MAX_FACTS = 8
MAX_SPAN = 60

_MEASURE = (r"万人次|人次|万元|亿元|元|个|家|所|人|项|条|次|场|名|户|公里|千米|米|平方米|万平方米|亩|万亩|座|处|套|台|辆|件|批|期|"
            r"篇|部|班|门|种|类|份|天|小时|张|支|本|册|间|床|位|栋|幢|吨|千瓦|兆瓦|倍|%|％")
_NUMBER_FACT = re.compile(rf"(?<![\d.])\d+(?:\.\d+)?(?:\s*[~～\-—至到]\s*\d+(?:\.\d+)?)?\s*(?:万|亿|千|百)?(?:余|多)?\s*(?:{_MEASURE})")
_QUOTED = re.compile(r"[“\"《「]([^“”\"《》「」\n]{2,24})[”\"》」]")
_CLAUSE = re.compile(r"[，,；;。：:！!？?、]")


class ReviewError(DafuError):
    """A review that cannot be stored as given (the message says which field and what is accepted)."""


@dataclass
class Review:
    answer_id: str
    points: list[str]  # one grade per point of the answer, in order
    verdict: str  # complete | incomplete
    missing: list[str] = field(default_factory=list)  # facts the answer should have stated
    relevant: list[str] = field(default_factory=list)  # reply ids that answer it but were not cited
    must_include: list[str] | None = None  # the reviewer's key facts (None: taken from the correct points)
    note: str = ""
    reviewer: str = ""
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def suggest_facts(text: str) -> list[str]:
    """Key facts of a sentence: numbers with their measure word (not bare years), quoted names; else a clause."""
    facts: list[str] = []
    for m in _NUMBER_FACT.finditer(text):
        f = re.sub(r"\s+", "", m.group(0))
        if re.fullmatch(r"(?:19|20)\d{2}年?", f):
            continue
        facts.append(f)
    facts += [m.group(1).strip() for m in _QUOTED.finditer(text)]
    if not facts:
        clauses = [c.strip() for c in _CLAUSE.split(text) if len(c.strip()) >= 6]
        if clauses:
            facts.append(max(clauses, key=len)[:30])
    out: list[str] = []
    for f in facts:
        if f and f not in out:
            out.append(f)
    return out


def _clean_list(values: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        for part in re.split(r"[\n;；]+", str(v)):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


class ReviewStore:
    """Reviews kept in the feedback file; thread-safe through the FeedbackStore's connection."""

    def __init__(self, store: FeedbackStore) -> None:
        self.store = store

    def save(self, answer_id: str, points: list[str], verdict: str, missing: Iterable[str] | None = None,
             relevant: Iterable[str] | None = None, must_include: Iterable[str] | None = None, note: str = "",
             reviewer: str = "") -> Review:
        answer = self.store.get_answer(answer_id)
        if answer is None:
            raise UnknownAnswerError(answer_id)
        n = len(answer.get("points") or [])
        grades = [str(g).strip().lower() for g in points]
        grades = [{"c": "correct", "w": "wrong", "u": "unsupported"}.get(g, g) for g in grades]
        if len(grades) != n:
            raise ReviewError(f"answer {answer_id} has {n} point(s); got {len(grades)} grade(s) — give one of "
                              f"{', '.join(GRADES)} per point, in order")
        bad = [g for g in grades if g not in GRADES]
        if bad:
            raise ReviewError(f"point grade {bad[0]!r} is not accepted; use one of: {', '.join(GRADES)}")
        verdict = {"c": "complete", "i": "incomplete"}.get(str(verdict).strip().lower(), str(verdict).strip().lower())
        if verdict not in VERDICTS:
            raise ReviewError(f"answer verdict {verdict!r} is not accepted; use one of: {', '.join(VERDICTS)}")
        facts = None if must_include is None else _clean_list(must_include)
        r = Review(answer_id, grades, verdict, _clean_list(missing), _clean_list(relevant), facts or None,
                   (note or "").strip(), (reviewer or "").strip(), time.strftime("%Y-%m-%dT%H:%M:%S"))
        self.store.write("INSERT OR REPLACE INTO reviews (answer_id, created, reviewer, review) VALUES (?, ?, ?, ?)",
                         (answer_id, r.created, r.reviewer, json.dumps(r.to_dict(), ensure_ascii=False)))
        return r

    def get(self, answer_id: str) -> Review | None:
        rows = self.store.query("SELECT review FROM reviews WHERE answer_id = ?", (answer_id,))
        return Review(**json.loads(rows[0][0])) if rows else None

    def recent(self, limit: int = 20, status: str = "unreviewed") -> list[dict[str, Any]]:
        """Stored answers, newest first, with their review (or None) and users' ratings.

        `status`: ``unreviewed`` (default), ``reviewed`` or ``all``."""
        if status not in ("unreviewed", "reviewed", "all"):
            raise ReviewError(f"status {status!r} is not accepted; use unreviewed, reviewed or all")
        where = {"unreviewed": "WHERE r.answer_id IS NULL", "reviewed": "WHERE r.answer_id IS NOT NULL", "all": ""}[status]
        rows = self.store.query(
            "SELECT a.answer_id, a.created, a.answer, a.filters, a.index_version, r.review, "
            "(SELECT group_concat(rating) FROM feedback f WHERE f.answer_id = a.answer_id) "
            f"FROM answers a LEFT JOIN reviews r USING (answer_id) {where} ORDER BY a.rowid DESC LIMIT ?",
            (max(1, int(limit)),))
        out = []
        for aid, created, ans, flt, ver, rev, ratings in rows:
            a = json.loads(ans)
            out.append({"answer_id": aid, "asked": created, "question": a.get("question", ""),
                        "rewritten_question": a.get("rewritten_question", ""), "filters": json.loads(flt),
                        "index_version": ver, "no_answer": bool(a.get("no_answer")), "points": a.get("points") or [],
                        "citations": a.get("citations") or [], "related": a.get("related") or [],
                        "context": a.get("context") or {}, "ratings": (ratings or "").split(",") if ratings else [],
                        "review": json.loads(rev) if rev else None})
        return out

    def reviewed(self) -> list[tuple[dict[str, Any], Review]]:
        rows = self.store.query("SELECT r.review, a.answer, a.filters, a.index_version, a.created FROM reviews r "
                                "JOIN answers a USING (answer_id) ORDER BY r.created, r.answer_id")
        out = []
        for rev, ans, flt, ver, asked in rows:
            a = {**json.loads(ans), "filters": json.loads(flt), "index_version": ver, "asked": asked}
            out.append((a, Review(**json.loads(rev))))
        return out


def _ref(c: dict[str, Any]) -> dict[str, str]:
    ref = {"id": c["reply_id"]}
    if c.get("number") and c.get("reply_date"):
        ref.update(number=str(c["number"]), reply_date=str(c["reply_date"]))
    return ref


def gold_case(answer: dict[str, Any], review: Review) -> tuple[dict[str, Any] | None, str]:
    """(one gold line, '') or (None, why it cannot be a case)."""
    points = answer.get("points") or []
    cits = {c.get("n"): c for c in answer.get("citations") or []}
    correct = [p for p, g in zip(points, review.points) if g == "correct"]
    relevant: list[dict[str, str] | str] = []
    seen: set[str] = set()
    for p in correct:
        for n in p.get("citations") or []:
            c = cits.get(n)
            if c and c.get("reply_id") and c["reply_id"] not in seen:
                seen.add(c["reply_id"])
                relevant.append(_ref(c))
    for rid in review.relevant:
        if rid not in seen:
            seen.add(rid)
            relevant.append(rid)
    ctx = answer.get("context") or {}
    flt = ctx.get("request_filters") if "request_filters" in ctx else answer.get("filters") or {}
    case: dict[str, Any] = {"id": f"review-{answer['answer_id'][:12]}", "question": answer.get("question", "")}
    if relevant:
        facts = list(review.must_include) if review.must_include else [f for p in correct for f in suggest_facts(p["text"])]
        facts = list(dict.fromkeys(facts[:MAX_FACTS] + review.missing))
        spans = [p["text"] if len(p["text"]) <= MAX_SPAN else p["text"][:MAX_SPAN] for p in correct]
        case.update(relevant=relevant, answerable=True)
        if spans:
            case["spans"] = list(dict.fromkeys(spans))
        if facts:
            case["must_include"] = facts
    elif review.verdict == "complete" and not review.missing:
        case.update(relevant=[], answerable=False)  # rightly found nothing, or should have
    else:
        return None, ("marked incomplete, but no point is correct and no reply was added: say which reply answers "
                      "the question (relevant) or mark it complete if no reply does")
    history = [q for q in ctx.get("history") or [] if q]
    if history:
        case["history"] = [{"question": q} for q in history]
    gf = {k: v for k, v in (flt or {}).items() if k in GOLD_FILTER_KEYS and v not in (None, "", [])}
    if gf:
        case["filters"] = gf
    case["category"] = "reviewed-follow-up" if history else "reviewed"
    if review.note:
        case["notes"] = review.note
    case["review"] = {"answer_id": answer["answer_id"], "asked": answer.get("asked", ""), "reviewed": review.created,
                      "reviewer": review.reviewer, "verdict": review.verdict, "grades": review.points,
                      "index_version": answer.get("index_version", ""), "no_answer": bool(answer.get("no_answer")),
                      "not_correct": [p["text"] for p, g in zip(points, review.points) if g != "correct"]}
    return case, ""


def export_gold(reviews: ReviewStore, path: Path) -> dict[str, Any]:
    """Write every reviewed answer as a gold line to `path` (JSONL). Lines already in the file keep their place
    unless a new review replaces them (same id); other lines are kept as they are."""
    from eval.gold import validate_line

    cases, skipped = [], []
    for answer, review in reviews.reviewed():
        case, why = gold_case(answer, review)
        if case is None:
            skipped.append({"answer_id": answer["answer_id"], "question": answer.get("question", ""), "reason": why})
            continue
        problems = validate_line(case)
        if problems:  # a bug here, not the reviewer's: say so rather than write a line eval would refuse
            raise ReviewError(f"gold case for answer {answer['answer_id']} is invalid: {'; '.join(problems)}")
        cases.append(case)
    path = Path(path)
    new = {c["id"]: c for c in cases}
    lines: list[str] = []
    if path.exists():
        for line in path.read_text("utf-8").splitlines():
            try:
                cid = json.loads(line).get("id") if line.strip() and not line.lstrip().startswith("//") else None
            except ValueError:
                cid = None
            if cid in new:
                lines.append(json.dumps(new.pop(cid), ensure_ascii=False))
            else:
                lines.append(line)
    lines += [json.dumps(c, ensure_ascii=False) for c in new.values()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return {"path": str(path), "cases": len(cases), "skipped": skipped,
            "answerable": sum(c["answerable"] for c in cases), "unanswerable": sum(not c["answerable"] for c in cases)}
