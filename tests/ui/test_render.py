"""Rendering functions of the web chat: escaping, offset highlighting, citation marks, panels."""
from __future__ import annotations

import re

from ui import render
from ui.app import apply_event, make_filters
from ui_backends import EVIL, LETTER, fake_answer, fake_reply, not_found_answer


def test_esc_escapes_markup_and_quotes():
    assert render.esc('<script>alert("x")</script>&\'') == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;"
    assert render.esc(None) == ""
    assert render.esc(12) == "12"


def test_highlight_by_offsets_marks_exact_slice_and_escapes_each_part():
    text = "前言<b>粗</b>。" + EVIL + "结尾<i>"
    s = text.index(EVIL)
    out = render.highlight_by_offsets(text, s, s + len(EVIL))
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out
    assert out == ("前言&lt;b&gt;粗&lt;/b&gt;。" + '<mark id="dafu-mark">&lt;script&gt;alert(1)&lt;/script&gt;</mark>'
                   + "结尾&lt;i&gt;")


def test_highlight_mark_text_unescapes_to_the_slice():
    text = LETTER
    s, e = 10, 60
    out = render.highlight_by_offsets(text, s, e)
    import html

    inner = re.search(r"<mark[^>]*>(.*?)</mark>", out, re.S).group(1)
    assert html.unescape(inner) == text[s:e]
    assert html.unescape(re.sub(r"</?mark[^>]*>", "", out)) == text


def test_highlight_with_context_nests_mark_in_passage():
    text = "0123456789"
    out = render.highlight_by_offsets(text, 4, 6, context=(2, 8))
    assert out == '01<span class="ctx">23<mark id="dafu-mark">45</mark>67</span>89'
    # a context that does not contain the mark is ignored
    assert render.highlight_by_offsets(text, 4, 6, context=(7, 9)) == '0123<mark id="dafu-mark">45</mark>6789'


def test_highlight_clamps_and_ignores_bad_offsets():
    assert render.highlight_by_offsets("a<b>", None, None) == "a&lt;b&gt;"
    assert render.highlight_by_offsets("a<b>", 3, 3) == "a&lt;b&gt;"
    assert render.highlight_by_offsets("a<b>", "x", 2) == "a&lt;b&gt;"
    assert render.highlight_by_offsets("abc", 1, 99) == 'a<mark id="dafu-mark">bc</mark>'


def test_cite_mark_has_escaped_data_attributes():
    m = render.cite_mark(3, 'r"1<', 10, 20, 5, 30, title="《<x>》")
    assert m.startswith('<a class="cite"')
    assert 'data-reply="r&quot;1&lt;"' in m and 'data-start="10"' in m and 'data-end="20"' in m
    assert 'data-cs="5"' in m and 'data-ce="30"' in m and 'data-n="3"' in m
    assert ">[3]</a>" in m and "<x>" not in m


def test_render_answer_groups_points_escapes_and_marks():
    a = fake_answer("人社局做了哪些培训？")
    out = render.render_answer_html(a)
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert out.index("已开展的工作") < out.index("下一步打算")
    assert 'class="group done"' in out and 'class="group plan"' in out
    assert 'class="badge done"' in out and 'class="badge plan"' in out
    marks = re.findall(r'<a class="cite"[^>]*>\[(\d+)\]</a>', out)
    assert marks == ["1", "2"]
    p = a["points"][0]
    # the mark after a point highlights the point's sentence inside its cited passage
    assert f'data-start="{p["start"]}" data-end="{p["end"]}"' in out
    c = a["citations"][0]
    assert f'data-cs="{c["start"]}" data-ce="{c["end"]}"' in out
    assert "复制答案和出处" in out


def test_rewritten_question_shown_only_when_different():
    a = fake_answer("那下一步呢？")
    assert "检索问题" not in render.render_answer_html(a)
    a["rewritten_question"] = "人社局职业培训下一步<打算>"
    out = render.render_answer_html(a)
    assert "检索问题：人社局职业培训下一步&lt;打算&gt;" in out


def test_not_found_answer_looks_different_and_offers_related():
    out = render.render_answer_html(not_found_answer("火星探测器？"))
    assert "notfound-answer" in out and "未找到能直接回答这个问题的答复" in out
    assert "可能相关的答复" in out and 'data-reply="r1"' in out
    assert "<b>" not in out and "<i>" not in out and "已开展的工作" not in out


