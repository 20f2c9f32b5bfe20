"""Commitment-tracking gold lines: validation, the metric arithmetic, and `dafu eval run` end to end."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldError, ReplyKey, Resolver, load_gold, parse_gold_lines, parse_lines
from eval.track import score_tracking, split_of

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "track"
TRACK_GOLD = ROOT / "eval" / "dev" / "track" / "gold.jsonl"

LINE = {"id": "k1", "commitment": {"path": "f1_donggang_2021.txt", "text": "新增老年助餐点10个"},
        "evidence": [{"path": "f2_donggang_2022.txt", "text": "新增老年助餐点12个"}],
        "status": "reported", "fulfilment": "met", "as_of": "2024-06-30"}


def _lines(*objs):
    return [json.dumps(o, ensure_ascii=False) for o in objs]


def test_commitment_lines_parse_beside_questions():
    q = {"id": "q1", "question": "问", "relevant": ["x"]}
    items, commitments = parse_gold_lines(_lines(q, LINE), "g.jsonl")
    assert [i.id for i in items] == ["q1"] and [c.id for c in commitments] == ["k1"]
    c = commitments[0]
    assert c.evidence[0].kind == "report" and c.status == "reported" and c.split == split_of("k1")
    assert parse_lines(_lines(q, LINE)) == items  # the questions-only reader keeps working
    _, only = parse_gold_lines(_lines(LINE))
    assert len(only) == 1
    with pytest.raises(GoldError, match="no questions"):
        parse_lines(_lines(LINE))


@pytest.mark.parametrize("change, message", [
    ({"status": "done"}, "status"),
    ({"fulfilment": None}, "fulfilment: required"),
    ({"status": "not_reported", "fulfilment": None}, "must list no evidence"),
    ({"status": "in_progress", "fulfilment": None}, "needs restated evidence"),
    ({"commitment": {"path": "f1_donggang_2021.txt"}}, "text"),
    ({"as_of": "2024/06/30"}, "as_of"),
    ({"split": "dev"}, "split"),
])
def test_bad_commitment_lines_name_line_and_field(change, message):
    obj = {k: v for k, v in {**LINE, **change}.items() if v is not None}
    with pytest.raises(GoldError) as e:
        parse_gold_lines(_lines({"id": "q1", "question": "问", "relevant": ["x"]}, obj), "g.jsonl")
    assert "g.jsonl:2:" in str(e.value) and message in str(e.value)


def test_the_split_is_fixed_by_id():
    assert split_of("k01") == split_of("k01") and {split_of(f"k{i:02d}") for i in range(1, 20)} == {"tune", "report"}
    _, cs = parse_gold_lines(_lines({**LINE, "split": "report"}))
    assert cs[0].split == "report"


def test_the_dev_track_gold_loads():
    gold = load_gold(TRACK_GOLD)
    assert gold.items == [] and len(gold.commitments) >= 60
    assert {c.split for c in gold.commitments} >= {"tune", "report", "fresh"}
    for c in gold.commitments:  # every path exists and every snippet is in its letter
        from index.textio import read_text

        assert c.text in read_text(TRACK_GOLD.parent / c.ref.path), c.id
        for e in c.evidence:
            assert e.text in read_text(TRACK_GOLD.parent / e.ref.path), c.id


def _pred(pid, reply, text, evidence, status, fulfilment=None):
    return {"id": pid, "text": text, "source": {"reply_id": reply}, "status": status, "fulfilment": fulfilment,
            "evidence": [{"reply_id": r, "text": t} for r, t in evidence]}


def test_scoring_arithmetic():
    _, golds = parse_gold_lines(_lines(
        {**LINE, "id": "a", "commitment": {"id": "R1", "text": "十个"}, "evidence": [{"id": "R2", "text": "十二个"}, {"id": "R3"}],
         "split": "tune"},
        {**{k: v for k, v in LINE.items() if k != "fulfilment"}, "id": "b", "commitment": {"id": "R1", "text": "中央厨房"},
         "evidence": [], "status": "not_reported", "split": "report"},
        {**LINE, "id": "c", "commitment": {"id": "R1", "text": "没有抽出来"}, "evidence": [{"id": "R2"}], "split": "report"},
    ))
    predicted = {"2024-06-30": [
        _pred("p1", "R1", "新增十个", [("R2", "报告十二个"), ("R4", "无关")], "reported", "met"),  # 1 right, 1 wrong; R3 missed
        _pred("p2", "R1", "建成中央厨房", [("R2", "x")], "reported", "unclear"),  # wrong link, wrong status
        _pred("p3", "R1", "其他承诺", [("R5", "y")], "pending"),  # matches no gold line: its link is wrong
    ]}
    res = Resolver([ReplyKey(r) for r in ("R1", "R2", "R3", "R4", "R5")], [])
    out = score_tracking(golds, predicted, res, "2024-06-30")
    o = out["overall"]
    assert o["links"] == {"right": 1, "predicted": 4, "gold": 3}
    assert o["link_precision"] == 0.25 and o["link_recall"] == pytest.approx(1 / 3)
    assert o["status_accuracy"] == pytest.approx(1 / 3) and o["commitment_recall"] == pytest.approx(2 / 3)
    assert o["evidence_passage_recall"] == 1.0
    assert out["by_split"]["tune"]["link_recall"] == 0.5 and out["by_split"]["report"]["link_precision"] == 0.0
    assert out["metrics"]["link_precision.tune"] == 0.5
    assert [u["id"] for u in out["unmatched_predicted"]] == ["p3"]
    rows = {r["id"]: r for r in out["commitments"]}
    assert rows["a"]["missed_links"] == ["R3"] and rows["a"]["wrong_links"] == ["R4"] and rows["c"]["matched"] is None


def _gold_file(tmp_path: Path) -> Path:
    lines = [
        {"id": "k1", "commitment": {"path": "f1_donggang_2021.txt", "text": "新增老年助餐点10个"},
         "evidence": [{"path": "f2_donggang_2022.txt", "text": "新增老年助餐点12个"}], "status": "reported", "fulfilment": "met"},
        {"id": "k2", "commitment": {"path": "f1_donggang_2021.txt", "text": "中央厨房"},
         "evidence": [{"path": "f2_donggang_2022.txt", "kind": "restated"}], "status": "in_progress"},
        {"id": "k3", "commitment": {"path": "f1_donggang_2021.txt", "text": "时间银行"}, "status": "not_reported"},
        {"id": "k4", "commitment": {"path": "f2_donggang_2022.txt", "text": "15个"},
         "evidence": [{"path": "f3_donggang_2023.txt"}], "status": "reported", "fulfilment": "partly"},
        {"id": "k5", "commitment": {"path": "f2_donggang_2022.txt", "text": "2022年建成区级中央厨房"}, "status": "not_reported"},
        {"id": "k6", "commitment": {"path": "f3_donggang_2023.txt", "text": "10个"}, "status": "not_reported"},
        {"id": "k7", "commitment": {"path": "f4_xiling_2022.txt", "text": "8个"}, "status": "not_reported"},
    ]
    for x in lines:  # absolute paths: this gold file lives apart from the corpus
        for ref in [x["commitment"], *x.get("evidence", [])]:
            ref["path"] = str(FIXTURES / ref["path"])
    p = tmp_path / "track_gold.jsonl"
    p.write_text("\n".join(json.dumps({**x, "as_of": "2024-06-30"}, ensure_ascii=False) for x in lines) + "\n",
                 encoding="utf-8")
    return p


def test_eval_run_prints_link_precision_recall_and_status_accuracy(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    gold, out = _gold_file(tmp_path), tmp_path / "out"
    run = CliRunner().invoke(app, ["eval", "run", str(gold), "--corpus", str(FIXTURES), "--out", str(out), "--quiet"])
    assert run.exit_code == 0, run.output
    for name in ("link_precision", "link_recall", "status_accuracy"):
        assert name in run.output
    data = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    m = data["metrics"]
    assert (m["link_precision"], m["link_recall"], m["status_accuracy"]) == (1.0, 1.0, 1.0)
    assert data["tracking"]["unmatched_predicted"] == []
    assert (out / "per_commitment.csv").read_text(encoding="utf-8-sig").count("\n") == 8
    assert "Commitment tracking" in (out / "report.md").read_text(encoding="utf-8")
    # the gate reads the tracking metrics like any other
    th = tmp_path / "th.json"
    th.write_text(json.dumps({"min": {"link_precision": 0.9, "link_recall.report": 0.85, "status_accuracy": 0.9}}))
    again = CliRunner().invoke(app, ["eval", "run", str(gold), "--index", str(out / "index"), "--out", str(tmp_path / "o2"),
                                     "--quiet", "--thresholds", str(th)])
    assert again.exit_code == 0, again.output


def test_eval_run_over_the_api(tmp_path, settings, monkeypatch):
    """The same gold through a running service: GET /api/track instead of the index in this process."""
    import httpx
    from fastapi.testclient import TestClient

    from eval.runner import RunOptions, run
    from index.builder import Indexer
    from service.api.app import create_app

    Indexer(settings).build([FIXTURES])
    gold = _gold_file(tmp_path)
    app = create_app(settings.model_copy(update={"index_dir": settings.resolved_index_dir}), with_ui=False)
    with TestClient(app) as client:
        monkeypatch.setattr(httpx, "Client", lambda **kw: client)  # the eval's HTTP client talks to the app
        res = run(RunOptions(gold=gold, out=tmp_path / "api", api="http://testserver", progress=False, report=False))
    assert res.metrics["link_recall"] == 1.0 and res.metrics["status_accuracy"] == 1.0
