"""Readers for Word, PDF, web pages, spreadsheets and text (index/formats/). Letters are fictional (虚构示例)."""
from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from index.errors import ParseError, UnsupportedFormatError
from index.formats import (
    ColumnMapError,
    parse_column_map,
    read_docx,
    read_html,
    read_pdf,
    read_sheet,
    read_text_reply,
    resolve_column_map,
)
from index.formats.docx import docx_text
from index.formats.html import html_letter
from index.formats.pdf import pdf_text

FIX = Path(__file__).parents[1] / "fixtures" / "formats"
_spec = importlib.util.spec_from_file_location("formats_builders", FIX / "builders.py")
B = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(B)

FIELDS = ("number", "kind", "proposer", "title", "lead_unit", "co_units", "reply_date")


def read(reader, path: Path, options: dict | None = None):
    opts = options if options is not None else {}
    return reader(path, path.read_bytes(), opts)


def assert_offsets(r):
    for span, value in ((r.reply_span, r.reply_text), (r.title_span, r.title), (r.proposal_span, r.proposal)):
        if span != (0, 0):
            assert r.text[span[0]:span[1]] == value
    assert r.reply_span != (0, 0) and r.text[r.reply_span[0]:r.reply_span[1]].strip()


def assert_expected(r, name):
    exp = B.expected()[name]
    assert {k: getattr(r, k) for k in exp} == exp


# --- Word -----------------------------------------------------------------------------------------

def test_docx_unlabelled_letter(tmp_path):
    p = B.make_docx(B.letter("c_zx_31"), tmp_path / "答复函.docx")
    [r] = read(read_docx, p)
    assert_expected(r, "c_zx_31")
    assert_offsets(r)
    assert r.source == str(p)


def test_docx_seed_labelled_layout(tmp_path):
    seed = B.SEED.read_text("utf-8")
    [r] = read(read_docx, B.make_docx(seed, tmp_path / "seed.docx"))
    assert (r.number, r.proposer, r.lead_unit, r.reply_date, r.id) == ("28", "戴红玲", "教育体育局", "2023-06-30", "28_20230630")
    assert r.title == "关于积极推进产教融合,助力通州产业创新高地打造的建议"
    assert r.field_sources["number"] == "label" and r.proposal.startswith("近年来")
    assert_offsets(r)


def test_docx_tables_are_read_in_order(tmp_path):
    p = B.make_docx("南通市通州区住房和城乡建设局\n正文", tmp_path / "t.docx", table=[["项目", "数量"], ["改造小区", "15个"]])
    text = docx_text(p.read_bytes(), str(p))
    assert text.split("\n")[:3] == ["南通市通州区住房和城乡建设局", "项目  数量", "改造小区  15个"]


@pytest.mark.parametrize("data", [b"\x00\x01garbage" * 50, b"PK\x03\x04 not really a zip" * 10])
def test_broken_docx_says_what_to_do(tmp_path, data):
    p = tmp_path / "坏文件.docx"
    p.write_bytes(data)
    with pytest.raises(UnsupportedFormatError, match=r"\.docx.*save as \.docx"):
        read(read_docx, p)


# --- PDF ------------------------------------------------------------------------------------------

def test_pdf_cjk_text_layer_reads_back(tmp_path):
    # reportlab's built-in CID font STSong-Light; pdfplumber maps it back to Unicode.
    p = B.make_pdf("戴红玲委员：\n南通市通州区教育体育局\n2023年5月22日", tmp_path / "a.pdf")
    assert pdf_text(p.read_bytes()).split("\n")[:3] == ["戴红玲委员：", "南通市通州区教育体育局", "2023年5月22日"]


@pytest.mark.parametrize("name", ["a_zx_12", "b_rd_45", "e_mention_77"])
def test_pdf_letter_fields_with_wrapped_lines_and_page_numbers(tmp_path, name):
    [r] = read(read_pdf, B.make_pdf(B.letter(name), tmp_path / f"{name}.pdf", width_chars=30))
    assert_expected(r, name)
    assert_offsets(r)
    assert "- 1 -" not in r.text


