"""Rule-based follow-up rewriting: what is a follow-up, what it keeps and what it replaces."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from functools import partial

from index.loader import load_paths
from service.filters import Filters
from service.followup import analyse_turn as _analyse_turn, is_followup, rewrite as _rewrite
from service.gazetteer import Gazetteer
from tests.conftest import ROOT, SEED_QUESTION

# places are learned from the letters' signing units (通州区, 海门区, 崇川区 and their short forms)
GAZ = Gazetteer.from_replies(load_paths([ROOT / "eval" / "dev" / "corpus"]).replies)
rewrite = partial(_rewrite, gazetteer=GAZ)
analyse_turn = partial(_analyse_turn, gaz=GAZ)

Q = SEED_QUESTION  # 通州在产教融合方面做了哪些工作？
H = [{"question": Q}]


@pytest.mark.parametrize("turn, followup", [
    ("那人社局呢？", True), ("2021年的呢？", True), ("第二条具体怎么做的？", True), ("海门呢", True),
    ("下一步呢？", True), ("具体有哪些成效？", True), ("还有呢", True), ("那崇川区的情况怎么样", True),
    ("人社局在就业方面做了什么？", False), ("关于优化公交线路的建议是怎么答复的？", False), (Q, False),
    ("2022年农村养老服务有哪些进展？", False),
])
def test_what_is_a_followup(turn, followup):
    assert is_followup(analyse_turn(turn)) is followup


def test_no_history_or_new_question_is_unchanged():
    f = Filters(year_from=2023)
    assert rewrite("那人社局呢？", [], f) == ("那人社局呢？", f)
    assert rewrite("人社局在就业方面做了什么？", H, f) == ("人社局在就业方面做了什么？", f)


def test_department_followup_keeps_topic_and_changes_department():
    text, f = rewrite("那人社局呢？", H, None)
    assert text == "通州人社局在产教融合方面做了哪些工作？"
    assert f.departments == ["人力资源和社会保障局"]
    text, f = rewrite("那人社局呢？", [{"question": "教体局在产教融合方面做了哪些工作？"}], None)
    assert text == "人社局在产教融合方面做了哪些工作？"


def test_year_followup_keeps_topic_and_department():
    hist = [{"question": Q}, {"question": "那人社局呢？"}]
    text, f = rewrite("2021年的呢？", hist, None)
    assert text == "2021年通州人社局在产教融合方面做了哪些工作？"
    # the year is in the question, read as a first question's year (the next year's letter states 2021's
    # figures): no filter on the letters' own year
    assert (f.year_from, f.year_to, f.departments) == (None, None, ["人力资源和社会保障局"])
    text, f = rewrite("2021年的呢？", [{"question": "2023年教体局在产教融合方面做了哪些工作？"}], Filters(departments=["教体局"]))
    assert text == "2021年教体局在产教融合方面做了哪些工作？"
    assert (f.year_from, f.year_to, f.departments) == (None, None, ["教体局"])


def test_place_intent_and_topic_followups():
    assert rewrite("海门呢？", H, None)[0] == "海门在产教融合方面做了哪些工作？"
    assert rewrite("那崇川区的情况怎么样", H, None)[0] == "崇川区在产教融合方面做了哪些工作？"
    assert rewrite("下一步有什么打算？", H, None)[0] == "通州在产教融合方面下一步有什么打算？"
    assert rewrite("取得了哪些成效？", H, None)[0] == "通州在产教融合方面取得了哪些成效？"
    text, f = rewrite("那就业呢？", [{"question": "2023年人社局在产教融合方面做了哪些工作？"}], Filters(year_from=2023))
    assert text == "2023年人社局在就业方面做了哪些工作？" and f.year_from == 2023


def test_request_filters_are_carried():
    text, f = rewrite("那人社局呢？", H, Filters(year_from=2022, year_to=2023, proposer="戴红玲"))
    assert (f.year_from, f.year_to, f.proposer, f.departments) == (2022, 2023, "戴红玲", ["人力资源和社会保障局"])


def _stored(points, citations, rewritten=Q, filters=None):
    return {"answer_id": "a1", "question": Q, "rewritten_question": rewritten, "filters": filters or {},
            "points": points, "citations": citations}


def test_point_reference_uses_the_previous_answer():
    cit = {"n": 1, "reply_id": "28_20230630", "number": "28", "reply_date": "2023-06-30", "proposer": "戴红玲"}
    prev = _stored([{"text": "第一点。", "citations": [1]}, {"text": "新增五年制高职专业3个;", "citations": [1]}], [cit])
    lookup = {"a1": prev}.get
    text, f = rewrite("第二条具体怎么做的？", [{"question": Q, "answer_id": "a1"}], None, lookup_answer=lookup)
    assert "新增五年制高职专业3个" in text
    assert (f.number, f.date_from, f.date_to) == ("28", "2023-06-30", "2023-06-30")
    text, _ = rewrite("最后一条呢？", [{"question": Q, "answer_id": "a1"}], None, lookup_answer=lookup)
    assert "新增五年制高职专业3个" in text
    # out of range, or without a lookup: falls back to the previous topic, no restriction
    text, f = rewrite("第九条具体怎么做的？", [{"question": Q, "answer_id": "a1"}], None, lookup_answer=lookup)
    assert "产教融合" in text and (f is None or not f.number)
    text, f = rewrite("第二条具体怎么做的？", H, None)
    assert "产教融合" in text and f is None


def test_stored_rewritten_question_is_the_context():
    prev = _stored([], [], rewritten="通州人社局在产教融合方面做了哪些工作？", filters={"departments": ["人力资源和社会保障局"]})
    text, f = rewrite("2021年的呢？", [{"question": Q}, {"question": "那人社局呢？", "answer_id": "a1"}], None,
                      lookup_answer={"a1": prev}.get)
    assert text == "2021年通州人社局在产教融合方面做了哪些工作？"
    assert f.departments == ["人力资源和社会保障局"] and f.year_from is None


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, with_ui=False)) as c:
        yield c


def test_followups_over_http(client):
    first = client.post("/api/ask", json={"question": Q}).json()
    hist = [{"question": Q, "answer_id": first["answer_id"]}]
    r = client.post("/api/ask", json={"question": "那人社局呢？", "history": hist}).json()
    assert r["question"] == "那人社局呢？" and r["rewritten_question"] == "通州人社局在产教融合方面做了哪些工作？"
    assert r["filters"] == {"departments": ["人力资源和社会保障局"]}
    assert not r["no_answer"]  # 人社局 is a co-unit of the seed reply
    hist.append({"question": "那人社局呢？", "answer_id": r["answer_id"]})
    r = client.post("/api/ask", json={"question": "2021年的呢？", "history": hist}).json()
    assert r["rewritten_question"] == "2021年通州人社局在产教融合方面做了哪些工作？"
    assert "year_from" not in r["filters"] and r["no_answer"]  # the seed (2023) states nothing for 2021: not found

    second = first["points"][1]
    r = client.post("/api/ask", json={"question": "第二条具体怎么做的？", "history": hist[:1]}).json()
    assert second["text"].strip() in r["rewritten_question"]
    assert r["filters"]["number"] == "28" and not r["no_answer"]
    assert any(p["text"] == second["text"] for p in r["points"])
    assert {c["reply_id"] for c in r["citations"]} == {second["reply_id"]}


def test_followup_without_answer_ids_over_http(client):
    r = client.post("/api/ask", json={"question": "下一步有什么打算？", "history": [{"question": Q}]}).json()
    assert r["rewritten_question"] == "通州在产教融合方面下一步有什么打算？"
    assert r["points"] and r["points"][0]["kind"] == "plan"
    r = client.post("/api/ask", json={"question": "那人社局呢？", "history": [{"question": Q, "answer_id": "unknown"}]})
    assert r.status_code == 200 and r.json()["rewritten_question"] == "通州人社局在产教融合方面做了哪些工作？"


def test_retrieval_query_drops_what_the_filters_enforce():
    from service.followup import retrieval_query

    f = Filters(year_from=2021, year_to=2021, departments=["人力资源和社会保障局"])
    assert retrieval_query("2021年通州人社局在产教融合方面做了哪些工作？", f) == "通州在产教融合方面做了哪些工作？"
    assert retrieval_query("2021年通州人社局在产教融合方面做了哪些工作？", None).startswith("2021年")
    assert retrieval_query("人社局", Filters(departments=["人社局"])) == "人社局"  # never empty


def test_a_new_question_naming_no_place_keeps_the_conversations_place():
    h = [{"question": "崇川区托育服务情况怎么样？"}]
    text, f = rewrite("有多少所幼儿园开设了托班？", h, None)
    assert text == "崇川区有多少所幼儿园开设了托班？" and f is None
    req = Filters(year_from=2023, year_to=2023)
    assert rewrite("有多少所幼儿园开设了托班？", h, req)[1] == req  # the request's own filters stay
    # a question that names its own place, or a conversation without one, is left alone
    assert rewrite("通州区有多少所幼儿园开设了托班？", h, None)[0] == "通州区有多少所幼儿园开设了托班？"
    assert rewrite("有多少所幼儿园开设了托班？", [{"question": "托育服务情况怎么样？"}], None)[0] == "有多少所幼儿园开设了托班？"


def test_the_carried_topic_is_clean_text():
    text, _ = rewrite("哪些还没建完？", [{"question": "启东文旅重点项目搞了哪些？"}], None)
    assert text == "启东文旅重点项目，哪些还没建完？"  # not "…项目搞，"
    text, _ = rewrite("那2021年计划新建多少？", [{"question": "通州区高标准农田建设情况怎么样？"},
                                             {"question": "建成以后怎么管护？"}], None)
    assert "建成以后" not in text and "高标准农田建设" in text


@pytest.mark.parametrize("turn", ["这个提案是谁提的？", "什么时候答复的？", "主办单位呢？", "协办单位有哪些？", "那编号是多少？"])
def test_a_question_about_the_record_asks_it_of_the_reply_just_discussed(turn):
    # without the stored answer: asked with the previous turn's place and topic, so the same reply comes first
    text, f = rewrite(turn, H, None)
    assert text.startswith("通州产教融合的答复，") and f is None
    # with it: restricted to the reply the previous answer cited first
    cit = {"n": 1, "reply_id": "28_20230630", "number": "28", "reply_date": "2023-06-30", "proposer": "戴红玲"}
    text, f = rewrite(turn, [{"question": Q, "answer_id": "a1"}], None, lookup_answer={"a1": _stored([], [cit])}.get)
    assert (f.number, f.date_from, f.date_to) == ("28", "2023-06-30", "2023-06-30")


def test_a_record_word_with_a_topic_of_its_own_is_not_a_record_followup():
    # who does the work, asked of the conversation's place: not who answered the letter
    text, _ = rewrite("谁来养护农村公路？", H, None)
    assert "答复，" not in text


def test_record_followups_over_http(client):
    first = client.post("/api/ask", json={"question": Q}).json()
    hist = [{"question": Q, "answer_id": first["answer_id"]}]
    r = client.post("/api/ask", json={"question": "这个提案是谁提的？", "history": hist}).json()
    assert not r["no_answer"] and "由戴红玲提出" in r["answer_markdown"]
    r = client.post("/api/ask", json={"question": "什么时候答复的？", "history": [{"question": Q}]}).json()
    assert not r["no_answer"] and "2023年6月30日答复" in r["answer_markdown"]


def test_a_count_of_the_records_is_a_question_of_its_own():
    h = [{"question": "加装电梯的提案是怎么答复的？"}]
    assert rewrite("2023年答复了多少件建议？", h, None)[0] == "2023年答复了多少件建议？"
    # with an anaphor it leans on what came before
    assert rewrite("那2023年的呢？", [{"question": "通州加装电梯装了多少台？"}], None)[0] != "那2023年的呢？"


def test_a_question_naming_a_proposal_number_is_its_own_question():
    """"第57号提案是哪个单位答复的？" after a question on something else names its reply: it was rewritten into
    the previous question (its words are all record words, so it looked like a bare follow-up)."""
    h = [{"question": "芷阳湾县农村改厕一户补多少钱？"}]
    assert rewrite("第57号提案是哪个单位答复的？", h, None) == ("第57号提案是哪个单位答复的？", None)
    assert rewrite("第二十八号提案是谁提的？", h, None)[0] == "第二十八号提案是谁提的？"
    assert rewrite("那2023年呢？", h, None)[0].startswith("2023年")  # a follow-up still is one


def test_a_place_with_words_of_its_own_keeps_the_ask():
    # "那海门的职业院校呢？": the same ask, of 海门 and the part of the topic it names
    assert rewrite("那海门的职业院校呢？", H, None)[0] == "海门职业院校在产教融合方面做了哪些工作？"
    text, _ = rewrite("那通州的睦邻点呢？", [{"question": "海门区老年助餐每餐补贴多少？"}], None)
    assert text == "通州睦邻点老年助餐每餐补贴多少？"
    # a question of its own that names a place (no 呢) is not glued to the earlier topic
    assert rewrite("海门区充电桩建设情况如何？", H, None)[0] == "海门区充电桩建设情况如何？"
    # …nor one that asks something of its own
    assert rewrite("那海门配了几个老师呢？", H, None)[0] == "那海门配了几个老师呢？"


def test_how_it_turned_out_is_asked_of_a_later_letter():
    """"那后来真开起来了吗？" after a question on a 2023 letter: the earlier year is not carried (a later letter tells)."""
    text, _ = rewrite("那后来建成了吗？", [{"question": "2023年通州在产教融合方面打算建几个实训基地？"}], None)
    assert "2023" not in text and "通州" in text
    text, _ = rewrite("那建成了吗？", [{"question": "2023年通州在产教融合方面打算建几个实训基地？"}], None)
    assert "2023年" in text


def test_a_question_asked_of_every_place_is_not_kept_to_the_conversations_place():
    hist = [{"question": "崇川区托育服务情况怎么样？"}]
    assert rewrite("有多少所幼儿园开设了托班？", hist, None)[0] == "崇川区有多少所幼儿园开设了托班？"
    assert rewrite("各地在家庭医生签约方面都做了什么？", hist, None)[0] == "各地在家庭医生签约方面都做了什么？"
