"""Answer types the asked aspect needs, and the record-field facts with their spans."""
from __future__ import annotations

import pytest

from service.answer import answer_question, strip_enumeration
from service.answerability import asked_details, asked_unit, holds_any, holds_detail
from tests.conftest import reply_letter, retriever_over


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
    # 几点关门 (虚构示例): a clock time answers, a date does not
    ("城市书房统一实行每天8:00至22:00开放。", "date", "clock", True),
    ("心理援助热线实行24小时值守。", "date", "clock", True),
    ("2023年新建城市书房12家。", "date", "clock", False),
    # 能报多少: an amount or a share
    ("每月费用限额1200元，基金支付75%。", "amount", "share", True),
    ("共开展宣讲活动386场。", "amount", "share", False),
    # 有多宽 (虚构示例): a width in metres, not kilometres of road
    ("改造后非机动车道宽度一般不小于2.5米。", "amount", "width", True),
    ("全年新建改造非机动车道38.6公里。", "amount", "width", False),
])
def test_holds_detail(sentence, aspect, unit, ok):
    assert holds_detail(sentence, aspect, unit) is ok


@pytest.mark.parametrize("question, unit", [
    ("每餐补贴多少钱？", "money"), ("修了多少公里？", "length"), ("建了几个助餐点？", "count"),
    ("签约率是多少？", "percent"), ("覆盖率达到多少？", "percent"), ("进展到多少了？", None),
    ("一天能处理多少吨？", "weight"), ("每年节约多少立方米水？", "volume"), ("光伏装机容量是多少？", "energy"),
    ("考上执业医师奖多少？", "money"), ("装电梯一台补多少？", "money"), ("补了多少个名额？", "count"),
    ("长护险每个月最多能报多少？", "share"), ("医保门诊能报多少？", "share"), ("看病能报多少钱？", "money"),
    ("改过的非机动车道现在有多宽？", "width"), ("排水沟挖多深？", "width"), ("带押过户办了多少笔？", "count"),
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
    # the header writes 教体局; the signature names it in full: both are cited, the header's line first
    leads = [r.text[f.start:f.end] for f in found if f.field == "lead_unit"]
    assert "承办单位" in leads[0] and leads[-1] == "南通市通州区教育体育局"
    assert "答复日期" in r.text[by["reply_date"].start:by["reply_date"].end]
    assert "戴红玲" in r.text[by["proposer"].start:by["proposer"].end]
    s = sentence(r, [by["lead_unit"], by["co_units"], by["reply_date"]])
    assert s.startswith("第28号") and "教育体育局主办" in s and "2023年6月30日答复" in s


def test_field_answer_names_co_units_and_says_what_the_letter_does_not_state(seed_retriever):
    a = answer_question(seed_retriever, "第28号提案是哪个部门主办的？")
    assert not a.no_answer
    assert "教育体育局主办" in a.lead and "人社局、区发改委协办" in a.lead
    # 主办 and 协办 stand on one line of the seed: one citation of it, not two of the same span; the signature, which
    # names the lead unit in full (the line writes 教体局), is the other
    assert len(a.citations) == 2 and "承办单位" in a.citations[0].passage
    assert a.citations[1].passage == "南通市通州区教育体育局"
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


def test_letter_label_one_naming_for_markdown_and_terminal():
    from index.records import letter_label
    from service.answer import _label
    from service.render_terminal import _num
    from index.records import Reply

    assert letter_label("51", "提案", "通州区") == "通州区第51号提案"
    assert letter_label("51", "提案", "通州区", "2023年") == "通州区2023年第51号提案"  # two letters of one place
    assert letter_label("", "", "海门区", title="关于助餐的建议") == "海门区《关于助餐的建议》"
    r = Reply(id="x", text="", number="51", kind="提案", title="关于家庭医生的提案", reply_date="2023-06-30")
    c = {"number": "51", "kind": "提案", "place": "通州区", "title": r.title}
    assert _label(r, ("南通市", "通州区"), with_year=True) == _num(c, "2023年") == "通州区2023年第51号提案"


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
    assert asked_unit("放学后托管一学期收多少？") == "money" and asked_unit("老年大学今年收了多少人？") == "count"
    assert asked_unit("老年大学招了多少人？") != "money"


def test_of_several_asks_the_money_one_sets_the_role():
    from service.answerability import money_role

    assert money_role("2023年新建了多少亩高标准农田，一亩平均投了多少钱？") == "invest"


def test_money_spent_is_a_projects_spending_unless_a_household_pays():
    from service.answerability import holds_detail, money_role

    assert money_role("城区2024年新买了几台抽水泵车，花了多少钱？") == "invest"
    assert money_role("老街停车这块，2023年钱实际花了多少？") == "invest"
    assert money_role("孩子上课后托管，家长一学期要花多少钱？") == "charge"
    # what a project's spending is written as (虚构示例)
    assert holds_detail("其中2024年新购置6台，采购金额共计390万元。", "amount", "money", "invest")
    assert holds_detail("专项资金预算900万元，实际完成支出736万元。", "amount", "money", "invest")


@pytest.mark.parametrize("question, asked", [
    ("城区2024年新买了几台抽水泵车，花了多少钱？", [("amount", "count", "台"), ("amount", "money", None)]),
    ("换燃气软管一户补多少，一共补了多少户？", [("amount", "money", None), ("amount", "count", "户")]),
    ("新学校是哪年开始用的，有多少个学位？", [("date", None, None), ("amount", "count", None)]),
    ("老化燃气管道去年改了多少？花了多少钱？", [("amount", "money", None)]),  # 改了多少 names no unit: one ask
    ("骑手驿站一个补助多少钱？", [("amount", "money", None)]),
    ("原本说要换15辆校车，最后换了几辆？为啥没换完？", [("amount", "count", "辆"), ("reason", None, None)]),
])
def test_a_question_of_two_asks_has_a_detail_per_clause(question, asked):
    from service.answerability import asked_details
    from service.query import analyse

    got = asked_details(question, analyse(question).aspect)
    assert [(d.aspect, d.unit, d.measure) for d in got] == asked


def test_a_count_asked_in_a_measure_is_answered_in_that_measure():
    from service.answerability import asked_details, holds_any

    d = asked_details("驿站有多少名骑手参保？", "amount")
    assert holds_any("纳入职业伤害保障的送餐员共962人。", d) and holds_any("共有骑手1400名。", d)
    assert not holds_any("已有41个住宅小区实行登记通行。", d)  # 个 counts 小区, not people
    d = asked_details("一共补了多少户？", "amount")
    assert holds_any("2023年共补助8612户。", d) and not holds_any("涉及老旧小区27个。", d)
    assert holds_any("涉及老旧小区27个。", asked_details("改了多少个小区？", "amount"))  # 个 asks for any count


def _seed_letter(number: int, title: str, date: str, body: str, signer: str = "北岭县农业农村局") -> str:
    """A letter in the seed's field-line layout, from 周明代表 and signed by `signer` on `date` (虚构示例)."""
    y, m, d = (int(x) for x in date.split("-"))
    return (f"建议/提案提出者: 周明 建议/提案号: {number}\n标题: {title}\n答复日期: {date}\n答复内容:\n周明代表：\n"
            f"{body}\n\n{signer}\n{y}年{m}月{d}日\n")


def test_the_figure_after_the_sentence_naming_the_topic_answers(settings, tmp_path):
    """The detail is looked for in the sentence after each best-matching one too (虚构示例)."""
    letter = _seed_letter(9, "关于老旧燃气设施改造的建议", "2024-06-20",
                          "您提出的建议收悉，现答复如下：\n"
                          "同步对居民户内燃气设施进行改造，将橡胶软管更换为不锈钢波纹管，加装自闭阀。县财政按每户380元的标准给予补助，"
                          "2023年共补助8612户。\n下一步将继续推进改造。", "北岭县住房和城乡建设局")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "北岭县更换燃气软管，每户补助多少钱，补助了多少户？")
    assert not a.no_answer
    assert "380元" in a.points[0].text and "8612户" in a.points[0].text  # one sentence answers both: it leads alone


def test_field_answers_title_proposers_as_written_and_the_signed_date(settings, tmp_path):
    """是关于什么的 → the title; 几位委员联名 → the proposers as the letter writes them (等4位委员); the reply date
    cited both where the header states it and under the signature (虚构示例)."""
    letter = ("关于市政协十届二次会议第0088号提案的答复\n答复日期: 2024-07-02\n\n葛婉清等4位委员：\n"
              "您们提出的《关于加强非遗传承人培养的提案》收悉，现答复如下：\n"
              "2023年全市认定市级非遗代表性传承人95名，传习补助每人每年2000元。\n感谢您们对非遗保护工作的关心。\n\n"
              "琮岭市文化广电和旅游局\n2024年7月2日\n")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "第88号提案是关于什么的？")
    assert not a.no_answer and "《关于加强非遗传承人培养的提案》" in a.lead
    assert any("关于加强非遗传承人培养的提案" in p.text for p in a.points)
    a = answer_question(r, "琮岭非遗那个提案是几个委员联名的？领头的是谁？")
    assert not a.no_answer and "葛婉清等4位委员" in a.lead
    a = answer_question(r, "琮岭非遗那件提案是什么时候答复的？")
    assert "2024年7月2日答复" in a.lead and "2024年7月2日" in [p.text for p in a.points]


