"""`dafu ask` latency with the model loaded, per pipeline stage, on the dev index.

    python bench/ask.py --index out/dev/index                   # an index built from eval/dev/corpus
    python bench/ask.py --corpus eval/dev/corpus --rounds 3     # build it first (embeddings cached)

Every question of the gold file (default eval/dev/gold.jsonl, follow-ups with their history) goes through
the same `answer_question` the CLI uses, `--rounds` times after one unmeasured warm-up pass; the query
encoder's LRU is bypassed (each round embeds again), so the figures include a real query embedding.
Prints p50/p95 of the query embedding, the rest of retrieval (candidates, fusion, sentence re-scoring,
constraints, answerability) and composition, and the total, and the machine's load average, since these
2 cores are shared.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(v: list[float], q: float) -> float:
    v = sorted(v)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def main() -> None:
    from eval.gold import load_gold
    from index.builder import Indexer, open_index
    from index.settings import Settings
    from service.answer import answer_question
    from service.filters import Filters
    from service.gazetteer import warm_up
    from service.retrieval import Retriever

    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "dev" / "gold.jsonl")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if (args.index is None) == (args.corpus is None):
        ap.error("give one of --index or --corpus")
    index_dir = args.index or Path(tempfile.mkdtemp(prefix="dafu-bench-ask-")) / "index"
    settings = Settings(index_dir=index_dir)
    if args.corpus is not None:
        Indexer(settings, progress=True).build([args.corpus])
    index = open_index(settings, build_default=False)
    settings = settings.model_copy(update={"embed_model": index.manifest["model"]})
    retriever = Retriever(index, settings)
    warm_up()
    retriever.encoder.encode_queries(["预热"])
    items = load_gold(args.gold).items

    def ask(item):
        known = {k: v for k, v in (item.filters or {}).items() if k in Filters.__dataclass_fields__}
        return answer_question(retriever, item.question, Filters(**known) if known else None,
                               history=[dict(h) for h in item.history] or None)

    for item in items:  # warm-up: jieba, tokenizer caches, numpy
        ask(item)
    total, embed, retrieve, compose = [], [], [], []
    load0 = os.getloadavg()[0]
    for _ in range(args.rounds):
        for item in items:
            t0 = time.perf_counter()
            a = ask(item)
            total.append((time.perf_counter() - t0) * 1000)
            e = a.timings.get("embed_ms", 0.0)
            embed.append(e)
            retrieve.append(a.timings.get("retrieve_ms", 0.0) - e)
            compose.append(a.timings.get("answer_ms", 0.0))
    load1 = os.getloadavg()[0]
    print(f"index {index_dir} ({len(index.replies)} replies, {len(index.chunks)} chunks, "
          f"{len(index.sentences) if index.sentences is not None else 0} sentences), model {index.manifest['model']}")
    print(f"{len(total)} asks ({len(items)} questions × {args.rounds} rounds); load average {load0:.1f} → {load1:.1f} on {os.cpu_count()} cores")
    print(f"{'stage':<28}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, v in (("query embedding", embed), ("retrieval without embedding", retrieve), ("composition", compose),
                    ("total (answer_question)", total)):
        print(f"{name:<28}{pct(v, 50):>10.1f}{pct(v, 95):>10.1f}{statistics.fmean(v):>10.1f}")


if __name__ == "__main__":
    main()
