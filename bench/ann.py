"""When does the dense index switch from exact (IndexFlatIP) to HNSW? Measure, don't guess.

For each corpus size: build time, median query latency and recall@10 of HNSW against exact search,
on random unit vectors of the default model's dimension (384). Run:

    python bench/ann.py --sizes 10000 50000 100000 200000 --queries 200
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from index.dense import DenseIndex


def _unit(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    # clustered vectors look more like real embeddings than uniform noise
    centers = rng.standard_normal((max(8, n // 500), dim)).astype(np.float32)
    x = centers[rng.integers(0, len(centers), n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'chunks':>8} {'flat build s':>12} {'hnsw build s':>12} {'flat ms':>8} {'hnsw ms':>8} {'recall@10':>9}")
    for n in args.sizes:
        x = _unit(n, args.dim, rng)
        q = _unit(args.queries, args.dim, rng)
        t = time.perf_counter(); flat = DenseIndex.build(x, ann_threshold=n + 1); tf = time.perf_counter() - t
        t = time.perf_counter(); hnsw = DenseIndex.build(x, ann_threshold=0); th = time.perf_counter() - t
        lf, lh, rec = [], [], []
        for v in q:
            t = time.perf_counter(); _, a = flat.search(v, args.k); lf.append(time.perf_counter() - t)
            t = time.perf_counter(); _, b = hnsw.search(v, args.k); lh.append(time.perf_counter() - t)
            rec.append(len(set(a[:10]) & set(b[:10])) / 10)
        print(f"{n:>8} {tf:>12.2f} {th:>12.2f} {statistics.median(lf) * 1000:>8.2f} "
              f"{statistics.median(lh) * 1000:>8.2f} {statistics.mean(rec):>9.3f}")


if __name__ == "__main__":
    main()