def test_a_reply_date_is_cited_on_the_header_line_and_under_the_signature(settings, tmp_path):
    letter = _seed_letter(9, "关于老旧燃气设施改造的建议", "2024-06-20",
                          "您提出的建议收悉，现答复如下：\n县财政按每户380元的标准给予补助。", "北岭县住房和城乡建设局")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "第9号建议是什么时候答复的？")
    texts = [p.text for p in a.points]
    assert "2024年6月20日答复" in a.lead and "答复日期: 2024-06-20" in texts and "2024年6月20日" in texts


def test_a_ticket_is_a_charge_and_an_order_a_unit_of_rate():
    from service.answerability import asked_rate_or_total, asked_unit, holds_detail, money_role

    q = "非遗馆门票多少钱？"
    assert money_role(q) == "charge"
    assert not holds_detail("非遗馆总投资3800万元。", "amount", asked_unit(q), money_role(q))  # 虚构示例
    q = "外卖平台给骑手交职业伤害保障，每一单交多少钱？"
    unit = asked_unit(q)
    assert asked_rate_or_total(q, unit) is True
    assert not holds_detail("支付待遇金额共计276.5万元。", "amount", unit, money_role(q), "", True)
    assert holds_detail("平台按每单0.04元缴纳保障费用。", "amount", unit, money_role(q), "", True)


def test_found_is_not_money_paid_out():
    """查出多少处 asks a count of places found; 拿出多少 money (虚构示例)."""
    from service.answerability import asked_details, asked_unit, holds_any

    q = "小区消防通道查出多少处被占的，改好了多少？"
    assert asked_unit(q) == "count"
    d = asked_details(q, "amount")
    assert holds_any("共排查发现占用消防车通道问题1847处，已整改1792处。", d)
    assert not holds_any("主要通道宽度不足4米的有39个。", d)
    assert asked_unit("市里一共拿出多少扶持资金？") == "money"


def test_the_letters_own_labelled_lines_answer_questions_about_it(settings, tmp_path):
    """联系人 / 签发人 / 文号 / 提案还是建议, cited on the line that states them (虚构示例)."""
    letter = ("漪岭县交通运输局\n漪交函〔2024〕23号                 签发人：顾长林\n\n"
              "关于县十八届人大三次会议第112号建议的答复\n\n孙立新代表：\n"
              "您提出的《关于打通快递进村最后一公里的建议》收悉，现答复如下：\n"
              "全县已建成村级寄递物流综合服务点118个，行政村覆盖率达到93.7%。\n"
              "我县将继续关注亲情联系人制度的推广。\n感谢您对交通运输工作的关心。\n\n"
              "漪岭县交通运输局\n2024年6月20日\n（联系人：孙晓梅，联系电话：0571-6218834）\n")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "第112号建议的联系人是谁？")
    assert not a.no_answer and "孙晓梅" in a.lead and "0571-6218834" in a.lead
    assert any("联系人：孙晓梅" in p.text for p in a.points)
    a = answer_question(r, "第112号建议的签发人是谁？")
    assert "签发人为顾长林" in a.lead
    a = answer_question(r, "第112号建议的答复文号是多少？")
    assert "漪交函〔2024〕23号" in a.lead
    a = answer_question(r, "第112号是提案还是建议？")
    assert "人大代表的建议" in a.lead


def test_which_company_is_answered_by_a_company_named():
    from service.answerability import asked_details, holds_any

    d = asked_details("农房安全鉴定是请的哪家公司做的？", "who")
    assert not holds_any("委托具有资质的第三方专业机构进行安全鉴定，共鉴定C级危房1837户。", d)  # 虚构示例
    assert holds_any("委托荻埠县建科工程检测有限公司进行安全鉴定。", d)
    assert holds_any("县住建局负责组织鉴定。", asked_details("农房鉴定是哪个部门负责的？", "who"))


def test_when_works_started_is_not_answered_by_when_they_finished():
    from service.answerability import asked_details, holds_any

    d = asked_details("第二水厂是什么时候开工的？", "date")
    assert not holds_any("2024年10月，县第二水厂建成通水，设计日供水能力3万吨。", d)  # 虚构示例
    assert holds_any("县第二水厂于2023年3月开工建设。", d)
    assert holds_any("2  龙潭镇中心初中  改扩建就餐区  380  2022年12月", asked_details("食堂改造是哪个月完工的？", "date"))


def test_a_count_of_the_ones_that_are_so_must_say_which():
    from service.answerability import asked_details, holds_any

    d = asked_details("水生蔬菜加工企业中有几家是省级龙头企业？", "amount")
    assert holds_any("水生蔬菜加工企业38家，其中规模以上企业11家、省级农业产业化龙头企业3家。", d)  # 虚构示例
    d = asked_details("合作社里有几家是国家级示范社？", "amount")
    assert not holds_any("培育水生蔬菜专业合作社168家、家庭农场412家。", d)
    assert holds_any("其中国家级示范社2家、省级示范社9家。", d)


def test_a_number_naming_more_letters_than_top_k_answers_all_of_the_asked_kind_first(settings, tmp_path, seed_text):
    """Every year has a 第28号: a field question naming only the number lists each letter (up to 8, not top_k),
    the 提案 before a 建议 of the same number (虚构示例: the seed's header edited)."""
    files = {}
    for k, year in enumerate(range(2016, 2024)):
        t = seed_text.replace("答复日期: 2023-06-30", f"答复日期: {year}-06-30").replace("2023年5月22日", f"{year}年6月30日")
        if k == 0:  # a deputy's suggestion numbered 28 too
            t = t.replace("戴红玲委员", "戴红玲代表").replace("的提案收悉", "的建议收悉")
        files[f"{year}.txt"] = t
    r = retriever_over(settings, tmp_path / "c", files)
    assert settings.top_k < 8
    a = answer_question(r, "第28号提案是哪个部门主办的？")
    lines = a.lead.splitlines()
    assert len(lines) == 8
    assert "2016年第28号建议" in lines[-1]  # the 建议 numbered 28 comes after every 提案


