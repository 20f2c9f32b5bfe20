"""Extractive answers: every point is a sentence of a cited passage; courtesy never cited; not-found path."""
from __future__ import annotations

import pytest

from service.answer import answer_question
from tests.conftest import SEED_QUESTION


@pytest.fixture
def seed_answer(seed_retriever):
    return answer_question(seed_retriever, SEED_QUESTION)


def test_points_are_substrings_of_cited_passages(seed_answer, seed_index):
    a = seed_answer
    assert not a.no_answer and a.points
    cites = {c.n: c for c in a.citations}
    for p in a.points:
        assert p.citations
        for n in p.citations:
            assert p.text in cites[n].passage
    for c in a.citations:
        assert seed_index.replies[c.reply_id].text[c.start:c.end] == c.passage


def test_seed_done_when(seed_answer):
    a = seed_answer
    assert {c.number for c in a.citations} == {"28"}
    text = " ".join(p.text for p in a.points)
    assert "新增五年制高职专业3个" in text
    assert "试点企业6家(累计有8家)" in text
    for p in a.points:
        for word in ("收悉", "感谢", "关心与支持", "委员:"):
            assert word not in p.text
    kinds = [p.kind for p in a.points]
    assert kinds[0] == "done" and kinds == sorted(kinds)  # done first, then plan
    c = a.citations[0]
    assert (c.title, c.proposer, c.lead_unit, c.reply_date) == (
        "关于积极推进产教融合,助力通州产业创新高地打造的建议", "戴红玲", "南通市通州区教育体育局", "2023-06-30")
    assert c.co_units == ["人社局", "区发改委"]  # as the letter writes them (service/units.py)
    assert "[1]" in a.answer_markdown and "第28号" in a.answer_markdown


def test_not_found(seed_retriever):
    a = answer_question(seed_retriever, "城市公交线路怎么优化？")
    assert a.no_answer
    assert a.points == [] and a.citations == []
    assert "未找到" in a.answer_markdown
    assert a.related and a.related[0]["id"] == "28_20230630"


def test_plan_question_leads_with_plans(seed_retriever):
    a = answer_question(seed_retriever, "通州产教融合下一步有什么打算？")
    assert not a.no_answer
    assert a.points[0].kind == "plan"


def test_plain_text_copy(seed_answer):
    txt = seed_answer.plain_text()
    assert "[1]" in txt and "来源" in txt and "戴红玲" in txt


@pytest.mark.parametrize("question,found", [
    ("第28号提案是怎么答复的？", True),
    ("28号建议讲了什么", True),
    ("戴红玲委员的提案答复了什么？", True),
    ("第5号提案怎么答复的", False),  # no such number
    ("戴红玲委员关于城市公交的提案怎么答复的？", False),  # her reply is not about buses
])
def test_questions_naming_number_or_proposer(seed_retriever, question, found):
    a = answer_question(seed_retriever, question)
    assert a.no_answer is (not found)
    if found:
        assert a.citations[0].number == "28"


def test_which_proposals_did_a_department_answer(settings, tmp_path, seed_text):
    """'人社局答复了哪些提案？' lists that department's replies (lead or co-handling), points grouped per reply."""
    from tests.conftest import retriever_over

    other = seed_text.replace("建议/提案号: 28", "建议/提案号: 40").replace("主办: 教体局 协办: 人社局;发改委", "主办: 卫健委")
    other = other.replace("我局会同区发改委、人社局会办答复意见", "我委研究答复意见")  # the letter names no co-unit
    r = retriever_over(settings, tmp_path / "c", {"a.txt": seed_text, "b.txt": other})
    a = answer_question(r, "人社局答复了哪些提案？")
    assert not a.no_answer
    assert {c.number for c in a.citations} == {"28"}  # 40 is 卫健委's alone
    assert a.answer_markdown.startswith("**通州区第28号")  # the district learned from the signing unit
    for p in a.points:
        assert any(p.text in c.passage for c in a.citations if c.n in p.citations)


