"""The seed-layout parser: the seed field by field, real-world variations, and a rejected file."""
from __future__ import annotations

import codecs

import pytest

from index.errors import ParseError
from index.loader import load_paths
from index.parse import parse_labelled, parse_units
from index.textio import decode_bytes


def test_seed_fields(seed_text):
    r, warnings = parse_labelled(seed_text, "seed.txt")
    assert warnings == []
    assert r.id == "28_20230630"
    assert r.proposer == "戴红玲"
    assert r.number == "28"
    assert r.kind == "提案"  # salutation 戴红玲委员
    assert r.title == "关于积极推进产教融合,助力通州产业创新高地打造的建议"
    assert r.proposal.startswith("近年来,通州主导产业") and r.proposal.endswith("助力通州创新产业高地打造。")
    assert r.lead_unit == "教育体育局"
    assert r.co_units == ["人力资源和社会保障局", "发展和改革委员会"]
    assert r.reply_date == "2023-06-30"
    assert r.reply_text.startswith("戴红玲委员:") and r.reply_text.endswith("2023年5月22日")
    assert r.signer == "南通市通州区教育体育局"
    assert r.signed_date == "2023-05-22"
    assert r.source == "seed.txt"
    # spans point into the text
    assert r.text[r.reply_span[0]:r.reply_span[1]] == r.reply_text
    assert r.text[r.proposal_span[0]:r.proposal_span[1]] == r.proposal
    assert r.text[r.title_span[0]:r.title_span[1]] == r.title


def _variant(seed_text: str, **repl: str) -> str:
    for old, new in repl.items():
        seed_text = seed_text.replace(old, new)
    return seed_text


def test_fullwidth_colons_spaces_and_separate_lines(seed_text):
    t = seed_text.replace("建议/提案提出者: 戴红玲 建议/提案号: 28", "建议/提案提出者 ：  戴红玲\n建议/提案号：28")
    t = t.replace("标题: ", "标题：  ").replace("答复日期: 2023-06-30", "答复日期： 2023年6月30日")
    t = t.replace("承办单位: 主办: 教体局 协办: 人社局;发改委", "承办单位：主办：区教育体育局  协办：人社局、发改委")
    r, _ = parse_labelled(t, "v.txt")
    assert (r.proposer, r.number, r.reply_date) == ("戴红玲", "28", "2023-06-30")
    assert r.title.startswith("关于积极推进产教融合")
    assert r.lead_unit == "教育体育局"
    assert r.co_units == ["人力资源和社会保障局", "发展和改革委员会"]


@pytest.mark.parametrize("value,lead,co", [
    ("主办: 教体局 协办: 人社局;发改委", "教育体育局", ["人力资源和社会保障局", "发展和改革委员会"]),
    ("主办：人社局 协办：财政局；教体局", "人力资源和社会保障局", ["财政局", "教育体育局"]),
    ("主办: 住建局 协办: 交通局、城管局,自然资源局", "住房和城乡建设局", ["交通运输局", "城市管理局", "自然资源和规划局"]),
    ("主办: 卫健委 协办:", "卫生健康委员会", []),
    # 会办 is 协办 (a field line of another city's form), and 卫生健康委 the 卫生健康委员会
    ("主办: 区城管局 会办: 区住建局;区自然资源和规划分局", "城市管理局", ["住房和城乡建设局", "自然资源和规划局"]),
    ("主办：市卫生健康委 协办：市财政局", "卫生健康委员会", ["财政局"]),
    ("民政局", "民政局", []),
    ("", "", []),
])
def test_units(value, lead, co):
    assert parse_units(value) == (lead, co)


def test_missing_and_empty_fields_are_warnings_not_errors(seed_text):
    t = seed_text.replace("建议/提案号: 28", "建议/提案号: ").replace("答复日期: 2023-06-30\n", "")
    r, warnings = parse_labelled(t, "m.txt")
    assert r.number == ""
    assert r.reply_date == "2023-05-22"  # from the signature at the foot
    assert r.field_sources["reply_date"] == "pattern:signature"
    assert r.id.startswith("h")  # no number: content hash
    assert any("number" in w for w in warnings)


def test_empty_title_is_found_in_the_letter(seed_text):
    t = seed_text.replace("标题: 关于积极推进产教融合,助力通州产业创新高地打造的建议", "标题:")
    r, _ = parse_labelled(t, "t.txt")
    assert r.title == "关于积极推进产教融合,助力通州产业创新高地打造的建议"
    assert r.field_sources["title"] == "pattern:quoted-title"
    assert r.text[r.title_span[0]:r.title_span[1]] == r.title


