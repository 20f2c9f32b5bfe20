"""Page layout left in extracted text (index/formats/layout.py): page numbers, running headers, wrapped lines.
Letters are fictional (虚构示例)."""
from __future__ import annotations

import pytest

from index.formats import read_text_reply
from index.formats.layout import PAGE_NO, clean_pages, looks_hard_wrapped, running_lines, unwrap_lines, unwrap_text


@pytest.mark.parametrize("line", ["— 2 —", "- 3 -", "第 2 页 共 4 页", "第2页/共4页", "2/4", "Page 2 of 4", "  7  "])
def test_page_number_lines(line):
    assert PAGE_NO.match(line)


@pytest.mark.parametrize("line", ["2023年", "一、基本情况", "第2号", "共4页的附件已收到。"])
def test_not_page_numbers(line):
    assert not PAGE_NO.match(line)


def test_unwrap_joins_a_paragraph_but_not_items_or_sentence_ends():
    lines = ["全县现有农村客运班线四十二条，二〇二二年新开", "通镇村公交线路六条，建制村通客车率保持百分之", "百。", "二、存在的问题", "部分线路客流少。"]
    row = "表1 项目 投资 进度 备注 责任单位 完成情况"  # as wide as the text, cells apart: a table row
    assert unwrap_lines([*lines, row, "续行"])[-2:] == [row, "续行"]
    assert unwrap_lines(lines) == ["全县现有农村客运班线四十二条，二〇二二年新开通镇村公交线路六条，建制村通客车率保持百分之百。",
                                   "二、存在的问题", "部分线路客流少。"]


def test_a_line_opening_with_a_decimal_continues_the_paragraph():
    lines = ["县财政按规定足额落实地方配套资金。2023年度全县项目总投资", "1.26亿元，其中中央和省级资金9240万元。", "2. 建立项目储备库。"]
    assert unwrap_lines(lines) == ["县财政按规定足额落实地方配套资金。2023年度全县项目总投资1.26亿元，其中中央和省级资金9240万元。",
                                   "2. 建立项目储备库。"]


def test_unwrap_width_is_not_set_by_one_long_table_row():
    row = "序号 项目名称 建设内容 总投资（万元） 完成情况 备注 责任单位 开工时间 竣工时间"
    lines = [row, *["全县现有农村客运班线四十二条，新", "开通镇村公交线路六条。", "短行。"] * 4]
    out = unwrap_lines(lines)
    assert "全县现有农村客运班线四十二条，新开通镇村公交线路六条。" in out


def test_running_header_dropped_after_page_one():
    pages = [["桐溪县交通运输局", "王华委员：", "正文第一页。"], ["桐溪县交通运输局", "正文第二页。"], ["桐溪县交通运输局", "正文第三页。"]]
    assert running_lines(pages) == {"桐溪县交通运输局"}
    assert clean_pages(pages) == ["桐溪县交通运输局", "王华委员：", "正文第一页。", "正文第二页。", "正文第三页。"]


def test_a_line_repeated_inside_pages_is_not_a_running_header():
    pages = [["甲。"], ["正文一。", "一、基本情况", "正文二。"], ["正文三。", "一、基本情况", "又一段。"]]
    assert running_lines(pages) == set()


PARA = ("为解决农村群众出行难问题，我局会同县财政局、县农业农村局，推进城乡公交一体化改造，全年新开通镇村公交线路六条，"
        "更新新能源公交车三十八辆，建制村通客车率保持百分之百，群众满意度达到百分之九十二点五。")


def _wrap(text: str, width: int = 30) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]


def test_hard_wrapped_text_is_recognised_and_joined():
    lines = ["桐溪县交通运输局", "关于县政协十一届三次会议第36号提案的答复", "", "王华委员：", *(_wrap(PARA) * 2), "— 2 —", "桐溪县交通运输局", *_wrap(PARA)]
    assert looks_hard_wrapped(lines)
    out = unwrap_text("\n".join(lines))
    assert out.count(PARA) == 3
    assert "— 2 —" not in out
    assert out.count("桐溪县交通运输局") == 1  # the running header on page two is dropped, the letterhead kept


def test_paragraph_per_line_text_is_left_alone():
    lines = ["王华委员：", *[PARA] * 12, "桐溪县交通运输局", "2023年6月18日"]
    assert not looks_hard_wrapped(lines)
    assert unwrap_text("\n".join(lines)) == "\n".join(lines)


def test_text_reader_unwraps_a_pdf_saved_as_text(tmp_path):
    body = ("您提出的《关于优化农村客运班线的提案》收悉，现答复如下：" + PARA + "感谢您对交通工作的关心和支持。") * 3
    lines = ["桐溪县交通运输局", "关于县政协十一届三次会议第36号提案的答复", "", "王华委员：", *_wrap(body, 28),
             "— 2 —", "桐溪县交通运输局", *_wrap(PARA, 28), "", "桐溪县交通运输局", "2023年6月18日"]
    p = tmp_path / "wrapped.txt"
    p.write_text("\n".join(lines), encoding="utf-8")
    (r,) = read_text_reply(p, p.read_bytes(), {})
    assert PARA in r.reply_text
    assert r.number == "36" and r.reply_date == "2023-06-18" and r.proposer == "王华"
    assert "— 2 —" not in r.text
