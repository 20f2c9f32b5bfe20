"""Answer types the asked aspect needs, and the record-field facts with their spans."""
from __future__ import annotations

import pytest

from service.answer import strip_enumeration
from service.answerability import asked_unit, holds_detail


@pytest.mark.parametrize("sentence, aspect, unit, ok", [
    ("对80周岁以上老年人每餐补贴3元。", "amount", "money", True),
    ("全区建成老年助餐点86个。", "amount", "money", False),  # a count, not an amount of money
    ("全区建成老年助餐点86个。", "amount", "count", True),
    ("完成农村公路提档升级52.6公里。", "amount", "length", True),
    ("计划于2024年底前完成改造。", "date", None, True),
    ("持续推进改造工作。", "date", None, False),
    ("由于资金有限，暂未全面推开。", "reason", None, True),
    ("由区住建局牵头负责。", "who", None, True),
    ("疫情期间从外地调运蔬菜1.2万吨。", "amount", "weight", True),  # 虚构示例
    ("全区建成老年助餐点86个。", "amount", "weight", False),
    ("疫情期间从外地调运蔬菜1.2万吨。", "amount", None, True),  # no unit asked: any measure answers
])
def test_holds_detail(sentence, aspect, unit, ok):
    assert holds_detail(sentence, aspect, unit) is ok


@pytest.mark.parametrize("question, unit", [
    ("每餐补贴多少钱？", "money"), ("修了多少公里？", "length"), ("建了几个助餐点？", "count"),
    ("签约率是多少？", "percent"), ("覆盖率达到多少？", "percent"), ("进展到多少了？", None),
    ("一天能处理多少吨？", "weight"), ("每年节约多少立方米水？", "volume"), ("光伏装机容量是多少？", "energy"),
    ("考上执业医师奖多少？", "money"), ("装电梯一台补多少？", "money"), ("补了多少个名额？", "count"),
])
def test_asked_unit(question, unit):
    assert asked_unit(question) == unit


@pytest.mark.parametrize("text, kept", [
    ("（三）建立农村公路数字化管理平台，实现动态监管。", "建立农村公路数字化管理平台，实现动态监管。"),
    ("3.新增五年制高职专业3个。", "新增五年制高职专业3个。"),
    ("第一，加大财政投入力度。", "加大财政投入力度。"),
    ("二是探索送餐上门服务。", "探索送餐上门服务。"),
    ("2022年全区新增五年制高职专业3个。", "2022年全区新增五年制高职专业3个。"),  # a year is not a list number
])
def test_strip_enumeration(text, kept):
    s, e = strip_enumeration(text, 0, len(text))
    assert text[s:e] == kept


def test_field_facts_point_at_the_letter(seed_text):
    from index.parse import parse_labelled
    from service.fields import facts, sentence

    r, _ = parse_labelled(seed_text, "seed.txt")
    found = facts(r, ["lead_unit", "co_units", "reply_date", "proposer", "number"])
    by = {f.field: f for f in found}
    assert "承办单位" in r.text[by["lead_unit"].start:by["lead_unit"].end]
    assert "答复日期" in r.text[by["reply_date"].start:by["reply_date"].end]
    assert "戴红玲" in r.text[by["proposer"].start:by["proposer"].end]
    s = sentence(r, [by["lead_unit"], by["co_units"], by["reply_date"]])
    assert s.startswith("第28号") and "教育体育局主办" in s and "2023年6月30日答复" in s


def test_field_answer_names_co_units_and_says_what_the_letter_does_not_state(seed_retriever):
    from service.answer import answer_question

    a = answer_question(seed_retriever, "第28号提案是哪个部门主办的？")
    assert not a.no_answer
    assert "教育体育局主办" in a.lead and "人社局、区发改委协办" in a.lead
    # 主办 and 协办 stand on one line of the seed: one citation, not two of the same span
    assert len(a.citations) == 1 and "承办单位" in a.citations[0].passage
    a = answer_question(seed_retriever, "戴红玲的提案谁协办的？")
    assert a.lead.endswith("由人社局、区发改委协办。")
    # the seed states no 办复类别: say so, and name the reply, instead of "not found" or a guess
    a = answer_question(seed_retriever, "第28号提案的办复类别是什么？")
    assert a.no_answer and a.missing == "field"
    assert "第28号提案的答复中没有写明办复类别" in a.answer_markdown
    assert a.related and a.related[0]["id"] == "28_20230630"
    a = answer_question(seed_retriever, "第28号提案是谁提的？办复类别是哪一类？")
    assert not a.no_answer and "由戴红玲提出" in a.lead and "没有写明办复类别" in a.lead


