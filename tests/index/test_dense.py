"""Dense index kinds: exact, IVF (SQ8 + exact re-scoring) with filters, files opened memory-mapped."""
from __future__ import annotations

import numpy as np
import pytest

from bench.synthvec import SyntheticVectors
from index.dense import DenseIndex


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    g = SyntheticVectors(64, seed=1)
    texts = [f"title{i % 40}\nhead{i % 7}\nchunk {i}" for i in range(6000)]
    return g.passages(texts).astype(np.float16)


def _truth(x, q, k):
    sc = x.astype(np.float32) @ q
    return np.argsort(-sc, kind="stable")[:k], sc


def test_flat_is_exact(vectors):
    d = DenseIndex.build(vectors, ann_threshold=10**9)
    assert d.kind == "flat"
    q = vectors[5].astype(np.float32)
    sc, ids = d.search(q, 10)
    want, full = _truth(vectors, q, 10)
    assert set(ids) == set(want) and np.allclose(sc, full[ids], atol=1e-5)


def test_ivf_recall_and_exact_scores(vectors):
    d = DenseIndex.build(vectors, ann_threshold=100)
    assert d.kind == "ivf" and d.nlist > 1
    g = SyntheticVectors(64, seed=1)
    qs = g.queries_near(vectors.astype(np.float32), 50, spread=3.0, seed=2)
    rec = []
    for q in qs:
        sc, ids = d.search(q, 10)
        want, full = _truth(vectors, q, 10)
        rec.append(np.sum(full[ids] >= full[want[-1]] - 1e-5) / 10)
        assert np.allclose(sc, full[ids], atol=1e-4)  # re-scored from the stored vectors
        assert list(sc) == sorted(sc, reverse=True)
    assert np.mean(rec) >= 0.95


@pytest.mark.parametrize("keep_every", [2, 500])  # a wide filter (IVF + selector) and a narrow one (exact subset)
def test_filtered_search_returns_only_allowed(vectors, keep_every):
    d = DenseIndex.build(vectors, ann_threshold=100)
    mask = np.zeros(len(vectors), bool)
    mask[::keep_every] = True
    q = vectors[1000].astype(np.float32)
    sc, ids = d.search(q, 10, mask)
    assert len(ids) == min(10, mask.sum()) and mask[ids].all()
    want, full = _truth(vectors[mask], q, 1)
    assert ids[0] == np.flatnonzero(mask)[want[0]]
    sc2, ids2 = d.search(q, 10, np.flatnonzero(mask))  # positions instead of a mask
    assert list(ids2) == list(ids)
    assert len(d.search(q, 10, np.zeros(len(vectors), bool))[1]) == 0


def test_save_and_memory_mapped_load(vectors, tmp_path):
    d = DenseIndex.build(vectors, ann_threshold=100)
    d.save(tmp_path / "dense.faiss")
    again = DenseIndex.load(tmp_path / "dense.faiss", "ivf", vectors, mmap=True)
    q = vectors[7].astype(np.float32)
    assert list(again.search(q, 10)[1]) == list(d.search(q, 10)[1])
    assert again.describe()["nprobe"] == d.nprobe


def test_hnsw_kind_still_available(vectors):
    d = DenseIndex.build(vectors[:2000], kind="hnsw")
    assert d.kind == "hnsw"
    q = vectors[3].astype(np.float32)
    assert d.search(q, 5)[1][0] == 3
