"""Department names folded by prefix, alias and place in every filter; what a filter matched; which filter
emptied the result. Replies are fictional (虚构示例)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from index.records import Reply
from service.filters import Filters, filter_report, without
from tests.conftest import SEED_QUESTION


def _reply(i, lead, signer, date, co=(), proposer="王建华"):
    return Reply(id=f"r{i}", text="", number=str(i), lead_unit=lead, co_units=list(co), signer=signer,
                 reply_date=date, proposer=proposer)


REPLIES = [
    _reply(1, "民政局", "南通市海门区民政局", "2022-06-01", co=["财政局"]),
    _reply(2, "民政局", "南通市通州区民政局", "2023-06-01"),
    _reply(3, "住房和城乡建设局", "南通市崇川区住房和城乡建设局", "2021-06-01", co=["自然资源和规划局"]),
    _reply(4, "卫生健康委员会", "南通市崇川区卫生健康委员会", "2024-06-01", proposer="李秀英"),
    _reply(5, "交通运输局", "海门区交通运输局", "2019-07-01", co=["政法委"]),
    _reply(6, "教育体育局", "南通市通州区教育体育局", "2023-05-30", co=["人力资源和社会保障局"]),
    _reply(7, "生态环境局", "南通市海门区生态环境局", "2020-06-20"),
    _reply(8, "农业农村局", "南通市通州区农业农村局", "2021-06-20"),
]


def ids(f: Filters) -> list[str]:
    return [r.id for r in REPLIES if f.matches(r)]


@pytest.mark.parametrize("name, expected", [
    ("民政", ["r1", "r2"]), ("财政", ["r1"]), ("住建", ["r3"]), ("卫健", ["r4"]), ("交通", ["r5"]),
    ("教育", ["r6"]), ("农业", ["r8"]), ("生态环境", ["r7"]), ("人社", ["r6"]), ("人社局", ["r6"]),
    ("民政局", ["r1", "r2"]), ("区民政局", ["r1", "r2"]), ("社会保障", ["r6"]), ("环保", ["r7"]),
    ("海门区民政局", ["r1"]), ("海门民政", ["r1"]), ("南通市通州区民政局", ["r2"]), ("通州区人社局", ["r6"]),
    ("政法委", ["r5"]),  # a unit the alias table lacks, matched as the letters name it
    ("水", []), ("民政X", []), ("崇川民政", []),
])
def test_short_names_prefixes_and_places_fold(name, expected):
    assert ids(Filters(departments=[name])) == expected


def test_report_says_what_each_name_matched():
    rep = filter_report(Filters(departments=["民政", "住建"]), REPLIES)
    assert rep["matched"] == 3 and rep["empty"] is None
    assert rep["departments"][0] == {"term": "民政", "matched": ["海门区民政局", "通州区民政局"], "replies": 2}
    assert rep["departments"][1]["matched"] == ["崇川区住房和城乡建设局"]
    assert "民政 → 海门区民政局、通州区民政局" in rep["message"]
    assert filter_report(None, REPLIES) is None and filter_report(Filters(), REPLIES) is None


def test_report_names_the_filter_that_emptied_the_result():
    rep = filter_report(Filters(departments=["民政"], year_from=2020, year_to=2020), REPLIES)
    assert rep["matched"] == 0
    e = rep["empty"]
    # dropping the year brings back both 民政 replies; dropping the department, the one 2020 reply
    assert e["filter"] == "year" and e["drop"] == ["year_from", "year_to"] and e["without"] == 2
    assert {o["filter"]: o["without"] for o in e["options"]} == {"year": 2, "departments": 1}
    assert "「年份 2020」" in rep["message"] and "去掉这个条件有 2 件答复" in rep["message"]

    rep = filter_report(Filters(departments=["民政X"]), REPLIES)
    assert rep["empty"]["filter"] == "departments" and rep["empty"]["alone"] == 0
    assert "民政X → 索引中没有这个部门" in rep["message"] and "没有匹配的答复" in rep["message"]

    rep = filter_report(Filters(proposer="李秀英", departments=["民政"]), REPLIES)
    assert rep["empty"]["filter"] == "proposer" and rep["empty"]["without"] == 2 and "不能同时满足" in rep["message"]
    assert without(Filters(proposer="李秀英", departments=["民政"]), ["proposer"]) == Filters(departments=["民政"])
    assert without(Filters(proposer="李秀英"), ["proposer"]) is None


@pytest.fixture
def client(settings):
    from service.api.app import create_app

    with TestClient(create_app(settings, with_ui=False)) as c:
        yield c


def test_api_answer_and_reply_list_carry_the_report(client):
    a = client.post("/api/ask", json={"question": SEED_QUESTION, "filters": {"departments": ["教育"]}}).json()
    assert not a["no_answer"] and a["filter_report"]["departments"][0]["matched"] == ["通州区教育体育局"]
    a = client.post("/api/ask", json={"question": SEED_QUESTION, "filters": {"departments": ["教育"], "year_from": 2020,
                                                                            "year_to": 2020}}).json()
    assert a["no_answer"] and a["filter_report"]["empty"]["drop"] == ["year_from", "year_to"]
    assert "去掉这个条件有 1 件答复" in a["answer_markdown"]
    lst = client.get("/api/replies", params={"departments": "人社"}).json()
    assert lst["total"] == 1 and lst["filter_report"]["departments"][0]["matched"] == ["通州区人力资源和社会保障局"]
    assert client.get("/api/replies", params={"q": "人社"}).json()["total"] == 1  # the browse box folds too
    assert client.post("/api/search", json={"query": "产教融合", "filters": {"departments": ["民政"]}}).json()["replies"] == []


def test_cli_filter_by_short_name_and_empty_result(settings, monkeypatch):
    from service.cli import app

    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    runner = CliRunner()
    res = runner.invoke(app, ["ask", SEED_QUESTION, "--dept", "教育", "--plain"])
    assert res.exit_code == 0, res.output
    assert "部门筛选：教育 → 通州区教育体育局" in res.stdout and "已开展的工作" in res.stdout
    res = runner.invoke(app, ["ask", SEED_QUESTION, "--dept", "教育", "--year", "2020"])
    assert res.exit_code == 0
    assert "「年份 2020」没有匹配的答复" in res.stdout and "去掉 --year" in res.stdout