@pytest.mark.parametrize("sentence, ok", [
    ("2021年全区开展补贴性职业技能培训2.1万人次。", True),
    ("截至2021年底，全区建成助餐点86个。", True),
    ("2019年全区开展补贴性职业技能培训2.3万人次。", False),  # another year's figure
    ("明确2019年至2021年开展各类培训6万人次以上。", False),  # a span's target, not 2021's figure
    ("2019—2021年累计投入资金1.2亿元。", False),
])
def test_names_year(sentence, ok):
    from service.answerability import names_year

    assert names_year(sentence, 2021) is ok


def test_field_facts_of_unlabelled_letters_cite_the_letters_own_words():
    """Real exports have no 承办单位/提案号 lines: co-handling units and the number are cited where the letter
    says them (fictional letters of tests/fixtures/formats)."""
    from index.extract import extract_reply
    from service.fields import facts, sentence
    from tests.conftest import ROOT

    letters = ROOT / "tests" / "fixtures" / "formats" / "letters"
    text = (letters / "a_zx_12.txt").read_text(encoding="utf-8")
    r, _ = extract_reply(text, "a_zx_12.txt")
    by = {f.field: f for f in facts(r, ["lead_unit", "co_units", "number"])}
    assert "会同区财政局、区卫健委" in text[by["co_units"].start:by["co_units"].end]
    assert "第12号提案" in text[by["number"].start:by["number"].end]
    assert "区财政局、区卫健委协办" in sentence(r, list(by.values()))
    text = (letters / "c_zx_31.txt").read_text(encoding="utf-8")
    r, _ = extract_reply(text, "c_zx_31.txt")
    s = sentence(r, facts(r, ["lead_unit", "co_units"]))
    assert s.startswith("〔2023〕31号提案") and "号号" not in s


def test_a_question_for_the_number_is_answered_with_the_title():
    from index.extract import extract_reply
    from service.fields import facts, sentence
    from tests.conftest import ROOT

    text = (ROOT / "tests" / "fixtures" / "formats" / "letters" / "a_zx_12.txt").read_text(encoding="utf-8")
    r, _ = extract_reply(text, "a_zx_12.txt")
    s = sentence(r, facts(r, ["number"]))
    assert s == f"《{r.title}》是第12号提案。"
    s = sentence(r, facts(r, ["number", "lead_unit"]))
    assert s.startswith(f"《{r.title}》是第12号提案，由") and s.endswith("主办。")


def test_number_label():
    from index.records import number_label

    assert number_label("28") == "第28号"
    assert number_label("〔2023〕31号") == "〔2023〕31号"
    assert number_label("") == "第—号"


@pytest.mark.parametrize("head, value", [("A类\n\n", "A类"), ("（B）\n", "B类"), ("办理结果：A\n", "A类"), ("", None)])
def test_category_stated_at_the_top_of_an_unlabelled_letter(head, value):
    from index.extract import extract_reply
    from service.fields import facts
    from tests.conftest import ROOT

    text = head + (ROOT / "tests" / "fixtures" / "formats" / "letters" / "a_zx_12.txt").read_text(encoding="utf-8")
    r, _ = extract_reply(text, "a_zx_12.txt")
    found = facts(r, ["category"])
    assert (found[0].value if found else None) == value


