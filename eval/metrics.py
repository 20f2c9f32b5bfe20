"""Evaluation metrics as pure functions (no I/O, no index): retrieval at reply level, passages, answers, latency.

Conventions
-----------
* ``ranked`` is a list of reply ids, best first (duplicates after the first occurrence are ignored);
  ``relevant`` is a set of reply ids. Relevance is binary.
* Text matching is done on :func:`norm_text`: NFKC (full-width → half-width letters, digits and
  punctuation, e.g. ``，`` → ``,`` and ``～`` → ``~``), lower case, all white space removed. Chinese is
  never split into sentences or words, so nothing here depends on '.'-terminated sentences.
* A function returns ``None`` where the metric is undefined for that question (e.g. no key facts were
  given); aggregates skip ``None``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Iterable, Mapping, Sequence

_WS = re.compile(r"\s+")


def norm_text(s: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", s or "")).lower()


def _dedup(ranked: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    return [r for r in ranked if not (r in seen or seen.add(r))]


# -- retrieval (reply level) ---------------------------------------------------------------------

def hit_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """1.0 if any of the first k replies is relevant, else 0.0."""
    return 1.0 if any(r in relevant for r in _dedup(ranked)[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant replies found among the first k."""
    if not relevant:
        return 0.0
    return len(set(_dedup(ranked)[:k]) & relevant) / len(relevant)


def mrr_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """1/rank of the first relevant reply within the first k, else 0."""
    for i, r in enumerate(_dedup(ranked)[:k], start=1):
        if r in relevant:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary nDCG: DCG = Σ rel_i / log2(i + 1) over the first k; ideal puts min(|relevant|, k) hits first."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, r in enumerate(_dedup(ranked)[:k], start=1) if r in relevant)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / idcg


RANK_KS = (1, 3, 5, 10)


def retrieval_metrics(ranked: Sequence[str], relevant: set[str], ks: Iterable[int] = RANK_KS) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit@{k}"] = hit_at_k(ranked, relevant, k)
    for k in ks:
        out[f"recall@{k}"] = recall_at_k(ranked, relevant, k)
    out["mrr@10"] = mrr_at_k(ranked, relevant, 10)
    out["ndcg@10"] = ndcg_at_k(ranked, relevant, 10)
    return out


# -- passages -------------------------------------------------------------------------------------

def span_recall(spans: Sequence[str], passages: Sequence[str]) -> float | None:
    """Share of the gold spans that occur (normalised) in at least one of the passages."""
    if not spans:
        return None
    texts = [norm_text(p) for p in passages]
    return sum(1 for s in spans if any(norm_text(s) in t for t in texts)) / len(spans)


# -- answers --------------------------------------------------------------------------------------

def facts_found(facts: Sequence[str], text: str) -> list[bool]:
    t = norm_text(text)
    return [norm_text(f) in t for f in facts]


def key_fact_coverage(facts: Sequence[str], point_texts: Sequence[str]) -> float | None:
    """Share of `must_include` facts present in the answer's points (joined)."""
    if not facts:
        return None
    found = facts_found(facts, "\n".join(point_texts))
    return sum(found) / len(facts)


def citation_precision(cited_reply_ids: Sequence[str], relevant: set[str]) -> float | None:
    """Share of the distinct cited replies that are relevant (None when nothing was cited)."""
    cited = set(cited_reply_ids)
    if not cited:
        return None
    return len(cited & relevant) / len(cited)


def citation_support(facts: Sequence[str], points: Sequence[Mapping], passages: Mapping[int, str]) -> float | None:
    """For every (fact, point) where the fact is stated in the point: is the fact inside one of that
    point's cited passages? Share of such pairs that are supported; None if no point states a fact.

    points: dicts with "text" and "citations" (citation numbers); passages: citation number → passage.
    """
    pairs = supported = 0
    for p in points:
        ptext = norm_text(p.get("text", ""))
        cited = [norm_text(passages.get(n, "")) for n in p.get("citations", [])]
        for f in facts:
            nf = norm_text(f)
            if nf and nf in ptext:
                pairs += 1
                supported += any(nf in c for c in cited)
    return supported / pairs if pairs else None


def groundedness(points: Sequence[Mapping], passages: Mapping[int, str]) -> float | None:
    """Share of answer points whose text is a (normalised) substring of one of their cited passages."""
    if not points:
        return None
    ok = 0
    for p in points:
        t = norm_text(p.get("text", ""))
        ok += bool(t) and any(t in norm_text(passages.get(n, "")) for n in p.get("citations", []))
    return ok / len(points)


def refusal_correct(answerable: bool, no_answer: bool) -> float:
    """1.0 when an unanswerable question is declined or an answerable one is answered."""
    return 1.0 if no_answer != answerable else 0.0


# -- aggregation ----------------------------------------------------------------------------------

def mean(values: Iterable[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return sum(v) / len(v) if v else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default), q in 0..100; None for no values."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    pos = (len(v) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


LATENCY_STAGES = ("embed_ms", "retrieve_ms", "answer_ms", "total_ms")


def latency_summary(timings: Sequence[Mapping[str, float]]) -> dict[str, float | None]:
    """p50/p95 per stage, keys like 'latency.total_ms.p95'."""
    out: dict[str, float | None] = {}
    for stage in LATENCY_STAGES:
        vals = [t[stage] for t in timings if t.get(stage) is not None]
        out[f"latency.{stage}.p50"] = percentile(vals, 50)
        out[f"latency.{stage}.p95"] = percentile(vals, 95)
    return out
