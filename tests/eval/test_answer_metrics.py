"""The answer-shape metrics of issue 11, worked out by hand: direct answer among the first two points,
field questions, points of narrow answers, refusals by near-miss kind, per-category intervals, --split."""
from __future__ import annotations

import json

import pytest

from eval.gold import parse_lines
from eval.scoring import Response, aggregate, bootstrap_mean_ci, score_question


def _item(**kw):
    base = {"id": "x", "question": "问", "relevant": ["r1"], "must_include": [], "category": "c"}
    base.update(kw)
    return parse_lines([json.dumps(base, ensure_ascii=False)])[0]


def _resp(points, no_answer=False):
    pts = [{"text": t, "kind": "done", "citations": [1]} for t in points]
    cites = [{"n": 1, "reply_id": "r1", "passage": "".join(points)}] if points else []
    return Response({"points": pts, "citations": cites, "no_answer": no_answer}, ["r1"])


def test_direct_top2_looks_at_the_first_two_points_only():
    item = _item(answer_spans=["每餐补贴3元"], must_include=["每餐补贴3元", "86个"], shape="narrow", aspect="amount")
    first = score_question(item, _resp(["每餐补贴3元。", "建成86个。", "其他。"]), {"r1"}, [])
    second = score_question(item, _resp(["建成86个。", "会同财政局，每餐补贴3元。"]), {"r1"}, [])
    third = score_question(item, _resp(["建成86个。", "其他。", "每餐补贴3元。"]), {"r1"}, [])
    assert (first["values"]["direct_top2"], second["values"]["direct_top2"], third["values"]["direct_top2"]) == (1.0, 1.0, 0.0)
    # key facts still count the whole answer: 2 of 2, 1 of 2 ("86个" is in the first point only), 2 of 2
    assert third["values"]["key_fact_coverage"] == 1.0


def test_a_table_row_shows_and_counts_as_its_header_reads_it():
    """A row point ("新建防火通道 公里 35 38.2 764") is shown as read under its header; a fact in that reading is in the
    answer, while groundedness still checks the row itself against the passage."""
    item = _item(must_include=["38.2公里", "764"], shape="narrow", aspect="amount")
    row = "新建防火通道 公里 35 38.2 764"
    resp = _resp([row])
    resp.answer["points"][0]["reading"] = "新建防火通道，2022年计划35公里，2022年完成38.2公里，完成投资764万元。"
    o = score_question(item, resp, {"r1"}, [])
    assert o["values"]["key_fact_coverage"] == 1.0 and o["values"]["direct_top2"] == 1.0 and o["values"]["groundedness"] == 1.0
    bare = score_question(item, _resp([row]), {"r1"}, [])
    assert bare["values"]["key_fact_coverage"] == 0.5  # "38.2公里" is not in the bare row


def test_direct_top2_falls_back_to_key_facts_and_skips_multi_reply_and_field_questions():
    only_facts = _item(must_include=["86个"])
    assert score_question(only_facts, _resp(["建成86个。"]), {"r1"}, [])["values"]["direct_top2"] == 1.0
    multi = _item(relevant=["r1", "r2"], must_include=["86个"])
    assert "direct_top2" not in score_question(multi, _resp(["建成86个。"]), {"r1", "r2"}, [])["values"]
    field = _item(aspect="field", category="field", must_include=["教体局", "2023-06-30"])
    o = score_question(field, _resp(["承办单位: 主办: 教体局", "答复日期: 2023-06-30"]), {"r1"}, [])
    assert "direct_top2" not in o["values"] and o["values"]["field_accuracy"] == 1.0
    o = score_question(field, _resp(["承办单位: 主办: 教体局"]), {"r1"}, [])
    assert o["values"]["field_accuracy"] == 0.0  # one of two facts is not enough


def test_points_of_narrow_answers_median_and_refusals_by_kind():
    narrow = _item(shape="narrow")
    outs = [score_question(narrow, _resp(["a"] * n), {"r1"}, []) for n in (2, 4, 7)]
    outs.append(score_question(_item(shape="broad"), _resp(["a"] * 10), {"r1"}, []))  # broad: not counted
    miss = [score_question(_item(id=f"u{i}", relevant=[], answerable=False, miss_kind=k), _resp(pts, no_answer=na), set(), [])
            for i, (k, pts, na) in enumerate([("detail-absent", [], True), ("detail-absent", ["x"], False),
                                               ("no-topic", [], True)])]
    agg = aggregate(outs + miss)
    assert agg["metrics"]["points_narrow_p50"] == 4  # median of 2, 4, 7
    assert agg["by_miss_kind"]["detail-absent"] == {"n": 2, "refused_rate": 0.5}
    assert agg["by_miss_kind"]["no-topic"]["refused_rate"] == 1.0


def test_bootstrap_interval_brackets_the_mean():
    lo, hi = bootstrap_mean_ci([1.0] * 8 + [0.0] * 2)
    assert lo <= 0.8 <= hi and 0.4 <= lo < hi <= 1.0
    assert bootstrap_mean_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)


def test_split_runs_one_half(tmp_path):
    from eval.runner import RunOptions, run
    from index.errors import DafuError
    from tests.conftest import SEED_DIR

    gold = tmp_path / "g.jsonl"
    lines = [{"id": "a", "question": "通州在产教融合方面做了哪些工作？", "relevant": ["28_20230630"], "split": "tune"},
             {"id": "b", "question": "城市公交线路怎么优化？", "relevant": [], "answerable": False, "split": "report"}]
    gold.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    res = run(RunOptions(gold=gold, out=tmp_path / "o", corpus=SEED_DIR, overrides={"embed_model": "fake"},
                         progress=False, report=False, split="report"))
    assert [q["id"] for q in res.data["questions"]] == ["b"] and res.data["config"]["gold"]["split"] == "report"
    with pytest.raises(DafuError, match="expected tune, report"):
        run(RunOptions(gold=gold, out=tmp_path / "p", index=tmp_path / "o" / "index", overrides={"embed_model": "fake"},
                       progress=False, report=False, split="both"))