def test_a_number_shared_by_letters_of_several_years_is_answered_for_each(settings, tmp_path, seed_text):
    """Numbers restart every year: "第28号提案是哪个部门主办的？" over two years' letters numbered 28 answers both,
    each with its year; naming the year keeps to one. (The 2022 letter is the seed, edited: 虚构示例.)"""
    from service.answer import answer_question
    from tests.conftest import retriever_over

    other = seed_text.replace("答复日期: 2023-06-30", "答复日期: 2022-07-05").replace("主办: 教体局 协办: 人社局;发改委", "主办: 人社局")
    other = other.replace("2023年6月30日", "2022年7月5日")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": seed_text, "b.txt": other})
    a = answer_question(r, "第28号提案是哪个部门主办的？")
    assert not a.no_answer
    lines = a.lead.splitlines()
    assert len(lines) == 2
    assert any(line.startswith("通州区2023年第28号提案") and "教育体育局主办" in line for line in lines)
    assert any(line.startswith("通州区2022年第28号提案") and "由人社局主办" in line for line in lines)
    a = answer_question(r, "2022年第28号提案是哪个部门主办的？")
    assert a.lead.startswith("第28号提案") and "由人社局主办" in a.lead and "\n" not in a.lead


def test_a_figure_for_another_class_does_not_answer_the_asked_class():
    from service.answerability import asked_classes, other_class

    assert asked_classes("如皋艺术类培训班一节课收费标准多少？") == {"艺术"}
    assert asked_classes("崇川停车那件建议办理类别是哪一类？") == set() and asked_classes("分门别类投放") == set()
    assert other_class("制定学科类校外培训政府指导价，每生每课时基准收费标准为45元", {"艺术"})
    assert not other_class("已登记文化艺术类培训机构173家", {"艺术"})
    assert not other_class("每生每课时收费45元", {"艺术"})  # no class named: nothing contradicts


def test_money_asked_per_unit_needs_a_rate_not_a_total():
    from service.answerability import ASKED_RATE_RE, holds_detail

    assert ASKED_RATE_RE.search("一节课收费多少？") and ASKED_RATE_RE.search("每餐补贴多少钱？")
    assert not ASKED_RATE_RE.search("政府一共投了多少钱？")
    total = "预收费全部进入银行监管专用账户，累计监管资金2860万元。"
    rate = "每生每课时基准收费标准为45元。"
    assert not holds_detail(total, "amount", "money", "charge", rate=True) and holds_detail(total, "amount", "money", "charge")
    assert holds_detail(rate, "amount", "money", "charge", rate=True)
    assert holds_detail("对单个项目最高补助200万元。", "amount", "money", "subsidy", rate=True)


def test_a_year_asked_is_a_total_not_a_rate():
    from service.answerability import ASKED_RATE_RE, RATE_RE

    assert not ASKED_RATE_RE.search("青川市养老服务补贴一年发了多少钱？")
    assert RATE_RE.search("托育服务收费标准为1200元。") and RATE_RE.search("补贴标准提高到每人每月300元。")


def test_a_letters_last_year_is_the_year_before_it_was_written():
    from service.answerability import names_year

    assert names_year("去年全区新建助餐点37个。", 2021, letter_year=2022)
    assert not names_year("去年全区新建助餐点37个。", 2020, letter_year=2022)
    assert names_year("前年全区新建助餐点37个。", 2020, letter_year=2022)
    assert not names_year("去年全区新建助餐点37个。", 2021)  # the letter's year unknown: not guessed


def test_a_year_asked_is_answered_by_the_next_years_letter_saying_last_year(settings, tmp_path):
    from service.answer import answer_question
    from tests.conftest import retriever_over

    letter = ("关于区政协第35号提案的答复\n\n陈静委员：\n您提出的《关于推进老年助餐服务的提案》收悉。现答复如下：\n"
              "去年全区新建老年助餐点37个，老年助餐点每餐补贴3元。\n下一步将继续新建老年助餐点。\n\n"
              "南岭区民政局\n2022年6月24日\n")  # 虚构示例
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "南岭区2021年新建了多少个老年助餐点？")
    assert not a.no_answer and "37个" in a.points[0].text
    a = answer_question(r, "南岭区2019年新建了多少个老年助餐点？")
    assert a.no_answer


def test_fees_asked_are_money():
    from service.answerability import asked_unit, money_role

    assert asked_unit("老年大学一学期要交多少学费？") == "money" and money_role("老年大学一学期要交多少学费？") == "charge"
    assert asked_unit("停车费是多少？") == "money"
    assert asked_unit("老年大学招了多少人？") != "money"


def test_of_several_asks_the_money_one_sets_the_role():
    from service.answerability import money_role

    assert money_role("2023年新建了多少亩高标准农田，一亩平均投了多少钱？") == "invest"
