"""Hostile web input: CORS probes, missing security headers, Gradio's upload route, floods, HTML in answers."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from index.builder import Indexer
from service.api.app import create_app
from service.api.security import safe_markdown
from tests.conftest import SEED_FILE, SEED_QUESTION
from tests.faults.test_questions import chat_endpoint

EVIL = {"Host": "dafu.example.gov", "Origin": "https://evil.example"}


@pytest.fixture
def web(settings, seed_index):
    with TestClient(create_app(settings)) as c:  # with the web chat mounted
        yield c


def test_cors_probe_from_another_origin_gets_no_cors_headers(web):
    for method, path in (("GET", "/"), ("GET", "/config"), ("GET", "/gradio_api/info"), ("GET", "/api/stats"),
                         ("POST", "/api/ask")):
        r = web.request(method, path, headers=EVIL, json={"question": SEED_QUESTION} if method == "POST" else None)
        assert "access-control-allow-origin" not in r.headers, (path, dict(r.headers))
        assert "access-control-allow-credentials" not in r.headers, path
    pre = {**EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for path in ("/api/ask", "/gradio_api/queue/join", "/"):
        r = web.options(path, headers=pre)
        assert "access-control-allow-origin" not in r.headers, (path, dict(r.headers))


def test_cors_allow_list(settings, seed_index):
    s = settings.model_copy(update={"cors_origins": ["https://portal.example.gov"]})
    with TestClient(create_app(s, with_ui=False)) as c:
        r = c.get("/api/stats", headers={"Origin": "https://portal.example.gov"})
        assert r.headers["access-control-allow-origin"] == "https://portal.example.gov"
        assert "access-control-allow-credentials" not in r.headers
        r = c.options("/api/ask", headers={"Origin": "https://portal.example.gov", "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://portal.example.gov"
        assert "access-control-allow-origin" not in c.get("/api/stats", headers={"Origin": "https://evil.example"}).headers


def test_security_headers_on_page_api_errors_and_docs(web):
    for path in ("/", "/api/stats", "/api/nothing", "/readyz", "/docs"):
        r = web.get(path)
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", path
        assert h["x-frame-options"] == "DENY" and h["referrer-policy"] == "same-origin", path
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
    assert "cdn.jsdelivr.net" in web.get("/docs").headers["content-security-policy"]
    assert "cdn.jsdelivr.net" not in web.get("/").headers["content-security-policy"]


def test_gradio_file_upload_route_is_off(web):
    r = web.post("/gradio_api/upload", files=[("files", ("x.html", b"<script>alert(1)</script>", "text/html"))])
    assert r.status_code == 404 and "upload is off" in r.json()["detail"]
    assert web.get("/gradio_api/upload_progress?upload_id=x").status_code == 404


def test_wrong_admin_tokens_are_limited(settings, seed_index):
    s = settings.model_copy(update={"admin_token": SecretStr("right"), "rate_limit_auth_failures": "10/minute",
                                    "rate_limit_admin": "1000/minute"})
    with TestClient(create_app(s, with_ui=False)) as c:
        codes = [c.post("/api/index/rebuild", headers={"Authorization": f"Bearer wrong{i}"}).status_code for i in range(300)]
        assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
        r = c.post("/api/index/rebuild", headers={"Authorization": "Bearer right"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1  # blocked for the window, even with the token
        assert 'dafu_rate_limited_total{bucket="auth_failures"}' in c.get("/metrics").text


def test_feedback_ask_and_admin_floods_get_429_with_retry_after(settings, seed_index):
    s = settings.model_copy(update={"admin_token": SecretStr("right"), "rate_limit_feedback": "30/minute",
                                    "rate_limit_ask": "20/minute", "rate_limit_admin": "5/minute"})
    with TestClient(create_app(s, with_ui=True)) as c:
        aid = c.post("/api/ask", json={"question": SEED_QUESTION}).json()["answer_id"]
        codes = [c.post("/api/feedback", json={"answer_id": aid, "rating": "up"}).status_code for _ in range(300)]
        assert codes.count(201) == 30 and codes.count(429) == 270
        r = c.post("/api/feedback", json={"answer_id": aid, "rating": "up"})
        assert r.status_code == 429 and r.json()["error"] == "too_many_requests" and int(r.headers["retry-after"]) >= 1
        codes = [c.post("/api/ask", json={"question": SEED_QUESTION}).status_code for _ in range(25)]
        assert codes.count(200) == 19 and codes.count(429) == 6
        r = c.post(f"/gradio_api/call/{chat_endpoint(c)}", json={"data": [SEED_QUESTION, "不限", "不限", [], ""]})
        assert r.status_code == 429  # the web chat's questions count too
        r = c.post("/gradio_api/call/no_such_event", json={"data": []}, headers={"X-Forwarded-For": "10.9.9.9"})
        assert r.status_code in (404, 429) and r.status_code < 500
        auth = {"Authorization": "Bearer right"}
        codes = [c.delete("/api/replies/nope", headers=auth).status_code for _ in range(8)]
        assert codes == [404] * 5 + [429] * 3
        # another client is not affected
    with TestClient(create_app(s, with_ui=False), client=("10.0.0.2", 5000)) as other:
        assert other.post("/api/ask", json={"question": SEED_QUESTION}).status_code == 200


def test_html_in_a_letter_is_escaped_in_answer_markdown(settings, tmp_path):
    text = SEED_FILE.read_text(encoding="utf-8").replace(
        "高职类专业达到13个", "高职类专业达到13个<script>alert('x')</script>[点此](javascript:alert(1))<img src=x onerror=alert(2)>")
    assert "<script>" in text
    letter = tmp_path / "letters" / "28.txt"
    letter.parent.mkdir()
    letter.write_text(text, encoding="utf-8")
    Indexer(settings).build([letter])
    with TestClient(create_app(settings, with_ui=False)) as c:
        a = c.post("/api/ask", json={"question": SEED_QUESTION}).json()
        md = a["answer_markdown"]
        assert "高职类专业达到13个" in md and "&lt;script>" in md, md
        assert "<script" not in md and "<img" not in md and "](javascript" not in md
        assert any("<script>" in p["text"] for p in a["points"])  # the points keep the exact text (offsets)
        with c.stream("POST", "/api/ask/stream", json={"question": SEED_QUESTION}) as r:
            body = "".join(r.iter_text())
        done = json.loads(body.replace("\r\n", "\n").split("event: done\ndata: ", 1)[1].split("\n", 1)[0])
        assert done["answer_markdown"] == md


def test_safe_markdown_keeps_the_markdown():
    md = "**已开展的工作**\n- 新增专业3个 [1]\n\n**来源**\n[1] 第28号 ｜ 一、主要做法 > (一)\n    > 原文 & <b>粗</b>"
    out = safe_markdown(md)
    assert out.startswith("**已开展的工作**\n- 新增专业3个 [1]") and "\n    > 原文 &amp; &lt;b>粗&lt;/b>" in out
    assert " > (一)" in out


def test_trace_and_unknown_methods_are_405_everywhere(web):
    for path in ("/", "/api/stats", "/readyz", "/gradio_api/info"):
        r = web.request("TRACE", path)
        assert r.status_code == 405 and r.json()["error"] == "method_not_allowed", (path, r.text)
        assert r.headers["x-content-type-options"] == "nosniff"


def test_this_machine_is_exempt_by_default(settings, seed_index):
    s = settings.model_copy(update={"rate_limit_ask": "3/minute"})
    with TestClient(create_app(s, with_ui=False), client=("127.0.0.1", 5000)) as local:
        assert {local.post("/api/search", json={"query": SEED_QUESTION}).status_code for _ in range(6)} == {200}
    s = s.model_copy(update={"rate_limit_exempt": []})
    with TestClient(create_app(s, with_ui=False), client=("127.0.0.1", 5000)) as local:
        assert [local.post("/api/search", json={"query": SEED_QUESTION}).status_code for _ in range(4)] == [200] * 3 + [429]


def test_api_paths_answer_405_and_404_themselves_with_the_chat_mounted(web):
    r = web.put("/api/ask", json={"question": SEED_QUESTION})
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["error"] == "method_not_allowed"
    r = web.request("PATCH", "/api/replies/28_20230630")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET"
    r = web.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert web.get("/api/stats").status_code == 200 and web.get("/").status_code == 200


def test_unknown_web_chat_event_is_404_not_500(settings, seed_index):
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        for path in ("/gradio_api/call/no_such_event", "/gradio_api/run/no_such_event"):
            r = c.post(path, json={"data": []})
            assert r.status_code == 404, (path, r.status_code, r.text[:200])


def test_the_web_chat_alone_has_the_same_hardening(settings, monkeypatch):
    """`dafu ui --api URL` (the chat without the API, against a service elsewhere): CORS probes get nothing,
    the security headers and CSP are there, Gradio's upload route is off."""
    from pathlib import Path

    from ui.cli import web_app

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "ui"))
    from ui_backends import FakeBackend

    with TestClient(web_app(FakeBackend(), settings)) as c:
        r = c.get("/", headers=EVIL)
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        pre = {**EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        assert "access-control-allow-origin" not in c.options("/gradio_api/queue/join", headers=pre).headers
        assert c.post("/gradio_api/upload", files=[("files", ("x.html", b"<b>x</b>", "text/html"))]).status_code == 404
