"""Dense search over one segment's vectors: exact while small, IVF past a size threshold.

Measured with bench/ann.py on vectors shaped like the default model's (docs/tuning.md, "Dense index"):

- ``flat``: exact inner product (IndexFlatIP), built from the segment's stored vectors when opened.
- ``ivf``: k-means coarse quantiser (nlist ≈ 2·√n lists, trained on a sample), codes scalar-quantised
  to a byte per dimension (SQ8, a quarter of float32), `nprobe` lists scanned, and the candidates
  re-scored exactly from the stored vectors, so scores (and the answerability bars built on them)
  are the exact cosines. Recall@10 against exact search ≥ 0.99 at 10^5 and 10^6 chunks.
- ``hnsw``: available (``DAFU_DENSE_INDEX=hnsw``) but not chosen: on embedding-shaped vectors it
  lost recall (0.74–0.91 at 10^5 with efSearch 64–512) and builds slower than IVF.

IVF and HNSW files are opened memory-mapped, so opening a large index costs no copy.
"""
from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

KINDS = ("flat", "ivf", "hnsw")
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256
IVF_NPROBE_MIN = 16  # lists scanned at least; bench/ann.py: recall@10 ≥ 0.99 from here at 10^5–10^6
IVF_TRAIN_PER_LIST = 40  # training sample: this many vectors per list (faiss warns below 39)
EXACT_SUBSET = 5_000  # an approximate index searches a filter keeping at most this many chunks exactly over them
RERANK_MIN = 64  # candidates taken from the approximate index before exact re-scoring
_BLOCK = 65_536
SEARCH_THREADS = 1  # one question is one thread: OpenMP teams on a busy machine cost more than they save


def default_nlist(n: int) -> int:
    """≈ 2·√n, a power of two, 64…65536 (at 10^6: 2048 lists trained in 25 s, against 82 s for 4096 with
    the same recall; bench/ann.py)."""
    return int(min(65536, max(64, 2 ** round(math.log2(2 * math.sqrt(max(n, 1)))))))


