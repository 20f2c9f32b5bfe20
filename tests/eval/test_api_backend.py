"""`dafu eval run --api URL`: questions POSTed to /api/ask; ranking = cited ids then related ids."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from eval.backends import ApiBackend
from eval.gold import GoldItem
from eval.runner import RunOptions, run

FIXTURE = Path(__file__).parent / "fixtures" / "seed_gold.jsonl"


@pytest.fixture
def fake_service(monkeypatch, seed_retriever):
    """httpx.Client that answers /api/ask from the seed index in this process (no server)."""
    from service.answer import answer_question
    from service.followup import filters_from_dict

    calls: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/stats":
            return httpx.Response(200, json={"replies": 1})
        assert request.url.path == "/api/ask"
        body = json.loads(request.content)
        calls.append(body)
        a = answer_question(seed_retriever, body["question"], filters_from_dict(body.get("filters")),
                            top_k=body.get("top_k"), history=body.get("history"))
        d = a.to_dict()
        d["related"] = d["related"] + [{"id": "other_20200101", "number": "7", "reply_date": "2020-01-01", "source": "x.txt"}]
        return httpx.Response(200, json=d)

    real = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real(transport=httpx.MockTransport(handler)))
    return calls


def test_request_body_and_ranking(fake_service):
    b = ApiBackend("http://dafu.test/", top_k=3)
    item = GoldItem("f", "那海门区呢？", [], filters={"year_from": 2023}, history=[{"question": "通州做了什么？", "x": 1}])
    resp = b.ask(item)
    assert fake_service[-1] == {"question": "那海门区呢？", "filters": {"year_from": 2023}, "top_k": 3,
                                "history": [{"question": "通州做了什么？"}]}
    assert resp.error is None
    cited = list(dict.fromkeys(c["reply_id"] for c in resp.answer["citations"]))
    related = [r["id"] for r in resp.answer["related"]]
    assert resp.ranked == list(dict.fromkeys(cited + related))
    assert b.describe()["stats"] == {"replies": 1}


def test_http_errors_become_question_errors(monkeypatch):
    real = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real(transport=httpx.MockTransport(lambda r: httpx.Response(503, text="busy"))))
    resp = ApiBackend("http://dafu.test").ask(GoldItem("e", "问", []))
    assert resp.error == "HTTP 503: busy" and resp.ranked == []


def test_run_against_api(fake_service, tmp_path):
    res = run(RunOptions(gold=FIXTURE, out=tmp_path / "api", api="http://dafu.test", progress=False))
    qs = {q["id"]: q for q in res.data["questions"]}
    assert len(fake_service) == 4 and "top_k" not in fake_service[0]  # the service's default top_k
    # id (s1), number + date (learnt from the response, s3) and path (read locally, s4) all resolve
    for qid in ("s1", "s3", "s4"):
        assert qs[qid]["relevant_ids"] == ["28_20230630"], qid
        assert qs[qid]["retrieved"][0] == "28_20230630" and qs[qid]["values"]["hit@1"] == 1.0
    assert qs["s2"]["no_answer"] and res.metrics["refusal_accuracy"] == 1.0
    assert res.data["counts"]["unresolved_references"] == 0
    assert "span_top5" not in res.metrics  # no hits over HTTP: span recall uses the cited passages only
    assert res.data["config"]["backend"]["backend"] == "api" and res.data["label"] == "api"
    assert (tmp_path / "api" / "report.html").is_file()