REMAINDER_LETTER = """建议/提案提出者: 周明 建议/提案号: 76
标题: 关于加快农村公路危桥改造的建议（虚构示例）
承办单位: 主办: 交通运输局
答复日期: 2023-06-20
答复内容:
周明代表:
您提出的关于加快农村公路危桥改造的建议收悉。现答复如下:
一、基本情况
2022年，我局对全区2186座农村公路桥梁开展技术状况评定，评定出危桥93座。
当年改造危桥46座，其余47座纳入2023年改造计划。
危桥改造累计投入资金6900万元，改造后的桥梁全部通过交工验收。
感谢您对交通工作的关心和支持!
某某区交通运输局
2023年6月20日
"""


@pytest.mark.parametrize("question, shapes", [
    ("还有多少座危桥没改完？", ["remainder"]), ("还剩几家培训机构？", ["remainder"]), ("哪些项目还没建完？", ["remainder"]),
    ("那着火的有没有少一点？", ["change"]), ("卫生院能配的药比以前多了吗？", ["change"]), ("签约率有没有提高？", ["change"]),
    ("危桥改造了多少座？", []), ("有没有建成助餐点？", []), ("助餐点建了没有？", []), ("每餐补贴多少钱？", []),
])
def test_what_is_left_and_which_way_a_figure_moved_are_questions_of_their_own(question, shapes):
    from service.answerability import ASKED_SHAPES

    assert [name for name, ask, _ in ASKED_SHAPES if ask.search(question)] == shapes


@pytest.mark.parametrize("shape, sentence, ok", [
    ("remainder", "当年改造危桥46座，其余47座纳入2023年改造计划。", True),
    ("remainder", "截至2022年5月底，学科类培训机构压减至12家。", True),
    ("remainder", "当年改造危桥46座。", False),
    ("change", "全区共发生电动自行车火灾27起，同比下降22.9%。", True),
    ("change", "可配备药品由80种增加到150种。", True),
    ("change", "全区共发生电动自行车火灾27起。", False),
])
def test_the_sentences_that_answer_each_shape(shape, sentence, ok):
    from service.answerability import ASKED_SHAPES

    answer = next(a for name, _, a in ASKED_SHAPES if name == shape)
    assert bool(answer.search(sentence)) is ok


def test_a_question_about_what_is_left_leads_with_the_remainder(settings, tmp_path):
    from tests.conftest import retriever_over

    r = retriever_over(settings, tmp_path / "c", {"a.txt": REMAINDER_LETTER})
    a = answer_question(r, "还有多少座危桥没改造？")
    assert not a.no_answer and "其余47座" in a.points[0].text


def test_two_sentences_of_one_letter_with_different_figures_are_both_kept():
    """执业助理医师 5000元 and 执业医师 10000元 are worded alike but state two facts: neither hides the other."""
    from index.records import Chunk, Reply
    from service.answer import _Cand, _overlap

    a_text, b_text = "对新取得执业助理医师资格的乡村医生，一次性奖励5000元；", "对新取得执业医师资格的乡村医生，一次性奖励10000元。"
    one = Reply(id="r1", text=a_text + b_text)
    other = Reply(id="r2", text=b_text)
    chunk = Chunk.__new__(Chunk)
    a = _Cand(one, chunk, 0, len(a_text), "done", 0.9)
    b = _Cand(one, chunk, len(a_text), len(one.text), "done", 0.9)
    assert _overlap(a, b) < 0.5
    # the same sentence in another letter (another year's reply) stays a near-duplicate
    c = _Cand(other, chunk, 0, len(b_text), "done", 0.9)
    assert _overlap(b, c) > 0.75



