"""`dafu eval weights`: are the composition's weights right for this gold set?

A sentence's score in an answer is a weighted sum of what it is made of (service.answer.ComposeWeights: cosine
z, topic words, the asked detail, done/plan label…; `_Cand.features`). This command asks every answerable
single-reply question of the gold set once, keeps each answer's scored candidate sentences, and measures how often
a sentence holding one of the question's direct-answer spans (`answer_spans`, else `must_include`) is among the
first two by score: the same reading of the lead as `direct_top2`, on the candidates alone (one sentence
promoted for holding the asked detail, as the composition does), so that other weights can be tried without
asking again. A coordinate search then changes one weight at a time on the tuning half, keeps a change only when
it gains at least `min_gain` questions there, and reports the result on both halves: a gain on the tuning half
alone is overfitting. Nothing is changed in the code; the suggested weights are a measurement to act on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.gold import GoldItem, load_gold
from eval.runner import RunOptions, make_settings, open_backend
from eval.scoring import RETRIEVAL_DEPTH, facts_found
from index.errors import DafuError
from service.answer import DETAIL_LEAD_GAP, LEAD_HOLD_TOP

GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


@dataclass
class Scored:
    """One question's candidate sentences: features (rows), which hold a direct-answer span, which the lead may
    be taken from (the asked label, not under a 存在的问题 heading), which hold the asked detail."""

    id: str
    split: str
    narrow: bool
    features: np.ndarray
    positive: np.ndarray
    pool: np.ndarray
    held: np.ndarray


def lead_holds_span(q: Scored, w: np.ndarray) -> bool:
    """Is a positive sentence among the first two when the candidates are scored with weights `w`? (A sentence holding
    the asked detail leads as service.answer._direct lets it: within DETAIL_LEAD_GAP of the best, or when none of
    the best LEAD_HOLD_TOP holds it.)"""
    scores = q.features @ w
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    pool = [i for i in order if q.pool[i]] or order
    if q.narrow and q.held.any():
        holding = [i for i in pool if q.held[i]]
        if holding and (scores[holding[0]] >= scores[pool[0]] - DETAIL_LEAD_GAP
                        or not any(q.held[i] for i in pool[:LEAD_HOLD_TOP])):
            pool = holding + [i for i in pool if not q.held[i]]
    return bool(q.positive[pool[:2]].any())


def count(questions: list[Scored], w: np.ndarray) -> int:
    return sum(lead_holds_span(q, w) for q in questions)


def search(tune: list[Scored], w0: np.ndarray, names: tuple[str, ...], grid: tuple[float, ...] = GRID,
           min_gain: int = 2, rounds: int = 3) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Coordinate search on the tuning half: each weight in turn over `grid` (the value nearest the current one on
    a tie); a change is kept when it gains ≥ min_gain questions. Returns the weights and the steps taken."""
    w = w0.astype(float).copy()
    best = count(tune, w)
    steps: list[dict[str, Any]] = []
    for _ in range(rounds):
        changed = False
        for j, name in enumerate(names):
            current = w[j]
            tried = []
            for g in grid:
                w[j] = g
                tried.append((count(tune, w), -abs(g - current), g))
            n, _, g = max(tried)
            if n >= best + min_gain:
                steps.append({"weight": name, "from": float(current), "to": float(g), "tune": n})
                w[j], best, changed = g, n, True
            else:
                w[j] = current
        if not changed:
            break
    return w, steps


def _positive(item: GoldItem, c) -> bool:
    spans = list(item.answer_spans or item.must_include)
    return bool(spans) and any(facts_found(spans, c.text + "\n" + c.reading))


def collect(opts: RunOptions, encoder=None) -> list[Scored]:
    """Ask every answerable, non-field gold question (both halves) in-process and keep the scored candidates of
    those answered from one reply with at least one candidate holding a span."""
    from eval.backends import _RecordingRetriever
    from service.answer import FEATURES, answer_question
    from service.filters import Filters

    if opts.api:
        raise DafuError("--api: `dafu eval weights` needs the candidates' scores, which only an in-process run has; "
                        "give --index or --corpus")
    gold = load_gold(opts.gold)
    settings = make_settings(opts)
    backend, settings = open_backend(opts, settings, encoder)
    out: list[Scored] = []
    for item in gold.items:
        if not item.answerable or "field" in (item.category, item.aspect) or item.split not in ("tune", "report"):
            continue
        known = {k: v for k, v in (item.filters or {}).items() if k in Filters.__dataclass_fields__}
        rec = _RecordingRetriever(backend.retriever, RETRIEVAL_DEPTH)
        history = [dict(h) for h in item.history] or None
        try:
            ans = answer_question(rec, item.question, Filters(**known) if known else None, top_k=settings.top_k,
                                  history=history)
        except DafuError:
            continue
        cands = ans.composed
        if not cands or len({c.reply.id for c in cands}) != 1:
            continue
        positive = np.array([_positive(item, c) for c in cands])
        if not positive.any():
            continue
        query = backend.retriever.understand(ans.rewritten_question)
        out.append(Scored(
            item.id, item.split, bool(query.narrow),
            np.array([[c.features.get(k, 0.0) for k in FEATURES] for c in cands], dtype=float), positive,
            np.array([c.features.get("label", 0.0) > 0 and not c.problem for c in cands]),
            np.array([bool(c.held) for c in cands])))
    return out


def weights_report(opts: RunOptions, min_gain: int = 2, encoder=None) -> dict[str, Any]:
    from service.answer import FEATURES, WEIGHTS

    questions = collect(opts, encoder)
    tune = [q for q in questions if q.split == "tune"]
    report = [q for q in questions if q.split == "report"]
    if not tune:
        raise DafuError(f"{opts.gold}: no answerable question with \"split\": \"tune\" answered from one reply with a "
                        "direct-answer span among its candidates; split the gold set (eval/README.md)")
    w0 = np.array([getattr(WEIGHTS, k) for k in FEATURES], dtype=float)
    w, steps = search(tune, w0, FEATURES, min_gain=min_gain)
    return {
        "questions": {"tune": len(tune), "report": len(report)},
        "current": {"weights": dict(zip(FEATURES, w0.tolist())), "tune": count(tune, w0), "report": count(report, w0)},
        "suggested": {"weights": dict(zip(FEATURES, w.tolist())), "tune": count(tune, w), "report": count(report, w)},
        "steps": steps,
        "min_gain": min_gain,
    }


def format_markdown(res: dict[str, Any]) -> str:
    nt, nr = res["questions"]["tune"], res["questions"]["report"]

    def share(n: int, of: int) -> str:
        return f"{n}/{of} = {n / of:.3f}" if of else "—"

    lines = ["| weights | tune | report |", "|---|---|---|"]
    for key in ("current", "suggested"):
        lines.append(f"| {key} | {share(res[key]['tune'], nt)} | {share(res[key]['report'], nr)} |")
    lines.append("")
    if res["steps"]:
        lines.append(f"Changes kept (each gains ≥ {res['min_gain']} tuning questions):")
        lines += [f"- {s['weight']}: {s['from']:g} → {s['to']:g} (tune {s['tune']})" for s in res["steps"]]
    else:
        lines.append(f"No single weight change gains ≥ {res['min_gain']} tuning questions: the current weights stand.")
    return "\n".join(lines)


def write(res: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "weights.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "weights.md").write_text(format_markdown(res) + "\n", encoding="utf-8")
