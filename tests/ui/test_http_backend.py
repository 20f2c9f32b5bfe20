"""HttpBackend (the protocol over HTTP) against the real FastAPI app, and the UI mounted by create_app."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ui.client import BackendError, HttpBackend, parse_sse

QUESTION = "通州在产教融合方面做了哪些工作？"


def test_parse_sse_events_and_json():
    lines = ["event: point", 'data: {"text": "一句", "kind": "done"}', "", ": comment", "event: citations",
             "data: [1,", "data: 2]", "", 'data: {"event": "done", "data": {"answer_id": "a"}}', ""]
    evs = list(parse_sse(iter(lines)))
    assert evs == [{"event": "point", "data": {"text": "一句", "kind": "done"}},
                   {"event": "citations", "data": [1, 2]},
                   {"event": "done", "data": {"answer_id": "a"}}]


@pytest.fixture
def http_backend(settings, seed_index):
    from service.api.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        yield app, HttpBackend("http://testserver", client=client)


def test_http_backend_implements_protocol(http_backend):
    app, b = http_backend
    assert app.state.ui_mounted  # create_app found ui.app.mount_ui
    stats = b.stats()
    assert stats["replies"] >= 1
    a = b.ask(QUESTION)
    assert not a["no_answer"] and a["points"] and a["citations"]
    evs = list(b.ask_stream(QUESTION))
    kinds = [e["event"] for e in evs]
    assert kinds[-1] == "done" and "citations" in kinds and kinds.count("point") == len(evs[-1]["data"]["points"])
    c = a["citations"][0]
    reply = b.get_reply(c["reply_id"])
    assert reply["text"][c["start"]:c["end"]] == c["passage"]
    lst = b.list_replies(q=None, filters={"departments": [c["lead_unit"]]}, page=1, page_size=5)
    assert lst["total"] >= 1 and lst["items"][0]["id"] == c["reply_id"]
    assert any(d["name"] for d in b.departments())
    follow = b.ask("那下一步呢？", history=[{"question": QUESTION, "answer_id": a["answer_id"]}])
    assert "answer_id" in follow
    assert b.feedback(a["answer_id"], "up", "好")
    with pytest.raises(BackendError):
        b.get_reply("no-such-reply")


def test_root_serves_the_web_chat(http_backend):
    app, b = http_backend
    r = b.client.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()
    cfg = b.client.get("/config").json()
    assert cfg.get("title", "").startswith("答复通")


def test_dafu_ui_command_is_registered_and_checks_the_service():
    from typer.testing import CliRunner

    from service.cli import app

    r = CliRunner().invoke(app, ["ui", "--help"])
    assert r.exit_code == 0 and "--api" in r.output
    r = CliRunner().invoke(app, ["ui", "--api", "http://127.0.0.1:9"])
    assert r.exit_code == 2 and "dafu serve" in r.output  # the domain error, as the CLI shows it


def test_http_backend_review_methods_and_in_process_core_agree(settings, seed_index, monkeypatch):
    """The 审阅 tab's calls, over HTTP and in-process, with the admin token checked by both."""
    from pydantic import SecretStr

    from service.api.app import create_app

    s = settings.model_copy(update={"admin_token": SecretStr("tok")})
    app = create_app(s)
    with TestClient(app) as client:
        b, core = HttpBackend("http://testserver", client=client), app.state.core
        a = b.ask(QUESTION)
        for backend in (b, core):
            with pytest.raises(Exception, match="token"):
                backend.review_list("wrong")
        items = b.review_list("tok", limit=5)
        assert items[0]["answer_id"] == a["answer_id"] and core.review_list("tok", 5)[0]["answer_id"] == a["answer_id"]
        saved = b.review_save("tok", a["answer_id"], ["correct"] * len(a["points"]), "complete", note="好")
        assert saved["note"] == "好" and core.review_list("tok", 5, "reviewed")[0]["review"]["verdict"] == "complete"
        out = b.review_export("tok")
        assert out["cases"] == 1 and '"answerable": true' in out["jsonl"]
