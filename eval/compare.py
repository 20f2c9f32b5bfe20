"""`dafu eval compare A B`: per-metric deltas (B − A) with paired bootstrap 95% confidence intervals, and
the questions whose outcome changed.

Pairing is by question id; a metric compares only the questions where both runs define it. The
bootstrap resamples those questions with replacement (10,000 times, fixed seed) and takes the 2.5th and
97.5th percentiles of the mean paired difference. An interval that excludes 0 is marked as a change.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from eval.scoring import METRIC_ORDER

RESAMPLES = 10_000
SEED = 20240611
LATENCY_KEYS = ("total_ms", "retrieve_ms")
CHANGE_KEYS = ("hit@1", "key_facts")


def bootstrap_ci(diffs: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED, level: float = 0.95,
                 block: int = 1000) -> tuple[float, float]:
    """Percentile interval of the mean of `diffs` under resampling with replacement."""
    d = np.asarray(diffs, dtype=np.float64)
    if len(d) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples, dtype=np.float64)
    for b in range(0, resamples, block):
        m = min(block, resamples - b)
        idx = rng.integers(0, len(d), size=(m, len(d)))
        means[b:b + m] = d[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def _value(q: dict[str, Any], metric: str) -> float | None:
    if metric in q["values"]:
        return q["values"][metric]
    if metric in q.get("latency", {}):
        return q["latency"][metric]
    return None


def paired(a: dict[str, Any], b: dict[str, Any], metric: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    qa = {q["id"]: q for q in a["questions"]}
    ids, va, vb = [], [], []
    for q in b["questions"]:
        if q["id"] in qa:
            x, y = _value(qa[q["id"]], metric), _value(q, metric)
            if x is not None and y is not None:
                ids.append(q["id"])
                va.append(x)
                vb.append(y)
    return ids, np.array(va, dtype=np.float64), np.array(vb, dtype=np.float64)


def outcome_changes(a: dict[str, Any], b: dict[str, Any], keys=CHANGE_KEYS) -> dict[str, dict[str, list[str]]]:
    qa = {q["id"]: q for q in a["questions"]}
    out: dict[str, dict[str, list[str]]] = {k: {"pass→fail": [], "fail→pass": []} for k in keys}
    for q in b["questions"]:
        old = qa.get(q["id"])
        if old is None:
            continue
        for k in keys:
            x, y = old["pass"].get(k), q["pass"].get(k)
            if x is True and y is False:
                out[k]["pass→fail"].append(q["id"])
            elif x is False and y is True:
                out[k]["fail→pass"].append(q["id"])
    return out


def compare_runs(a: dict[str, Any], b: dict[str, Any], resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    rows = []
    for metric in [*METRIC_ORDER, *LATENCY_KEYS]:
        ids, va, vb = paired(a, b, metric)
        if not ids:
            continue
        d = vb - va
        lo, hi = bootstrap_ci(d, resamples, seed)
        rows.append({"metric": metric, "n": len(ids), "a": float(va.mean()), "b": float(vb.mean()),
                     "delta": float(d.mean()), "ci_low": lo, "ci_high": hi,
                     "changed": bool(lo > 0 or hi < 0)})
    ida = {q["id"] for q in a["questions"]}
    idb = {q["id"] for q in b["questions"]}
    warnings = []
    ga, gb = a.get("config", {}).get("gold", {}), b.get("config", {}).get("gold", {})
    if ga.get("sha256") and gb.get("sha256") and ga["sha256"] != gb["sha256"]:
        warnings.append("the two runs used different gold files (or versions of one); only shared ids are paired")
    return {"a": a.get("label"), "b": b.get("label"), "resamples": resamples, "seed": seed, "rows": rows,
            "changes": outcome_changes(a, b), "only_in_a": sorted(ida - idb), "only_in_b": sorted(idb - ida),
            "warnings": warnings}


def _f(x: float, ms: bool) -> str:
    return f"{x:+.1f}" if ms else f"{x:+.3f}"


def format_markdown(res: dict[str, Any], questions: dict[str, str] | None = None) -> str:
    """The comparison as Markdown (also what the CLI prints)."""
    lines = [f"# dafu eval compare: A = {res['a']}, B = {res['b']}", "",
             f"Delta = B − A, mean over paired questions; 95% CI from a paired bootstrap ({res['resamples']} resamples, seed {res['seed']}). "
             "`*` = the interval excludes 0.", "",
             "| metric | n | A | B | delta | 95% CI |", "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        ms = r["metric"].endswith("_ms")
        a, b = (f"{r['a']:.1f}", f"{r['b']:.1f}") if ms else (f"{r['a']:.3f}", f"{r['b']:.3f}")
        star = " *" if r["changed"] else ""
        lines.append(f"| {r['metric']}{' (mean)' if ms else ''} | {r['n']} | {a} | {b} | {_f(r['delta'], ms)}{star} | "
                     f"[{_f(r['ci_low'], ms)}, {_f(r['ci_high'], ms)}] |")
    for k, ch in res["changes"].items():
        for direction, ids in ch.items():
            lines += ["", f"**{k} {direction}** ({len(ids)})" + (":" if ids else "")]
            lines += [f"- {i}" + (f" {questions[i]}" if questions and i in questions else "") for i in ids]
    if res["only_in_a"] or res["only_in_b"]:
        lines += ["", f"Not paired: {len(res['only_in_a'])} only in A, {len(res['only_in_b'])} only in B."]
    lines += [f"\nWarning: {w}" for w in res["warnings"]]
    return "\n".join(lines) + "\n"
