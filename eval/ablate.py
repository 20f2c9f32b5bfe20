"""`dafu eval ablate`: the same gold set with each stage of the pipeline switched (one index, built once:
these settings only change querying) — BM25 alone, dense alone, hybrid by RRF, hybrid by convex fusion,
then sentence re-scoring, focus answerability and direct composition added (the full default) — plus a
few fusion weights, optionally other chunk sizes (one index each; unchanged text reuses cached vectors).
Each configuration gets a full run folder; ablation.md and ablation.json put them side by side with each
one's change over the baseline (paired bootstrap) and hit@1 per category."""
from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from eval.compare import compare_runs
from eval.runner import RunOptions, RunResult, make_settings, run
from index.errors import DafuError

TABLE_METRICS = ("hit@1", "hit@5", "recall@5", "mrr@10", "key_fact_coverage", "direct_top2", "citation_precision",
                 "refusal_accuracy", "answered_rate", "refused_rate")
DEFAULT_WEIGHTS = ""
# the pipeline's stages, each added in turn (the last row is the default configuration)
STAGES: list[tuple[str, dict[str, Any]]] = [
    ("bm25", {"retriever": "bm25"}),
    ("dense", {"retriever": "dense", "rescore_depth": 0}),
    ("hybrid-rrf", {"retriever": "hybrid", "fusion": "rrf", "rescore_depth": 0}),
    ("hybrid-convex", {"retriever": "hybrid", "fusion": "convex", "rescore_depth": 0}),
    ("dense+rescore", {"retriever": "dense"}),
    ("+rescore", {"retriever": "hybrid", "answerability": "coverage", "compose": "flat"}),
    ("+focus", {"retriever": "hybrid", "compose": "flat"}),
    ("full", {"retriever": "hybrid"}),
]
STAGE_KEYS = ("retriever", "dense_weight", "bm25_weight", "fusion", "rescore_depth", "answerability", "compose", "dense_share")


def parse_weights(spec: str | None) -> list[tuple[float, float]]:
    """'1:1,1:0.25' → [(1.0, 1.0), (1.0, 0.25)] as (dense_weight, bm25_weight)."""
    out = []
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        try:
            d, b = (float(x) for x in part.split(":"))
        except ValueError:
            raise DafuError(f"--weights {part!r}: expected DENSE:BM25 like 1:0.5") from None
        out.append((d, b))
    return out


def configurations(weights: list[tuple[float, float]], chunk_targets: list[int],
                   shares: list[float] | None = None) -> list[tuple[str, dict[str, Any]]]:
    confs: list[tuple[str, dict[str, Any]]] = list(STAGES)
    for d, b in weights:
        confs.append((f"rrf-d{d:g}-b{b:g}", {"retriever": "hybrid", "fusion": "rrf", "dense_weight": d, "bm25_weight": b}))
    for sh in shares or []:
        confs.append((f"full-dense{sh:g}", {"retriever": "hybrid", "dense_share": sh}))
    for t in chunk_targets:
        confs.append((f"full-chunk{t}", {"retriever": "hybrid", "chunk_target": t}))
    return confs