def test_plain_text_copy_has_points_and_sources():
    a = fake_answer("人社局做了哪些培训？")
    txt = render.answer_plain_text(a)
    assert "已开展的工作：" in txt and "下一步打算：" in txt
    assert f"1. {a['points'][0]['text']}[1]" in txt
    assert "来源：" in txt and "[1] 第12号建议" in txt and "主办：人力资源和社会保障局；协办：财政局" in txt
    # the HTML carries it escaped in a hidden textarea
    out = render.render_answer_html(a)
    assert '<textarea class="plain" readonly hidden>' in out and EVIL not in out


def test_sources_panel_one_card_per_reply_with_metadata():
    a = fake_answer("q")
    out = render.render_sources(a)
    assert out.count('class="src-card"') == 1
    for s in ("第12号建议", "提出者", "张&lt;b&gt;三&lt;/b&gt;", "主办", "人力资源和社会保障局", "协办", "财政局",
              "答复日期", "2023-06-30", "[1]", "[2]", "一、主要做法"):
        assert s in out, s
    assert "<b>" not in out and "<i>" not in out
    assert "出处会显示在这里" in render.render_sources(None)


def test_render_reply_highlights_and_escapes_whole_letter():
    r = fake_reply()
    a = fake_answer("q")
    p = a["points"][0]
    out = render.render_reply(r, p["start"], p["end"], (a["citations"][0]["start"], a["citations"][0]["end"]))
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out
    assert "一、主要做法" in out and "南通市通州区人力资源和社会保障局" in out  # the rest of the letter is there
    import html

    inner = re.search(r"<mark[^>]*>(.*?)</mark>", out, re.S).group(1)
    assert html.unescape(inner) == p["text"]
    assert "张&lt;b&gt;三&lt;/b&gt;" in out and "协办" in out
    assert "无法打开答复" in render.render_reply({"error": "<x>"}) and "<x>" not in render.render_reply({"error": "<x>"})


def test_reply_list_renders_items_and_pages():
    out = render.render_reply_list({"items": [fake_reply()], "total": 41, "page": 2, "page_size": 20})
    assert "共 41 件答复" in out and "第 2/3 页" in out and 'data-reply="r1"' in out and "<b>" not in out
    assert "没有符合条件的答复" in render.render_reply_list({"items": [], "total": 0})


def test_conversation_escapes_question():
    out = render.render_conversation([{"question": EVIL, "answer": fake_answer(EVIL), "pending": True}])
    assert "<script>" not in out and "生成中" in out
    assert "您好" in render.render_conversation([])


def test_apply_event_builds_answer_from_stream():
    a = fake_answer("q")
    cur: dict = {"question": "q", "points": [], "citations": []}
    cur = apply_event(cur, {"event": "point", "data": a["points"][0]})
    assert len(cur["points"]) == 1
    cur = apply_event(cur, {"event": "citations", "data": {"citations": a["citations"]}})
    assert len(cur["citations"]) == 2
    cur = apply_event(cur, {"event": "done", "data": a})
    assert cur["answer_id"] == a["answer_id"] and len(cur["points"]) == 2
    assert apply_event({}, {"event": "error", "data": {"message": "boom"}})["error"] == "boom"


def test_make_filters():
    assert make_filters("不限", "不限", [], "") == {}
    assert make_filters("2023", "2021", ["人社局", " "], " 张三 ") == {
        "year_from": 2021, "year_to": 2023, "departments": ["人社局"], "proposer": "张三"}
    assert make_filters(None, "2022", "教育体育局") == {"year_to": 2022, "departments": ["教育体育局"]}


def test_direct_answer_first_and_several_replies_grouped_per_reply():
    a = fake_answer("q")
    other = dict(a["citations"][1], n=3, reply_id="r2", number="30", title="关于另一件的建议")
    a["citations"].append(other)
    a["points"] = [dict(a["points"][1], role="direct"),
                   a["points"][0], dict(a["points"][1], reply_id="r2", citations=[3])]
    out = render.render_answer_html(a)
    assert out.index('class="group direct"') < out.index('class="group reply"')
    assert out.count('class="group reply"') == 2 and "第30号建议《关于另一件的建议》" in out
    assert '<span class="src-tag">第12号建议</span>' in out  # which reply the direct answer comes from