def test_a_difficulty_the_letter_admits_does_not_lead_an_answer_on_work_done():
    from index.records import Chunk, Reply
    from service.answer import _Cand, _score
    from service.query import analyse

    text = "农村客运班线亏损线路12条。\n新开通农村客运班线6条。\n"  # 虚构示例
    reply = Reply(id="r", text=text)
    problem = Chunk("r#1", "r", text[:14], 0, 14, "reply", ["一、存在的问题"], "done", [])
    done = Chunk("r#2", "r", text[15:], 15, len(text) - 1, "reply", ["二、主要做法"], "done", [])
    cands = [_Cand(reply, problem, 0, 14, "done", 0.9), _Cand(reply, done, 15, len(text) - 1, "done", 0.9)]
    _score(cands, analyse("农村客运班线做了哪些工作？"), plan_first=False)
    assert cands[1].score > cands[0].score
    _score(cands, analyse("农村客运为什么亏损？"), plan_first=False)  # a reason is asked: the difficulty answers it
    assert cands[0].score >= cands[1].score


def _cands_of(reply, pieces: list[tuple[str, str]]):
    """_Cand per (sentence, label) of `reply` (whose text is the sentences joined by newlines), equal cosine."""
    from index.records import Chunk
    from service.answer import _Cand

    out, pos = [], 0
    for text, label in pieces:
        start = reply.text.index(text, pos)
        end = start + len(text)
        chunk = Chunk(f"{reply.id}#{start}", reply.id, text, start, end, "reply", [], label, [])
        out.append(_Cand(reply, chunk, start, end, label, 0.9))
        pos = end
    return out


def test_a_date_asked_of_something_to_come_is_answered_by_the_plan():
    from index.records import Reply
    from service.answer import _score
    from service.query import analyse, asks_future

    done, plan = "县老年大学创办于2006年，现有校舍一处。", "迁建项目力争2024年上半年开工、2025年秋季学期投入使用。"  # 虚构示例
    reply = Reply(id="r", text=f"{done}\n{plan}\n", reply_date="2023-06-20")
    cands = _cands_of(reply, [(done, "done"), (plan, "plan")])
    q = analyse("老年大学新校舍啥时候能用上？")
    assert q.aspect == "date" and asks_future(q) and "时候" not in q.topic
    _score(cands, q, plan_first=asks_future(q))
    assert cands[1].score > cands[0].score
    assert not asks_future(analyse("老年大学什么时候建成的？"))


def test_a_total_asked_is_not_answered_by_a_cap_or_a_rate():
    from service.answerability import asked_rate_or_total, asked_unit, holds_detail

    cap = "对新认定的集聚区给予最高100万元一次性奖励，改造项目按投资额的40%给予补助。"
    total = "2023年共下达扶持资金560万元，支持项目23个。"
    assert asked_rate_or_total("山区吃水难，政府投了多少钱？", "money") is False  # refusing needs "一共"/"总投资" …
    for q in ("夜市街区市里一共拿出多少扶持资金？", "冷链集配中心一期一共投了多少钱？", "山区吃水难，政府投了多少钱？"):
        unit = asked_unit(q)
        rate = asked_rate_or_total(q, unit, inferred=True)  # … choosing the sentence that leads does not
        assert unit == "money" and rate is None, q
        assert holds_detail(total, "amount", unit, None, "", rate) and not holds_detail(cap, "amount", unit, None, "", rate)
    # money per unit asked: the rate answers (亩均 is a rate), a total does not
    q = "高标准农田一亩平均投了多少钱？"
    unit = asked_unit(q)
    assert asked_rate_or_total(q, unit) is True
    assert holds_detail("新建高标准农田4.2万亩，亩均投入达到3000元。", "amount", unit, None, "", True)
    assert not holds_detail("全年总投资1.26亿元。", "amount", unit, None, "", True)


def test_the_sentence_stating_the_asked_year_leads():
    """去年 in a question asked of a 2024 letter is that letter's 2023; 前年 its 2022."""
    from index.records import Reply
    from service.answer import _score
    from service.query import analyse

    a, b = "2022年下达扶持资金420万元，支持项目18个。", "2023年共下达扶持资金560万元，支持项目23个。"  # 虚构示例
    reply = Reply(id="r", text=f"{a}\n{b}\n", reply_date="2024-06-18")
    cands = _cands_of(reply, [(a, "done"), (b, "done")])
    _score(cands, analyse("夜市去年拿出多少扶持资金？", current_year=2026), plan_first=False)
    assert cands[1].score > cands[0].score
    _score(cands, analyse("夜市前年拿出多少扶持资金？", current_year=2026), plan_first=False)
    assert cands[0].score > cands[1].score


