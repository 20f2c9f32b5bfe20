"""The CLI's answers: rich rendering from the answer's fields, --plain, empty and non-Chinese questions,
the first-run announcement, the wrapping `index list` table."""
from __future__ import annotations

import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from service.render_terminal import QUOTE_INDENT, answer_plain, by_reply, render_answer
from tests.conftest import SEED_QUESTION


def _cit(n, rid, start, end, passage, number="12", title="关于加强社区养老服务的建议"):
    return {"n": n, "reply_id": rid, "number": number, "kind": "建议", "title": title, "proposer": "王建华",
            "lead_unit": "民政局", "co_units": ["财政局"], "reply_date": "2023-06-15", "passage": passage,
            "start": start, "end": end, "heading_path": ["一、主要做法"], "score": 1.0}


PASSAGE = "一、主要做法\n　　全区建成社区养老服务站45个，覆盖率达到92%。\n　　开展助餐服务12万人次。"
ANSWER = {  # fictional (虚构示例)
    "question": "社区养老做了哪些工作？", "rewritten_question": "社区养老做了哪些工作？", "no_answer": False,
    "points": [{"text": "全区建成社区养老服务站45个，覆盖率达到92%。", "kind": "done", "citations": [1], "reply_id": "a",
                "start": 109, "end": 131},
               {"text": "开展助餐服务12万人次。", "kind": "done", "citations": [2], "reply_id": "a", "start": 300, "end": 312},
               {"text": "下一步将推进嵌入式养老机构建设。", "kind": "plan", "citations": [3], "reply_id": "b", "start": 50, "end": 66}],
    "citations": [_cit(1, "a", 100, 100 + len(PASSAGE), PASSAGE), _cit(2, "a", 290, 320, "开展助餐服务12万人次。"),
                  _cit(3, "b", 40, 70, "下一步将推进嵌入式养老机构建设。", number="30", title="关于发展嵌入式养老的建议")],
    "related": [], "filter_report": None, "hints": [],
}


ONE_REPLY = {**ANSWER, "points": ANSWER["points"][:2], "citations": ANSWER["citations"][:2]}


def _rich(answer, width=60) -> str:
    c = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))
    c.print(render_answer(answer))
    return c.export_text()


def test_sources_grouped_per_reply_with_one_detail_line():
    for out in (_rich(ANSWER), answer_plain(ANSWER)):
        assert out.count("提出者：王建华") == 2  # two replies, not three citations
        assert out.count("第12号建议《关于加强社区养老服务的建议》\n") == 1
        assert "**" not in out
        src = out[out.index("来源"):]
        assert src.index("[1] 一、主要做法") < src.index("[2] 一、主要做法") < src.index("第30号建议")
    for out in (_rich(ONE_REPLY), answer_plain(ONE_REPLY)):
        assert "已开展的工作" in out and out.count("提出者：王建华") == 1


def test_direct_answer_comes_first_under_its_own_heading():
    direct = dict(ANSWER["points"][1], role="direct")
    a = {**ONE_REPLY, "points": [ANSWER["points"][0], direct]}
    plain = answer_plain(a)
    assert plain.index("回答\n 1. 开展助餐服务12万人次。 [2]") < plain.index("已开展的工作\n 2. 全区建成")


def test_every_passage_line_has_the_same_quote_indent():
    plain = answer_plain(ANSWER)
    block = plain[plain.index("  [1] 一"):plain.index("  [2] 一")].splitlines()[1:]
    assert block == [" " * QUOTE_INDENT + "全区建成社区养老服务站45个，覆盖率达到92%。",
                     " " * QUOTE_INDENT + "开展助餐服务12万人次。"]  # the heading is on the [1] line
    long = {**ANSWER, "citations": [dict(ANSWER["citations"][0], passage="甲" * 40 + "\n" + "乙" * 130)] + ANSWER["citations"][1:]}
    out = _rich(long, width=50)
    lines = [ln for ln in out.splitlines() if set(ln.strip()) <= {"甲", "乙"} and ln.strip()]
    assert len(lines) >= 4  # wrapped …
    assert all(ln.startswith(" " * QUOTE_INDENT) and not ln.startswith(" " * (QUOTE_INDENT + 1)) for ln in lines)  # … same indent


