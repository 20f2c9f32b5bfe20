"""Every metric against values worked out by hand; ranking metrics cross-checked with ranx (and pytrec_eval)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from eval.metrics import (
    citation_precision, citation_support, groundedness, hit_at_k, key_fact_coverage, latency_summary, mrr_at_k,
    ndcg_at_k, norm_text, percentile, recall_at_k, refusal_correct, retrieval_metrics, span_recall,
)

RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b", "d", "x"}  # x is never retrieved


def test_hit_at_k_by_hand():
    assert hit_at_k(RANKED, RELEVANT, 1) == 0.0
    assert hit_at_k(RANKED, RELEVANT, 2) == 1.0
    assert hit_at_k(RANKED, RELEVANT, 10) == 1.0
    assert hit_at_k([], RELEVANT, 10) == 0.0


def test_recall_at_k_by_hand():
    assert recall_at_k(RANKED, RELEVANT, 1) == 0.0
    assert recall_at_k(RANKED, RELEVANT, 3) == pytest.approx(1 / 3)  # b of {b, d, x}
    assert recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)  # b, d
    assert recall_at_k(RANKED, set(), 5) == 0.0


def test_mrr_by_hand():
    assert mrr_at_k(RANKED, RELEVANT, 10) == 0.5  # first relevant at rank 2
    assert mrr_at_k(RANKED, {"d"}, 3) == 0.0  # rank 4 is beyond the cut
    assert mrr_at_k(["a", "a", "b"], {"b"}, 10) == 0.5  # a repeated id does not push b down


def test_ndcg_by_hand():
    # DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677; ideal: 3 relevant → 1 + 0.630930 + 0.5
    dcg = 0.6309297535714575 + 0.43067655807339306
    idcg = 1 + 0.6309297535714575 + 0.5
    assert ndcg_at_k(RANKED, RELEVANT, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(RANKED, RELEVANT, 10) == pytest.approx(0.498189, abs=1e-6)
    assert ndcg_at_k(["b"], {"b"}, 10) == 1.0
    assert ndcg_at_k(RANKED, set(), 10) == 0.0
    # only the first k count, and the ideal is capped at k
    assert ndcg_at_k(["b", "a"], {"b", "c"}, 1) == 1.0


def test_retrieval_metrics_keys():
    m = retrieval_metrics(RANKED, RELEVANT)
    assert list(m) == ["hit@1", "hit@3", "hit@5", "hit@10", "recall@1", "recall@3", "recall@5", "recall@10",
                       "mrr@10", "ndcg@10"]
    assert m["hit@3"] == 1.0 and m["recall@10"] == pytest.approx(2 / 3)


def test_norm_text_width_and_spaces():
    assert norm_text("３～５个， 产业　导师") == "3~5个,产业导师"
    assert norm_text("ＡＢＣ") == "abc"


def test_span_recall_by_hand():
    passages = ["每年培育产教融合型企业3～5个。", "其他段落"]
    assert span_recall(["3~5个", "产业 导师"], passages) == 0.5
    assert span_recall(["产教融合型企业"], passages) == 1.0
    assert span_recall([], passages) is None
    assert span_recall(["x"], []) == 0.0


def test_key_fact_coverage_by_hand():
    facts = ["新增五年制高职专业3个", "8家"]
    points = ["2022年全区新增五年制高职专业３个,高职类专业达到13个;"]  # full-width ３ still counts
    assert key_fact_coverage(facts, points) == 0.5
    assert key_fact_coverage(facts, points + ["(累计有8家)"]) == 1.0
    assert key_fact_coverage([], points) is None
    assert key_fact_coverage(facts, []) == 0.0


def test_citation_precision_by_hand():
    assert citation_precision(["a", "a", "b"], {"a"}) == 0.5  # distinct replies: a (relevant), b
    assert citation_precision(["a"], {"a", "z"}) == 1.0
    assert citation_precision([], {"a"}) is None


def test_citation_support_by_hand():
    facts = ["8家", "13个", "不在任何要点里"]
    points = [{"text": "累计有8家", "citations": [1]}, {"text": "达到13个", "citations": [2]}]
    passages = {1: "成功创建试点企业6家(累计有8家)。", 2: "与此无关的段落"}
    # (8家, point 1) supported by passage 1; (13个, point 2) not in passage 2 → 1 of 2
    assert citation_support(facts, points, passages) == 0.5
    assert citation_support(["无"], points, passages) is None
    # a point citing two passages is supported if either contains the fact
    assert citation_support(["13个"], [{"text": "达到13个", "citations": [2, 3]}], {2: "x", 3: "高职类专业达到１３个"}) == 1.0


def test_groundedness_by_hand():
    passages = {1: "2022年全区新增五年制高职专业3个,高职类专业达到13个;新增项目3个。"}
    points = [
        {"text": "2022年全区新增五年制高职专业3个,高职类专业达到13个;", "citations": [1]},  # verbatim
        {"text": "新增项目 3 个。", "citations": [1]},  # only spacing differs
        {"text": "一句改写过的话。", "citations": [1]},  # not in the passage
        {"text": "新增项目3个。", "citations": [9]},  # cites a passage that does not exist
    ]
    assert groundedness(points, passages) == 0.5
    assert groundedness([], passages) is None


def test_refusal_correct_table():
    assert refusal_correct(answerable=True, no_answer=False) == 1.0
    assert refusal_correct(answerable=True, no_answer=True) == 0.0
    assert refusal_correct(answerable=False, no_answer=True) == 1.0
    assert refusal_correct(answerable=False, no_answer=False) == 0.0


def test_percentile_by_hand_and_numpy():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # pos 2.85 → 3 + 0.85
    assert percentile([], 50) is None
    vals = [12.0, 7.5, 30.1, 8.8, 9.9, 101.0, 15.2]
    for q in (50, 90, 95):
        assert percentile(vals, q) == pytest.approx(float(np.percentile(vals, q)))


def test_latency_summary_skips_missing_stages():
    t = [{"embed_ms": None, "retrieve_ms": 10, "answer_ms": 1, "total_ms": 12},
         {"retrieve_ms": 20, "answer_ms": 3, "total_ms": 24}]
    s = latency_summary(t)
    assert s["latency.embed_ms.p50"] is None  # bm25 runs have no embedding step
    assert s["latency.retrieve_ms.p50"] == 15
    assert s["latency.total_ms.p95"] == pytest.approx(12 + 12 * 0.95)


# -- cross-checks against reference implementations ------------------------------------------------

QRELS = {"q1": {"d2": 1, "d4": 1, "d9": 1}, "q2": {"d1": 1}, "q3": {"d5": 1, "d6": 1}, "q4": {"d3": 1}}
RUN = {"q1": ["d1", "d2", "d3", "d4", "d5"], "q2": ["d1", "d7"], "q3": ["d1", "d2", "d3", "d4", "d6", "d8", "d7", "d9",
                                                                        "d10", "d11", "d5"],
       "q4": ["d8", "d7"]}


def _ours(metric: str, k: int) -> float:
    fn = {"hit": hit_at_k, "recall": recall_at_k, "mrr": mrr_at_k, "ndcg": ndcg_at_k}[metric]
    return float(np.mean([fn(RUN[q], set(QRELS[q]), k) for q in QRELS]))


def _scored(run: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    return {q: {d: float(len(docs) - i) for i, d in enumerate(docs)} for q, docs in run.items()}


def test_ranking_metrics_match_ranx():
    ranx = pytest.importorskip("ranx")
    qrels, run = ranx.Qrels(QRELS), ranx.Run(_scored(RUN))
    names = {"hit": "hit_rate", "recall": "recall", "mrr": "mrr", "ndcg": "ndcg"}
    wanted = [f"{theirs}@{k}" for theirs in names.values() for k in (1, 3, 5, 10)]
    expected = ranx.evaluate(qrels, run, wanted)
    for ours, theirs in names.items():
        for k in (1, 3, 5, 10):
            assert _ours(ours, k) == pytest.approx(float(expected[f"{theirs}@{k}"]), abs=1e-9), f"{ours}@{k}"


def test_ranking_metrics_match_pytrec_eval():
    pytrec_eval = pytest.importorskip("pytrec_eval")
    top10 = {q: docs[:10] for q, docs in RUN.items()}  # trec_eval's recip_rank has no cut-off
    ev = pytrec_eval.RelevanceEvaluator(QRELS, {"recall.1,3,5,10", "ndcg_cut.1,3,5,10", "recip_rank", "success.1,5,10"})
    res = ev.evaluate(_scored(top10))
    for k in (1, 3, 5, 10):
        assert _ours("recall", k) == pytest.approx(np.mean([r[f"recall_{k}"] for r in res.values()]))
        assert _ours("ndcg", k) == pytest.approx(np.mean([r[f"ndcg_cut_{k}"] for r in res.values()]))
    for k in (1, 5, 10):
        assert _ours("hit", k) == pytest.approx(np.mean([r[f"success_{k}"] for r in res.values()]))
    assert _ours("mrr", 10) == pytest.approx(np.mean([r["recip_rank"] for r in res.values()]))
    assert not math.isnan(_ours("ndcg", 10))