def test_not_found_says_what_is_missing_which_filter_emptied_it_and_offers_to_drop_it():
    a = not_found_answer("火星？")
    a["answer_markdown"] = "崇川区的答复中没有火星方面的内容。"
    a["hints"] = ["请用中文提问"]
    a["filter_report"] = {"empty": {"filter": "year", "label": "年份 2020", "drop": ["year_from", "year_to"], "without": 3},
                          "message": "筛选后没有答复：「年份 2020」没有匹配的答复，去掉这个条件有 3 件答复。"}
    out = render.render_answer_html(a)
    assert "崇川区的答复中没有火星方面的内容。" in out and "请用中文提问" in out
    assert "去掉这个条件有 3 件答复" in out
    assert 'class="drop-filter"' in out and 'data-drop="year_from,year_to"' in out and 'data-q="火星？"' in out


def test_reply_viewer_shows_the_letter_body_not_the_labelled_file():
    head = "建议/提案提出者: 张三\n标题: 关于X的建议\n建议/提案内容:\n请加强培训。\n答复内容:\n"
    text = head + "张三代表：\n我局已开展培训1.2万人次。\n"
    s = text.index("我局")
    reply = {"id": "r", "text": text, "title": "关于X的建议", "kind": "建议", "number": "3",
             "reply_span": [len(head), len(text)], "proposal_span": [text.index("请加强"), text.index("请加强") + 6]}
    out = render.render_reply(reply, s, s + 8)
    body = re.search(r'<div class="reply-text">(.*?)</div>', out, re.S).group(1)
    assert "建议/提案提出者" not in body and "答复内容" not in body and body.startswith("张三代表")
    assert "<mark" in body and re.search(r"<mark[^>]*>我局已开展培训1", body)
    assert '<details class="proposal"><summary>建议原文</summary>' in out and "请加强培训" in out
    assert "返回回答" in out and 'data-auto="0"' in out
    assert "返回列表" in render.render_reply(reply, back="返回列表")


def test_browse_viewer_has_its_own_empty_text():
    assert "[n]" in render.render_reply(None) and "[n]" not in render.render_reply(None, empty=render.BROWSE_EMPTY)


def test_filter_summary_line():
    from ui.app import filter_summary

    rep = {"departments": [{"term": "民政", "matched": ["海门区民政局", "通州区民政局"]}, {"term": "水X", "matched": []}]}
    assert filter_summary({}) == "不限"
    line = filter_summary({"year_from": 2021, "year_to": 2023, "departments": ["民政", "水X"], "proposer": "张三"}, rep)
    assert line == "2021–2023年 · 民政 → 海门区民政局、通州区民政局 · 水X（无此部门） · 提出者 张三"


def test_a_count_of_replies_opens_with_the_count_and_lists_them():
    from ui.render import render_answer_html

    a = {"question": "2023年答复了多少件建议？", "answer_markdown": "2023年已收录的建议答复共1件：\n- 第7号建议《关于扶持家庭农场发展的建议》",
         "points": [], "citations": [], "no_answer": False, "lead": "2023年已收录的建议答复共1件：", "answer_id": "x",
         "related": [{"id": "7_20230630", "number": "7", "kind": "建议", "title": "关于扶持家庭农场发展的建议",
                      "lead_unit": "东阳县农业农村局", "reply_date": "2023-06-30"}]}  # 虚构示例
    out = render_answer_html(a)
    assert "2023年已收录的建议答复共1件" in out and "答复列表" in out and "其他可能相关的答复" not in out


def test_a_field_answer_for_several_letters_shows_a_line_each():
    """第57号提案是哪个单位答复的？ over letters of several places: one line per letter, not one run-on paragraph."""
    a = fake_answer("第57号提案是哪个单位答复的？")
    cit = dict(a["citations"][0], n=1)
    a["citations"] = [cit, dict(cit, n=2, reply_id="r2")]
    a["points"] = [{"text": "甲市水务局", "kind": "field", "role": "field", "citations": [1], "reply_id": cit["reply_id"]},
                   {"text": "乙县卫生健康局", "kind": "field", "role": "field", "citations": [2], "reply_id": "r2"}]
    a["lead"] = "甲市2024年第57号提案由甲市水务局主办。\n乙县2023年第57号提案由乙县卫生健康局主办。"
    out = render.render_answer_html(a)
    assert "甲市水务局主办。<br>乙县2023年" in out