def test_stances_of_the_asked_figures():
    from service.answer import STANCE_FIGURE, asked_stances

    assert asked_stances("广告原来打算拆多少，实际拆了多少？") == {"planned", "actual"}
    assert asked_stances("救助中心当初实际花了多少钱建的？") == {"actual"}
    assert asked_stances("今年财政准备了多少钱？") == {"planned"}
    assert asked_stances("交警到底罚过多少？") == set()  # emphasis, not a planned/actual contrast
    assert asked_stances("实际情况怎么样？") == set()  # no figure asked
    assert STANCE_FIGURE["actual"].search("项目概算投资680万元，实际完成投资612.4万元")
    assert not STANCE_FIGURE["actual"].search("年初预算安排480万元")
    assert STANCE_FIGURE["planned"].search("年初预算安排480万元")


def test_a_word_is_present_where_a_letter_writes_it_apart(settings, tmp_path):
    """消防通道 asked, 消防车通道 written: the word counts where all its parts are, also when another letter
    holds the word itself (虚构示例)."""
    a = _seed_letter(1, "关于小区消防车通道管理的建议", "2024-06-20", "2023年共清理占用消防车通道车辆1274辆。", "北岭市消防救援支队")
    b = _seed_letter(2, "关于老旧小区消防通道的建议", "2024-06-20", "2023年施划消防通道标线11.6公里。", "南岭区消防救援大队")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": a, "b.txt": b})
    owners = {r.index.reply_ids[int(r.index.chunk_reply[p])] for p in r._postings("消防通道")}
    assert len(owners) == 2


def test_a_reply_of_the_named_place_wording_the_topic_otherwise_is_not_overruled():
    """The dominance rule (another place's reply covers more of the words) spares a reply on topic by meaning
    alone that matches about as closely; one far below is still overruled."""
    from types import SimpleNamespace

    from index.settings import Settings
    from service.answerability import _as_close

    s = Settings()
    other = SimpleNamespace(sentence_z=6.65)
    assert _as_close(SimpleNamespace(sentence_z=6.29), other, s)
    assert not _as_close(SimpleNamespace(sentence_z=4.4), SimpleNamespace(sentence_z=5.87), s)
    assert not _as_close(SimpleNamespace(sentence_z=3.9), SimpleNamespace(sentence_z=3.9), s)  # below the bar


def test_a_figure_asked_for_a_year_comes_from_the_letter_stating_it_for_that_year(settings, tmp_path):
    """"2023年批了多少？": the 2024 letter's "2023年…批准1212宗" leads, not the 2023 letter's 2022 figures (虚构示例)."""
    title = "关于优化农村宅基地审批的建议"
    a = _seed_letter(86, title, "2023-06-30", "2022年，全县共受理农村宅基地申请1146宗，批准1038宗。\n计划2023年下半年举办宅基地审批培训班2期。\n"
                                              "全县宅基地审批批准率90.6%，宅基地审批平均用时15个工作日。")
    b = _seed_letter(23, title, "2024-06-21", "2023年，全县共受理农村宅基地申请1275宗，批准1212宗。")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": a, "b.txt": b})
    q = "北岭县2023年宅基地批了多少宗？"
    assert r.search(q).replies[0].reply.number == "23"
    ans = answer_question(r, q)
    assert not ans.no_answer and "1212宗" in ans.points[0].text


def test_books_and_boards_are_counted_in_their_own_measures():
    d = asked_details("城市书房加起来一共有多少本书？", "amount")
    assert holds_any("藏书9.8万册。", d)
    assert not holds_any("全市城市书房47家，借阅52.4万册次。", d)  # books lent (册次) and rooms are not books held
    d = asked_details("候车亭装了多少块电子到站牌？", "amount")
    assert holds_any("新装电子站牌120块。", d) and not holds_any("已建候车亭1102个。", d)


def test_which_company_is_asked_with_words_between():
    from service.answerability import COMPANY_ASK_RE

    assert COMPANY_ASK_RE.search("给沿街招牌做安全体检的是哪家检测公司？")
    d = asked_details("给沿街招牌做安全体检的是哪家检测公司？", "who")
    assert not holds_any("我局委托第三方检测机构开展沿街招牌安全体检。", d)
    assert holds_any("我局委托澜安工程检测有限公司开展沿街招牌安全体检。", d)
    # two companies asked (虚构示例): 3家企业 names none
    d = asked_details("给学校送午饭的是哪两家公司？", "who")
    assert not holds_any("承担配送任务的3家中央厨房企业均通过联合招标确定。", d)
    assert holds_any("由澜禾餐饮管理有限公司和桉丰食品公司承担配送。", d)


def test_money_asked_per_person_is_not_answered_by_a_yearly_sum():
    d = asked_details("村医每人每个月能拿到多少定额补助？", "amount")
    assert not holds_any("县财政每年安排乡村医生补助资金265万元，用于定额补助。", d)
    assert holds_any("乡村医生定额补助标准为每人每月800元。", d)
    assert holds_any("人均每月补助800元。", d)
    assert asked_details("一个月能拿多少工资？", "amount")[0].per is None  # 一个月 is a period
    assert asked_details("建一个快充桩补多少钱？", "amount")[0].per is None  # letters state it per 千瓦


def test_a_narrow_question_with_no_year_is_answered_from_each_years_letter_of_the_place(settings, tmp_path):
    """"一户补多少钱？" with a 2023 and a 2024 letter of the same county: both figures, each labelled (虚构示例)."""
    a = _seed_letter(29, "关于农村户厕改造的建议", "2023-06-30", "县财政对完成农村户厕改造的农户每户奖补1200元。")
    b = _seed_letter(76, "关于农村户厕改造的建议", "2024-06-27", "县财政对完成农村户厕改造的农户每户奖补1500元。")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": a, "b.txt": b})
    ans = answer_question(r, "北岭县农村户厕改造每户奖补多少钱？")
    assert not ans.no_answer
    lead = [p.text for p in ans.points[:2]]
    assert any("1200元" in t for t in lead) and any("1500元" in t for t in lead)
    ans = answer_question(r, "北岭县2024年农村户厕改造每户奖补多少钱？")  # a year named: that year's letter only
    assert "1500元" in ans.points[0].text and not any("1200元" in p.text for p in ans.points)


def _answer_over(settings, tmp_path, letters: dict[str, str], question: str):
    """The answer to `question` over an index of `letters` (fake encoder)."""
    return answer_question(retriever_over(settings, tmp_path / "c", letters), question)


def test_a_narrow_question_the_letter_answers_only_with_a_plan_leads_with_the_plan(settings, tmp_path):
    """"准备先在哪几个镇试点盘活闲置宅基地？": the plan naming the towns leads, not a done count (虚构示例)."""
    letter = _seed_letter(23, "关于盘活农村闲置宅基地的建议", "2024-06-21", "2023年，全县共受理农村宅基地申请1275宗，批准1212宗。\n"
                          "计划2024年在芦湾镇、梅渚镇开展闲置宅基地盘活利用试点，探索村内调剂。")
    ans = _answer_over(settings, tmp_path, {"a.txt": letter}, "北岭县闲置宅基地盘活利用试点在哪几个镇开展？")
    assert not ans.no_answer and "芦湾镇" in ans.points[0].text


