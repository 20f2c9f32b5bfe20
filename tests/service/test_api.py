"""HTTP API (TestClient with lifespan, fake encoder): every public endpoint, errors, streaming, metrics, docs."""
from __future__ import annotations

import json
import sys
import types

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.conftest import SEED_QUESTION


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, with_ui=False)) as c:
        yield c


@pytest.fixture
def seed_answer(client):
    r = client.post("/api/ask", json={"question": SEED_QUESTION})
    assert r.status_code == 200, r.text
    return r.json()


def test_ask_seed_citations_slice_the_reply_text(client, seed_answer):
    a = seed_answer
    assert not a["no_answer"] and a["points"] and a["citations"]
    assert a["question"] == a["rewritten_question"] == SEED_QUESTION
    assert set(a["timings"]) >= {"retrieve_ms", "answer_ms"}
    assert len(a["answer_id"]) >= 16 and a["index_version"].startswith("v-")
    texts = {}
    for c in a["citations"]:
        assert set(c) >= {"n", "reply_id", "number", "title", "proposer", "lead_unit", "co_units", "reply_date",
                          "passage", "start", "end", "heading_path", "score"}
        if c["reply_id"] not in texts:
            r = client.get(f"/api/replies/{c['reply_id']}")
            assert r.status_code == 200
            texts[c["reply_id"]] = r.json()["text"]
        assert texts[c["reply_id"]][c["start"]:c["end"]] == c["passage"]
    cited = {c["n"] for c in a["citations"]}
    for p in a["points"]:
        assert p["kind"] in ("done", "plan") and set(p["citations"]) <= cited
        assert texts[p["reply_id"]][p["start"]:p["end"]] == p["text"]
    assert {c["number"] for c in a["citations"]} == {"28"}
    assert "新增五年制高职专业3个" in a["answer_markdown"]


def test_ask_filters_and_top_k(client):
    r = client.post("/api/ask", json={"question": SEED_QUESTION, "top_k": 3,
                                      "filters": {"year_from": 2023, "year_to": 2023, "departments": ["教体局"],
                                                  "proposer": "戴红玲", "number": "28"}})
    assert r.status_code == 200 and not r.json()["no_answer"]
    assert r.json()["filters"]["departments"] == ["教体局"]
    r = client.post("/api/ask", json={"question": SEED_QUESTION, "filters": {"year_from": 2020, "year_to": 2021}})
    assert r.status_code == 200
    assert r.json()["no_answer"] and r.json()["citations"] == []
    r = client.post("/api/ask", json={"question": SEED_QUESTION, "filters": None, "top_k": None, "history": None})
    assert r.status_code == 200 and not r.json()["no_answer"]


@pytest.mark.parametrize("body, where", [
    ({"question": ""}, "question"),
    ({"question": "   "}, "question"),
    ({"question": "问" * 501}, "at most 500"),
    ({}, "question: required"),
    ({"question": "产教融合", "filters": {"dept": "教体局"}}, "accepted: date_from, date_to, departments"),
    ({"question": "产教融合", "colour": 1}, "accepted: filters, history, question, top_k"),
    ({"question": "产教融合", "top_k": 0}, "top_k"),
    ({"question": "产教融合", "top_k": 51}, "top_k"),
    ({"question": "产教融合", "filters": {"year_from": 2024, "year_to": 2020}}, "after year_to"),
    ({"question": "产教融合", "filters": {"departments": "教体局"}}, "departments"),
    ({"question": "产教融合", "history": [{"question": "x", "extra": 1}]}, "accepted: answer_id, question"),
    ({"question": 12}, "question"),
])
def test_ask_validation_errors_are_422_with_a_message(client, body, where):
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422, r.text
    j = r.json()
    assert j["error"] == "validation_error" and where in j["detail"], j
    assert "Traceback" not in r.text


