"""`dafu eval run`: settings → index (built from --corpus, opened from --index, or --api) → every gold
question asked → per-question outcomes → metrics.json, per_question.csv/.jsonl, report.md/.html.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.backends import ApiBackend, InProcessBackend, local_keys_for_paths
from eval.gold import GoldSet, Resolver, load_gold, relevant_ids, split_source
from eval.scoring import aggregate, score_question
from index.errors import DafuError

@dataclass
class RunOptions:
    gold: Path
    out: Path
    corpus: Path | None = None
    index: Path | None = None
    api: str | None = None
    config: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # Settings fields from the command line
    label: str | None = None
    progress: bool = True
    report: bool = True
    split: str | None = None  # only the gold questions whose `split` is this (tune | report)


@dataclass
class RunResult:
    out: Path
    data: dict[str, Any]  # what metrics.json holds

    @property
    def metrics(self) -> dict[str, Any]:
        return self.data["metrics"]


def read_config(path: Path | None) -> dict[str, Any]:
    """Settings overrides from a .json or .toml file (flat, or under a [settings] table)."""
    if path is None:
        return {}
    from index.settings import Settings

    p = Path(path)
    if not p.is_file():
        raise DafuError(f"--config {p}: no such file")
    try:
        if p.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(p.read_text(encoding="utf-8"))
        else:
            data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as e:
        raise DafuError(f"--config {p}: cannot parse ({e})") from None
    if isinstance(data.get("settings"), dict):
        data = data["settings"]
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise DafuError(f"--config {p}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(Settings.model_fields))}")
    return data


def make_settings(opts: RunOptions):
    from pydantic import ValidationError

    from index.settings import Settings

    kw = {**read_config(opts.config), **{k: v for k, v in opts.overrides.items() if v is not None}}
    if opts.corpus is not None:
        kw["index_dir"] = opts.out / "index"
    elif opts.index is not None:
        kw["index_dir"] = opts.index
    if "chunk_target" in kw and "chunk_max" not in kw:
        kw["chunk_max"] = max(Settings.model_fields["chunk_max"].default, int(kw["chunk_target"] * 4 / 3))
    try:
        return Settings(**kw)
    except ValidationError as e:
        raise DafuError("invalid settings: " + "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())) from None


def settings_record(settings) -> dict[str, Any]:
    d = settings.model_dump(mode="json")
    d.pop("admin_token", None)
    return d


def open_backend(opts: RunOptions, settings, encoder=None, notes: list[str] | None = None):
    """(backend, settings actually used). Builds the index when --corpus is given."""
    from index.builder import Indexer, open_index

    notes = notes if notes is not None else []
    if opts.api:  # top_k only when asked for; otherwise the service's own default applies
        top_k = opts.overrides.get("top_k") or read_config(opts.config).get("top_k")
        return ApiBackend(opts.api, top_k=top_k), settings
    if opts.corpus is not None:
        if not Path(opts.corpus).is_dir():
            raise DafuError(f"--corpus {opts.corpus}: not a folder")
        Indexer(settings, encoder=encoder, progress=opts.progress).build([Path(opts.corpus).resolve()])
        index = open_index(settings, build_default=False)
    else:
        index = open_index(settings, build_default=opts.index is None, progress=opts.progress)
        model = index.manifest.get("model")
        explicit = (bool(opts.overrides.get("embed_model")) or "embed_model" in read_config(opts.config)
                    or bool(os.environ.get("DAFU_EMBED_MODEL")))
        if model and model != settings.embed_model and not explicit:
            notes.append(f"the index was built with {model}; using it for queries (settings said {settings.embed_model})")
            settings = settings.model_copy(update={"embed_model": model})
        ch = index.manifest.get("chunking") or {}
        if opts.overrides.get("chunk_target") and ch.get("target") != opts.overrides["chunk_target"]:
            notes.append(f"--chunk-target applies when building; the existing index was chunked with target {ch.get('target')}")
    if encoder is not None and getattr(encoder, "name", None) != settings.embed_model:
        encoder = None  # a shared encoder of another model would embed queries into the wrong space
    return InProcessBackend(index, settings, encoder), settings


def gold_paths(gold: GoldSet, corpus: Path | None) -> list[str]:
    """Existing files the gold references by path (for --api runs, read locally to learn their ids)."""
    bases = [gold.folder] + ([Path(corpus)] if corpus else [])
    out: list[str] = []
    refs = [r for item in gold.items for r in item.relevant]
    refs += [r for c in gold.commitments for r in [c.ref, *(e.ref for e in c.evidence)]]
    for ref in refs:
        if ref.path:
            path, _ = split_source(ref.path)
            for b in bases:
                p = (b / path).resolve()
                if p.is_file() and str(p) not in out:
                    out.append(str(p))
                    break
    return out


def ask_all(gold: GoldSet, backend, resolver: Resolver, progress: bool = True) -> list[dict[str, Any]]:
    backend.warm_up()
    items = gold.items
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), unit="q", desc="eval", dynamic_ncols=True)
    outcomes = []
    try:
        for item in items:
            resp = backend.ask(item)
            for k in resp.keys:
                resolver.add(k)
            rel, missing = relevant_ids(item, resolver)
            outcomes.append(score_question(item, resp, rel, missing))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(item.id)
    finally:
        if bar is not None:
            bar.close()
    return outcomes


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run(opts: RunOptions, encoder=None, gold: GoldSet | None = None) -> RunResult:
    """Run every question of the gold set and write the outputs under opts.out."""
    gold = gold or load_gold(opts.gold)
    if opts.split:
        from dataclasses import replace as _replace

        if opts.split not in ("tune", "report", "fresh"):
            raise DafuError(f"--split {opts.split!r}: expected tune, report or fresh")
        items = [i for i in gold.items if i.split == opts.split]
        commitments = [c for c in gold.commitments if c.split == opts.split]  # eval/track.py
        if not items and not commitments:
            raise DafuError(f"{opts.gold}: no question or commitment has \"split\": \"{opts.split}\"")
        gold = _replace(gold, items=items, commitments=commitments)
    opts.out.mkdir(parents=True, exist_ok=True)
    settings = make_settings(opts)
    notes: list[str] = []
    backend, settings = open_backend(opts, settings, encoder, notes)
    bases = [gold.folder] + ([Path(opts.corpus)] if opts.corpus else [])
    catalogue = backend.catalogue()
    if opts.api:
        catalogue = catalogue + local_keys_for_paths(gold_paths(gold, opts.corpus))
    resolver = Resolver(catalogue, bases, trust_ids=bool(opts.api))
    t0 = time.perf_counter()
    outcomes = ask_all(gold, backend, resolver, opts.progress) if gold.items else []
    for o in outcomes:
        notes.extend(n for n in o["notes"] if n not in notes)
    agg = aggregate(outcomes)
    tracking = None
    if gold.commitments:  # commitment-tracking lines: link precision/recall, status accuracy (eval/track.py)
        from eval.track import evaluate_tracking

        tracking = evaluate_tracking(gold.commitments, backend, resolver)
        agg["metrics"].update(tracking["metrics"])
        agg["counts"]["commitments"] = len(gold.commitments)
        agg["counts"]["unresolved_references"] += sum(len(r["unresolved"]) for r in tracking["commitments"])
    described = backend.describe()
    default_label = settings.retriever
    if opts.api:
        default_label = "api" + (f":{described['stats']['retriever']}" if "retriever" in described.get("stats", {}) else "")
    data = {
        "format": "dafu-eval/1",
        "label": opts.label or default_label,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seconds": round(time.perf_counter() - t0, 3),
        "config": {
            "gold": {"path": str(Path(opts.gold).resolve()), "sha256": _sha256(opts.gold), "questions": len(gold.items),
                     "commitments": len(gold.commitments), "split": opts.split},
            "source": {"corpus": str(Path(opts.corpus).resolve()) if opts.corpus else None,
                       "index": str(settings.resolved_index_dir) if not opts.api else None, "api": opts.api},
            "settings": settings_record(settings) if not opts.api else {"top_k": getattr(backend, "top_k", None)},
            "overrides": {k: v for k, v in opts.overrides.items() if v is not None},
            "config_file": str(opts.config) if opts.config else None,
            "backend": described,
        },
        "notes": notes,
        **agg,
        "questions": outcomes,
        **({"tracking": tracking} if tracking else {}),
    }
    write_outputs(opts.out, data)
    if opts.report:
        from eval.report import write_report

        write_report(opts.out, data)
    return RunResult(opts.out, data)


CSV_METRICS = ("hit@1", "hit@5", "recall@5", "mrr@10", "ndcg@10", "span_cited", "key_fact_coverage",
               "citation_precision", "citation_support", "groundedness", "refusal_accuracy")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "pass" if v else "FAIL"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_outputs(out: Path, data: dict[str, Any]) -> None:
    (out / "metrics.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    with (out / "per_question.jsonl").open("w", encoding="utf-8") as f:
        for o in data["questions"]:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    head = ["id", "category", "answerable", "question", "expected", "retrieved_top10", "cited", "no_answer",
            *CSV_METRICS, "pass_hit@1", "pass_key_facts", "pass_refusal", "pass_grounded", "facts_missing",
            "unresolved", "total_ms", "error"]
    # utf-8-sig: Excel and WPS open it with the Chinese intact
    with (out / "per_question.csv").open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for o in data["questions"]:
            p = o["pass"]
            w.writerow([o["id"], o["category"], "yes" if o["answerable"] else "no",
                        o["question"], " | ".join(o["expected"]), " ".join(o["retrieved"]), " ".join(o["cited"]),
                        "yes" if o["no_answer"] else "no", *[_cell(o["values"].get(m)) for m in CSV_METRICS],
                        _cell(p["hit@1"]), _cell(p["key_facts"]), _cell(p["refusal"]), _cell(p["grounded"]),
                        " | ".join(o["facts_missing"]), " | ".join(o["unresolved"]),
                        _cell(o["latency"].get("total_ms")), o["error"] or ""])
    if data.get("tracking"):
        write_commitment_table(out / "per_commitment.csv", data["tracking"]["commitments"])


def write_commitment_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """One row per gold commitment: split, statuses, links right / missed / wrong (UTF-8 with BOM)."""
    head = ["id", "split", "category", "commitment", "matched", "gold_status", "status", "status_ok",
            "gold_replies", "predicted_replies", "missed_links", "wrong_links", "notes"]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for r in rows:
            gs = r["gold_status"] + (f"/{r['gold_fulfilment']}" if r["gold_fulfilment"] else "")
            ps = (r["status"] or "—") + (f"/{r['fulfilment']}" if r["fulfilment"] else "")
            w.writerow([r["id"], r["split"], r["category"], r["commitment"], r["matched"] or "NOT EXTRACTED", gs, ps,
                        _cell(r["status_ok"]), " ".join(r["gold_replies"]), " ".join(r["predicted_replies"]),
                        " ".join(r["missed_links"]), " ".join(r["wrong_links"]), r["notes"]])


def load_run(path: str | Path) -> dict[str, Any]:
    """A metrics.json (or the folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "metrics.json"
    if not p.is_file():
        raise DafuError(f"{p}: no metrics.json (run `dafu eval run` first)")
    data = json.loads(p.read_text(encoding="utf-8"))
    if "metrics" not in data or "questions" not in data:
        raise DafuError(f"{p}: not a dafu eval metrics.json (no metrics/questions)")
    return data