def test_which_few_is_answered_by_a_sentence_naming_them():
    d = asked_details("准备先在哪几个镇试着盘活闲置宅基地？", "who")
    assert holds_any("计划2024年在芦湾镇、梅渚镇开展试点。", d)
    assert not holds_any("2023年，全县共受理农村宅基地申请1275宗。", d)  # 农村 names no 镇
    assert holds_any("在南苑、东湖等4个小区试点。", asked_details("有哪几个小区装了充电桩？", "who"))


def test_a_planned_figure_asked_is_answered_by_the_plan_stating_it(settings, tmp_path):
    """"资金预算是多少？": the budget (a plan's figure) leads, not last year's spending (虚构示例). With the fake
    encoder the plan also leads by PLAN_LEAD_GAP; on real questions (g14q14) the planned stance decides it."""
    letter = _seed_letter(76, "关于农村户厕改造的建议", "2024-06-27", "一、工作开展情况\n2023年全县农村户厕改造总投资1906万元。\n"
                          "二、下一步工作打算\n2024年县财政预算安排农村户厕改造资金2400万元。")
    ans = _answer_over(settings, tmp_path, {"a.txt": letter}, "北岭县农村户厕改造资金预算是多少？")
    assert not ans.no_answer and "2400万元" in ans.points[0].text


def test_who_pays_is_read_from_the_question_and_the_charge_from_its_verb():
    """虚构示例. 一户 asks a rate per household, not who pays; 验收, 兑付 and 清掏 are not charges, while a fee
    standard (保费标准) and a person paying (个人支付) are."""
    from service.answerability import holds_detail, money_role

    assert money_role("给困难残疾人家里做无障碍改造，去年平均一户花多少？") != "charge"
    assert money_role("叫抽粪车来清一次化粪池，农户要掏多少钱？") == "charge"
    assert money_role("暑假托管班收多少钱？") == "charge"
    assert not holds_detail("县财政对完成改造并通过验收的农户，每户奖补1200元。", "amount", "money", "charge")
    assert not holds_detail("2022年共兑付奖补资金391.2万元。", "amount", "money", "charge")
    assert holds_detail("保费标准为每生每年5元。", "amount", "money", "charge")
    assert holds_detail("其中居民个人每年仅需支付20元。", "amount", "money", "charge")
    assert holds_detail("托管班每生每月收300元。", "amount", "money", "charge")


def test_a_fee_of_its_own_name_must_be_named_by_the_sentence():
    """虚构示例. 摊位费 is not answered by a subsidy to the market, nor 慰问金 by a care allowance; money in general
    (资金, 经费) names no fee."""
    from service.answerability import asked_details, asked_fee, holds_any

    assert asked_fee("集贸市场改造后摊位费一个月多少钱？") == "摊位费"
    assert asked_fee("老年大学一学期要交多少学费？") == "学费"
    assert asked_fee("政府投了多少资金？") is None and asked_fee("停车收费标准是多少？") is None
    # the money asked is the one nearest its ask: 公积金缴存补贴预算多少 asks the 补贴, of which 公积金 is the topic
    assert asked_fee("灵活就业人员公积金缴存补贴预算多少？") is None and asked_fee("运维费一年要多少钱？") == "运维费"
    assert asked_fee("能不能自己交公积金？一个月最少得交多少？") is None
    d = asked_details("集贸市场改造后摊位费一个月多少钱？", "amount")
    assert not holds_any("对验收合格的市场按投资额的30%给予补助，单个市场补助最高150万元。", d)
    assert holds_any("改造后摊位费统一为每月每个摊位260元。", d)
    d = asked_details("给打零工的买意外险，一个人保费多少？", "amount")
    assert holds_any("每人每年保费60元，保障额度最高10万元。", d)
    d = asked_details("平台一年的运维费要多少钱？", "amount")
    assert holds_any("平台每年运维费用约45万元，由市财政承担。", d)
    assert not holds_any("累计纳入监管的预付资金2.46亿元。", d)


def _hits(rid: str, z: float, constraints_ok: bool = True):
    from index.records import Reply
    from service.records import ReplyHits
    reply = Reply(id=rid, text="……", title=rid)
    return ReplyHits(reply=reply, score=0.0, hits=[], sentence_z=z, constraints_ok=constraints_ok)


@pytest.mark.parametrize("first_z, other_z, on", [
    (3.9, 4.5, True),   # the named place's letter, nearly as close as the best letter anywhere: on topic in other words
    (3.9, 5.2, False),  # another place's letter matches far better: the named place has another topic
    (3.4, 3.4, False),  # below the bar that a sentence needs with some topic words
])
def test_place_lead(first_z, other_z, on):
    from types import SimpleNamespace

    from index.settings import Settings
    from service.answerability import place_lead
    settings = Settings(index_dir="unused")
    retriever = SimpleNamespace(settings=settings, index=SimpleNamespace(sentences=None))
    first, other = _hits("own", first_z), _hits("other", other_z, constraints_ok=False)
    q = SimpleNamespace(places=("漪湖县",), topic=("劝住", "上当"), aspect="work", text="漪湖县劝住了多少个老人没上当？", years=())
    place_lead(retriever, [first, other], q)
    assert first.on_topic is on and first.covers is on
    assert other.on_topic is False  # only the named place's first letter is judged again


def test_place_lead_needs_a_place():
    from types import SimpleNamespace

    from index.settings import Settings
    from service.answerability import place_lead
    retriever = SimpleNamespace(settings=Settings(index_dir="unused"), index=SimpleNamespace(sentences=None))
    first = _hits("own", 3.9)
    q = SimpleNamespace(places=(), topic=("无偿献血",), aspect="work", text="无偿献血工作开展得怎么样？", years=())
    place_lead(retriever, [first, _hits("other", 3.7)], q)
    assert first.on_topic is False


def test_transactions_are_counted_in_their_own_measure():
    # 多少笔 (虚构示例): a count of transactions, not of anything counted in 个 or 户
    d = asked_details("二手房带押过户办了多少笔？", "amount")
    assert holds_any("截至5月底，全区共办理二手房带押过户业务126笔。", d)
    assert not holds_any("全区共有二手房中介机构86个。", d)


def test_a_missing_count_is_named_as_a_count(settings, tmp_path):
    """"办了多少笔" on a letter that gives money but no count: the answer says the number is missing (虚构示例)."""
    letter = _seed_letter(18, "关于推行二手房带押过户的建议", "2024-06-20",
                          "您提出的建议收悉，现答复如下：\n我局会同不动产登记中心推行二手房带押过户，买卖双方无需先行筹资还贷。"
                          "二手房带押过户由登记中心和银行线上协同办理，全程不收取额外费用。\n下一步将扩大合作银行范围。",
                          "北岭县自然资源和规划局")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "北岭县二手房带押过户办了多少笔？")
    assert a.no_answer and "没有说明具体数量" in a.answer_markdown, a.answer_markdown


def test_money_from_the_province_must_be_named_so():
    # 省里补助了多少 (虚构示例): the county's own money does not answer; 省级补助资金 does
    d = asked_details("北岭县治积水的钱里，省里补助了多少？", "amount")
    assert d[0].giver == "省"
    assert not holds_any("县财政安排排水防涝资金2300万元。", d)
    assert holds_any("争取省级补助资金2140万元，县级财政配套2960万元。", d)
    assert asked_details("县里自己掏了多少钱？", "amount")[0].giver is None  # the letter's own level: not checked


