"""Chunker: no sentence cut, heading paths, offsets, and labels on the seed's sections."""
from __future__ import annotations

import pytest

from index.chunking import chunk_reply, split_sentences
from index.labels import label_sentence
from index.parse import parse_labelled

SENT_END = "。！？；!?;"


@pytest.fixture
def seed_reply(seed_text):
    return parse_labelled(seed_text, "seed.txt")[0]


@pytest.fixture
def chunks(seed_reply):
    return chunk_reply(seed_reply, target=300, max_chars=400, overlap=1)


def test_offsets_slice_back_to_source(seed_reply, chunks):
    for c in chunks:
        assert seed_reply.text[c.start:c.end] == c.text
        for s in c.sentences:
            assert c.start <= s.start < s.end <= c.end


def test_no_sentence_is_cut(seed_reply, chunks):
    text = seed_reply.text
    all_sentences = {(s, e) for part in (seed_reply.proposal_span, seed_reply.reply_span) for s, e in split_sentences(text, *part)}
    for c in chunks:
        if c.part == "title":
            continue
        # a chunk starts at a sentence start and ends at a sentence end
        assert any(s == c.start for s, _ in all_sentences), c.text[:30]
        assert any(e == c.end for _, e in all_sentences), c.text[-30:]


def test_sizes_and_overlap(chunks):
    body = [c for c in chunks if c.part != "title"]
    assert all(len(c.text) <= 400 or len(c.sentences) == 1 for c in body)
    # the long proposal opening is split with one sentence shared between neighbours
    first, second = [c for c in body if c.part == "proposal"][:2]
    assert first.sentences[-1].start == second.sentences[0].start or first.end <= second.start


def test_heading_paths(chunks):
    paths = {" > ".join(c.heading_path) for c in chunks if c.part == "reply"}
    assert "一、主要做法 > (二)产教融合深入推进" in paths
    assert "二、下一步工作打算 > (三)创新技能培训模式,推进产教融合" in paths
    key = next(c for c in chunks if "新增五年制高职专业3个" in c.text)
    assert key.heading_path == ["一、主要做法", "(二)产教融合深入推进"]
    assert key.part == "reply" and key.label == "done"


def test_labels_on_seed_sections(seed_reply, chunks):
    text = seed_reply.text
    labels = {text[s.start:s.end]: s.label for c in chunks if c.part == "reply" for s in c.sentences}
    assert labels["2022年全区新增五年制高职专业3个,高职类专业达到13个;"] == "done"
    assert labels["大力开展满足各类企业、各类员工需求的技术技能培训。"] == "plan"
    assert labels["感谢您对我区教育事业发展的关心与支持!"] == "courtesy"
    assert labels["南通市通州区教育体育局"] == "courtesy"
    assert labels["2023年5月22日"] == "courtesy"
    assert labels["戴红玲委员:"] == "courtesy"
    assert any(lab == "courtesy" and "收悉" in s for s, lab in labels.items())
    assert labels["一、主要做法"] == "heading"
    parts = {c.part for c in chunks}
    assert parts == {"title", "proposal", "reply"}


@pytest.mark.parametrize("sentence,path,label", [
    ("您提出的关于加强养老服务的提案收悉，现答复如下：", [], "courtesy"),
    ("联系人：王某某，联系电话：0513-12345678。", [], "courtesy"),
    ("感谢您对我区交通事业的关心和支持！", [], "courtesy"),
    ("2021年全区新建农村公路120公里。", ["一、工作开展情况"], "done"),
    ("下一步，我局将继续加大投入。", [], "plan"),
    ("加快推进城乡公交一体化。", ["二、下一步工作打算"], "plan"),
    ("我局将会同财政局研究出台补贴政策。", ["一、基本情况"], "plan"),
    # a completion stated outright is done, though the sentence opens like a plan (争取 = secured)
    ("我局争取专项资金建设冷链集配中心，总投资3200万元，已于2024年10月投入运营。", ["（二）建设县域冷链集配中心"], "done"),
    ("力争2025年底前建成，目前已完成可研。", [], "plan"),
    ("今年，我市计划整治背街小巷65条，总投资1.06亿元。", [], "plan"),
    # the letter telling back the proposal, or praising it, reports nothing itself
    ("建议中提出由社会餐饮企业为农村学校集中配送午餐。", [], "courtesy"),
    ("你们在提案中反映的校门口车辆乱停乱放等问题，是群众普遍关心的热点问题。", [], "courtesy"),
    ("提案针对我区盲道被占、坡道缺失等问题提出了切实可行的意见，对推动我区无障碍环境建设很有帮助。", [], "courtesy"),
    ("您在提案中提出的开设晚间班的建议，县老年大学已于今年春季学期开设晚间班6个。", [], "done"),
    ("建议中提出的增设停车位问题，我局将会同交警部门研究。", [], "plan"),
    ("5月下旬，陪同两位委员赴鹊山镇、柴岭镇开展林长制工作专题视察，实地查看林长公示牌。", [], "courtesy"),  # how it was handled
])
def test_label_sentence(sentence, path, label):
    assert label_sentence(sentence, path) == label