def test_pdf_seed_multi_page(tmp_path):
    [r] = read(read_pdf, B.make_pdf(B.SEED.read_text("utf-8"), tmp_path / "seed.pdf"))
    assert (r.number, r.proposer, r.reply_date, r.lead_unit) == ("28", "戴红玲", "2023-06-30", "教育体育局")
    assert "产教融合" in r.reply_text and r.reply_text.rstrip().endswith("2023年5月22日")


def test_scanned_pdf_needs_ocr(tmp_path):
    p = B.make_scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(UnsupportedFormatError, match="OCR"):
        read(read_pdf, p)


def test_not_a_pdf(tmp_path):
    p = tmp_path / "x.pdf"
    p.write_bytes(b"<html>oops</html>")
    with pytest.raises(UnsupportedFormatError, match="not a PDF"):
        read(read_pdf, p)


# --- web pages ------------------------------------------------------------------------------------

def test_portal_page_metadata_and_letter():
    p = FIX / "portal_9.html"
    letter, meta = html_letter(p.read_bytes(), str(p))
    assert meta["索引号"] == "01401234-5/2023-00109" and meta["发布机构"] == "南通市通州区卫生健康委员会"
    assert meta["生成日期"] == "2023-06-20" and meta["名称"] == "关于区十七届人大三次会议第9号建议的答复"
    assert letter.startswith("关于区十七届人大三次会议第9号建议的答复\n王丽代表：")
    for junk in ("首页", "打印本页", "统计代码", "版权", "分享到", "浏览次数"):
        assert junk not in letter
    [r] = read(read_html, p)
    assert (r.number, r.kind, r.proposer, r.lead_unit, r.reply_date) == ("9", "建议", "王丽", "卫生健康委员会", "2023-06-20")
    assert r.title == "关于完善基层医疗服务网络的建议"
    assert r.field_sources["reply_date"] == "meta:生成日期"
    assert r.text.startswith("索引号：01401234-5/2023-00109\n")
    assert r.text[r.reply_span[0]:].startswith("关于区十七届人大三次会议第9号建议的答复")
    assert_offsets(r)


def test_portal_page_list_layout():
    [r] = read(read_html, FIX / "portal_12.html")
    assert_expected(r, "a_zx_12")
    assert_offsets(r)


def test_gbk_encoded_page(tmp_path):
    html = (FIX / "portal_9.html").read_text("utf-8").replace("charset=utf-8", "charset=gb2312")
    p = tmp_path / "page.htm"
    p.write_bytes(html.encode("gbk"))
    [r] = read(read_html, p)
    assert (r.number, r.proposer, r.lead_unit) == ("9", "王丽", "卫生健康委员会")


def test_page_with_one_div_per_paragraph(tmp_path):
    paras = B.letter("b_rd_45").split("\n")
    page = ("<html><body><div class='nav'><a>首页</a><a>信息公开</a></div><div class='wrap'><div class='art'>"
            + "".join(f"<div class='para'><p>{t}</p></div>" for t in paras if t.strip())
            + "</div><div class='foot'>版权所有 关闭窗口</div></div></body></html>")
    p = tmp_path / "p.html"
    p.write_text(page, "utf-8")
    [r] = read(read_html, p)
    assert_expected(r, "b_rd_45")
    assert "版权所有" not in r.text and "首页" not in r.text


def test_page_without_a_letter(tmp_path):
    p = tmp_path / "index.html"
    p.write_text("<html><head><title>首页</title></head><body><a href='/'>首页</a> hello</body></html>", "utf-8")
    with pytest.raises((UnsupportedFormatError, ParseError)):
        read(read_html, p)


# --- text -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_unlabelled_text_in_chinese_encodings(tmp_path, encoding):
    p = tmp_path / "letter.txt"
    p.write_bytes(B.letter("b_rd_45").replace("\n", "\r\n").encode(encoding))
    [r] = read(read_text_reply, p)
    assert_expected(r, "b_rd_45")
    assert "\r" not in r.text