def test_this_area_is_not_a_piece():
    """这一块 ("in this area") is no measure: 禁放这一块花了多少钱 asks a sum, not a price per piece."""
    from service.answerability import asked_details
    from service.query import analyse

    for text, rate in (("禁放烟花爆竹这一块市里实际花了多少钱？", False), ("那一块一共花了多少钱？", None),
                       ("一块充电桩补多少钱？", True), ("每块地补多少钱？", True)):
        q = analyse(text)
        assert [d.rate for d in asked_details(q.text, q.aspect)] == [rate], text


def _ask_one_letter(settings, tmp_path, question: str, head: str, filler: str, tail: str, **letter: str):
    """Answer `question` over one reply letter in the seed's layout (虚构示例): `head`, then fourteen sentences made from
    the `filler` template ({i} numbers them: text that buries the answer), then `tail`; `letter` gives level, number,
    proposer, title, signer and date. Fake encoder."""
    body = head + "".join(filler.format(i=i) for i in range(1, 15)) + "\n" + tail
    text = (f"关于{letter['level']}政协十届二次会议第{letter['number']}号提案的答复\n\n{letter['proposer']}委员：\n"
            f"您提出的《{letter['title']}》收悉，现答复如下：\n{body}\n感谢您的关心和支持。\n\n{letter['signer']}\n{letter['date']}\n")
    return answer_question(retriever_over(settings, tmp_path / "c", {"a.txt": text}), question)


def test_fines_asked_are_found_by_their_name_and_a_legal_range_is_no_sum(settings, tmp_path):
    """罚了多少钱 asks the fines imposed: the letter's 罚款合计 sentence answers, wherever cosine ranks it; the law's
    range (处五千元以上五万元以下罚款) is a standard per case, not the sum."""
    from service.answerability import asked_details, holds_detail
    from service.query import analyse

    q = analyse("小区消防通道被占，去年一共罚了多少钱？")
    assert [d.role for d in asked_details(q.text, q.aspect)] == ["fine"] and "一共" not in q.topic
    law = "对单位处五千元以上五万元以下罚款，对个人处警告或者五百元以下罚款；"
    assert not holds_detail(law, "amount", "money", "fine", "", None)
    assert holds_detail("依法实施行政处罚386起，罚款合计41.2万元。", "amount", "money", "fine", "", None)
    assert not holds_detail("2023年投入整治资金41.2万元。", "amount", "money", "fine", "", None)  # money, but no fine
    a = _ask_one_letter(settings, tmp_path, "青川小区消防通道被占，去年一共罚了多少钱？", f"根据消防法规定，占用消防车通道的，{law}\n",
                        "第{i}片区对住宅小区消防车通道开展巡查，施划标线标识，张贴告知书。",
                        "对拒不整改的单位和个人，依法实施行政处罚386起，罚款合计41.2万元。", level="市", number="131", proposer="李明",
                        title="关于整治小区消防通道被占用的提案", signer="青川市消防救援支队", date="2024年7月2日")
    assert not a.no_answer and "41.2万元" in a.points[0].text


def test_the_sentences_checked_for_a_figure_are_evidence_not_the_title_or_headings(seed_retriever):
    from service.answerability import best_sentences
    from tests.conftest import SEED_QUESTION

    q = seed_retriever.understand(SEED_QUESTION)
    g = seed_retriever.search(SEED_QUESTION, query=q).replies[0]
    st = seed_retriever.index.sentences
    labels = {st.label_of(int(r)) for r in g.sentence_rows}
    assert {"title", "heading"} & labels  # the reply has them …
    rows = best_sentences(seed_retriever, g, q, k=len(g.sentence_rows))
    assert rows and {st.label_of(r) for r, _ in rows} <= {"done", "plan"}  # … and none is checked for the figure


def test_a_year_binds_the_ask_of_its_own_clause_and_a_bare_second_ask_counts_in_the_firsts_unit():
    from service.answerability import asked_details, money_role
    from service.query import analyse

    q = analyse("水库移民每人每年直补多少钱？2023年一共发了多少？")
    rate, total = asked_details(q.text, q.aspect)
    assert (rate.unit, rate.rate, rate.years) == ("money", True, ())  # the standard: no year asked of it
    assert (total.unit, total.rate, total.years) == ("money", None, (2023,))  # 发了多少: money too, for 2023
    q = analyse("禾丰县2023年新建了多少亩高标准农田，一亩平均投了多少钱？")
    assert [d.years for d in asked_details(q.text, q.aspect)] == [(2023,), ()]
    assert asked_details("2023年补了多少钱？", "amount")[0].years is None  # one ask: the question's years bind it
    # 县里自己掏了多少: what the county paid in, not a charge on families
    assert money_role("县里自己掏了多少") == "invest" and money_role("家长自己掏多少钱") == "charge"


def test_a_two_part_question_is_answered_when_each_ask_holds_in_its_own_year(settings, tmp_path):
    a = _ask_one_letter(settings, tmp_path, "清溪县水库移民每人每年直补多少钱？2023年一共发了多少？", "",
                        "第{i}个移民村修建了村道和文化广场，群众出行和活动条件得到改善。",
                        "按照国家规定，对纳入扶持范围的移民每人每年补助600元，扶持期限20年。\n"
                        "2023年全县共发放后期扶持直补资金1278万元，发放率100%。", level="县", number="41", proposer="王明",
                        title="关于做好水库移民后期扶持工作的提案", signer="清溪县水利局", date="2024年7月10日")
    assert not a.no_answer  # before: the standard (no year) failed the year of the second ask, and the question was refused
    text = "\n".join(p.text for p in a.points)
    assert "600元" in text and "1278万元" in text


def test_how_often_is_asked_as_a_count_per_period_not_a_length_of_time(settings, tmp_path):
    """多久来一趟 asks how often: 每月…不少于2次 answers it; a term of service (服务期限3年) is a length of time, not it."""
    from service.query import analyse

    q = analyse("法律顾问多久要到村里一趟？")
    assert [d.unit for d in asked_details(q.text, q.aspect)] == ["frequency"]
    assert "多久" not in q.topic and "一趟" not in q.topic
    assert asked_unit("一个月能来几次？") == "frequency" and asked_unit("要等多久？") == "time"
    assert holds_detail("法律顾问每月到村现场服务不少于2次。", "amount", "frequency")
    assert holds_detail("每季度集中授课1次。", "amount", "frequency")
    assert not holds_detail("法律顾问服务期限为3年。", "amount", "frequency")
    assert not holds_detail("共开展法治讲座530次。", "amount", "frequency")  # a count with no period
    a = _ask_one_letter(settings, tmp_path, "青川的法律顾问多久要到村里一趟？", "",
                        "第{i}个村的法律顾问服务期限为3年，由司法所统一聘请。",
                        "2023年我局印发工作规范，明确法律顾问每月到村现场服务不少于2次。", level="县", number="27", proposer="王明",
                        title="关于让法律顾问真正走进村里的提案", signer="青川县司法局", date="2024年5月30日")
    assert not a.no_answer and "不少于2次" in a.points[0].text


