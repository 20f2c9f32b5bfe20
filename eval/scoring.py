"""Per-question outcomes (what was expected, retrieved, cited; each metric and pass/fail) and their aggregate."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eval.gold import GoldItem
from eval.metrics import (
    facts_found, latency_summary, mean, norm_text, retrieval_metrics, span_recall, citation_precision,
    citation_support, groundedness, key_fact_coverage, refusal_correct,
)

RETRIEVAL_DEPTH = 10  # reply ids kept per question for the ranking metrics
TOP_PASSAGES = 5  # passages used for span recall when nothing is cited

# Metrics in the order tables show them; the first ones are also what `compare` and the gate read.
METRIC_ORDER = [
    "hit@1", "hit@3", "hit@5", "hit@10", "recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10",
    "span_cited", "span_top5", "key_fact_coverage", "direct_top2", "field_accuracy", "citation_precision",
    "citation_support", "groundedness", "refusal_accuracy", "answered_rate", "refused_rate",
]
CI_METRICS = ("hit@1", "recall@5", "key_fact_coverage", "direct_top2", "refusal_accuracy")
CI_RESAMPLES = 2000
PER_QUESTION_LATENCY = ("embed_ms", "retrieve_ms", "answer_ms", "total_ms")


@dataclass
class Response:
    """What one question got, from whichever backend answered it."""

    answer: dict[str, Any]  # Answer.to_dict() shape: points, citations, related, no_answer, timings
    ranked: list[str]  # retrieval ranking, reply ids best first
    top_passages: list[str] | None = None  # the best hits' texts (in-process only)
    total_ms: float = 0.0
    error: str | None = None
    rewritten: str | None = None
    notes: list[str] = field(default_factory=list)
    keys: list = field(default_factory=list)  # ReplyKey of every reply seen (the API backend resolves gold refs with them)


def score_question(item: GoldItem, resp: Response, relevant: set[str], unresolved: list[str]) -> dict[str, Any]:
    a = resp.answer or {}
    points = a.get("points") or []
    citations = a.get("citations") or []
    passages = {c.get("n"): c.get("passage", "") for c in citations}
    cited = list(dict.fromkeys(c.get("reply_id", "") for c in citations))
    no_answer = bool(a.get("no_answer", not points)) if not resp.error else True
    # what a point shows: its sentence, and for a table row the row as its header reads it (2022年完成38.2公里)
    point_texts = [p.get("text", "") + (f"\n{p['reading']}" if p.get("reading") else "") for p in points]
    answer_text = "\n".join(point_texts)

    v: dict[str, float | None] = {}
    if item.answerable:
        v.update(retrieval_metrics(resp.ranked[:RETRIEVAL_DEPTH], relevant))
        v["citation_precision"] = citation_precision(cited, relevant)
        v["answered_rate"] = 0.0 if no_answer else 1.0
    else:
        v["refused_rate"] = 1.0 if no_answer else 0.0
    v["span_cited"] = span_recall(item.spans, list(passages.values())) if item.spans else None
    if item.spans and resp.top_passages is not None:
        v["span_top5"] = span_recall(item.spans, resp.top_passages[:TOP_PASSAGES])
    v["key_fact_coverage"] = key_fact_coverage(item.must_include, point_texts) if item.answerable else None
    # the direct answer among the first two points (single-reply questions): an answer span, else a key fact
    direct = item.answer_spans or item.must_include
    if item.answerable and len(item.relevant) == 1 and direct and item.aspect != "field":
        v["direct_top2"] = 1.0 if any(facts_found(direct, "\n".join(point_texts[:2]))) else 0.0
    if item.answerable and (item.aspect == "field" or item.category == "field") and item.must_include:
        v["field_accuracy"] = 1.0 if all(facts_found(item.must_include, answer_text)) else 0.0
    v["citation_support"] = citation_support(item.must_include, points, passages)
    v["groundedness"] = groundedness(points, passages)
    v["refusal_accuracy"] = refusal_correct(item.answerable, no_answer)

    timings = dict(a.get("timings") or {})
    timings["total_ms"] = resp.total_ms
    lat = {k: (round(float(timings[k]), 3) if timings.get(k) is not None else None) for k in PER_QUESTION_LATENCY}

    found = facts_found(item.must_include, answer_text) if item.must_include else []
    kf = v.get("key_fact_coverage")
    passes = {
        "hit@1": None if "hit@1" not in v else v["hit@1"] == 1.0,
        "key_facts": None if kf is None else kf == 1.0,
        "refusal": v["refusal_accuracy"] == 1.0,
        "grounded": None if v["groundedness"] is None else v["groundedness"] == 1.0,
    }
    return {
        "id": item.id,
        "line": item.line,
        "category": item.category,
        "question": item.question,
        "rewritten": resp.rewritten or a.get("rewritten_question"),
        "answerable": item.answerable,
        "filters": item.filters,
        "history": [h.get("question", "") for h in item.history],
        "expected": [r.label() for r in item.relevant],
        "relevant_ids": sorted(relevant),
        "unresolved": unresolved,
        "retrieved": resp.ranked[:RETRIEVAL_DEPTH],
        "cited": cited,
        "no_answer": no_answer,
        "points": point_texts,
        "must_include": list(item.must_include),
        "facts_missing": [f for f, ok in zip(item.must_include, found) if not ok],
        "spans_missing_cited": [s for s in item.spans
                                if not any(norm_text(s) in norm_text(p) for p in passages.values())],
        "values": {k: (None if x is None else round(float(x), 6)) for k, x in v.items()},
        "pass": passes,
        "n_points": len(points),
        "narrow_single": bool(item.answerable and item.shape == "narrow" and len(item.relevant) == 1),
        "miss_kind": item.miss_kind,
        "split": item.split,
        "latency": lat,
        "error": resp.error,
        "notes": list(resp.notes),
    }


def _metric_means(outcomes: list[dict[str, Any]]) -> dict[str, float | None]:
    names = [m for m in METRIC_ORDER if any(o["values"].get(m) is not None for o in outcomes)]
    return {m: mean(o["values"].get(m) for o in outcomes) for m in names}


def bootstrap_mean_ci(values: list[float], resamples: int = CI_RESAMPLES, seed: int = 20240611) -> tuple[float, float]:
    """95% percentile interval of the mean under resampling the questions with replacement."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return float("nan"), float("nan")
    idx = np.random.default_rng(seed).integers(0, len(v), size=(resamples, len(v)))
    lo, hi = np.percentile(v[idx].mean(axis=1), [2.5, 97.5])
    return float(lo), float(hi)


