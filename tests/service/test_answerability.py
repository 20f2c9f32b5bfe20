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
])
def test_holds_detail(sentence, aspect, unit, ok):
    assert holds_detail(sentence, aspect, unit) is ok


@pytest.mark.parametrize("question, unit", [
    ("每餐补贴多少钱？", "money"), ("修了多少公里？", "length"), ("建了几个助餐点？", "count"),
    ("签约率是多少？", "percent"), ("覆盖率达到多少？", "percent"), ("进展到多少了？", None),
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
    assert s.startswith("第28号") and "由教育体育局主办" in s and "2023年6月30日答复" in s