def test_a_broad_question_leads_with_the_sentence_stating_results():
    """做了哪些事: the sentence with the results (203条, 3.12亿元, 14.6万户) before one that says how work was
    organised; a narrow or yes/no question is not moved by it (虚构示例)."""
    from index.records import Reply
    from service.answer import _score
    from service.query import analyse

    how = "2021年起，我市将背街小巷整治列入为民办实事项目，按照逐年滚动推进的思路组织实施。"
    res = "2021年至2023年，全市累计完成背街小巷整治203条，总投资3.12亿元，受益居民约14.6万户。"
    reply = Reply(id="r", text=f"{how}\n{res}\n", reply_date="2024-06-21")
    cands = _cands_of(reply, [(how, "done"), (res, "done")])
    _score(cands, analyse("这几年背街小巷整治都干了些啥？"), plan_first=False)
    assert cands[1].score > cands[0].score
    _score(cands, analyse("背街小巷整治有没有列入为民办实事项目？"), plan_first=False)
    with_results, without = cands[1].score, cands[0].score
    import dataclasses
    import service.answer as A
    _score(cands, analyse("背街小巷整治有没有列入为民办实事项目？"), plan_first=False, w=dataclasses.replace(A.WEIGHTS, rich=0.0))
    assert (cands[1].score, cands[0].score) == (with_results, without)


def test_money_the_government_put_in_is_answered_by_the_sum():
    """政府投了多少钱: 累计投入3.86亿元 before one item of it (抗旱应急资金560万元) (虚构示例)."""
    from index.records import Reply
    from service.answer import _score
    from service.query import analyse

    item, total = "三是县财政安排抗旱应急资金560万元，用于水源调度。", "2021年以来，我县累计投入农村供水建设资金3.86亿元。"
    reply = Reply(id="r", text=f"{item}\n{total}\n", reply_date="2023-07-10")
    cands = _cands_of(reply, [(item, "done"), (total, "done")])
    _score(cands, analyse("山区群众吃水难，政府投了多少钱？"), plan_first=False)
    assert cands[1].score > cands[0].score


def test_a_narrow_question_leads_with_a_sentence_holding_what_it_asks(monkeypatch):
    """A sentence closer in words but holding no amount does not lead 政府投了多少钱, unless the one holding an
    amount scores far below it (DETAIL_LEAD_GAP) (虚构示例)."""
    import service.answer as A
    from index.records import Reply
    from index.settings import Settings
    from service.query import analyse

    close = "部分山区村庄吃水难，居住分散，管网延伸成本高。"
    money = "县财政每年安排农村供水工程维修养护资金800万元。"
    reply = Reply(id="r", text=f"{close}\n{money}\n", reply_date="2023-07-10")
    cands = _cands_of(reply, [(close, "done"), (money, "done")])
    cands[0].sim = 0.95
    q = analyse("山区吃水难，政府投了多少钱？")
    A._score(cands, q, plan_first=False)
    assert cands[0].score > cands[1].score  # the closer sentence scores higher …
    assert A._direct(cands, q, False, Settings(), False)[0].text == money  # … but the amount leads
    monkeypatch.setattr(A, "DETAIL_LEAD_GAP", -1.0)
    assert A._direct(cands, q, False, Settings(), False)[0].text == close


def test_a_reply_named_with_nothing_else_asked_leads_with_its_title(seed_retriever):
    """第28号提案是怎么答复的: the title, cited on the letter's title line, then what the reply says."""
    from service.answer import answer_question

    a = answer_question(seed_retriever, "第28号提案是怎么答复的？")
    assert not a.no_answer and a.lead.startswith("第28号提案是《关于积极推进产教融合")
    assert a.points[0].role == "field" and a.points[0].citations == [1] and a.citations[0].n == 1
    assert "产教融合" in a.citations[0].passage and len(a.points) > 1
    assert a.answer_markdown.count("关于积极推进产教融合,助力通州产业创新高地打造的建议》。") == 1  # not listed again as a point
    n = {c.n for c in a.citations}
    assert all(m in n for p in a.points for m in p.citations)


