"""Question analysis: topic, asked aspect, places (learned, and unknown ones), years, record fields."""
from __future__ import annotations

import pytest

from service.gazetteer import Gazetteer, signer_places
from service.query import analyse

GAZ = Gazetteer(places={"通州区": "通州区", "通州": "通州区", "海门区": "海门区", "海门": "海门区",
                        "崇川区": "崇川区", "崇川": "崇川区"}, proposers=frozenset({"戴红玲"}))


@pytest.mark.parametrize("question, aspect, narrow", [
    ("海门区给老人办的助餐点每餐补贴多少钱？", "amount", True),
    ("通州区老旧小区改造什么时候完成？", "date", True),
    ("为什么农村公路养护资金不足？", "reason", True),
    ("哪个单位负责农贸市场快检？", "who", True),
    ("通州区下一步在产教融合方面有什么打算？", "plan", False),
    ("崇川区有没有关于家庭医生的答复？", "exists", False),
    ("通州在产教融合方面做了哪些工作？", "work", False),
    ("崇川区高标准农田建设情况如何？", "work", False),  # 高标准 is a topic word, not 标准 asked
    ("轨道交通建设有什么规划？", "plan", False),
    ("农民建房没有规划可依，怎么解决的？", "work", False),  # 规划 as the topic's noun, not a plan asked
    ("乡村医生岗位补助以后会提高吗？", "plan", False),
    ("老小区改完以后谁来管？", "who", True),  # 以后 as "after", not the future
    ("给学校送午饭的是哪两家公司？", "who", True),  # 虚构示例
    ("改过的非机动车道现在有多宽？", "amount", True),
])
def test_aspect(question, aspect, narrow):
    q = analyse(question, GAZ)
    assert (q.aspect, q.narrow) == (aspect, narrow)


def test_topic_leaves_out_place_time_and_interrogatives():
    q = analyse("2021年崇川区家庭医生签约服务情况怎么样？", GAZ)
    assert q.topic == ["家庭医生", "签约", "服务"]
    assert q.topic_phrase == "家庭医生签约服务"
    assert q.places == ["崇川区"] and q.years == [2021]
    assert q.dense_text == "家庭医生签约服务情况怎么样？"  # the encoder does not see the constraints


def test_unknown_place_is_a_constraint():
    q = analyse("如东县家庭医生签约做了什么？", GAZ)
    assert q.places == [] and q.unknown_places == ["如东县"] and q.constrained
    assert "如东" not in "".join(q.topic)


def test_record_fields_and_number():
    q = analyse("第28号提案是哪个部门主办的？什么时候答复的？", GAZ)
    assert q.aspect == "field" and q.numbers == ["28"]
    assert q.fields == ["lead_unit", "reply_date"]
    q = analyse("戴红玲委员的提案是谁提的？协办单位有哪些？", GAZ)
    assert "co_units" in q.fields and "proposer" in q.fields and q.proposers == ["戴红玲"]
    assert analyse("戴红玲的提案谁协办的？", GAZ).fields == ["co_units"]
    assert analyse("第12号提案的答复单位是哪个？", GAZ).fields == ["lead_unit"]
    assert analyse("第12号提案是谁答复的？", GAZ).fields == ["lead_unit"]
    assert analyse("第45号建议哪天给的答复？", GAZ).fields == ["reply_date"]
    assert analyse("谁来养护农村公路？", GAZ).fields == []  # who does the work, not who answered
    # a content question with 什么时候 is not about the record
    assert analyse("加装电梯什么时候能完成？", GAZ).fields == []
    # ... but beside another question about the record it asks when the letter was answered
    assert analyse("陈红代表的建议是哪个部门答复的？什么时候？", GAZ).fields == ["lead_unit", "reply_date"]
    assert analyse("关于高标准农田建设的建议是几号建议？", GAZ).fields == ["number"]
    assert analyse("高标准农田的建议有哪些单位参与办理？", GAZ).fields == ["co_units", "lead_unit"]
    assert analyse("王建国委员的提案答复是A类还是B类？", GAZ).fields == ["category"]
    assert analyse("海门老年助餐的提案是几号？", GAZ).fields == ["number"]
    assert analyse("海门老年助餐的提案是几号答复的？", GAZ).fields == ["reply_date"]
    assert analyse("如皋校外培训的答复是哪个局签发的？", GAZ).fields == ["lead_unit"]