def default_nprobe(nlist: int) -> int:
    return int(min(nlist, max(IVF_NPROBE_MIN, nlist // 64)))


def _f32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32)


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, np.float32), np.zeros(0, np.int64)


class DenseIndex:
    """Top-k inner product over L2-normalised vectors. `vectors` (float16/32, maybe memory-mapped)
    are the segment's stored vectors: exact re-scoring and small filtered searches read them."""

    def __init__(self, index: "faiss.Index", kind: str, vectors: np.ndarray | None = None, nprobe: int | None = None,
                 ef_search: int = HNSW_EF_SEARCH) -> None:
        self.index, self.kind, self.vectors = index, kind, vectors
        self.nlist = int(faiss.extract_index_ivf(index).nlist) if kind == "ivf" else 0
        self.nprobe = int(nprobe or (default_nprobe(self.nlist) if kind == "ivf" else 0))
        self.ef_search = ef_search
        self._xb = None
        if kind == "flat" and index.ntotal:  # a view of the flat index's own float32 copy
            self._xb = faiss.rev_swig_ptr(faiss.downcast_index(index).get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def describe(self) -> dict:
        d = {"kind": self.kind, "size": self.size}
        if self.kind == "ivf":
            d.update(nlist=self.nlist, nprobe=self.nprobe, codes="SQ8")
        elif self.kind == "hnsw":
            d.update(M=HNSW_M, ef_search=self.ef_search)
        return d

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def build(cls, vectors: np.ndarray, ann_threshold: int = 150_000, kind: str = "auto", nlist: int | None = None,
              nprobe: int | None = None, seed: int = 0) -> "DenseIndex":
        """`kind` "auto": exact up to `ann_threshold` vectors, IVF above. `vectors` may be a float16
        memory map: they are read in blocks, never copied whole."""
        n, dim = int(vectors.shape[0]), int(vectors.shape[1])
        if kind == "auto":
            kind = "ivf" if n > ann_threshold else "flat"
        if kind not in KINDS:
            raise ValueError(f"dense index kind {kind!r}; expected one of auto, {', '.join(KINDS)}")
        if kind == "flat" or n == 0:
            return cls.flat(vectors)
        if kind == "hnsw":
            index = faiss.index_factory(dim, f"HNSW{HNSW_M},SQ8", faiss.METRIC_INNER_PRODUCT)
            faiss.downcast_index(index).hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.train(_f32(vectors[np.random.default_rng(seed).choice(n, min(n, 100_000), replace=False)]))
        else:
            nlist = nlist or default_nlist(n)
            nlist = max(1, min(nlist, n // IVF_TRAIN_PER_LIST or 1))
            index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
            sample = np.sort(np.random.default_rng(seed).choice(n, min(n, nlist * IVF_TRAIN_PER_LIST), replace=False))
            index.train(_f32(vectors[sample]))
        for s in range(0, n, _BLOCK):
            index.add(_f32(vectors[s:s + _BLOCK]))
        return cls(index, kind, vectors, nprobe)

    @classmethod
    def flat(cls, vectors: np.ndarray) -> "DenseIndex":
        index = faiss.IndexFlatIP(int(vectors.shape[1]))
        for s in range(0, int(vectors.shape[0]), _BLOCK):
            index.add(_f32(vectors[s:s + _BLOCK]))
        return cls(index, "flat", vectors)

    # -- searching -----------------------------------------------------------------------------------
    def _rows(self, ids: np.ndarray) -> np.ndarray:
        if self._xb is not None:
            return self._xb[ids]
        return _f32(self.vectors[ids])

    def _exact_over(self, q: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self._rows(ids)
        sc = np.einsum("ij,j->i", rows, q) if len(ids) <= 4096 else (rows @ q)
        if len(ids) > k:
            top = np.argpartition(-sc, k - 1)[:k]
        else:
            top = np.arange(len(ids))
        order = top[np.lexsort((ids[top], -sc[top]))]
        return sc[order].astype(np.float32), ids[order].astype(np.int64)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, positions) for one L2-normalised query, best first. `allowed`: a bool mask over
        positions or an array of positions; only those are returned."""
        if self.size == 0 or k <= 0:
            return _empty()
        q = _f32(query).reshape(-1)
        mask = None
        if allowed is not None:
            allowed = np.asarray(allowed)
            if allowed.dtype == bool:
                mask = allowed
                n_ok = int(np.count_nonzero(mask))
            else:
                n_ok = len(allowed)
            if n_ok == 0:
                return _empty()
            if self.kind != "flat" and n_ok <= max(EXACT_SUBSET, 4 * k):
                # few chunks pass the filter: score them exactly from the stored vectors
                ids = np.flatnonzero(mask) if mask is not None else np.unique(allowed.astype(np.int64))
                return self._exact_over(q, ids, min(k, len(ids)))
            if mask is None:
                mask = np.zeros(self.size, bool)
                mask[allowed] = True
            selectivity = n_ok / self.size
        else:
            selectivity = 1.0
        k = min(k, self.size)
        want = k if self.kind == "flat" or self.vectors is None else min(self.size, max(2 * k, RERANK_MIN))
        params, keep_alive = self._params(mask, selectivity)
        faiss.omp_set_num_threads(SEARCH_THREADS)  # this thread's searches only (builds keep every core)
        scores, ids = self.index.search(q.reshape(1, -1), want, params=params)
        del keep_alive
        ids = ids[0][ids[0] >= 0].astype(np.int64)
        if self.kind == "flat" or self.vectors is None:
            return scores[0][: len(ids)].astype(np.float32), ids
        return self._exact_over(q, ids, min(k, len(ids)))

    def _params(self, mask: np.ndarray | None, selectivity: float):
        sel, bits = None, None
        if mask is not None:
            bits = np.packbits(mask.astype(np.uint8), bitorder="little")
            sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        if self.kind == "ivf":
            # a filter keeping a fraction of the chunks: scan proportionally more lists
            nprobe = int(min(self.nlist, math.ceil(self.nprobe / max(selectivity, 1e-9))))
            p = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe) if sel is not None else faiss.SearchParametersIVF(nprobe=nprobe)
        elif self.kind == "hnsw":
            p = faiss.SearchParametersHNSW(sel=sel, efSearch=self.ef_search) if sel is not None else faiss.SearchParametersHNSW(efSearch=self.ef_search)
        else:
            p = faiss.SearchParameters(sel=sel) if sel is not None else None
        return p, (sel, bits)

    # -- files ---------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Flat indexes are rebuilt from the stored vectors when opened; nothing to write."""
        if self.kind != "flat":
            faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path | None, kind: str, vectors: np.ndarray, nprobe: int | None = None,
             mmap: bool = True) -> "DenseIndex":
        if kind == "flat":
            return cls.flat(vectors)
        flags = (faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY) if mmap else 0
        index = faiss.read_index(str(path), flags)
        return cls(index, kind, vectors, nprobe)