def test_a_table_row_of_bare_figures_is_no_point_of_its_own_for_a_broad_question():
    from index.labels import is_figure_row
    from index.records import Reply
    from service.answer import _score
    from service.query import analyse

    row, said = "6 其他道路（11条） 综合改造 13.7 3360 2023年12月", "2023年全区新建改造非机动车道38.6公里，完成投资1.27亿元。"  # 虚构示例
    assert is_figure_row(row) and not is_figure_row(said) and not is_figure_row("4 芸香小学扩建 新增12个班 0.42 已投用")
    reply = Reply(id="r", text=f"{row}\n{said}\n")
    cands = _cands_of(reply, [(row, "done"), (said, "done")])
    _score(cands, analyse("非机动车道这两年做了哪些工作？"), plan_first=False)
    assert cands[1].score > cands[0].score + 0.5
    narrow = analyse("其他道路综合改造了多少公里？")  # a narrow question may be answered by the row itself
    _score(cands, narrow, plan_first=False)
    before = cands[0].score
    from dataclasses import replace as _r
    from service.answer import ComposeWeights
    _score(cands, narrow, plan_first=False, w=_r(ComposeWeights(), row=0.0))
    assert cands[0].score == before  # the row weight is not applied to a narrow question


def test_the_most_that_is_paid_is_answered_by_the_cap():
    """一年最多能补多少: the sentence stating the cap (每人每年最高2.4万元) scores above one stating a monthly rate."""
    from index.records import Reply
    from service.answer import _score
    from service.answerability import asked_shapes
    from service.query import analyse

    q = analyse("自闭症的小孩做康复，一年最多能补多少钱？")
    assert asked_shapes(q.text)
    cap, monthly = "对孤独症儿童康复训练给予补助，每人每年最高2.4万元。", "对到县外康复的儿童家庭，发放交通生活补贴每人每月200元。"
    cands = _cands_of(Reply(id="r", text=f"{monthly}\n{cap}\n"), [(monthly, "done"), (cap, "done")])
    _score(cands, q, plan_first=False)
    assert cands[1].score > cands[0].score


def test_a_reason_asked_is_led_by_the_sentence_naming_the_cause():
    """为什么没以前积极了: under a 存在的问题 heading every sentence holds "a reason"; the one that names the cause in
    so many words (由于…价格下跌) scores above a difficulty merely listed there."""
    from index.records import Chunk, Reply
    from service.answer import _Cand, _score
    from service.query import analyse

    q = analyse("收旧衣服的企业为什么没以前积极了？")
    listed = "回收的旧衣服大部分需运往外地处理，企业运输成本较高。"
    cause = "由于二手衣物出口价格下跌，企业回收旧衣服的利润明显压缩。"
    reply = Reply(id="r", text=f"{listed}\n{cause}\n")
    cands = []
    for text in (listed, cause):
        start = reply.text.index(text)
        chunk = Chunk(f"r#{start}", "r", text, start, start + len(text), "reply", ["二、存在的问题"], "done", [])
        cands.append(_Cand(reply, chunk, start, start + len(text), "done", 0.9))
    _score(cands, q, plan_first=False)
    assert all(c.held for c in cands) and cands[1].score > cands[0].score


def test_a_totals_row_that_holds_nothing_asked_is_no_point_for_a_narrow_question():
    """一户补多少钱 across two letters: 合计 3500 3812 1989 571.8 names no topic word and holds no amount per household."""
    from index.records import Reply
    from service.answer import _score
    from service.query import analyse

    from index.records import Chunk
    from service.answer import _Cand

    row, said = "合计 3500 3812 1989 571.8", "经入户回访，农户对服务总体满意。"  # 虚构示例
    reply = Reply(id="r", text=f"{row}\n{said}\n")
    cands = []
    for text in (row, said):  # the table sits under a heading that names the topic; the row itself does not
        start = reply.text.index(text)
        chunk = Chunk(f"r#{start}", "r", text, start, start + len(text), "reply", ["一、农村改厕推进情况"], "done", [])
        cands.append(_Cand(reply, chunk, start, start + len(text), "done", 0.9))
    _score(cands, analyse("农村改厕一户补多少钱？"), plan_first=False)
    assert cands[1].score > cands[0].score


