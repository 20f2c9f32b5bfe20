"""BM25 over jieba tokens (bm25s), scoring every chunk so metadata filters can mask them."""
from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)


class BM25Index:
    def __init__(self, retriever: "bm25s.BM25 | None", size: int) -> None:
        self._r, self.size = retriever, size

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> "BM25Index":
        if not token_lists:
            return cls(None, 0)
        r = bm25s.BM25()
        # an empty document still needs a row: give it a token that no query produces
        r.index([toks or ["\x00"] for toks in token_lists], show_progress=False)
        return cls(r, len(token_lists))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        if self._r is None or not query_tokens:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in query_tokens if t in self._r.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._r.get_scores(known), dtype=np.float32)

    def postings(self, token: str) -> np.ndarray:
        """Positions of the chunks that contain `token` (sorted), read from the index: O(df), not O(n)."""
        if self._r is None:
            return np.zeros(0, dtype=np.int64)
        tid = self._r.vocab_dict.get(token)
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        sc = self._r.scores
        ptr = sc["indptr"]
        return np.asarray(sc["indices"][ptr[tid]:ptr[tid + 1]], dtype=np.int64)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self._r is not None:
            self._r.save(str(path), show_progress=False)
        (path / "size").write_text(str(self.size))

    @classmethod
    def load(cls, path: Path) -> "BM25Index":
        size = int((path / "size").read_text())
        if size == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(path)), size)