def test_a_rate_per_the_asked_unit_is_found_wherever_cosine_ranks_it(settings, tmp_path):
    """一户补多少钱: the letter's 每户1500元 answers even when sentences sharing more of the question's words fill the
    best-matching ones (a standard raised in a later paragraph names neither 改厕 nor 一户)."""
    a = _ask_one_letter(settings, tmp_path, "青川县农村改厕一户补多少钱？", "",
                        "第{i}个村农村改厕全部完成，一户一厕，粪污得到处理。",
                        "由于建材和人工价格上涨，经县政府同意，自2023年起县级奖补标准提高到每户1500元。", level="县", number="76",
                        proposer="王明", title="关于巩固提升农村户厕改造成效的提案", signer="青川县农业农村局", date="2024年6月27日")
    assert not a.no_answer and "1500元" in a.points[0].text


def test_each_years_letter_leads_with_its_own_sentence_holding_the_asked_figure(settings, tmp_path):
    """One county's letters of two years on a topic, asked "一户补多少钱" with no year: each letter's lead is the
    sentence stating its per-household rate (1200元, then 1500元), not the letter's best-matching total."""
    def letter(number: str, title: str, body: str, date: str) -> str:
        return reply_letter(number, title, body, "青川县农业农村局", date)

    r = retriever_over(settings, tmp_path / "c", {
        "a.txt": letter("29", "关于做好农村改厕的建议", "2022年全县完成农村改厕3260户，一户一厕。\n"
                        "县财政对完成农村改厕并通过验收的农户，每户奖补1200元。\n", "2023年6月30日"),
        "b.txt": letter("76", "关于巩固提升农村改厕成效的提案", "2023年全县完成农村改厕3812户，一户一厕，总投资1906万元。\n"
                        "经县政府同意，自2023年起农村改厕奖补标准提高到每户1500元。\n", "2024年6月27日")})
    a = answer_question(r, "青川县农村改厕一户补多少钱？")
    direct = {p.reply_id[:2]: p.text for p in a.points if p.role == "direct"}
    assert not a.no_answer and "1200元" in direct["29"] and "1500元" in direct["76"]


def test_when_a_thing_was_finished_is_answered_by_the_date_bound_to_its_finishing(settings, tmp_path):
    """啥时候建好的: the date the works were finished (2024年5月20日建成投入运行) leads, not the date they were
    planned (2023年3月列为民生实事项目), though the planned one shares more of the question's words."""
    from service.answerability import asked_shapes

    shapes = asked_shapes("城东那个泵站啥时候建好的？")
    assert shapes and asked_shapes("新校舍什么时候能用上？") and not asked_shapes("泵站什么时候开工？")
    assert any(p.search("经审计，实际完成投资4215万元，于2024年5月20日建成投入运行。") for p in shapes)
    assert not any(p.search("2023年3月，县政府将城东泵站扩建工程列为民生实事项目。") for p in shapes)
    a = _ask_one_letter(settings, tmp_path, "青川县城东那个泵站啥时候建好的？", "",
                        "第{i}片区排涝设施运行正常。",
                        "2023年3月，城东泵站扩建工程列为民生实事项目，城东泵站扩建后排涝能力提高。\n"
                        "城东泵站扩建工程于2024年5月20日建成投入运行。", level="县", number="33", proposer="王明",
                        title="关于提升县城排水防涝能力的提案", signer="青川县住房和城乡建设局", date="2024年6月20日")
    assert not a.no_answer and "2024年5月20日" in a.points[0].text



def test_money_named_before_its_paying_out_is_money():
    """那笔专项钱…发下去多少 asks money though 多少 stands far from the money it counts; 发了多少人 still counts people."""
    from service.query import analyse

    q = analyse("扶持预制菜每年拿出的那笔专项钱，2023年真正发下去多少？")
    assert [d.unit for d in asked_details(q.text, q.aspect)] == ["money"]
    assert asked_unit("补贴发了多少人？") == "count"


def test_money_funded_per_head_at_a_standard_or_paid_out_is_a_subsidy():
    """补贴多少: 按照每个村每年6000元的标准安排经费 and 发放…元 state what is given; money put into works does not."""
    assert holds_detail("区财政按照每个村（社区）每年6000元的标准安排法律顾问经费。", "amount", "money", "subsidy")
    assert holds_detail("2023年共发放高龄津贴1.2亿元。", "amount", "money", "subsidy")
    assert holds_detail("孤独症儿童康复训练救助标准提高到每人每年最高2.4万元。", "amount", "money", "subsidy")
    assert not holds_detail("2023年投入整治资金41.2万元。", "amount", "money", "subsidy")


def test_how_things_stand_in_the_end_is_told_by_the_places_latest_letter(settings, tmp_path):
    """最后实际花了多少钱: of one district's 2023 and 2024 letters on its 直播基地, both on the topic, the 2024 letter
    (the actual cost) comes first; asked without 现在/最后, the ranking is left as it was."""
    def letter(number: str, body: str, date: str) -> str:
        return reply_letter(number, "关于发展农村电商直播基地的提案", body, "青川区商务局", date, level="区")

    r = retriever_over(settings, tmp_path / "c", {
        "a.txt": letter("185", "区电商直播基地计划投资480万元建设，电商直播基地设直播间16个。\n电商直播基地预计2024年1月投入运营。\n",
                        "2023年6月30日"),
        "b.txt": letter("119", "基地于2024年1月投入运营，实际投资516.3万元。\n入驻企业34家。\n", "2024年7月5日")})
    res = r.search("青川区电商直播基地最后实际花了多少钱？")
    assert res.answerable and res.replies[0].reply.number == "119"
    res = r.search("青川区电商直播基地花了多少钱？")
    assert res.answerable and res.replies[0].reply.number == "185"


def test_money_asked_of_a_counted_set_is_answered_by_a_sentence_that_counts_it():
    """那86个监控点一共花了多少钱: 建成监控点位86个，投入资金516万元 answers; a grant for something else (补助199.2万元)
    does not, though it is money of the same letter."""
    from service.query import analyse

    q = analyse("苘塘县装那86个“蓝天卫士”监控点一共花了多少钱？")
    d = asked_details(q.text, q.aspect)
    assert d[0].counted == ("86", "个")
    assert holds_any("全县建成“蓝天卫士”监控点位86个，投入资金516万元。", d)
    assert not holds_any("对新建收储中心购置设备给予补助，2023年补助199.2万元。", d)
    assert not holds_any("建成监控点位186个，投入资金516万元。", d)  # 186, not 86
    assert asked_details("监控点一共花了多少钱？", "amount")[0].counted is None


def test_a_bare_kuai_in_a_letter_counts_things_not_yuan():
    """设置禁放提示牌120块 states no money; 每人补贴500块钱 does (a letter writes 元; 块钱 when it quotes speech)."""
    assert not holds_detail("各社区设置禁放提示牌120块。", "amount", "money")
    assert holds_detail("每人补贴500块钱。", "amount", "money")
    assert holds_detail("每人补贴500元。", "amount", "money")


def test_what_a_thing_was_bought_for_is_a_purchase_not_a_fee_or_grant_it_earns():
    """那9辆收运车是花多少钱买的: 购置收运车9辆，投入资金126万元 answers; 收运处理费每吨15元 and 运营补助 do not."""
    from service.answerability import money_role
    from service.query import analyse

    assert money_role("那9辆收运车是花多少钱买的？") == "purchase" and money_role("购置设备花了多少钱？") == "purchase"
    assert money_role("政府花了多少钱？") == "invest"
    q = analyse("苘塘县那9辆畜禽粪污收运车是花多少钱买的？")
    d = asked_details(q.text, q.aspect)
    assert holds_any("县财政购置畜禽粪污收运车9辆，投入资金126万元。", d)
    assert not holds_any("两个中心共配备收运车9辆，收取收运处理费每吨15元，县财政按每吨20元给予运营补助。", d)