def ablate(base: RunOptions, weights: list[tuple[float, float]] | None = None, chunk_targets: list[int] | None = None,
           encoder=None, shares: list[float] | None = None) -> dict[str, Any]:
    """Run every configuration; `base` carries gold, corpus or index, config file, shared overrides and out."""
    from index.builder import Indexer
    from index.embed import load_encoder

    if base.api:
        raise DafuError("ablations run in-process; use --corpus or --index, not --api")
    weights = parse_weights(DEFAULT_WEIGHTS) if weights is None else weights
    confs = configurations(weights, chunk_targets or [], shares)
    base.out.mkdir(parents=True, exist_ok=True)
    shared = {k: v for k, v in base.overrides.items() if v is not None and k not in STAGE_KEYS}
    if base.index is not None and "embed_model" not in shared and not os.environ.get("DAFU_EMBED_MODEL"):
        # query with the model the index was built with
        from index.store import IndexStore

        shared["embed_model"] = IndexStore(Path(base.index)).manifest()["model"]
    settings = make_settings(replace(base, overrides=shared))
    if encoder is None:
        encoder = load_encoder(settings.embed_model, settings.embed_device, settings.embed_batch_size)
    index_dir = base.index
    indexes: dict[Any, Path] = {}
    if base.corpus is not None:  # build the shared index once
        index_dir = base.out / "index"
        Indexer(settings.model_copy(update={"index_dir": index_dir}), encoder=encoder, progress=base.progress).build(
            [Path(base.corpus).resolve()])
    results: dict[str, RunResult] = {}
    for label, conf in confs:
        ov = {**shared, **conf}
        idx = index_dir
        if "chunk_target" in conf:
            if base.corpus is None:
                raise DafuError("chunk-size ablations need --corpus (the index is rebuilt for each size)")
            t = conf["chunk_target"]
            if t not in indexes:
                s = make_settings(replace(base, overrides=ov, out=base.out / label))
                indexes[t] = base.out / f"index-chunk{t}"
                Indexer(s.model_copy(update={"index_dir": indexes[t]}), encoder=encoder, progress=base.progress).build(
                    [Path(base.corpus).resolve()])
            idx = indexes[t]
        opts = replace(base, corpus=None, index=idx, overrides=ov, out=base.out / label, label=label)
        results[label] = run(opts, encoder=encoder)
    return summarise(results, base.out)


def summarise(results: dict[str, RunResult], out: Path, baseline: str | None = None) -> dict[str, Any]:
    labels = list(results)
    baseline = baseline or labels[0]
    base_data = results[baseline].data
    table = []
    for label in labels:
        data = results[label].data
        cmp = compare_runs(base_data, data) if label != baseline else None
        deltas = {r["metric"]: r for r in cmp["rows"]} if cmp else {}
        row = {"config": label, "metrics": {m: data["metrics"].get(m) for m in TABLE_METRICS},
               "hit@1_by_category": {c: v.get("hit@1") for c, v in data.get("by_category", {}).items()},
               "latency_p50_ms": data["metrics"].get("latency.total_ms.p50"),
               "deltas": {m: {k: deltas[m][k] for k in ("delta", "ci_low", "ci_high", "changed")}
                          for m in TABLE_METRICS if m in deltas},
               "out": str(results[label].out)}
        table.append(row)
    summary = {"baseline": baseline, "rows": table}
    (out / "ablation.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "ablation.md").write_text(format_markdown(summary), encoding="utf-8")
    return summary


def format_markdown(summary: dict[str, Any]) -> str:
    head = ["config", *TABLE_METRICS, "p50 ms"]
    lines = [f"# dafu eval ablate (baseline: {summary['baseline']})", "",
             "Each cell: value (change over the baseline, over the questions both runs define the metric for; "
             "`*` = its paired-bootstrap 95% CI excludes 0).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary["rows"]:
        cells = [row["config"]]
        for m in TABLE_METRICS:
            v = row["metrics"].get(m)
            d = row["deltas"].get(m)
            cell = "—" if v is None else f"{v:.3f}"
            if d is not None:
                cell += f" ({d['delta']:+.3f}{'*' if d['changed'] else ''})"
            cells.append(cell)
        p50 = row["latency_p50_ms"]
        cells.append("—" if p50 is None else f"{p50:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    cats = sorted({c for r in summary["rows"] for c, v in r.get("hit@1_by_category", {}).items() if v is not None})
    if cats:
        lines += ["", "hit@1 by category:", "", "| config | " + " | ".join(cats) + " |", "|" + "---|" * (len(cats) + 1)]
        for row in summary["rows"]:
            by = row.get("hit@1_by_category", {})
            lines.append(f"| {row['config']} | " + " | ".join("—" if by.get(c) is None else f"{by[c]:.3f}" for c in cats) + " |")
    lines += ["", "Run folders: " + ", ".join(f"{r['config']} → {r['out']}" for r in summary["rows"]), ""]
    return "\n".join(lines)