def test_a_departments_broad_answer_draws_on_its_letters_that_share_the_topic(settings, tmp_path):
    """生态环境局答复中有哪些污染治理措施: its 扬尘 letter covers 污染治理 in words, its 污水 letter only shares 治理;
    both are the department's work on the topic and both are cited. A letter of another department is not."""
    from service.answer import answer_question
    from tests.conftest import reply_letter, retriever_over

    def letter(number: str, title: str, body: str, unit: str) -> str:
        return reply_letter(number, title, body, f"青川区{unit}", "2023年6月30日", level="区")

    r = retriever_over(settings, tmp_path / "c", {
        "a.txt": letter("11", "关于加强工地扬尘污染治理的提案", "全区在建工地安装扬尘在线监测设备230台，扬尘污染治理实现非现场监管。\n"
                        "2022年共检查在建工地1860余次，督促整改问题520个。\n", "生态环境局"),
        "b.txt": letter("12", "关于加快农村生活污水治理的提案", "全区农村生活污水治理率达到62%，建成污水处理设施146个。\n"
                        "对治理设施实行第三方运维，运维费用由区财政保障。\n", "生态环境局"),
        "c.txt": letter("13", "关于推进城市绿化的提案", "全区新建口袋公园12个，污染治理与绿化同步推进。\n", "住房和城乡建设局")})
    a = answer_question(r, "青川区生态环境局答复中有哪些污染治理措施？")
    cited = {c.reply_id[:2] for c in a.citations}
    assert not a.no_answer and {"11", "12"} <= cited and "13" not in cited


def test_the_least_asked_is_answered_by_the_floor_and_works_still_to_come_by_the_plan():
    """一个月最少得交多少: 月缴存额最低238元 scores above a monthly subsidy; 要新盖几个…大概花多少钱 asks the plan's
    figures (2023年计划新建…2座，概算投资186万元), which may then lead."""
    from index.records import Reply
    from service.answer import _score, asked_stances
    from service.query import analyse

    q = analyse("灵活就业人员交公积金，一个月最少得交多少？")
    floor, other = "按此计算，灵活就业人员公积金月缴存额最低238元，最高2856元。", "市财政按每人每月50元的标准给予灵活就业人员公积金缴存补贴。"
    cands = _cands_of(Reply(id="r", text=f"{other}\n{floor}\n"), [(other, "done"), (floor, "done")])
    _score(cands, q, plan_first=False)
    assert cands[1].score > cands[0].score
    assert asked_stances("老街那一片要新盖几个茅房？大概花多少钱？") == {"planned"}
    assert asked_stances("这片区域需要多少个公厕？") == set()


def test_an_amount_asked_per_period_is_led_by_a_rate_of_that_period():
    """每人每年直补多少钱: 每人每年补助600元 scores above 每生每学期1500元 (another grant, another period), which does
    not even hold what is asked (a rate of another period: answerability.period_ok)."""
    from index.records import Reply
    from service.answer import _score, asked_period, stated_periods
    from service.query import analyse

    assert asked_period("水库移民每人每年直补多少钱？") == "年" and asked_period("管水员一个月补多少钱？") == "月"
    assert asked_period("一共补了多少钱？") is None
    assert stated_periods("月均工资3000元，每生每学期1500元") == {"月", "学期"}
    assert stated_periods("月缴存额最低238元") == {"月"} and stated_periods("2023年3月补助100元") == set()
    q = analyse("水库移民每人每年直补多少钱？")
    term = "对移民子女就读中职的，通过雨露计划每人每学期补助1500元，直补资金按时足额发放。"
    year = "对纳入扶持范围的移民每人每年补助600元。"
    cands = _cands_of(Reply(id="r", text=f"{term}\n{year}\n"), [(term, "done"), (year, "done")])
    _score(cands, q, plan_first=False)
    assert cands[1].held and not cands[0].held and cands[1].score > cands[0].score