def test_rent_asked_is_answered_by_the_rent_stated():
    """租一间一个月多少钱: 直播间月租金800元 answers; a prize or a grant in the same letter does not."""
    from service.answerability import money_role
    from service.query import analyse

    assert money_role("直播间租一间一个月多少钱？") == "rent" and money_role("租赁住房补贴多少钱？") == "subsidy"
    q = analyse("翎湾区电商直播基地的直播间，租一间一个月多少钱？")
    d = asked_details(q.text, q.aspect)
    assert holds_any("基地直播间对外出租，每间月租金800元。", d)
    assert not holds_any("评选出优秀主播10名，每人给予5000元奖励。", d)


def test_money_asked_of_using_a_service_once_is_its_price():
    """民宿住一晚平均要多少钱 asks the price a guest pays: 民宿平均房价每晚260元 answers, a grant to the owners does not."""
    from service.answerability import money_role
    from service.query import analyse

    assert money_role("民宿住一晚平均要多少钱？") == "charge" and money_role("修这座桥要多少钱？") is None
    assert money_role("失能老人洗一次澡现在补贴多少钱？") == "subsidy"
    q = analyse("槿川区的民宿住一晚平均要多少钱？")
    d = asked_details(q.text, q.aspect)
    assert holds_any("全区民宿平均房价每晚260元。", d)
    assert not holds_any("对利用闲置农房改造的民宿，按照实际投资额的20%给予补助，单家最高30万元。", d)


def _answer_over_one(settings, tmp_path, letter: str, question: str):
    """The answer to `question` over an index of one letter (fake encoder)."""
    return answer_question(retriever_over(settings, tmp_path / "c", {"a.txt": letter}), question)


def _judged(question: str, coverage: float, z: float) -> bool:
    """on_topic of one reply with the given topic coverage and best-sentence z (the rule alone, no index)."""
    from types import SimpleNamespace

    from index.settings import Settings
    from service.answerability import judge
    from service.query import analyse

    retriever = SimpleNamespace(settings=Settings(), index=SimpleNamespace(manifest={"model": "fake"}, sentences=None),
                                min_dense=None)
    g = SimpleNamespace(sentence_best=0.9, topic_coverage=coverage, sentence_z=z, identified=False, department_ok=False,
                        constraints_ok=True, coverage=coverage, dense_best=None)
    judge(retriever, g, analyse(question))
    return g.on_topic


def test_a_question_whether_any_reply_discusses_a_topic_needs_its_words():
    """"有没有哪份答复讲过…": a letter naming none of the topic's words does not discuss it, however close one of its
    sentences comes in meaning; the same closeness still puts a letter on topic for a question about the work."""
    assert not _judged("蚊媒传染病的防控有没有哪份答复讲过？", coverage=0.0, z=4.3)
    assert not _judged("未成年人沉迷网络游戏的问题，有相关的提案答复吗？", coverage=0.05, z=4.3)
    assert _judged("城区遛狗不拴绳的事，有部门答复过吗？", coverage=0.2, z=4.3)
    assert _judged("芩川饭店门口装了几家油烟在线监控？", coverage=0.0, z=4.3)


def test_tenths_of_a_yuan_are_money_and_a_count_of_turnouts_is_not():
    from service.answerability import asked_unit
    from service.query import analyse

    assert asked_unit("用一次给企业补几毛钱？") == "money" and analyse("用一次给企业补几毛钱？").aspect == "amount"
    assert asked_unit("镇里的救火队去年一共出了多少趟警？") == "count"
    d = asked_details("镇里的救火队去年一共出了多少趟警？", "amount")[0]
    assert holds_any("2023年，全县9支乡镇专职消防队共出警1126次。", [d])


def test_a_figure_of_a_named_year_is_sought_in_the_whole_letter(settings, tmp_path):
    """"2023年买AED预算多少？" asked of a 2024 letter: the sentence stating 2023's budget, however far down (虚构示例)."""
    body = ("2023年市财政安排预算900万元，通过集中带量采购，全年实际支出784.6万元。\n"
            "2024年计划新增AED 500台，市财政已安排配置资金预算680万元。\n"
            + "".join(f"{p}买AED {n}台，所需预算由各单位在年度预算中安排。\n"
                      for p, n in [("车站", 12), ("学校", 30), ("商场", 21), ("公园", 9), ("体育馆", 6), ("医院", 14),
                                   ("社区", 44), ("景区", 8), ("机场", 5), ("码头", 3), ("图书馆", 2), ("剧院", 4)]))
    a = _answer_over_one(settings, tmp_path, reply_letter("445", "关于在公共场所普及配置AED的提案", body, "南岭市卫生健康委员会", "2024年7月2日", level="市"), "南岭市2023年买AED预算多少？实际花了多少？")
    assert not a.no_answer and "784.6万元" in a.points[0].text


def test_what_is_lacking_does_not_lead_an_answer_about_the_work(settings, tmp_path):
    """"…是怎么答复的": a sentence under 存在的问题 is not what was done, however many of the question's words it has."""
    body = ("一、主要做法\n遴选备案社会培训评价组织9家，开展新职业技能等级认定。\n"
            "二、存在的问题\n一是新职业培训的师资和教材相对缺乏，职业培训标准不统一，职业培训覆盖面不足。\n"
            "三、下一步打算\n将扩大新职业培训。")
    a = _answer_over_one(settings, tmp_path, reply_letter("26", "关于加强职业技能培训的建议", body, "南岭县人力资源和社会保障局", "2023年7月12日"), "南岭县职业培训的提案是怎么答复的？")
    assert not a.no_answer and "评价组织9家" in a.points[0].text


def test_a_count_of_what_was_done_is_not_answered_by_the_standard(settings, tmp_path):
    """"配了几辆消防车": 配备消防车14辆, not the standard 每队配备消防车不少于1辆 (虚构示例)."""
    body = ("建设标准分为两级：一级专职消防队配备消防车不少于2辆；二级专职消防队配备消防车不少于1辆。\n"
            "截至2024年5月底，全县已建成乡镇专职消防队9支，共有专职队员101人，配备消防车14辆。")
    a = _answer_over_one(settings, tmp_path, reply_letter("618", "关于加快乡镇专职消防队建设的建议", body, "南岭县消防救援大队", "2024年6月27日"), "南岭县配了几辆消防车？")
    assert not a.no_answer and "14辆" in a.points[0].text
    from service.answer import NORM_FIGURE_RE, REALIZED_ASK_RE

    assert REALIZED_ASK_RE.search("配了几辆消防车？") and not REALIZED_ASK_RE.search("每队要配几辆消防车？")
    assert NORM_FIGURE_RE.search("每队配备消防车不少于2辆") and not NORM_FIGURE_RE.search("配备消防车14辆")


def test_a_question_about_a_letters_record_names_that_letters_year():
    from service.query import analyse

    assert analyse("2023年人防那个建议是第几号？几位代表提的？").letter_years == [2023]
    assert analyse("2023年人防工程改造了几处？").letter_years == []


