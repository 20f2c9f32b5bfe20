"""A flattened table's row read under its header (service/tables.py): units and years from the header, for judging,
ranking and display; the point itself stays the letter's own line (虚构示例)."""
from __future__ import annotations

import pytest

from service.answer import answer_question
from service.tables import is_table_header, row_reading
from tests.conftest import reply_letter, retriever_over

TABLE = ("项目 单位 2022年计划 2022年完成 完成投资（万元）\n"
         "新建防火通道 公里 35 38.2 764\n"
         "建设消防蓄水池 座 12 12 96\n"
         "合计 —— —— —— 860\n")


def _row(text: str, row: str) -> str | None:
    at = text.index(row)
    return row_reading(text, at, at + len(row))


@pytest.mark.parametrize("table, row, reading", [
    (TABLE, "新建防火通道 公里 35 38.2 764", "新建防火通道，2022年计划35公里，2022年完成38.2公里，完成投资764万元。"),
    (TABLE, "建设消防蓄水池 座 12 12 96", "建设消防蓄水池，2022年计划12座，2022年完成12座，完成投资96万元。"),
    (TABLE, "合计 —— —— —— 860", "合计，完成投资860万元。"),
    # the unit in the row's label (指标 by year), a 序号 column left out, a share kept as written
    ("指标 2022年 2023年\n家政服务企业（家） 968 1126\n", "家政服务企业（家） 968 1126", "家政服务企业，2022年968家，2023年1126家。"),
    ("序号 乡镇 光伏户数（户） 装机容量（兆瓦）\n1 蘩口镇 1642 20.4\n", "1 蘩口镇 1642 20.4", "乡镇蘩口镇，光伏户数1642户，装机容量20.4兆瓦。"),
    ("等级 认定人次 占比\n初级工（五级） 6940 26.3%\n", "初级工（五级） 6940 26.3%", "初级工（五级），认定人次6940，占比26.3%。"),
])
def test_a_row_reads_under_its_header(table, row, reading):
    assert _row(table, row) == reading


def test_a_header_is_known_by_the_row_under_it():
    at = TABLE.index("项目")
    assert is_table_header(TABLE, at, TABLE.index("\n"))
    assert not is_table_header("项目 单位 2022年完成\n全县共建成防火通道312.5公里。\n", 0, 15)


def test_no_reading_without_a_header_of_as_many_cells_or_for_a_sentence():
    assert _row("完成情况如下：\n新建防火通道 公里 35 38.2 764\n", "新建防火通道 公里 35 38.2 764") is None
    assert _row("项目 单位 完成\n新建防火通道 公里 35 38.2 764\n", "新建防火通道 公里 35 38.2 764") is None
    text = "2022年新建防火通道38.2公里，完成投资764万元。\n"
    assert _row(text, text.strip()) is None


def test_a_figure_stated_only_in_a_table_answers_and_shows_as_read(settings, tmp_path):
    body = "2022年，全县共安排森林防火资金2000万元。基础设施建设完成情况如下：\n" + TABLE + "下一步将继续完善防火基础设施。"
    letter = reply_letter("427", "关于加强森林防火基础设施建设的建议", body, "南岭县林业局", "2023年7月12日")
    r = retriever_over(settings, tmp_path / "c", {"a.txt": letter})
    a = answer_question(r, "南岭县2022年新建防火通道完成了多少公里？")
    assert not a.no_answer
    p = next(p for p in a.points if "38.2" in p.text)
    assert p.text == "新建防火通道 公里 35 38.2 764" and letter[p.start:p.end] == p.text  # the letter's own line, cited
    assert p.reading == "新建防火通道，2022年计划35公里，2022年完成38.2公里，完成投资764万元。"
    assert "2022年完成38.2公里" in a.answer_markdown and "- 新建防火通道 公里 35" not in a.answer_markdown
    assert not any(p.text.startswith("项目 单位") for p in a.points)  # the header is no point of its own


def test_cells_of_a_word_table_may_hold_a_space():
    # index/formats/docx.py joins a Word table's cells with two spaces; a cell's own paragraphs with one
    text = "项目  单位  2022年计划  2022年完成\n新建 防火通道  公里  35  38.2\n"
    assert _row(text, "新建 防火通道  公里  35  38.2") == "新建 防火通道，2022年计划35公里，2022年完成38.2公里。"