def test_relative_years_are_kept_apart_from_written_years():
    q = analyse("去年答应新增的助餐点建了没有？", GAZ, current_year=2024)
    assert q.relative_years == [2023] and q.years == []
    # asked of a letter, 今年/去年 are the letter's own years: not a constraint on which letter answers
    q = analyse("海门老年大学今年春季比去年多招了多少人？", GAZ, current_year=2026)
    assert q.years == [] and q.relative_years == [2025, 2026] and not q.multi
    assert "今年" not in "".join(q.topic) and "去年" not in "".join(q.topic)
    assert analyse("2023年海门老年大学招了多少人？", GAZ, current_year=2026).years == [2023]


def test_multi_and_listing():
    assert analyse("各区在老旧小区改造方面分别做了什么？", GAZ).multi
    assert analyse("通州和海门的家庭医生签约率分别是多少？", GAZ).multi
    assert analyse("通州这些年公共充电桩建了多少？", GAZ).multi  # several years' letters, each labelled
    assert not analyse("通州公共充电桩建了多少？", GAZ).multi
    assert analyse("人社局答复了哪些提案？", GAZ).listing


@pytest.mark.parametrize("signer, places", [
    ("南通市通州区教育体育局", ["南通市", "通州区"]),
    ("重庆市綦江区教育委员会", ["重庆市", "綦江区"]),
    ("高平市人民政府办公室", ["高平市"]),
    ("晋城市泽州县交通运输局", ["晋城市", "泽州县"]),
    ("南通市海门区市场监督管理局", ["南通市", "海门区"]),  # 市场 is not a 市
    ("海门区民政局", ["海门区"]),
    ("教体局", []),
    ("苍梧湾区城市管理和综合执法局", ["苍梧湾区"]),  # 虚构示例: 城市 ends in 市 but is not a place
    ("中共茗坪县委宣传部", ["茗坪县"]),  # 虚构示例
])
def test_places_from_signing_units(signer, places):
    assert signer_places(signer) == places


def test_gazetteer_learns_short_forms_and_labels():
    from index.records import Reply

    replies = [Reply(id="a", text="", signer="重庆市綦江区民政局"), Reply(id="b", text="", signer="山西省高平市民政局")]
    g = Gazetteer.from_replies(replies)
    assert g.places["綦江"] == "綦江区" and g.places["高平"] == "高平市"
    assert g.label(replies[0]) == "綦江区" and g.reply_in(replies[1], "高平市")
    assert [full for _, _, full in g.find("那高平呢？")] == ["高平市"]
    assert g.find_unknown("那江津区呢？", g.find("那江津区呢？")) == [(1, 4, "江津区")]
    assert g.find_unknown("全区新建社区食堂多少个") == []  # 全区/社区 are not places


@pytest.mark.parametrize("question, fields", [
    ("占道经营那件建议的提出人是谁？", ["proposer"]),
    ("银发经济提案是哪个党派提的？", ["proposer"]),
    ("第36号提案的办理单位？", ["lead_unit"]),
    ("第36号提案的协办单位？", ["co_units"]),
    ("第36号提案的答复单位和日期？", ["lead_unit", "reply_date"]),
    ("心理健康教育那件提案办复类别是几类？", ["category"]),
    ("第2023018号提案是谁提的？", ["proposer"]),
])
def test_record_fields_asked_as_noun_phrases(question, fields):
    q = analyse(question, GAZ)
    assert q.fields == fields
    assert not {"几类", "日期", "单位"} & set(q.topic)


@pytest.mark.parametrize("question, number", [
    ("第二十八号提案是哪个部门答复的？", "28"), ("第一百零五号建议是谁提的？", "105"), ("第十二号提案", "12"),
])
def test_a_number_written_in_chinese_numerals(question, number):
    assert analyse(question, GAZ).numbers == [number]