def _cis(group: list[dict[str, Any]]) -> dict[str, list[float]]:
    out = {}
    for m in CI_METRICS:
        vals = [o["values"][m] for o in group if o["values"].get(m) is not None]
        if vals:
            out[m] = [round(x, 4) for x in bootstrap_mean_ci(vals)]
    return out


def aggregate(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Macro averages (each question counts once, over the questions where a metric is defined), with
    95% bootstrap intervals per category for the main metrics."""
    from eval.metrics import percentile

    metrics: dict[str, Any] = dict(_metric_means(outcomes))
    narrow = [o["n_points"] for o in outcomes if o.get("narrow_single") and not o["no_answer"]]
    if narrow:
        metrics["points_narrow_p50"] = percentile(narrow, 50)
    metrics.update(latency_summary([o["latency"] for o in outcomes]))
    counts = {
        "questions": len(outcomes),
        "answerable": sum(o["answerable"] for o in outcomes),
        "unanswerable": sum(not o["answerable"] for o in outcomes),
        "errors": sum(bool(o["error"]) for o in outcomes),
        "unresolved_references": sum(len(o["unresolved"]) for o in outcomes),
        "with_spans": sum(o["values"].get("span_cited") is not None for o in outcomes),
        "with_key_facts": sum(o["values"].get("key_fact_coverage") is not None for o in outcomes),
    }
    by_cat: dict[str, dict[str, Any]] = {}
    for cat in sorted({o["category"] for o in outcomes}):
        group = [o for o in outcomes if o["category"] == cat]
        by_cat[cat] = {"n": len(group), **_metric_means(group), "ci95": _cis(group)}
    by_miss: dict[str, dict[str, Any]] = {}
    for kind in sorted({o.get("miss_kind") or "" for o in outcomes} - {""}):
        group = [o for o in outcomes if o.get("miss_kind") == kind]
        by_miss[kind] = {"n": len(group), "refused_rate": mean(o["values"].get("refused_rate") for o in group)}
    out = {"metrics": metrics, "counts": counts, "by_category": by_cat}
    if by_miss:
        out["by_miss_kind"] = by_miss
    return out


def is_metric(name: str) -> bool:
    from eval.track import is_track_metric

    return name in METRIC_ORDER or name.startswith("latency.") or name == "points_narrow_p50" or is_track_metric(name)


def higher_is_better(name: str) -> bool:
    return not name.startswith("latency.") and not name.endswith("_ms") and not name.startswith("points_")
