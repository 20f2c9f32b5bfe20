"""Feedback: stored durably with the answer, 404 for unknown answers, exported as CSV/JSONL by the CLI."""
from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.feedback import FeedbackStore, UnknownAnswerError, export_feedback, feedback_path
from tests.conftest import SEED_QUESTION


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, with_ui=False)) as c:
        yield c


def test_feedback_round_trip_survives_restart(settings, client):
    a = client.post("/api/ask", json={"question": SEED_QUESTION}).json()
    r = client.post("/api/feedback", json={"answer_id": a["answer_id"], "rating": "down", "comment": "缺少人社局的内容"})
    assert r.status_code == 201
    j = r.json()
    assert j["answer_id"] == a["answer_id"] and j["rating"] == "down" and j["feedback_id"] >= 1
    assert client.post("/api/feedback", json={"answer_id": a["answer_id"], "rating": "up"}).status_code == 201
    assert client.get("/api/stats").json()["feedback"] == {"up": 1, "down": 1}
    assert 'dafu_feedback_total{rating="down"} 1.0' in client.get("/metrics").text

    path = feedback_path(settings)
    assert path == settings.home / "feedback.sqlite" and path.exists()
    # a new app on the same index (a restart) still knows the answer and its feedback
    with TestClient(create_app(settings, with_ui=False)) as c2:
        assert c2.post("/api/feedback", json={"answer_id": a["answer_id"], "rating": "up"}).status_code == 201
        assert c2.get("/api/stats").json()["feedback"] == {"up": 2, "down": 1}
    rows = list(FeedbackStore(path).iter_feedback())
    assert [r["rating"] for r in rows] == ["down", "up", "up"]
    assert rows[0]["question"] == SEED_QUESTION and rows[0]["comment"] == "缺少人社局的内容"
    assert rows[0]["citations"] == a["citations"] and rows[0]["answer_markdown"] == a["answer_markdown"]


@pytest.mark.parametrize("body, status, word", [
    ({"answer_id": "0" * 32, "rating": "up"}, 404, "no answer with id"),
    ({"answer_id": "x", "rating": "meh"}, 422, "rating"),
    ({"answer_id": "", "rating": "up"}, 422, "answer_id"),
    ({"answer_id": "x", "rating": "up", "comment": "长" * 2001}, 422, "comment"),
    ({"answer_id": "x", "rating": "up", "stars": 5}, 422, "accepted: answer_id, comment, rating"),
])
def test_feedback_errors(client, body, status, word):
    r = client.post("/api/feedback", json=body)
    assert r.status_code == status and word in r.json()["detail"], r.text


def test_store_unit(tmp_path):
    s = FeedbackStore(tmp_path / "f.sqlite", lru_size=1)
    s.save_answer({"answer_id": "a1", "question": "问", "rewritten_question": "问", "points": [], "citations": []}, {}, "v1")
    s.save_answer({"answer_id": "a2", "question": "问2", "rewritten_question": "问2", "points": [], "citations": []},
                  {"year_from": 2023}, "v1")
    assert s.get_answer("a1")["index_version"] == "v1"  # from SQLite (the LRU holds one)
    assert s.get_answer("a2")["filters"] == {"year_from": 2023}
    assert s.get_answer("zz") is None
    with pytest.raises(UnknownAnswerError):
        s.add_feedback("zz", "up")
    s.add_feedback("a1", "up", "好")
    buf = io.StringIO()
    assert export_feedback(s, "jsonl", buf) == 1
    assert json.loads(buf.getvalue())["comment"] == "好"


def test_cli_feedback_export(settings, client, tmp_path, monkeypatch):
    a = client.post("/api/ask", json={"question": SEED_QUESTION}).json()
    client.post("/api/feedback", json={"answer_id": a["answer_id"], "rating": "up", "comment": "准确，引用清楚"})
    from service.cli import app

    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    runner = CliRunner()
    out = tmp_path / "fb.csv"
    res = runner.invoke(app, ["feedback", "export", "--format", "csv", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["rating"] == "up" and rows[0]["comment"] == "准确，引用清楚"
    assert rows[0]["question"] == SEED_QUESTION and json.loads(rows[0]["citations"])[0]["number"] == "28"
    res = runner.invoke(app, ["feedback", "export", "--format", "jsonl"])
    assert res.exit_code == 0
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("{"))
    assert json.loads(line)["answer_id"] == a["answer_id"]
    res = runner.invoke(app, ["feedback", "export", "--format", "xml"])
    assert res.exit_code != 0


def test_cli_registers_serve():
    from service.cli import app

    res = CliRunner().invoke(app, ["serve", "--help"])
    assert res.exit_code == 0 and "--port" in res.output and "--index" in res.output


def test_old_answers_without_feedback_are_pruned(tmp_path):
    s = FeedbackStore(tmp_path / "f.sqlite", lru_size=1, keep_answers=5)
    for i in range(1000):
        s.save_answer({"answer_id": f"a{i}", "question": "问", "rewritten_question": "问", "points": [], "citations": []},
                      {}, "v1")
        if i == 3:
            s.add_feedback("a3", "up")
    assert s.counts()["answers"] <= 6
    assert s.get_answer("a3") is not None and s.get_answer("a999") is not None


def test_feedback_lives_in_dafu_home_and_export_finds_it_without_options(tmp_path, monkeypatch):
    """`dafu serve --index ELSEWHERE` stores feedback in $DAFU_HOME, where `dafu feedback export` looks."""
    from index.builder import Indexer
    from index.settings import Settings
    from service.cli import app
    from tests.conftest import SEED_DIR

    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    elsewhere = Settings(index_dir=tmp_path / "srv" / "indexes" / "idx", embed_model="fake")
    Indexer(elsewhere).build([SEED_DIR])
    with TestClient(create_app(elsewhere, with_ui=False)) as c:
        a = c.post("/api/ask", json={"question": SEED_QUESTION}).json()
        assert c.post("/api/feedback", json={"answer_id": a["answer_id"], "rating": "up"}).status_code == 201
    assert feedback_path(elsewhere) == elsewhere.home / "feedback.sqlite"
    assert feedback_path(elsewhere).exists() and not (tmp_path / "srv" / "indexes" / "feedback.sqlite").exists()
    res = CliRunner().invoke(app, ["feedback", "export", "--format", "jsonl"])
    assert res.exit_code == 0 and a["answer_id"] in res.stdout and "no feedback recorded" not in res.output