def test_markdown_letter(tmp_path):
    p = tmp_path / "letter.md"
    p.write_text("# " + B.letter("a_zx_12").replace("李明华委员：", "**李明华委员：**"), "utf-8")
    [r] = read(read_text_reply, p)
    assert_expected(r, "a_zx_12")
    assert len(r.text) == len(p.read_text("utf-8"))


@pytest.mark.parametrize("data", [b"", b"\n \n", bytes(range(256)) * 4, "随便写点什么".encode("utf-8")])
def test_text_that_is_not_a_letter_is_rejected(tmp_path, data):
    p = tmp_path / "x.txt"
    p.write_bytes(data)
    with pytest.raises(ParseError):
        read(read_text_reply, p)


# --- spreadsheets ---------------------------------------------------------------------------------

HEAD = ["提案号", "标题", "提案人", "主办单位", "协办单位", "答复日期", "答复内容"]


def sheet_rows():
    return [
        HEAD,
        [28, "关于积极推进产教融合,助力通州产业创新高地打造的建议", "戴红玲", "教体局", "人社局、发改委", "2023-06-30", "戴红玲委员：\n您的提案收悉，现答复如下：\n我局积极推进产教融合。\n\n南通市通州区教育体育局\n2023年5月22日"],
        ["第45号", "关于优化城区公交线路的建议", "张建国", "交通局", "", "2023/7/3", B.letter("b_rd_45")],
        [None, None, None, None, None, None, None],
        ["", "关于空答复的提案", "某某", "民政局", "", "2023-01-01", ""],
    ]


def test_xlsx_export_one_reply_per_row(tmp_path):
    p = B.make_xlsx(sheet_rows(), tmp_path / "export.xlsx", title_row="2023年提案办理情况汇总表")
    opts: dict = {}
    r1, r2 = read(read_sheet, p, opts)
    assert r1.source == f"{p}#row3" and r2.source == f"{p}#row4"
    assert (r1.number, r1.proposer, r1.lead_unit, r1.co_units, r1.reply_date, r1.kind) == (
        "28", "戴红玲", "教育体育局", ["人力资源和社会保障局", "发展和改革委员会"], "2023-06-30", "提案")
    assert r1.id == "28_20230630" and r1.field_sources["number"] == "column"
    assert (r2.number, r2.reply_date, r2.kind, r2.lead_unit) == ("45", "2023-07-03", "建议", "交通运输局")
    for r in (r1, r2):
        assert_offsets(r)
        assert r.text[r.title_span[0]:r.title_span[1]] == r.title
    assert opts["_skipped"] == [(f"{p}#row6", "the row has no reply text (答复内容 is empty)")]


def test_xlsx_dates_as_date_cells(tmp_path):
    from datetime import datetime

    rows = [HEAD, ["12", "关于X的提案", "李明华", "民政局", "", datetime(2023, 6, 15), B.letter("a_zx_12")]]
    [r] = read(read_sheet, B.make_xlsx(rows, tmp_path / "d.xlsx"))
    assert r.reply_date == "2023-06-15" and r.id == "12_20230615"


def test_csv_gbk_and_jsonl(tmp_path):
    rows = sheet_rows()[:3]
    p = tmp_path / "export.csv"
    with p.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    rs = read(read_sheet, p)
    assert [r.number for r in rs] == ["28", "45"] and rs[0].source == f"{p}#row2"
    j = tmp_path / "export.jsonl"
    j.write_text("\n".join(json.dumps(dict(zip(HEAD, map(str, r))), ensure_ascii=False) for r in rows[1:]), "utf-8")
    assert [r.number for r in read(read_sheet, j)] == ["28", "45"]


def test_column_map_for_unusual_headers(tmp_path):
    rows = [["序", "案件编码", "案件名称", "回复"], [1, "A-7", "关于X的建议", B.letter("b_rd_45")]]
    p = B.make_xlsx(rows, tmp_path / "odd.xlsx")
    with pytest.raises(UnsupportedFormatError, match="no header row"):
        read(read_sheet, p)
    [r] = read(read_sheet, p, {"column_map": parse_column_map("案件编码=number，案件名称=title;回复=reply_text")})
    assert (r.number, r.title) == ("A-7", "关于X的建议")


