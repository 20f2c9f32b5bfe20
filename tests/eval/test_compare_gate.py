"""`compare` (paired bootstrap, changed outcomes) and the regression gate, on hand-made runs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eval.compare import bootstrap_ci, compare_runs, format_markdown, outcome_changes
from eval.gate import check_thresholds, load_thresholds, parse_thresholds
from index.errors import DafuError

ROOT = Path(__file__).resolve().parents[2]


def _q(qid: str, hit1: float | None, kf: float | None, total: float = 10.0) -> dict:
    return {"id": qid, "question": f"问题{qid}", "values": {"hit@1": hit1, "key_fact_coverage": kf},
            "pass": {"hit@1": None if hit1 is None else hit1 == 1.0, "key_facts": None if kf is None else kf == 1.0},
            "latency": {"total_ms": total}}


def _run(label: str, qs: list[dict]) -> dict:
    return {"label": label, "config": {"gold": {"sha256": "x"}}, "metrics": {}, "questions": qs}


A = _run("a", [_q("1", 1, 1.0), _q("2", 0, 0.5), _q("3", 1, 1.0), _q("4", 0, 0.0), _q("5", None, None)])
B = _run("b", [_q("1", 1, 1.0), _q("2", 1, 1.0), _q("3", 0, 1.0), _q("4", 1, 0.5), _q("6", 1, 1.0)])


def test_bootstrap_constant_differences_give_a_point_interval():
    assert bootstrap_ci(np.full(20, 0.25)) == pytest.approx((0.25, 0.25))


def test_bootstrap_is_seeded_and_brackets_the_mean():
    d = np.array([1, 0, 0, 1, 1, -1, 0, 1, 0, 1], dtype=float)
    lo, hi = bootstrap_ci(d, resamples=10_000, seed=7)
    assert (lo, hi) == bootstrap_ci(d, resamples=10_000, seed=7)
    assert lo < d.mean() < hi
    assert -0.5 < lo < 0.4 and 0.4 < hi <= 1.0


def test_compare_pairs_by_id_and_reports_deltas():
    res = compare_runs(A, B, resamples=2000)
    rows = {r["metric"]: r for r in res["rows"]}
    # paired ids 1-4 (5 is only in A, 6 only in B); hit@1: A = 2/4, B = 3/4
    assert rows["hit@1"]["n"] == 4
    assert rows["hit@1"]["a"] == 0.5 and rows["hit@1"]["b"] == 0.75
    assert rows["hit@1"]["delta"] == pytest.approx(0.25)
    assert rows["hit@1"]["ci_low"] <= 0.25 <= rows["hit@1"]["ci_high"]
    # key facts: diffs 0, +0.5, 0, +0.5 → mean +0.25; every resample is ≥ 0
    assert rows["key_fact_coverage"]["delta"] == pytest.approx(0.25)
    assert rows["key_fact_coverage"]["ci_low"] >= 0
    assert rows["total_ms"]["delta"] == 0
    assert res["only_in_a"] == ["5"] and res["only_in_b"] == ["6"]


def test_changed_outcomes():
    ch = outcome_changes(A, B)
    assert ch["hit@1"] == {"pass→fail": ["3"], "fail→pass": ["2", "4"]}
    assert ch["key_facts"] == {"pass→fail": [], "fail→pass": ["2"]}


def test_compare_markdown_lists_changes():
    text = format_markdown(compare_runs(A, B, resamples=500), {"3": "问题3"})
    assert "| hit@1 | 4 | 0.500 | 0.750 | +0.250" in text
    assert "**hit@1 pass→fail** (1):\n- 3 问题3" in text


def test_compare_warns_on_different_gold_files():
    b = {**B, "config": {"gold": {"sha256": "y"}}}
    assert compare_runs(A, b, resamples=100)["warnings"]


# -- regression gate -----------------------------------------------------------------------------

THRESH = {"min": {"hit@5": 0.8, "key_fact_coverage": 0.6, "span_cited": None},
          "max": {"latency.total_ms.p95": 2000}}


def test_gate_passes_when_all_metrics_meet_thresholds():
    metrics = {"hit@5": 0.8, "key_fact_coverage": 0.9, "latency.total_ms.p95": 150.0}
    assert check_thresholds(metrics, parse_thresholds(THRESH)) == []


def test_gate_names_each_metric_that_fell_short():
    metrics = {"hit@5": 0.79, "key_fact_coverage": 0.9, "latency.total_ms.p95": 2500.0}
    fails = check_thresholds(metrics, parse_thresholds(THRESH))
    assert fails == ["hit@5: 0.7900 is below the threshold 0.8", "latency.total_ms.p95: 2500.0000 is above the threshold 2000"]


def test_gate_fails_on_a_missing_metric_and_ignores_null():
    fails = check_thresholds({"hit@5": 0.9}, parse_thresholds(THRESH))
    assert any(f.startswith("key_fact_coverage: not measured") for f in fails)
    assert not any("span_cited" in f for f in fails)


def test_gate_flat_format_and_bad_names():
    assert parse_thresholds({"hit@1": 0.5, "_comment": "x"}) == {"min": {"hit@1": 0.5}, "max": {}}
    with pytest.raises(DafuError, match="not a metric"):
        parse_thresholds({"min": {"hits@1": 0.5}})
    with pytest.raises(DafuError, match="number or null"):
        parse_thresholds({"min": {"hit@1": "high"}})


def test_repository_thresholds_file_parses():
    t = load_thresholds(ROOT / "eval" / "thresholds.json")
    assert t["min"], "eval/thresholds.json has no floors"
    raw = json.loads((ROOT / "eval" / "thresholds.json").read_text(encoding="utf-8"))
    assert "settings" in raw  # the settings the numbers were measured under
