"""Staff review: `dafu feedback review` turns answered questions into graded gold cases that `dafu eval run` scores;
the same through the admin API. Replies come from eval/dev/corpus; questions are asked through the service."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from eval.gold import load_gold
from index.settings import Settings
from service.review import gold_case, suggest_facts, Review

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "eval" / "dev" / "corpus"
FILES = ["000_seed_tongzhou_28.txt", "003_tongzhou_rsj_2021_zhiyepeixun.txt", "004_haimen_rsj_2023_zhiyepeixun.txt",
         "006_tongzhou_mzj_2020_jujiayanglao.txt", "007_haimen_mzj_2022_laonianzhucan.txt",
         "011_tongzhou_zjj_2022_laojiuxiaoqu.txt"]
QUESTIONS = [
    {"question": "通州在产教融合方面做了哪些工作？"},
    {"question": "通州区在职业技能培训方面做了什么？", "filters": {"departments": ["人社"]}},
    {"question": "居家养老服务方面做了哪些工作？"},
    {"question": "那海门区呢？", "follow": 1},
    {"question": "城市公交线路怎么优化？"},
]


@pytest.fixture
def served(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in FILES:
        shutil.copy(CORPUS / f, corpus / f)
    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    monkeypatch.setenv("DAFU_ADMIN_TOKEN", "s3cret")
    idx = tmp_path / "idx"
    res = CliRunner().invoke(__import__("service.cli", fromlist=["app"]).app, ["index", "build", str(corpus), "--index", str(idx)])
    assert res.exit_code == 0, res.output
    settings = Settings(index_dir=idx, embed_model="fake")
    from service.api.app import create_app

    answers = []
    with TestClient(create_app(settings, with_ui=False)) as client:
        for q in QUESTIONS:
            body = {"question": q["question"], "filters": q.get("filters")}
            if "follow" in q:
                prev = answers[q["follow"]]
                body["history"] = [{"question": prev["question"], "answer_id": prev["answer_id"]}]
            r = client.post("/api/ask", json=body)
            assert r.status_code == 200, r.text
            answers.append(r.json())
        yield client, settings, idx, answers


def test_cli_review_of_five_answers_gives_gold_cases_that_eval_scores(served, tmp_path):
    from service.cli import app

    client, settings, idx, answers = served
    assert answers[-1]["no_answer"] and all(not a["no_answer"] for a in answers[:4])
    # newest first: the reviewer sees 5 (unanswerable), 4 (follow-up), 3, 2, 1
    plan = {4: (["c"] * 99, "c", ""),  # correct refusal → unanswerable case
            3: (["c"] * 99, "c", ""),
            2: (["c"] * 99, "c", ""),
            1: (["w"] + ["c"] * 98, "i", "不存在的事实甲"),  # one wrong point, a fact missing
            0: (["c"] * 99, "c", "")}
    lines = []
    for i in (4, 3, 2, 1, 0):
        grades, verdict, missing = plan[i]
        n = len(answers[i]["points"])
        lines += grades[:n] + [verdict, missing]
    gold = tmp_path / "reviewed.jsonl"
    res = CliRunner().invoke(app, ["feedback", "review", "--limit", "5", "--export", str(gold), "--reviewer", "李审核"],
                             input="\n".join(lines) + "\n")
    assert res.exit_code == 0, res.output
    assert "5 gold case(s) written" in res.output and "dafu eval run" in res.output

    cases = {c["review"]["answer_id"]: c for c in map(json.loads, gold.read_text("utf-8").splitlines())}
    assert len(cases) == 5
    first, wrong, follow, refused = (cases[answers[i]["answer_id"]] for i in (0, 1, 3, 4))
    assert first["answerable"] and first["relevant"][0]["id"] == "28_20230630" and first["must_include"]
    assert all(s in "".join(p["text"] for p in answers[0]["points"]) for s in first["spans"])
    assert wrong["filters"] == {"departments": ["人社"]} and "不存在的事实甲" in wrong["must_include"]
    assert wrong["review"]["grades"][0] == "wrong" and answers[1]["points"][0]["text"] in wrong["review"]["not_correct"]
    assert answers[1]["points"][0]["text"] not in wrong.get("spans", [])
    assert follow["history"] == [{"question": QUESTIONS[1]["question"]}] and follow["category"] == "reviewed-follow-up"
    assert refused["answerable"] is False and refused["relevant"] == []
    gs = load_gold(gold)  # the eval loader accepts every line
    assert len(gs.items) == 5

    out = tmp_path / "eval-out"
    res = CliRunner().invoke(app, ["eval", "run", str(gold), "--index", str(idx), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "metrics.json").read_text("utf-8"))
    assert data["counts"]["questions"] == 5
    by_id = {q["id"]: q for q in data["questions"]}
    assert by_id[first["id"]]["values"]["hit@1"] == 1.0 and by_id[first["id"]]["values"]["key_fact_coverage"] == 1.0
    assert by_id[wrong["id"]]["values"]["key_fact_coverage"] < 1.0  # the missing fact is measured as missing
    assert by_id[refused["id"]]["values"]["refusal_accuracy"] == 1.0


def test_admin_api_lists_grades_and_exports(served):
    client, settings, idx, answers = served
    h = {"Authorization": "Bearer s3cret"}
    assert client.get("/api/admin/answers").status_code == 401
    lst = client.get("/api/admin/answers", params={"limit": 10}, headers=h).json()
    assert [x["answer_id"] for x in lst] == [a["answer_id"] for a in reversed(answers)]
    assert lst[0]["review"] is None and lst[1]["context"]["history"] == [QUESTIONS[1]["question"]]
    a = answers[0]
    bad = client.put(f"/api/admin/answers/{a['answer_id']}/review", json={"points": ["correct"], "verdict": "complete"}, headers=h)
    assert bad.status_code == 400 and "point(s)" in bad.json()["detail"]
    ok = client.put(f"/api/admin/answers/{a['answer_id']}/review",
                    json={"points": ["correct"] * len(a["points"]), "verdict": "complete", "note": "好"}, headers=h)
    assert ok.status_code == 200 and ok.json()["verdict"] == "complete"
    assert client.get("/api/admin/answers", params={"status": "reviewed"}, headers=h).json()[0]["review"]["note"] == "好"
    exp = client.post("/api/admin/reviews/export", headers=h).json()
    assert exp["cases"] == 1 and json.loads(exp["jsonl"].splitlines()[0])["relevant"][0]["id"] == "28_20230630"
    assert Path(exp["path"]) == settings.home / "gold-reviewed.jsonl"


def test_suggested_facts_and_cases_without_an_answer():
    assert suggest_facts("2022年全区新增五年制高职专业3个,高职类专业达到13个;") == ["3个", "13个"]
    assert suggest_facts("培育产教融合型企业3~5个，建成“通州工匠学院”。") == ["3~5个", "通州工匠学院"]
    assert suggest_facts("积极探索产业导师入校任教的机制") == ["积极探索产业导师入校任教的机制"]
    a = {"answer_id": "x" * 32, "question": "问", "points": [{"text": "某句。", "kind": "done", "citations": [1]}],
         "citations": [{"n": 1, "reply_id": "r1", "number": "1", "reply_date": "2023-01-01"}], "filters": {}}
    case, why = gold_case(a, Review("x" * 32, ["wrong"], "incomplete"))
    assert case is None and "relevant" in why
    case, _ = gold_case(a, Review("x" * 32, ["wrong"], "incomplete", relevant=["r9"]))
    assert case["relevant"] == ["r9"] and case["answerable"]
    case, _ = gold_case(a, Review("x" * 32, ["unsupported"], "complete"))
    assert case["answerable"] is False and case["relevant"] == []