def test_a_short_form_two_places_share_names_both():
    """蓼汀区 and 蓼汀县 (虚构示例) both sign letters: 蓼汀 alone is either, so both constrain the question
    (a reply of either place may answer it), while the full name keeps to one."""
    from index.records import Reply

    g = Gazetteer.from_replies([Reply(id="a", text="", signer="蓼汀区民政局"), Reply(id="b", text="", signer="蓼汀县文化广电和旅游局"),
                                Reply(id="c", text="", signer="苍梧湾区城市管理和综合执法局")])
    assert analyse("蓼汀的城市书房几点关门？", g).places == ["蓼汀区", "蓼汀县"]
    assert analyse("蓼汀县的城市书房几点关门？", g).places == ["蓼汀县"]
    assert analyse("城市书房几点关门？", g).places == []
    assert [full for _, _, full in g.find("那蓼汀呢？")] == ["蓼汀区"]  # one span for follow-up rewriting


def test_a_town_named_with_its_county_is_a_topic_word_not_an_unknown_place():
    from index.records import Reply
    from service.gazetteer import Gazetteer

    gaz = Gazetteer.from_replies([Reply(id="r", text="", signer="梅岗县教育局")])  # 虚构示例
    q = analyse("梅岗龙潭镇中心初中的食堂改造是哪个月完工的？", gaz)
    assert q.places == ["梅岗县"] and q.unknown_places == [] and "龙潭" in "".join(q.topic)
    assert q.aspect == "date"
    assert analyse("如东县老年助餐每餐补贴多少？", gaz).unknown_places == ["如东县"]  # a county with no letter still is


def test_colloquial_reason_and_these_years():
    q = analyse("桐溪县的老人大学为啥老是报不上名？", GAZ)
    assert q.aspect == "reason" and "为啥" not in "".join(q.topic)
    q = analyse("这几年修老街巷子都干了些啥？", GAZ)
    assert q.multi and "几年" not in "".join(q.topic)
    from service.answerability import asked_unit

    assert asked_unit("这几年修老街巷子都干了些啥？") is None and asked_unit("学校几年能建好？") == "time"


def test_a_year_that_names_the_letter_itself():
    assert analyse("清溪县2021年那份农村饮水提案的答复是怎么说的？", GAZ).letter_years == [2021]
    assert analyse("2023年答复的加装电梯提案说了什么？", GAZ).letter_years == [2023]
    q = analyse("2021年农村饮水投了多少钱？", GAZ)  # a year the content reports on
    assert q.years == [2021] and q.letter_years == []


@pytest.mark.parametrize("question, fields", [
    ("苕陂县第112号建议是关于什么的？", ["title"]),
    ("第28号提案的题目是什么？", ["title"]),
    ("那个提案是几个委员联名的？领头的是谁？", ["proposer"]),
    ("第28号提案讲了什么？", []),  # the content, not the title
    ("第57号提案的联系人是谁？", ["contact"]),
    ("第57号提案的答复文号是多少？", ["doc_number"]),
    ("第57号提案的签发人是谁？", ["issuer"]),
    ("第112号是提案还是建议？", ["kind"]),
])
def test_title_and_joint_proposers_are_record_fields(question, fields):
    assert analyse(question).fields == fields


def test_a_date_asked_of_what_has_happened_is_not_a_plan():
    from service.query import asks_future

    assert not asks_future(analyse("芸香小学是哪年开始用的？"))
    assert not asks_future(analyse("新门诊楼什么时候开工的？"))
    assert asks_future(analyse("新门诊楼什么时候开工？"))
    assert asks_future(analyse("陂头镇卫生院的新门诊楼什么时候动工？"))
    assert not asks_future(analyse("是什么时候开始给骑手上工伤那种保险的？"))  # …的: it has happened
    assert asks_future(analyse("什么时候每个乡镇都能有给老人洗澡的地方？"))
    assert not asks_future(analyse("哪年全县都用上了自来水？"))


def test_a_year_named_when_asking_how_a_reply_answered_is_the_replys_year():
    assert analyse("2022年澈阳县对撂荒耕地建议是怎么答复的？").letter_years == [2022]
    assert analyse("2022年撂荒耕地复耕了多少亩？").letter_years == []  # a year the content reports on


@pytest.mark.parametrize("question", ["充电桩那个建议是征求了哪些部门意见后答复的？", "那件建议，协办单位都有哪些？",
                                      "这件提案是和哪些部门一起办的？"])
