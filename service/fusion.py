"""Weighted reciprocal-rank fusion (RRF) of ranked lists."""
from __future__ import annotations

from typing import Hashable, Mapping, Sequence


def rrf(rankings: Mapping[str, Sequence[Hashable]], weights: Mapping[str, float], k: int = 60) -> dict[Hashable, float]:
    """score(d) = Σ_r weight_r / (k + rank_r(d)), ranks starting at 1; absent from a list adds nothing."""
    scores: dict[Hashable, float] = {}
    for name, ranked in rankings.items():
        w = weights.get(name, 1.0)
        if w == 0:
            continue
        for rank, item in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
    return scores


def ranked(scores: Mapping[Hashable, float]) -> list[Hashable]:
    """Items by descending score, ties broken by first appearance."""
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores, key=lambda x: (-scores[x], order[x]))