def test_split_sentences_keeps_closing_quotes():
    t = "会议指出“要重融合。”随后印发文件；再完成验收！"
    spans = split_sentences(t, 0, len(t))
    assert [t[s:e] for s, e in spans] == ["会议指出“要重融合。”", "随后印发文件；", "再完成验收！"]


HEADED = ("石门县交通运输局\n关于县政协十一届三次会议第36号提案的答复\n主办单位：县交通运输局\n会办单位：县财政局\n\n"
          "王华委员：\n您提出的《关于加强农村客运班线运营保障的提案》收悉。现答复如下：\n"
          "全县现有农村客运班线42条，2022年新开通镇村公交线路6条。\n将推行客货邮融合发展。\n\n"
          "石门县交通运输局\n2023年6月18日\n（联系人：陈刚；电话：0736-1234567）\n")  # 虚构示例


def test_the_letter_head_and_the_signature_are_never_evidence():
    from index.extract import extract_reply

    r, _ = extract_reply(HEADED, "x")
    labels = {r.text[s.start:s.end]: s.label for c in chunk_reply(r) if c.part == "reply" for s in c.sentences}
    first = [s.label for c in chunk_reply(r) if c.part == "reply" for s in c.sentences if s.start == 0]
    assert first == ["heading"]  # the letterhead; the same words at the foot sign the letter
    for line in ("关于县政协十一届三次会议第36号提案的答复", "主办单位：县交通运输局", "会办单位：县财政局"):
        assert labels[line] == "heading", line
    assert labels["全县现有农村客运班线42条，2022年新开通镇村公交线路6条。"] == "done"
    assert labels["将推行客货邮融合发展。"] == "plan"
    assert labels["2023年6月18日"] == "courtesy"  # the signature, though contact lines follow it


def test_an_organisation_salutation_and_a_handling_statement_are_not_work_done():
    from index.extract import extract_reply

    text = ("关于市政协第18号提案的答复\n\n致公党青川市委员会：\n  贵委提出的《关于加快发展银发经济的提案》收悉。\n"
            "  本提案由市民政局主办，市发展改革委、市商务局协办。\n  2022年全市新建居家养老服务中心32个。\n\n青川市民政局\n2023年5月10日\n")  # 虚构示例
    r, _ = extract_reply(text, "x")
    labels = {r.text[s.start:s.end]: s.label for c in chunk_reply(r) if c.part == "reply" for s in c.sentences}
    assert labels["致公党青川市委员会："] == "courtesy"
    assert labels["本提案由市民政局主办，市发展改革委、市商务局协办。"] == "courtesy"
    assert labels["2022年全市新建居家养老服务中心32个。"] == "done"


def test_a_letter_without_a_salutation_keeps_its_first_line_as_evidence():
    from index.extract import extract_reply

    text = "关于第7号建议的答复\n2022年全县新建农村公路85公里，改造危桥12座。\n\n东阳县交通运输局\n2022年6月30日\n"  # 虚构示例
    r, _ = extract_reply(text, "x")
    labels = {r.text[s.start:s.end]: s.label for c in chunk_reply(r) if c.part == "reply" for s in c.sentences}
    assert labels["2022年全县新建农村公路85公里，改造危桥12座。"] == "done"


def test_a_status_report_is_done_though_it_ends_on_what_is_still_to_come():
    from index.labels import label_sentence

    s = "截至2024年6月底，24家列入计划的市场中已完成改造16家，正在施工5家，其余3家将于2025年上半年开工。"  # 虚构示例
    assert label_sentence(s, []) == "done"
    assert label_sentence("下一步，力争截至年底已完成改造20家。", []) == "plan"


def test_what_was_actually_done_against_the_plan_is_done():
    from index.labels import label_sentence

    s = "2023年，我县将农村客运公交化改造列入民生实事项目，原计划改造线路8条，实际完成9条。"  # 虚构示例
    assert label_sentence(s, []) == "done"
    assert label_sentence("下一步，力争实际完成改造20家。", []) == "plan"


@pytest.mark.parametrize("sentence, label", [
    ("下一步，我局计划2023年完成农村户厕改造3500户，力争到2025年底普及率达到95%。", "plan"),  # 虚构示例
    ("力争2024年建成充电桩200个。", "plan"),
    ("2023年完成农村户厕改造3812户。", "done"),
    ("我县于2023年建成城市书房3家。", "done"),
    ("由于该桥交通量较小，尚未达到危桥标准，暂不具备列入危桥改造计划的条件。", "done"),  # a reason, not a plan
    ("该项目未列入今年计划，原因是资金不足。", "done"),
    ("将该桥列入2023年危桥改造计划。", "plan"),
])
def test_a_year_with_a_completion_is_done_unless_it_is_planned(sentence, label):
    assert label_sentence(sentence, []) == label