def test_column_map_errors_name_the_column_and_targets():
    assert parse_column_map("提案号=number, 标题 = title") == {"提案号": "number", "标题": "title"}
    assert parse_column_map("") == {}
    with pytest.raises(ColumnMapError, match=r"领衔人=leader.*accepted targets: number, title"):
        parse_column_map("领衔人=leader")
    with pytest.raises(ColumnMapError, match="expected COLUMN=TARGET"):
        parse_column_map("提案号")
    with pytest.raises(ColumnMapError, match="领衔人"):
        resolve_column_map({"领衔人": "boss"})


def test_sheet_without_reply_column(tmp_path):
    p = B.make_xlsx([["提案号", "标题"], ["1", "关于X的提案"]], tmp_path / "noreply.xlsx")
    with pytest.raises(UnsupportedFormatError, match="reply_text"):
        read(read_sheet, p)


def test_sheet_row_fields_filled_from_the_letter_drop_their_warnings(tmp_path):
    p = B.make_xlsx([["标题", "答复内容"], ["关于优化城区公交线路的建议", B.letter("b_rd_45")]], tmp_path / "w.xlsx")
    opts: dict = {}
    [r] = read(read_sheet, p, opts)
    assert (r.number, r.reply_date, r.proposer) == ("45", "2023-07-03", "张建国")
    assert r.field_sources["number"] == "pattern:number" and r.field_sources["title"] == "column"
    assert r.id == "45_20230703"
    assert not [w for w in opts.get("_warnings", []) if "number" in w or "reply_date" in w]


def test_docx_form_table_gives_labelled_fields(tmp_path):
    """A two-column form at the top (提案号 | 86 …), then the letter (虚构示例)."""
    import docx

    d = docx.Document()
    t = d.add_table(rows=5, cols=2)
    for i, (k, v) in enumerate([("提案号", "86"), ("提案人", "吴振宇等3位委员"), ("主办单位", "蒲湾区住房和城乡建设局"),
                                ("协办单位", "区残疾人联合会、区交通运输局"), ("办理结果", "A类（所提问题已经解决）")]):
        t.cell(i, 0).text, t.cell(i, 1).text = k, v
    for line in ["对《关于推进无障碍环境建设的提案》的答复", "吴振宇委员：", "你们提出的第86号提案收悉。现答复如下：",
                 "2023年全区修复盲道14.6公里。", "", "蒲湾区住房和城乡建设局", "2024年7月5日"]:
        d.add_paragraph(line)
    p = tmp_path / "form.docx"
    d.save(str(p))
    assert docx_text(p.read_bytes()).startswith("提案号：86\n提案人：吴振宇等3位委员\n")
    (r,) = read(read_docx, p)
    assert (r.number, r.reply_date) == ("86", "2024-07-05")
    assert len(r.co_units) == 2 and "交通运输局" in r.co_units
    from service.fields import facts

    assert [f.value for f in facts(r, ["category"])] == ["A类"]


def test_sheet_result_column_gives_the_category(tmp_path):
    p = B.make_xlsx([["提案号", "提案人", "主办单位", "答复日期", "办理结果", "答复内容"],
                     [12, "李明", "梅岗县水利局", "2024-06-28", "B类", "李明委员：\n您的提案收悉。全县新建集中供水工程8处。\n\n梅岗县水利局\n2024年6月28日"]],
                    tmp_path / "s.xlsx")  # 虚构示例
    (r,) = read(read_sheet, p)
    from service.fields import facts

    assert [f.value for f in facts(r, ["category"])] == ["B类"]


def test_docx_letter_framed_in_a_one_cell_table(tmp_path):
    import docx

    d = docx.Document()
    cell = d.add_table(rows=1, cols=1).cell(0, 0)
    lines = ["龚海澄委员：", "您的提案收悉。全区打通消防通道47处。", "", "蓼汀区消防救援大队", "2023年6月16日"]  # 虚构示例
    cell.text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)
    p = tmp_path / "framed.docx"
    d.save(str(p))
    (r,) = read(read_docx, p)
    assert (r.proposer, r.reply_date) == ("龚海澄", "2023-06-16") and r.signer == "蓼汀区消防救援大队"