def test_points_wrap_under_their_text_not_their_number():
    long = {**ONE_REPLY, "points": [dict(ANSWER["points"][0], text="很" * 120)] + ONE_REPLY["points"][1:]}
    lines = _rich(long, width=50).splitlines()
    first = next(i for i, ln in enumerate(lines) if "1. 很" in ln)
    block = [ln for ln in lines[first:first + 6] if "很" in ln]
    assert len(block) >= 4 and len({ln.index("很") for ln in block}) == 1


def test_several_replies_group_under_each_reply():
    assert by_reply(ANSWER) and not by_reply(ONE_REPLY)
    plain = answer_plain(ANSWER)
    assert "第12号建议《关于加强社区养老服务的建议》（民政局，2023-06-15）\n 1. （已办）全区建成" in plain
    assert "第30号建议《关于发展嵌入式养老的建议》（民政局，2023-06-15）\n 3. （计划）下一步将推进" in plain


@pytest.fixture
def cli(monkeypatch):
    from service.cli import app

    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    return lambda *args: CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("q", ["", "   ", "\t\n"])
def test_empty_question_is_refused_with_status_2(cli, q):
    res = cli("ask", q)
    assert res.exit_code == 2 and "question is empty" in res.output and "dafu ask" in res.output


def test_first_run_is_announced_in_one_line_then_answers(cli):
    res = cli("ask", SEED_QUESTION)
    assert res.exit_code == 0, res.output
    assert res.stderr.count("首次使用") == 1 and len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1
    assert "已开展的工作" in res.stdout and "**" not in res.stdout
    again = cli("ask", SEED_QUESTION, "--plain")
    assert "首次使用" not in again.stderr and again.stdout.count("提出者：戴红玲") == 1


def test_english_question_gets_a_hint_to_ask_in_chinese(cli):
    res = cli("ask", "What did Tongzhou do for vocational education?", "--plain")
    assert res.exit_code == 0 and "请用中文提问" in res.stdout
    assert "请用中文提问" not in cli("ask", SEED_QUESTION, "--plain").stdout


