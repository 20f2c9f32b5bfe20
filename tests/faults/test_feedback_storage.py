"""Answering never depends on feedback storage: read-only folder or full disk → answers still returned."""
from __future__ import annotations

from fastapi.testclient import TestClient

from index.builder import Indexer
from service.api.app import create_app
from service.feedback import feedback_path
from tests.conftest import SEED_DIR, SEED_QUESTION
from tests.faults.conftest import fill, read_only, tmpfs

QUESTIONS = ["通州在产教融合方面做了哪些工作？", "产教融合下一步有什么打算？", "校企合作取得了哪些成效？",
             "现代学徒制是怎么开展的？", "技能培训模式有什么创新？"]


def _metric(text: str, name: str) -> float:
    return next(float(ln.split()[-1]) for ln in text.splitlines() if ln.startswith(name + " "))


def test_read_only_feedback_folder(settings, tmp_path):
    (tmp_path / "data").mkdir()
    s = settings.model_copy(update={"home": tmp_path / "data", "index_dir": tmp_path / "idx" / "index",
                                    "cache_dir": tmp_path / "cache"})
    Indexer(s).build([SEED_DIR])
    assert feedback_path(s).parent == tmp_path / "data"  # where feedback.sqlite would be created
    with read_only(tmp_path / "data"):
        with TestClient(create_app(s, with_ui=False)) as c:
            for q in QUESTIONS:
                r = c.post("/api/ask", json={"question": q})
                assert r.status_code == 200 and r.json()["answer_id"], r.text
            r = c.get("/readyz")
            assert r.status_code == 200 and "degraded" in r.json()["detail"] and "feedback" in r.json()["detail"]
            assert _metric(c.get("/metrics").text, "dafu_feedback_write_failures_total") >= len(QUESTIONS)
            assert _metric(c.get("/metrics").text, "dafu_feedback_degraded") == 1.0
            r = c.post("/api/feedback", json={"answer_id": r.json().get("index_version", "x"), "rating": "up"})
            assert r.status_code == 503 and "feedback" in r.json()["detail"]
            # a follow-up whose earlier answer cannot be looked up still gets an answer
            r = c.post("/api/ask", json={"question": "下一步呢？", "history": [{"question": QUESTIONS[0], "answer_id": "a" * 32}]})
            assert r.status_code == 200
            assert c.get("/api/stats").status_code == 200


def test_full_disk_under_the_feedback_database(settings, tmp_path):
    with tmpfs(tmp_path / "data", "3m") as mnt:
        s = settings.model_copy(update={"home": mnt, "index_dir": tmp_path / "idx" / "index", "cache_dir": tmp_path / "cache"})
        Indexer(s).build([SEED_DIR])
        assert feedback_path(s).parent == mnt
        with TestClient(create_app(s, with_ui=False)) as c:
            first = c.post("/api/ask", json={"question": SEED_QUESTION})
            assert first.status_code == 200  # the database now exists
            filler = fill(mnt)
            codes = [c.post("/api/ask", json={"question": f"{q}（{i}）"}).status_code
                     for i in range(8) for q in QUESTIONS]
            assert set(codes) == {200}, codes
            assert _metric(c.get("/metrics").text, "dafu_feedback_write_failures_total") >= 1
            assert "degraded" in c.get("/readyz").json().get("detail", "")
            # feedback on an answer stored before the disk filled: refused with 503, not 500
            r = c.post("/api/feedback", json={"answer_id": first.json()["answer_id"], "rating": "up"})
            assert r.status_code in (201, 503), r.text
            filler.unlink()  # space again: the next write succeeds and the degraded state clears
            assert c.post("/api/ask", json={"question": "新的问题：职业培训"}).status_code == 200
            r = c.get("/readyz").json()
            assert r["status"] == "ready" and "detail" not in r, r
            assert c.post("/api/feedback", json={"answer_id": first.json()["answer_id"], "rating": "up"}).status_code == 201