def test_a_named_rate_asked_is_a_share_and_its_sentence_leads(settings, tmp_path):
    """"利用率到多少": a share; the sentence naming 利用率 leads, not another share (增长18.4%) (虚构示例)."""
    assert asked_details("人防工程平时利用率到多少了？", "amount")[0].unit == "percent"
    body = ("2023年全市公用人防工程平时使用收入1126万元，比2022年增长18.4%。\n"
            "平时开发利用面积126.4万平方米，平时利用率由2022年底的60.4%提高到65.2%。")
    a = _answer_over_one(settings, tmp_path, reply_letter("463", "关于深化人防工程平战结合的提案", body, "南岭市人民防空办公室", "2024年6月27日", level="市"), "南岭市人防工程平时利用率到多少了？")
    assert not a.no_answer and "65.2%" in a.points[0].text


def test_money_for_the_counted_set_and_per_person_however_written():
    d = asked_details("买的那6架防火无人机花了多少钱？", "amount")[0]
    assert d.counted == ("6", "架")
    assert holds_any("购置森林防火无人机6架，投入资金96万元。", [d]) and not holds_any("森林防火总投入2316万元。", [d])
    assert asked_details("培训农机手，每个人给补贴多少钱？", "amount")[0].per == "人"


def test_whether_it_got_done_is_answered_by_the_sentence_saying_so(settings, tmp_path):
    """"改成了没有？": the sentence stating the result (实际完成改造4处) leads, not one on the same works' rules."""
    from service.answerability import asked_shapes

    assert asked_shapes("那到2024年的答复里改成了没有？") and asked_shapes("现在都装好了没？") and not asked_shapes("这个提案是谁提的？")
    body = ("我办制定了人防工程平战转换预案，明确各类人防工程停车场改造的转换时限和责任单位。\n"
            "2023年计划改造的人防工程停车场，实际完成改造4处，新增泊位980个。")
    a = _answer_over_one(settings, tmp_path, reply_letter("463", "关于深化人防工程平战结合的提案", body, "南岭市人民防空办公室", "2024年6月27日", level="市"), "南岭市人防工程停车场改造改成了没有？")
    assert not a.no_answer and "实际完成改造4处" in a.points[0].text


def test_a_heading_dealing_with_a_difficulty_is_work_not_a_difficulty(settings, tmp_path):
    """（二）解决老年乡村医生养老问题 heads work done; only a heading listing difficulties (三、存在的问题) keeps its
    sentences out of the lead of a work question (虚构示例)."""
    from service.answer import ADDRESSES_RE

    assert ADDRESSES_RE.search("二、提高乡村医生待遇的主要措施 （二）解决老年乡村医生养老问题")
    assert not ADDRESSES_RE.search("三、存在的问题")
    body = ("（一）解决老年乡村医生养老问题\n对离岗乡村医生按每满1年工作年限每月补助15元的标准发放生活补助，共发放生活补助86万元。\n"
            "（二）存在的问题\n部分乡村医生年龄偏大，离岗乡村医生生活补助标准偏低，生活补助发放不及时。")
    a = _answer_over_one(settings, tmp_path, reply_letter("57", "关于提高乡村医生待遇的提案", body, "南岭县卫生健康局", "2024年7月3日"), "南岭县离岗乡村医生生活补助做了哪些工作？")
    assert not a.no_answer and "每月补助15元" in a.points[0].text


def test_a_year_before_guan_yu_names_the_letter():
    from service.query import analyse

    assert analyse("岚浦市2022年关于流浪猫狗的提案答复里收容了多少只？").letter_years == [2022]
    assert analyse("2023年关于加装电梯补了多少钱？").letter_years == []


def test_a_grant_asked_per_unit_is_sought_in_the_whole_letter(settings, tmp_path, monkeypatch):
    """一亩补多少钱: the letter's 每亩1200元 sentence answers wherever cosine ranks it; a cost asked per 亩 (一亩总共得花
    多少钱) is not answered by that grant (虚构示例)."""
    import service.answerability as AB

    letter = dict(level="市", number="212", proposer="周明", title="关于推进湖泊退养还湿的提案", signer="青川市林业局",
                  date="2024年7月3日")
    filler = "第{i}片区{i}0户养殖户退出围网养殖{i}00亩，兑付补偿资金{i}0万元。"
    tail = "市政府办公室印发了补偿办法。补偿标准为每亩1200元，按期完成的另奖励每亩300元。"
    a = _ask_one_letter(settings, tmp_path / "a", "青川退养还湿，退出的养殖户一亩补多少钱？", "", filler, tail, **letter)
    assert not a.no_answer and "每亩1200元" in a.points[0].text
    cost = _ask_one_letter(settings, tmp_path / "b", "青川退养还湿，退出的养殖户一亩总共得花多少钱？", "", filler, tail, **letter)
    assert cost.no_answer
    monkeypatch.setattr(AB, "RATE_ROLES", ())  # without the whole-letter search the grant's sentence is not found
    a = _ask_one_letter(settings, tmp_path / "c", "青川退养还湿，退出的养殖户一亩补多少钱？", "", filler, tail, **letter)
    assert a.no_answer


@pytest.mark.parametrize("sentence,held", [
    ("湿地管护员每人每月补贴1800元，由市财政承担。", True),
    ("管护员补贴标准为每月1500元。", True),
    ("管护员补贴标准为1500元。", True),  # no period stated: a standard, which may answer
    ("补偿标准为每亩1200元。", False),  # a rate per a thing
    ("管护员补贴每人每年2.4万元。", False),  # another period
])
def test_money_asked_per_month_is_not_answered_by_a_rate_per_a_thing_or_another_period(sentence, held):
    """蓊城市的湿地管护员一个月补贴多少钱 (虚构示例)."""
    from service.answerability import asked_details, holds_any
    from service.query import analyse

    q = analyse("湿地管护员一个月补贴多少钱？")
    (d,) = asked_details(q.text, q.aspect)
    assert d.period == "月"
    assert bool(holds_any(sentence, [d])) is held
    assert asked_details("一次补几毛钱？", "amount")[0].period is None  # per use: letters word it freely


def test_a_set_the_question_refers_to_by_its_count_puts_the_letter_on_topic(settings, tmp_path, monkeypatch):
    """那24个菜场: the letter counting 24家…市场 is the one asked about, though it never says 菜场 (虚构示例)."""
    import service.answerability as AB
    from service.answerability import states_counted

    assert states_counted("24家列入计划的市场中已完成改造16家", ("24", "个"), any_measure=True)
    assert not states_counted("24家列入计划的市场中已完成改造16家", ("24", "个"))  # money's check keeps to the measure
    assert not states_counted("124家市场", ("24", "个"), any_measure=True)
    letter = dict(level="市", number="137", proposer="周明", title="关于加快农贸市场提档升级的提案", signer="青川市商务局",
                  date="2024年7月5日")
    filler = "第{i}家农贸市场完成钢棚除锈和排水沟疏通，设置公平秤和信息公示屏。"
    tail = "2022年底专项摸排中，共有24家市场被列入提档升级范围。截至2024年6月底，24家列入计划的市场中已完成改造16家，正在施工5家。"
    question = "青川列入计划的那24个菜场，到现在改好了几个？"
    a = _ask_one_letter(settings, tmp_path / "a", question, "", filler, tail, **letter)
    assert not a.no_answer and "16家" in a.points[0].text
    monkeypatch.setattr(AB, "asked_counted", lambda text: None)  # without the count the letter is off topic (菜场 ≠ 市场)
    assert _ask_one_letter(settings, tmp_path / "b", question, "", filler, tail, **letter).no_answer
