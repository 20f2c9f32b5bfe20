"""Fusion of retriever scores: z-scored convex combination (the default) and weighted RRF."""
from __future__ import annotations

from typing import Hashable, Mapping, Sequence

import numpy as np


def zscores(x: np.ndarray | Sequence[float]) -> np.ndarray:
    """(x − mean) / std over the candidates; all zeros when they do not vary."""
    a = np.asarray(x, dtype=np.float64)
    if a.size == 0:
        return a
    sd = float(a.std())
    return (a - a.mean()) / sd if sd > 1e-12 else np.zeros_like(a)


def convex(scores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Σ_r weight_r · zscore(score_r): each retriever's scores put on one scale, then mixed.

    Unlike rank fusion this keeps how far apart the candidates are: a reply that dense retrieval
    puts well ahead of the rest is not overtaken by one that merely matches a few generic words."""
    out: np.ndarray | None = None
    for name, s in scores.items():
        w = weights.get(name, 0.0)
        if w == 0:
            continue
        z = w * zscores(s)
        out = z if out is None else out + z
    if out is None:
        n = len(next(iter(scores.values()))) if scores else 0
        return np.zeros(n)
    return out


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
