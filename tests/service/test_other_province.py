"""Nothing tied to one city: places, follow-ups and place constraints on letters from other provinces
(tests/fixtures/other_province: 綦江, 江津, 高平, 泽州, 丹棱 — fictional letters), fake encoder."""
from __future__ import annotations

import pytest

from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "other_province" / "corpus"


@pytest.fixture(scope="module")
def op_retriever(tmp_path_factory):
    from index.builder import Indexer, open_index
    from index.settings import Settings
    from service.retrieval import Retriever

    s = Settings(home=tmp_path_factory.mktemp("op"), embed_model="fake")
    Indexer(s).build([CORPUS])
    return Retriever(open_index(s), s)


def test_places_are_learned_from_the_signing_units(op_retriever):
    places = op_retriever.gazetteer.places
    for short, full in (("綦江", "綦江区"), ("江津", "江津区"), ("高平", "高平市"), ("泽州", "泽州县"), ("丹棱", "丹棱县")):
        assert places[short] == full and places[full] == full
    assert "南通" not in "".join(places)  # nothing of the dev corpus's city


def test_place_follow_up_moves_to_the_named_place(op_retriever):
    from service.answer import answer_question

    a = answer_question(op_retriever, "泽州县呢？", history=[{"question": "綦江区老旧小区改造了多少个？"}])
    assert "泽州县" in a.rewritten_question and "綦江" not in a.rewritten_question
    assert not a.no_answer
    assert {c.number for c in a.citations} == {"35"}  # 泽州县's 2021 letter


def test_follow_up_to_a_place_with_no_reply_on_the_topic_says_so(op_retriever):
    from service.answer import answer_question

    a = answer_question(op_retriever, "那綦江区呢？", history=[{"question": "江津区农村公路提档升级修了多少公里？"}])
    assert "綦江区" in a.rewritten_question
    assert a.no_answer and a.missing == "place"
    assert a.answer_markdown.startswith("綦江区的答复中没有")
    assert "江津区" in a.answer_markdown  # what exists instead, labelled with its place


def test_a_place_the_index_has_no_letter_from(op_retriever):
    from service.answer import answer_question

    a = answer_question(op_retriever, "如东县老年助餐每餐补贴多少？")
    assert a.no_answer
    assert "如东县" in a.answer_markdown and "没有" in a.answer_markdown


def test_this_year_in_a_question_is_the_letter_s_year_not_a_filter(op_retriever):
    from service.answer import answer_question

    # the letters are of 2021–2024 and today is later: "今年" must not rule them all out
    plain = answer_question(op_retriever, "江津区家庭医生重点人群签约率多少？")
    a = answer_question(op_retriever, "江津区家庭医生今年重点人群签约率多少？")
    assert not a.no_answer and {c.number for c in a.citations} == {c.number for c in plain.citations} == {"88"}


def test_place_constraint_picks_the_named_place(op_retriever):
    from service.answer import answer_question

    for q, number in (("高平家庭医生重点人群签约率多少？", "104"), ("江津区家庭医生重点人群签约率多少？", "88")):
        a = answer_question(op_retriever, q)
        assert not a.no_answer
        nums = {c.number for c in a.citations}
        assert nums == {number}, (q, nums)


def test_a_department_asked_with_no_topic_lists_its_own_letters_first(op_retriever):
    """农业农村局 leads one letter (丹棱) and co-handles others: "its answers" are the one it led."""
    from service.answer import answer_question

    res = op_retriever.search("农业农村局主办的答复说了什么？")
    assert res.replies[0].reply.lead_unit == "农业农村局"
    a = answer_question(op_retriever, "农业农村局主办的答复说了什么？")
    assert not a.no_answer and {c.lead_unit for c in a.citations} == {"丹棱县农业农村局"}  # 主办: what it led, as signed
    assert len(a.points) > 2  # one letter: answered in depth, not listed with two points
    res = op_retriever.search("民政局答复了哪些提案？")
    assert {g.reply.lead_unit for g in res.replies[:2]} == {"民政局"}