def test_a_further_reply_of_a_several_reply_answer_stands_beside_the_best():
    """"各地在水产养殖尾水治理上都做了什么？": a letter on a neighbouring topic (畜禽粪污: 41% of the words, 2.9 z below) is
    left out; one wording the topic otherwise but as close in meaning (1.2 z below) stays."""
    from types import SimpleNamespace as R

    from service.answer import _beside

    top = R(topic_coverage=1.0, sentence_z=7.36)
    assert not _beside(R(topic_coverage=0.41, sentence_z=4.45), top)
    assert _beside(R(topic_coverage=0.41, sentence_z=6.2), top)
    assert _beside(R(topic_coverage=0.9, sentence_z=3.0), top)
    assert _beside(R(topic_coverage=0.1, sentence_z=None), top)  # an index without sentence vectors: as before


def test_a_sentence_of_the_asked_shape_leads_whatever_its_label(settings, tmp_path):
    """"处理完了没？": "…412户已全部完成整治，…预计8月底前全部完成" is labelled a plan for its ending, yet it answers (虚构示例)."""
    from service.answer import answer_question
    from tests.conftest import reply_letter, retriever_over

    body = ("对鉴定为D级的危房，第一时间组织人员撤离，通过拆除重建、维修加固等方式进行处置。\n"
            "目前，D级危房412户已全部完成整治，剩余C级危房46户正在加固施工中，预计今年8月底前全部完成。")
    letter = reply_letter("24", "关于加快农村危房排查整治的建议", body, "南岭县住房和城乡建设局", "2023年7月11日")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "南岭县危房都整治完了没？")
    assert not a.no_answer and "已全部完成整治" in a.points[0].text


def test_a_sentence_score_is_the_weighted_sum_of_its_features():
    """Every weight of ComposeWeights has its feature; the score is their weighted sum, so `dafu eval weights`
    can rescore candidates with other weights without asking again (虚构示例)."""
    import dataclasses

    from index.records import Reply
    from service.answer import FEATURES, WEIGHTS, ComposeWeights, _score
    from service.query import analyse

    assert FEATURES == tuple(f.name for f in dataclasses.fields(ComposeWeights))
    a = "2023年，县财政按每户380元的标准给予补助，共补助8612户。"
    b = "下一步，我局将继续做好燃气软管更换工作。"
    reply = Reply(id="r", text=f"{a}\n{b}\n", reply_date="2024-06-21")
    cands = _cands_of(reply, [(a, "done"), (b, "plan")])
    _score(cands, analyse("换燃气软管一户补多少钱？"), plan_first=False)
    for c in cands:
        assert set(c.features) == set(FEATURES)
        assert c.score == pytest.approx(sum(getattr(WEIGHTS, k) * v for k, v in c.features.items()))
    assert cands[0].features["detail"] == 1.0 and cands[0].features["label"] == 1.0  # 380元 per household, done
    assert cands[1].features["detail"] == 0.0 and cands[1].features["label"] == 0.0
    assert cands[0].score > cands[1].score


def test_a_reason_stated_with_therefore_leads_a_why_question():
    """为啥不收处理费: "考虑到…，因此暂不向餐饮单位收取处理费" states the cause in so many words (虚构示例)."""
    from index.records import Reply
    from service.answer import _score
    from service.query import analyse

    other = "目前尚不具备按量计费的条件，餐厨垃圾处理费用由财政承担。"  # a reason, by its 目前尚不具备
    cause = "考虑到中小餐饮单位经营压力较大，因此暂不向餐饮单位收取处理费。"
    reply = Reply(id="r", text=f"{other}\n{cause}\n", reply_date="2024-06-27")
    cands = _cands_of(reply, [(other, "done"), (cause, "done")])
    _score(cands, analyse("为啥不找饭店收餐厨垃圾处理费？"), plan_first=False)
    assert cands[0].features["detail"] == cands[1].features["detail"] == 1.0  # both hold a reason…
    assert (cands[0].features["cause"], cands[1].features["cause"]) == (0.0, 1.0)  # …one names the cause (考虑到, 因此)
    assert cands[1].score > cands[0].score


