"""Which dense index, from what size, with which parameters? Measured, not guessed.

For each size: build time, size of the index, median single-question search time, and recall@10
against exact search, for exact search (flat), IVF with SQ8 codes re-scored exactly from the stored
vectors (dafu's `ivf`, over a sweep of nprobe) and HNSW over SQ8 codes (over a sweep of efSearch).
Vectors come from bench/synthvec.py (shaped like the default model's: a narrow cone, letters and
sections as clusters); questions are held-out vectors near the corpus. A result counts as found
when its exact score reaches the exact 10th score (identical vectors are not misses).

    nice -n 10 python bench/ann.py --sizes 100000 1000000 --skip-hnsw-above 200000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthvec import SyntheticVectors  # noqa: E402
from index import dense as dense_mod  # noqa: E402
from index.dense import DenseIndex  # noqa: E402


def corpus(n: int, dim: int, mean: np.ndarray | None) -> tuple[SyntheticVectors, np.ndarray]:
    """`n` vectors of letters with ~7 chunks, 60 titles and 15 sections per title (like eval/synth.py)."""
    g = SyntheticVectors(dim, mean=mean)
    x = np.empty((n, dim), np.float16)
    for i in range(n):
        r = i // 7
        x[i] = g.passage(f"title{r % 60}\nhead{(r * 7 + i) % 15}\nletter {r} chunk {i}")
    return g, x


def measure(d: DenseIndex, qs: np.ndarray, kth: np.ndarray, x32: np.ndarray) -> tuple[float, float]:
    lat, rec = [], []
    for q, t in zip(qs, kth):
        t0 = time.perf_counter()
        _, ids = d.search(q, 100)
        lat.append((time.perf_counter() - t0) * 1000)
        rec.append(float(np.sum(x32[ids[:10]] @ q >= t - 1e-4)) / 10)
    return statistics.median(lat), float(np.mean(rec))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--ef", type=int, nargs="+", default=[64, 128, 256, 512])
    ap.add_argument("--skip-hnsw-above", type=int, default=200_000)
    ap.add_argument("--mean", type=Path, help="the real model's mean passage direction (.npy; bench/scale.py writes one)")
    args = ap.parse_args()
    mean = np.load(args.mean) if args.mean else None
    print(f"{'chunks':>9} {'index':<22} {'build s':>8} {'MB':>7} {'ms p50':>7} {'recall@10':>9}")
    for n in args.sizes:
        g, x = corpus(n, args.dim, mean)
        x32 = x.astype(np.float32)
        qs = g.queries_near(x32[np.random.default_rng(5).choice(n, 2000)], args.queries, spread=3.0, seed=9)
        kth = np.sort(qs @ x32.T, axis=1)[:, -10] if n <= 200_000 else np.array(
            [np.partition(x32 @ q, -10)[-10] for q in qs])
        t = time.perf_counter()
        flat = DenseIndex.build(x, kind="flat")
        tb = time.perf_counter() - t
        ms, rec = measure(flat, qs, kth, x32)
        print(f"{n:>9} {'flat':<22} {tb:>8.1f} {x.nbytes * 2 / 1e6:>7.0f} {ms:>7.2f} {rec:>9.3f}", flush=True)
        del flat
        t = time.perf_counter()
        ivf = DenseIndex.build(x, kind="ivf")
        tb = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as d:
            ivf.save(Path(d) / "i.faiss")
            mb = (Path(d) / "i.faiss").stat().st_size / 1e6
        for npb in args.nprobe:
            ivf.nprobe = npb
            ms, rec = measure(ivf, qs, kth, x32)
            print(f"{n:>9} {f'ivf{ivf.nlist},SQ8 nprobe={npb}':<22} {tb:>8.1f} {mb:>7.0f} {ms:>7.2f} {rec:>9.3f}", flush=True)
        del ivf
        if n <= args.skip_hnsw_above:
            t = time.perf_counter()
            h = DenseIndex.build(x, kind="hnsw")
            tb = time.perf_counter() - t
            with tempfile.TemporaryDirectory() as d:
                h.save(Path(d) / "h.faiss")
                mb = (Path(d) / "h.faiss").stat().st_size / 1e6
            for ef in args.ef:
                h.ef_search = ef
                ms, rec = measure(h, qs, kth, x32)
                print(f"{n:>9} {f'hnsw{dense_mod.HNSW_M},SQ8 ef={ef}':<22} {tb:>8.1f} {mb:>7.0f} {ms:>7.2f} {rec:>9.3f}", flush=True)


if __name__ == "__main__":
    main()