def test_a_place_named_with_nothing_else_answers_from_that_place(op_retriever):
    from service.answer import answer_question

    a = answer_question(op_retriever, "綦江区呢？")  # before: "綦江区的答复中没有这方面方面的内容。"
    assert not a.no_answer and a.citations and {c.place for c in a.citations} == {"綦江区"}
    a = answer_question(op_retriever, "綦江区2019年呢？")  # its letters are of 2023 and 2024
    assert a.no_answer and "方面方面" not in a.answer_markdown


def test_a_year_naming_the_letter_is_not_met_by_a_later_letter_reporting_on_it(settings, tmp_path):
    from service.answer import answer_question
    from tests.conftest import retriever_over

    letter = ("关于县政协十届二次会议第23号提案的答复\n\n李明委员：\n您提出的《关于保障山区农村饮水安全的提案》收悉，现答复如下：\n"
              "2021年以来，我县累计投入农村供水建设资金3.86亿元，农村自来水普及率达到93%。\n感谢您的关心和支持。\n\n"
              "清溪县水利局\n2023年7月10日\n")  # 虚构示例
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    assert not answer_question(r, "清溪县2021年农村饮水投了多少钱？").no_answer  # the content reports 2021
    a = answer_question(r, "清溪县2021年那份农村饮水提案的答复是怎么说的？")  # the 2023 letter is not of 2021
    assert a.no_answer and a.missing == "year"


def _muck_letter(n: int, proposer: str, place: str, level_unit: str, lead: str, co: str, body: str, date: str) -> str:
    return (f"关于{place}政协十届二次会议第{n}号提案的答复\n\n{proposer}委员：\n您提出的《关于加强渣土车运输监管的提案》收悉，"
            f"本件由{lead}主办，{co}协办。现答复如下：\n{body}\n感谢您的关心和支持。\n\n{level_unit}\n{date}\n")  # 虚构示例


def test_a_level_written_before_a_department_and_who_answered(settings, tmp_path):
    """"市城管局": the city's unit, not a district's 城市管理局; "交通运输局对…的提案": the letters it answered, not
    those it only helped with."""
    from service.answer import answer_question
    from service.query import analyse
    from tests.conftest import retriever_over

    letters = {
        "a.txt": _muck_letter(57, "秦立峰", "市", "青川市城市管理局", "青川市城市管理局", "市交通运输局",
                              "2023年我市启动渣土车智能监管平台建设，全市查处渣土车违法违规行为2317起。", "2024年6月28日"),
        "b.txt": _muck_letter(36, "梅晓东", "区", "泠岙区城市管理局", "泠岙区城市管理局", "区公安分局",
                              "区城管局开展渣土车夜查行动38次，查处渣土车撒漏行为213起。", "2023年7月6日"),
        "c.txt": _muck_letter(12, "葛书珩", "区", "蒲湾区交通运输局", "蒲湾区交通运输局", "区城市管理局",
                              "我局对营运渣土车开展年度检测，检测车辆1397辆次，46辆车停运整改。", "2024年7月5日"),
    }
    r = retriever_over(settings, tmp_path / "c", letters)
    assert analyse("市城管局对渣土车那个提案是怎么答复的？").dept_level == "市"
    assert analyse("区里的城管局对渣土车是怎么答复的？").dept_level == "区"
    assert r.understand("泠岙区城管局对渣土车是怎么答复的？").dept_level == ""  # a place is named: the place constraint
    assert analyse("市场监管局对预付卡是怎么答复的？").dept_level == ""  # 市 begins the department's own name
    a = answer_question(r, "市城管局对渣土车那个提案是怎么答复的？")
    assert not a.no_answer and {c.lead_unit for c in a.citations} == {"青川市城市管理局"}
    a = answer_question(r, "区城管局对渣土车那个建议是怎么回复的？")
    assert not a.no_answer and {c.lead_unit for c in a.citations} == {"泠岙区城市管理局"}
    # 交通运输局 answered one letter and helped with another (青川市城管局's): its answer is the one it led
    a = answer_question(r, "交通运输局对渣土车的提案是怎么答复的？")
    assert not a.no_answer and {c.lead_unit for c in a.citations} == {"蒲湾区交通运输局"}