def test_bad_json_and_wrong_method(client):
    r = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.get("/api/ask")
    assert r.status_code == 405 and "not allowed" in r.json()["detail"]
    r = client.request("OPTIONS", "/api/replies/28_20230630")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET"
    r = client.post("/api/feedback", content=b"\xff\xfe{", headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and r.json()["detail"]
    r = client.post("/api/ask", content=b'{"question": "' + b"a" * (2 << 20) + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large" and "limit" in r.json()["detail"]

    def chunks():
        for _ in range(40):
            yield b"a" * 65536

    r = client.post("/api/search", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_stream_sends_points_then_citations_then_done(client):
    with client.stream("POST", "/api/ask/stream", json={"question": SEED_QUESTION}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        ev = {k: v for k, _, v in (ln.partition(": ") for ln in block.splitlines() if ln and not ln.startswith(":"))}
        if "event" in ev:
            events.append((ev["event"], json.loads(ev["data"])))
    kinds = [e for e, _ in events]
    n_points = kinds.count("point")
    assert n_points > 0 and kinds == ["point"] * n_points + ["citations", "done"]
    done = events[-1][1]
    assert [d for e, d in events if e == "point"][0]["text"] == done["points"][0]["text"]
    assert events[-2][1] == done["citations"]
    assert done["answer_id"] and not done["no_answer"]


def test_stream_validation_error_is_plain_json(client):
    r = client.post("/api/ask/stream", json={"question": ""})
    assert r.status_code == 422 and r.json()["error"] == "validation_error"


def test_search_returns_hits_without_an_answer(client):
    r = client.post("/api/search", json={"query": "产教融合 校企合作", "top_k": 2})
    assert r.status_code == 200
    j = r.json()
    assert j["replies"] and j["replies"][0]["hits"] and "answer_markdown" not in j
    h = j["replies"][0]["hits"][0]
    text = client.get(f"/api/replies/{h['reply_id']}").json()["text"]
    assert text[h["start"]:h["end"]] == h["text"]
    assert client.post("/api/search", json={"question": "产教融合"}).status_code == 200  # alias
    assert client.post("/api/search", json={"query": ""}).status_code == 422


def test_replies_list_filters_paging_and_q(client):
    j = client.get("/api/replies").json()
    assert j["total"] == 1 and j["page"] == 1 and j["items"][0]["number"] == "28"
    assert "text" not in j["items"][0]
    for q in ("28", "产教融合", "教体局", "人社局", "教育体育局"):
        assert client.get("/api/replies", params={"q": q}).json()["total"] == 1, q
    assert client.get("/api/replies", params={"q": "公交线路"}).json()["total"] == 0
    assert client.get("/api/replies", params={"departments": ["人社局", "财政局"]}).json()["total"] == 1
    assert client.get("/api/replies", params={"year_from": 2024}).json()["total"] == 0
    assert client.get("/api/replies", params={"date_from": "2023-06-01", "date_to": "2023-06-30"}).json()["total"] == 1
    assert client.get("/api/replies", params={"page": 2}).json()["items"] == []
    for bad in ({"page": 0}, {"page_size": 500}, {"sort": "x"}, {"year_from": "abc"}):
        r = client.get("/api/replies", params=bad)
        assert r.status_code == 422, bad
    assert "accepted:" in client.get("/api/replies", params={"sort": "x"}).json()["detail"]


def test_reply_detail_and_unknown_id(client):
    rid = client.get("/api/replies").json()["items"][0]["id"]
    d = client.get(f"/api/replies/{rid}").json()
    assert d["id"] == rid and d["text"] and d["reply_text"] and d["proposal"] and d["chunks"] > 0
    s, e = d["reply_span"]
    assert d["text"][s:e].strip() == d["reply_text"].strip()
    # the canonical unit for filters, and the unit as the letter names it for readers
    assert d["lead_unit_as_written"] in d["text"] and d["lead_unit"] != ""
    r = client.get("/api/replies/no-such-id")
    assert r.status_code == 404 and "no-such-id" in r.json()["detail"]


def test_departments_and_stats(client):
    deps = {d["name"]: d for d in client.get("/api/departments").json()}
    assert deps["教育体育局"]["count"] == 1 and deps["教育体育局"]["lead_count"] == 1
    assert "人社局" in deps["人力资源和社会保障局"]["aliases"]
    s = client.get("/api/stats").json()
    assert s["replies"] == 1 and s["chunks"] > 1 and s["model"] == "fake" and s["years"] == {"2023": 1}
    assert s["size_bytes"] > 0


def test_health_ready_metrics(client, seed_answer):
    assert client.get("/healthz").json() == {"status": "ok", "index_version": None, "detail": None}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    m = client.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    text = m.text
    assert 'dafu_http_requests_total{method="POST",route="/api/ask",status="200"} 1.0' in text
    assert 'dafu_http_request_duration_seconds_bucket{le="0.5",method="POST",route="/api/ask"}' in text
    assert "dafu_index_replies 1.0" in text and 'dafu_model_info{index_version="v-' in text and 'model="fake"' in text
    assert 'dafu_answer_stage_seconds_count{stage="retrieve"} 1.0' in text
    assert "dafu_index_size_bytes" in text


def test_two_apps_do_not_share_metrics(settings, tmp_path):
    other = settings.model_copy(update={"index_dir": tmp_path / "other" / "index"})
    with TestClient(create_app(settings, with_ui=False)) as a, TestClient(create_app(other, with_ui=False)) as b:
        a.get("/healthz")
        assert 'route="/healthz"' in a.get("/metrics").text
        assert 'route="/healthz"' not in b.get("/metrics").text


def test_not_ready_without_index(settings, tmp_path):
    s = settings.model_copy(update={"index_dir": tmp_path / "empty" / "index"})
    with TestClient(create_app(s, with_ui=False)) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and "no index" in r.json()["detail"]
        r = c.post("/api/ask", json={"question": SEED_QUESTION})
        assert r.status_code == 503 and r.json()["error"] == "unavailable" and "dafu index build" in r.json()["detail"]
        assert c.get("/api/stats").status_code == 503


def test_model_mismatch_is_409(settings, seed_index, tmp_path):
    s = settings.model_copy(update={"retriever": "hybrid", "embed_model": "fake:64"})
    from index.embed import FakeEncoder

    with TestClient(create_app(s, encoder=FakeEncoder(64), with_ui=False)) as c:
        assert c.get("/readyz").status_code == 503
        r = c.post("/api/ask", json={"question": SEED_QUESTION})
        assert r.status_code == 409 and "DAFU_EMBED_MODEL" in r.json()["detail"]


def test_unexpected_error_is_500_without_trace(settings, monkeypatch):
    app = create_app(settings, with_ui=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        monkeypatch.setattr(app.state.core, "stats", lambda: 1 / 0)
        r = c.get("/api/stats")
        assert r.status_code == 500
        assert r.json() == {"error": "internal_error", "detail": "internal error (ZeroDivisionError); the service log has the details"}


def test_openapi_has_chinese_examples(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ("/api/ask", "/api/ask/stream", "/api/search", "/api/replies", "/api/replies/{reply_id}", "/api/departments",
              "/api/stats", "/api/feedback", "/api/index/rebuild", "/healthz", "/readyz", "/metrics"):
        assert p in paths, p
    assert "通州在产教融合方面做了哪些工作？" in json.dumps(spec, ensure_ascii=False)
    assert "multipart/form-data" in paths["/api/replies"]["post"]["requestBody"]["content"]
    assert client.get("/docs").status_code == 200


def test_web_chat_is_mounted_when_ui_app_exists(settings, monkeypatch):
    seen = {}
    fake = types.ModuleType("ui.app")

    def mount_ui(app, backend):
        seen["backend"] = backend

        @app.get("/chat")
        def chat():
            return {"chat": True}

    fake.mount_ui = mount_ui
    monkeypatch.setitem(sys.modules, "ui.app", fake)
    import ui

    monkeypatch.setattr(ui, "app", fake, raising=False)
    app = create_app(settings)
    assert app.state.ui_mounted and seen["backend"] is app.state.core
    with TestClient(app) as c:
        assert c.get("/chat").json() == {"chat": True}
        assert c.post("/api/ask", json={"question": SEED_QUESTION}).status_code == 200
        # the in-process backend speaks the same JSON as the HTTP API
        events = list(app.state.core.ask_stream(SEED_QUESTION))
        assert events[-1]["event"] == "done" and events[-1]["data"]["citations"]


def test_broken_web_chat_does_not_stop_the_api(settings, monkeypatch):
    fake = types.ModuleType("ui.app")

    def mount_ui(app, backend):
        raise RuntimeError("ui broken")

    fake.mount_ui = mount_ui
    monkeypatch.setitem(sys.modules, "ui.app", fake)
    import ui

    monkeypatch.setattr(ui, "app", fake, raising=False)
    app = create_app(settings)
    assert not app.state.ui_mounted
    with TestClient(app) as c:
        assert c.get("/").json()["docs"] == "/docs"
        assert c.get("/readyz").status_code == 200


@pytest.mark.parametrize("q", ["产教融合²做了什么", "第¹条", "\u0000\u0007产教融合", "👍" * 20])
def test_odd_characters_never_500(client, q):
    for path, body in (("/api/ask", {"question": q}), ("/api/search", {"query": q})):
        r = client.post(path, json=body)
        assert r.status_code in (200, 422), (path, r.status_code, r.text)