def _hearing_letter(place: str, number: str, date: str, screened: str) -> str:
    return (f"关于{place}政协会议第{number}号提案的答复\n\n王明委员：\n您提出的《关于开展老年人听力筛查的提案》收悉，现答复如下：\n"
            f"一、听力筛查。{place}将老年人听力筛查纳入免费健康体检，全年筛查老年人{screened}，初筛异常的转诊复查。\n"
            f"二、助听器适配。对听力损失的老年人开展助听器适配，给予适配补贴。\n感谢您的关心和支持。\n\n{place}卫生健康局\n{date}\n")


def test_a_question_over_years_cites_each_years_letter_of_the_place(settings, tmp_path, monkeypatch):
    """这两年分别筛了多少人: the place's letter of each year, even when the other year's letter matches less closely
    than _beside asks; another place's letter is not taken for that (虚构示例)."""
    import service.answer as A
    from service.answer import answer_question
    from tests.conftest import retriever_over

    r = retriever_over(settings, tmp_path / "c", {
        "a.txt": _hearing_letter("青川区", "45", "2023年6月30日", "6820人"),
        "b.txt": _hearing_letter("青川区", "78", "2024年6月19日", "3.42万人"),
        "c.txt": _hearing_letter("白沙县", "12", "2024年7月1日", "1.1万人"),
    })
    monkeypatch.setattr(A, "_beside", lambda g, top: False)  # only the same-place rule can add a letter
    a = answer_question(r, "青川区这两年老年人听力筛查分别筛查了多少人？")
    assert not a.no_answer
    cited = {c.reply_id for c in a.citations}
    assert len(cited) == 2 and all(rid.startswith(("45_", "78_")) for rid in cited)
    text = "\n".join(p.text for p in a.points)
    assert "6820人" in text and "3.42万人" in text and "1.1万人" not in text


def test_a_reply_asked_about_as_a_whole_is_summed_up_by_the_first_result_under_each_heading():
    """…的提案是怎么答复的: under 一、 and 二、 the first sentence stating a result leads (its outline), not the general
    words before it nor a later figure of the same heading (虚构示例)."""
    from index.records import Chunk, Reply
    from service.answer import _Cand, _score
    from service.query import analyse

    pieces = [("一、推进产教融合", "我区坚持产教融合、校企合作，主动对接产业布局。"),
              ("一、推进产教融合", "2022年全区新增五年制高职专业3个，高职类专业达到13个。"),
              ("一、推进产教融合", "另有2个专业获评省级优质专业。"),
              ("二、培养技能人才", "全面推行1+X证书制度，2022年参加证书考核学生1200人。"),
              ("二、培养技能人才", "组织技能大赛，获奖学生56人。")]
    text = "\n".join(t for _, t in pieces) + "\n"
    reply = Reply(id="r", text=text, reply_date="2023-06-30")
    cands, pos = [], 0
    for head, t in pieces:
        start = text.index(t, pos)
        pos = start + len(t)
        chunk = Chunk(f"r#{start}", "r", t, start, pos, "reply", [head], "done", [])
        cands.append(_Cand(reply, chunk, start, pos, "done", 0.9))
    _score(cands, analyse("周明委员关于产教融合的提案是怎么答复的？"), plan_first=False)
    assert [c.features["section"] for c in cands] == [0.0, 1.0, 0.0, 1.0, 0.0]
    top2 = sorted(cands, key=lambda c: -c.score)[:2]
    assert sorted(c.start for c in top2) == [cands[1].start, cands[3].start]
    _score(cands, analyse("产教融合新增了几个高职专业？"), plan_first=False)  # a narrow question: no outline
    assert not any(c.features["section"] for c in cands)