def test_co_units_asked_in_other_words(question):
    assert "co_units" in analyse(question).fields


@pytest.mark.parametrize("question", [
    "岫云市学校门口食品摊贩那个提案是哪个单位提的？", "霁川区二手房办税那件提案是谁提出来的？",
    "这条建议是哪两位代表提的？", "这个提案是什么党派提出的？",
])
def test_who_put_it_forward_is_the_proposer_in_any_wording(question):
    assert analyse(question).fields == ["proposer"]


def test_measures_that_are_not_about_the_record_stay_content():
    assert analyse("哪个部门提出的措施最多？").fields == []  # no proposal named: not a record question


def test_the_kind_written_after_a_number_is_kept():
    assert analyse("第57号提案是哪个单位答复的？").number_kinds == ["提案"]
    assert analyse("第二十八号建议是谁提的？").number_kinds == ["建议"]
    assert analyse("57号是什么内容？").number_kinds == []


@pytest.mark.parametrize("question, topic_absent", [
    ("琅屿2023年乱挂的广告原来打算拆多少，实际拆了多少？", ["原来", "实际"]),
    ("榕陂县扶持预制菜的专项钱，2023年真正发下去多少？", ["真正"]),
])
def test_which_figure_is_asked_is_not_the_topic_and_a_past_intention_is_not_a_plan(question, topic_absent):
    q = analyse(question)
    assert q.aspect == "amount"
    assert not set(topic_absent) & set(q.topic)


def test_which_few_asks_which_ones_not_how_many():
    assert analyse("准备先在哪几个镇试着盘活闲置宅基地？").aspect == "who"
    assert analyse("建了几个助餐点？").aspect == "amount"


def test_this_area_and_the_level_of_government_are_not_topic_words():
    q = analyse("禁放烟花爆竹这一块市里实际花了多少钱？")
    assert "烟花爆竹" in q.topic and not {"一块", "这一块", "市里", "实际"} & set(q.topic)
    assert not {"一共", "县里"} & set(analyse("县里一共给村里修了多少公里路？").topic)


def test_whether_there_is_any_reply_is_not_who_gave_it():
    """有没有什么答复 asks whether a reply exists (the topic's), not which unit answered; 什么部门答复的 asks who."""
    from service.query import analyse

    assert analyse("老年代步车上路管理有没有什么答复？").fields == []
    assert analyse("第28号提案是什么部门答复的？").fields == ["lead_unit"]
    assert analyse("第28号提案是谁答复的？").fields == ["lead_unit"]


def test_in_the_end_is_how_a_figure_is_asked_but_the_last_mile_is_a_topic():
    from service.query import analyse

    assert "最后" not in analyse("电商直播基地最后实际花了多少钱？").topic
    assert "最后" in analyse("山区饮水最后一公里那个提案是谁提的？").topic


@pytest.mark.parametrize("question,topic", [
    ("换燃气软管一户补多少钱？", ["燃气", "软管"]),
    ("退出的养殖户一亩补多少钱？", ["退出", "养殖户"]),
    ("托管班一节课收费多少？", ["托管", "收费"]),
    ("一户一表改造做了多少？", ["一表", "改造"]),
])
def test_the_unit_a_figure_is_asked_per_is_no_topic_word(question, topic):
    """一户, 一亩, 一节课 say how the figure is asked; a letter writes 每户, 每亩 (虚构示例)."""
    from service.query import analyse

    assert analyse(question).topic == topic


def test_these_two_years_is_no_topic_word():
    from service.query import analyse

    assert "两年" not in analyse("萩湾区这两年老人听力筛查分别筛了多少人？").topic
    assert not {"三年", "近三年"} & set(analyse("近三年农村公路建了多少公里？").topic)


def test_a_year_of_a_reply_asked_about_in_other_words_is_the_letters_year():
    """…2022年对排水防涝建议的答复是怎么说的 / 答复里说了些什么: 2022 is the year of the reply asked about (虚构示例)."""
    from service.query import analyse

    for question in ("砚川市2022年对排水防涝建议的答复是怎么说的？", "杏岭县2021年答复的农村客运建议里说了些什么？"):
        q = analyse(question)
        assert q.letter_years and q.letter_years[0] in (2021, 2022), question
