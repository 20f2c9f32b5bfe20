"""Departments named as the letter writes them (service/units.py); matching stays canonical.
Letters are fictional (虚构示例)."""
from __future__ import annotations

import pytest

from index.departments import department_table
from index.extract import extract_reply
from service.units import written_units

SIGNED = ("刘小红委员：\n您提出的《关于加强农村学校心理健康教育的提案》收悉。经认真研究，并商市卫健委、市财政局，现答复如下：\n"
          "我局配齐了心理教师。\n\n青川市教育局\n2023年6月12日\n")


def test_the_signing_unit_and_the_co_units_as_written():
    r, _ = extract_reply(SIGNED, "x")
    assert r.lead_unit == "教育体育局"  # canonical, for filters
    assert written_units(r) == ("青川市教育局", ["市卫健委", "市财政局"])


def test_a_letterhead_unit_keeps_its_place_and_a_unit_the_table_folds_elsewhere_keeps_its_name():
    text = ("东湖区城市管理局\n关于区人大第203号建议的答复\n\n黄大伟代表：\n你的建议收悉。该建议由我局主办，区行政审批局、区税务局会办。"
            "2022年规范摊点区89处。\n此复。\n\n2023年6月30日\n")
    r, _ = extract_reply(text, "x")
    lead, co = written_units(r)
    assert lead == "东湖区城市管理局" and co == ["区行政审批局", "区税务局"]


@pytest.mark.parametrize("name, canonical", [
    ("东湖区城市管理局", "城市管理局"),  # 东湖区|城市管理局, not 东湖区城市|管理局
    ("南通市通州区教育体育局", "教育体育局"),
    ("县行政审批局", "行政审批局"),  # not folded into 数据局: many places keep them apart
    ("南通市市场监督管理局", "市场监督管理局"),
    ("区政府办公室", "人民政府办公室"),
    # departments many cities keep on their own (虚构示例 places): not folded, not left unknown
    ("沅澈市体育局", "体育局"), ("市体育局", "体育局"), ("县林业局", "林业局"), ("市人防办", "人民防空办公室"),
    ("菱湾县文化广电旅游体育局", "文化广电和旅游局"),  # a merged bureau is the 文旅 one, not 体育局
])
def test_place_prefixes_are_split_at_the_right_place(name, canonical):
    assert department_table().canonical(name) == canonical


def test_the_fullest_alias_written_wins_over_a_stem():
    text = ("张三委员：\n您的提案收悉。区人社等部门高度重视，经商区人力资源和社会保障局、区发改委，现答复如下：\n我局推进了培训。\n\n"
            "南通市通州区教育体育局\n2023年5月22日\n")
    r, _ = extract_reply(text, "x")
    assert written_units(r)[1] == ["区人力资源和社会保障局", "区发改委"]


def test_a_unit_under_a_national_body_is_named_with_it():
    from index.records import Reply
    from service.units import written_units

    text = ("邓慧敏委员：\n您的提案收悉。本提案由我局主办，县残疾人联合会、国家税务总局松澜县税务局协办。\n"
            "全县新增残疾人就业岗位320个。\n\n松澜县人力资源和社会保障局\n2023年6月27日\n")  # 虚构示例
    r = Reply(id="r", text=text, lead_unit="人力资源和社会保障局", co_units=["税务局"], signer="松澜县人力资源和社会保障局")
    assert written_units(r) == ("松澜县人力资源和社会保障局", ["国家税务总局松澜县税务局"])


@pytest.mark.parametrize("line, value", [("办理结果：已解决（A）", "A类"), ("办理结果：正在解决（B）", "B类"), ("办复类别：C类", "C类")])
def test_the_category_written_after_a_result_word(line, value):
    from index.records import Reply
    from service.fields import facts

    text = f"李明委员：\n您的提案收悉。全县新建服务站9个。\n\n槐庄县商务局\n2024年6月20日\n{line}\n"  # 虚构示例
    assert [f.value for f in facts(Reply(id="r", text=text, reply_span=(0, len(text))), ["category"])] == [value]


def test_the_category_said_of_the_letter_itself():
    from index.labels import label_sentence
    from index.records import Reply
    from service.fields import facts

    text = "李明委员：\n您的提案收悉。全县改造农房1200户。此件为A类答复。\n\n荻埠县住房和城乡建设局\n2024年6月20日\n"  # 虚构示例
    assert [f.value for f in facts(Reply(id="r", text=text, reply_span=(0, len(text))), ["category"])] == ["A类"]
    assert label_sentence("此件为A类答复。", []) == "courtesy"


def test_co_units_written_with_the_letter_s_own_place_and_cited_at_their_own_line():
    from index.parse import parse_labelled
    from service.fields import facts

    text = ("建议号：27\n代表：彭怀安\n标题：关于深化基层治理网格化管理的建议\n主办：中共茗坪县委政法委员会\n"
            "协办：茗坪县民政局、茗坪县财政局\n答复日期：2023-06-30\n办复类别：B类（列入计划逐步解决）\n答复内容：\n"
            "彭怀安代表：\n你的建议收悉。全县划分网格612个。\n\n中共茗坪县委政法委员会\n2023年6月30日\n")  # 虚构示例
    r, _ = parse_labelled(text, "x")
    assert written_units(r)[1] == ["茗坪县民政局", "茗坪县财政局"]
    (co,) = facts(r, ["co_units"])
    assert r.text[co.start:co.end] == "协办：茗坪县民政局、茗坪县财政局"
    (cat,) = facts(r, ["category"])
    assert r.text[cat.start:cat.end] == "办复类别：B类（列入计划逐步解决）"


def test_a_lead_unit_the_header_writes_without_its_place_is_cited_at_the_signature_too():
    """主办：市商务局 in the header, 霏川市商务局 under the letter: both are cited, so the point names the unit in full;
    a header that already names it in full is cited alone."""
    from index.parse import parse_labelled
    from service.fields import facts

    def letter(lead: str) -> str:  # 虚构示例
        return (f"建议号：152\n代表：汤慧娟\n标题：关于推动家政服务业规范发展的建议\n承办单位：主办：{lead} 协办：市妇联\n"
                "答复日期：2024-06-20\n答复内容：\n汤慧娟代表：\n你的建议收悉。全市培训家政人员3200人次。\n\n霏川市商务局\n2024年6月20日\n")
    r, _ = parse_labelled(letter("市商务局"), "x")
    spans = [r.text[f.start:f.end] for f in facts(r, ["lead_unit"])]
    assert spans[-1] == "霏川市商务局" and any("主办：市商务局" in s for s in spans[:-1])
    r, _ = parse_labelled(letter("霏川市商务局"), "x")
    assert len(facts(r, ["lead_unit"])) == 1