def test_index_list_wraps_titles_instead_of_cutting_them(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    res = cli("index", "list")
    assert res.exit_code == 0, res.output
    rows = [ln.split("│") for ln in res.stdout.splitlines() if ln.count("│") == 6]
    title_column = "".join(r[2].strip() for r in rows)  # the title cell, read down its wrapped lines
    assert "关于积极推进产教融合,助力通州产业创新高地打造的建议" in title_column and "…" not in res.stdout
    assert max(len(ln) for ln in res.stdout.splitlines()) <= 80
    plain = cli("index", "list", "--plain").stdout.splitlines()
    assert plain[0].split("\t")[:4] == ["id", "number", "kind", "title"] and plain[1].split("\t")[1] == "28"


FIELD_ANSWER = {  # fictional (虚构示例): "第12号建议是哪个部门主办的？"
    "question": "第12号建议是哪个部门主办的？", "rewritten_question": "第12号建议是哪个部门主办的？", "no_answer": False,
    "lead": "第12号建议由民政局主办，财政局协办。",
    "points": [{"text": "承办单位: 主办: 民政局 协办: 财政局", "kind": "field", "role": "field", "citations": [1],
                "reply_id": "a", "start": 10, "end": 30}],
    "citations": [_cit(1, "a", 10, 30, "承办单位: 主办: 民政局 协办: 财政局")],
    "related": [], "filter_report": None, "hints": [],
}


def test_field_answer_leads_with_the_sentence_then_the_field_lines():
    from ui.render import answer_plain_text, render_answer_html

    plain = answer_plain(FIELD_ANSWER)
    lines = plain.splitlines()
    i = lines.index("回答")
    assert lines[i + 1] == "第12号建议由民政局主办，财政局协办。 [1]"
    j = next(k for k, line in enumerate(lines) if line.startswith("依据"))
    assert j > i and "承办单位: 主办: 民政局" in lines[j + 1]
    assert "第12号建议由民政局主办，财政局协办。" in _rich(FIELD_ANSWER)
    html = render_answer_html(FIELD_ANSWER)
    assert html.index("第12号建议由民政局主办") < html.index("承办单位: 主办: 民政局")
    assert "依据" in html
    copied = answer_plain_text(FIELD_ANSWER)
    assert copied.index("由民政局主办") < copied.index("依据：")


def test_a_passage_opening_with_its_heading_does_not_print_it_twice():
    for out in (_rich(ONE_REPLY), answer_plain(ONE_REPLY)):
        src = out[out.index("来源"):]
        assert src.count("一、主要做法") == 2  # once on each [n] line: [1] and [2]
        assert "全区建成社区养老服务站45个" in src  # the passage itself is all there


def test_counted_replies_are_listed_as_such_and_closest_ones_as_possibly_related():
    from service.render_terminal import related_heading

    counted = {"no_answer": False, "points": [], "lead": "2023年已收录的建议答复共2件："}
    assert related_heading(counted) == "答复列表："
    assert related_heading({"no_answer": True, "points": [], "lead": ""}) == "以下答复可能相关："


def test_a_title_line_opening_an_answer_is_labelled_as_the_title(seed_retriever):
    """第28号提案是怎么答复的: the cited title line leads, marked 标题 in the terminal and in the web chat."""
    from service.answer import answer_question
    from ui.render import render_answer_html

    d = answer_question(seed_retriever, "第28号提案是怎么答复的？").to_dict()
    title = d["citations"][0]["title"]
    assert d["points"][0]["text"] == title
    plain = answer_plain(d)
    assert f"1. 标题：{title} [1]" in plain
    assert plain.count("标题：") == 1  # the other direct points carry no label
    assert "标题" in render_answer_html(d)
    assert "标题：" not in answer_plain(FIELD_ANSWER)  # a field answer's lines are evidence, not labelled


def test_two_letters_of_one_place_are_labelled_with_their_year():
    from service.render_terminal import direct_label

    cites = [{"n": 1, "reply_id": "a", "place": "通州区", "number": "71", "kind": "提案", "reply_date": "2022-07-11"},
             {"n": 2, "reply_id": "b", "place": "通州区", "number": "9", "kind": "建议", "reply_date": "2019-06-28"}]
    points = [{"role": "direct", "citations": [1], "reply_id": "a", "text": "x"},
              {"role": "direct", "citations": [2], "reply_id": "b", "text": "y"},
              {"role": "support", "label": "done", "citations": [1], "reply_id": "a", "text": "z"},
              {"role": "support", "label": "done", "citations": [2], "reply_id": "b", "text": "w"}]
    answer = {"citations": cites, "points": points}
    assert direct_label(answer, points[0]) == "通州区2022年第71号提案："
    assert direct_label(answer, points[1]) == "通州区2019年第9号建议："
    cites[1]["place"] = "海门区"  # two places: the place tells them apart
    assert direct_label(answer, points[0]) == "通州区第71号提案："


def test_a_letter_sharing_no_word_of_the_question_is_not_offered_as_related():
    from service.render_terminal import shown_related
    from ui.render import render_answer_html

    rel = [{"id": "18_2023", "number": "18", "title": "关于二手房带押过户的提案", "coverage": 0.71, "place": "霁川区"},
           {"id": "71_2024", "number": "71", "title": "关于加装电梯的建议", "coverage": 0.0, "place": "如皋市"}]
    not_found = {"question": "霁川区的二手房带押过户办了多少笔？", "no_answer": True, "points": [], "citations": [],
                 "related": rel, "lead": "", "hints": []}
    assert [r["id"] for r in shown_related(not_found)] == ["18_2023"]
    for out in (answer_plain(not_found), _rich(not_found, width=120), render_answer_html(not_found)):
        assert "二手房带押过户的提案" in out and "加装电梯" not in out
    counted = {"no_answer": False, "points": [], "lead": "2023年已收录的建议答复共2件：", "related": rel}
    assert len(shown_related(counted)) == 2  # a count lists every counted reply