def test_bad_date_is_reported(seed_text):
    r, warnings = parse_labelled(seed_text.replace("答复日期: 2023-06-30", "答复日期: 2023-13-45"), "d.txt")
    assert r.reply_date == "2023-05-22"
    assert any("2023-13-45" in w for w in warnings)


@pytest.mark.parametrize("encode", [
    lambda t: t.replace("\n", "\r\n").encode("utf-8"),
    lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    lambda t: t.replace("\xa0", " ").encode("gbk"),
    lambda t: t.encode("gb18030"),
])
def test_encodings_and_line_ends(seed_text, encode):
    text = decode_bytes(encode(seed_text), "x.txt")
    r, _ = parse_labelled(text, "x.txt")
    assert r.id == "28_20230630"
    assert r.co_units == ["人力资源和社会保障局", "发展和改革委员会"]
    assert "\r" not in r.text and "\ufeff" not in r.text


def test_rejected_file_names_file_line_and_expectation(seed_text):
    head = seed_text.split("答复内容:")[0]
    with pytest.raises(ParseError) as e:
        parse_labelled(head, "broken.txt")
    msg = str(e.value)
    assert "broken.txt:" in msg and "答复内容" in msg
    assert e.value.line is not None and e.value.line > 1


def test_directory_is_read_recursively_and_bad_files_skipped(tmp_path, seed_text):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "one.txt").write_text(seed_text, encoding="utf-8")
    (tmp_path / "two.txt").write_bytes(seed_text.replace("建议/提案号: 28", "建议/提案号: 29").encode("gbk", errors="replace"))
    (tmp_path / "bad.txt").write_text("建议/提案号: 30\n标题: 只有标题\n", encoding="utf-8")
    rep = load_paths([tmp_path])
    assert sorted(r.number for r in rep.replies) == ["28", "29"]
    assert [s.path for s in rep.skipped] == [str(tmp_path / "bad.txt")]
    assert "expected" in rep.skipped[0].reason


@pytest.mark.parametrize("letter,title", [
    ("张三委员：\n您提出的关于加强农村公路养护的建议收悉，现答复如下：", "关于加强农村公路养护的建议"),
    ("李四代表：\n您领衔提出的关于推进老旧小区改造的提案已收悉。", "关于推进老旧小区改造的提案"),
    ("您提出的《关于发展夜间经济的建议》收悉。", "关于发展夜间经济的建议"),
    ("您提出的第28号关于职业教育的建议，我局高度重视。", "关于职业教育的建议"),
    ("我局认真研究了有关意见。", None),
])
def test_title_named_in_the_letter(letter, title):
    from index.parse import title_from_letter

    found = title_from_letter(letter, 0, len(letter))
    assert (found[0] if found else None) == title
    if found:
        assert letter[found[1]:found[2]] == title


def test_lead_and_co_units_on_lines_of_their_own_and_a_reply_title_label():
    text = ("标题：关于发展城乡社区食堂方便老年人就餐的提案的答复\n提案提出者：邱文斌\n提案号：45\n主办：苇塘县民政局\n"
            "协办：县卫生健康委员会、县市场监督管理局\n答复日期：2024-07-02\n答复内容：\n邱文斌委员：\n您的提案收悉。全县建成社区食堂42个。\n\n"
            "苇塘县民政局\n2024年7月2日\n")  # 虚构示例
    r, _ = parse_labelled(text, "x")
    assert r.number == "45" and r.lead_unit == "民政局" and r.co_units == ["卫生健康委员会", "市场监督管理局"]
    assert r.title == "关于发展城乡社区食堂方便老年人就餐的提案" and r.text[r.title_span[0]:r.title_span[1]] == r.title


def test_a_proposer_labelled_by_role_and_one_line_fields():
    text = ("建议号：27\n代表：彭怀安等5位代表\n标题：关于深化基层治理网格化管理的建议\n答复日期：2023-06-30\n答复内容：\n"
            "彭怀安等5位代表：\n你们的建议收悉。全县划分网格612个。\n\n中共茗坪县委政法委员会\n2023年6月30日\n")  # 虚构示例
    r, _ = parse_labelled(text, "x")
    assert (r.number, r.proposer, r.reply_date) == ("27", "彭怀安等5位", "2023-06-30")
