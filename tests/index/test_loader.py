"""load_paths over mixed folders: formats, skipped files, duplicates, updates, summary. Letters are fictional (虚构示例)."""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from index.formats import ColumnMapError
from index.loader import READERS, format_summary, load_paths, summary_rows

FIX = Path(__file__).parents[1] / "fixtures" / "formats"
_spec = importlib.util.spec_from_file_location("formats_builders", FIX / "builders.py")
B = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(B)

SCORED = ("number", "proposer", "lead_unit", "reply_date")


def mixed_folder(root: Path) -> dict[str, str]:
    """Each fictional letter in a different format; returns {file name: letter name}."""
    root.mkdir(parents=True, exist_ok=True)
    B.make_docx(B.letter("a_zx_12"), root / "12号答复函.docx")
    B.make_pdf(B.letter("b_rd_45"), root / "45号.pdf")
    (root / "31号.txt").write_bytes(B.letter("c_zx_31").encode("gbk"))
    (root / "56号.md").write_text(B.letter("d_group_56"), "utf-8")
    B.make_docx(B.letter("e_mention_77"), root / "77号.docx")
    B.make_pdf(B.letter("f_rd_3"), root / "3号.pdf", width_chars=25)
    shutil.copy(FIX / "portal_9.html", root / "portal_9.html")
    B.make_xlsx([["建议号", "标题", "代表", "承办单位", "办复日期", "答复内容"],
                 ["45", "关于优化城区公交线路的建议", "张建国", "交通局", "2023-07-03", B.letter("b_rd_45")],
                 ["101", "关于增设社区充电桩的建议", "孙伟", "发改委", "2023-09-09", "孙伟代表：\n您的建议收悉，现答复如下：\n我委正推进充电设施建设。\n\n南通市通州区发展和改革委员会\n2023年9月9日"]],
                root / "export.xlsx")
    os.utime(root / "export.xlsx", (1_600_000_000, 1_600_000_000))  # older than 45号.pdf: the PDF's copy is kept
    return {"12号答复函.docx": "a_zx_12", "45号.pdf": "b_rd_45", "31号.txt": "c_zx_31", "56号.md": "d_group_56",
            "77号.docx": "e_mention_77", "3号.pdf": "f_rd_3"}


def test_mixed_folder_fields_accuracy(tmp_path):
    files = mixed_folder(tmp_path / "in")
    report = load_paths([tmp_path / "in"])
    assert report.skipped == [] and report.files_read == 8
    by_source = {Path(r.source.split("#")[0]).name: r for r in report.replies}
    expected = B.expected()
    right = total = 0
    for fname, name in files.items():
        r = by_source[fname]
        for k in SCORED:
            total += 1
            right += getattr(r, k) == expected[name][k]
    page = by_source["portal_9.html"]
    for k, v in zip(SCORED, ("9", "王丽", "卫生健康委员会", "2023-06-20")):
        total += 1
        right += getattr(page, k) == v
    assert right / total >= 0.95, f"{right}/{total}"
    # the export's row 2 is the same reply as 45号.pdf (same number and date): merged
    assert report.duplicates_merged == 1 and len(report.replies) == 8
    for r in report.replies:
        s, e = r.reply_span
        assert r.text[s:e] == r.reply_text


def test_broken_and_unknown_files_are_skipped_with_reasons(tmp_path):
    mixed_folder(tmp_path)
    (tmp_path / "坏.docx").write_bytes(os.urandom(2048))
    B.make_scanned_pdf(tmp_path / "扫描件.pdf")
    (tmp_path / "旧格式.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "empty.txt").write_bytes(b"")
    report = load_paths([tmp_path, tmp_path / "nope"])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"坏.docx", "扫描件.pdf", "旧格式.doc", "photo.jpg", "empty.txt", "nope"}
    assert "save as .docx" in reasons["坏.docx"]
    assert "OCR" in reasons["扫描件.pdf"]
    assert "soffice" in reasons["旧格式.doc"]
    assert "unsupported file type .jpg" in reasons["photo.jpg"]
    assert "empty file" in reasons["empty.txt"]
    assert reasons["nope"] == "no such file or folder"
    assert len(report.replies) == 8


def test_same_letter_as_html_and_docx_is_one_record(tmp_path):
    shutil.copy(FIX / "portal_12.html", tmp_path / "a.html")
    B.make_docx(B.letter("a_zx_12"), tmp_path / "a.docx")
    report = load_paths([tmp_path])
    assert len(report.replies) == 1 and report.duplicates_merged == 1
    assert report.replies[0].id == "12_20230615"


def test_same_letter_without_number_or_date_collides_by_body(tmp_path):
    letter = "张三代表：\n您的建议收悉，现答复如下：\n我局正加快推进5G基站建设，年内新建基站200个。\n"
    (tmp_path / "a.txt").write_text(letter, "utf-8")
    B.make_docx(letter, tmp_path / "b.docx")
    report = load_paths([tmp_path])
    assert len(report.replies) == 1 and report.duplicates_merged == 1
    assert report.missing_fields[report.replies[0].source] == ["number", "title", "lead_unit", "reply_date"]


def test_newer_file_replaces_the_older_version(tmp_path):
    old = B.letter("b_rd_45")
    new = old.replace("新开通公交线路3条", "新开通公交线路4条")
    B.make_docx(new, tmp_path / "a_revised.docx")
    (tmp_path / "z_first.txt").write_text(old, "utf-8")
    os.utime(tmp_path / "z_first.txt", (1_600_000_000, 1_600_000_000))  # older, though read last
    os.utime(tmp_path / "a_revised.docx", (1_700_000_000, 1_700_000_000))
    report = load_paths([tmp_path])
    [r] = report.replies
    assert "公交线路4条" in r.text and r.source.endswith("a_revised.docx")
    assert report.duplicates_merged == 1
    os.utime(tmp_path / "z_first.txt", (1_800_000_000, 1_800_000_000))  # now the txt is newer
    [r] = load_paths([tmp_path]).replies
    assert "公交线路3条" in r.text


def test_ids_stable_across_rebuilds(tmp_path):
    mixed_folder(tmp_path)
    first = sorted(r.id for r in load_paths([tmp_path]).replies)
    second = sorted(r.id for r in load_paths([tmp_path]).replies)
    assert first == second and "12_20230615" in first and "101_20230909" in first


def test_seed_corpus_still_loads_as_before():
    report = load_paths([B.SEED])
    [r] = report.replies
    assert r.id == "28_20230630" and r.field_sources["number"] == "label" and report.skipped == []


def test_row_problems_are_reported_per_row(tmp_path):
    B.make_xlsx([["提案号", "标题", "答复内容"], ["1", "关于X的提案", ""],
                 ["2", "关于Y的提案", "李明华委员：\n您的提案收悉，现答复如下：\n已办理。\n\n南通市通州区民政局\n2023年3月1日"]],
                tmp_path / "e.xlsx")
    report = load_paths([tmp_path])
    assert [r.number for r in report.replies] == ["2"]
    assert [(Path(s.path).name, "no reply text" in s.reason) for s in report.skipped] == [("e.xlsx#row2", True)]


def test_column_map_option_and_invalid_map(tmp_path):
    B.make_xlsx([["案件编码", "回复"], ["A-7", B.letter("b_rd_45")]], tmp_path / "odd.xlsx")
    assert load_paths([tmp_path]).replies == []
    [r] = load_paths([tmp_path], {"column_map": "案件编码=number,回复=reply_text"}).replies
    assert r.number == "A-7"
    with pytest.raises(ColumnMapError, match="回复=answer"):
        load_paths([tmp_path], {"column_map": {"回复": "answer"}})


def test_summary_lists_everything(tmp_path):
    mixed_folder(tmp_path)
    (tmp_path / "坏.docx").write_bytes(b"not a zip")
    (tmp_path / "n.txt").write_text("张三代表：\n您的建议收悉，现答复如下：\n我局正在推进。\n", "utf-8")
    report = load_paths([tmp_path])
    text = format_summary(report)
    assert "files read: 10" in text and f"replies indexed: {len(report.replies)}" in text
    assert "duplicates merged: 1" in text and "skipped: 1" in text
    assert "坏.docx" in text and "n.txt: number, title, lead_unit, reply_date" in text
    assert ("duplicates merged", "1") in summary_rows(report)


def test_summary_table_builds():
    pytest.importorskip("rich")
    from index.loader import summary_table

    assert summary_table(load_paths([B.SEED])).row_count >= 4


def test_all_formats_registered():
    for s in (".txt", ".md", ".docx", ".pdf", ".html", ".htm", ".xlsx", ".csv", ".jsonl"):
        assert s in READERS


COMPILED = [  # 虚构示例
    "关于市政协第12号提案的答复\n\n刘小红委员：\n您提出的《关于加强农村学校心理健康教育的提案》收悉。现答复如下：\n"
    "全市农村中小学配备专职心理教师86名。\n\n青川市教育局\n2023年6月12日\n（联系人：王强）\n",
    "关于市政协第18号提案的答复\n\n致公党青川市委员会：\n贵委提出的《关于加快发展银发经济的提案》收悉。\n"
    "2022年全市新建居家养老服务中心32个。\n\n青川市民政局\n2023年5月10日\n",
    "关于县政协第36号提案的答复\n\n王华委员：\n您提出的《关于加强农村客运班线运营保障的提案》收悉。\n"
    "全县现有农村客运班线42条。\n\n石门县交通运输局\n2023年6月18日\n",
]


def test_a_compilation_of_letters_is_one_reply_per_letter(tmp_path):
    (tmp_path / "汇编.txt").write_text("\n".join(COMPILED), encoding="utf-8")
    rep = load_paths([tmp_path])
    got = sorted((r.number, r.proposer, r.signer, r.reply_date, r.source.rsplit("#", 1)[-1]) for r in rep.replies)
    assert got == [("12", "刘小红", "青川市教育局", "2023-06-12", "letter1"),
                   ("18", "致公党青川市委员会", "青川市民政局", "2023-05-10", "letter2"),
                   ("36", "王华", "石门县交通运输局", "2023-06-18", "letter3")]
    first = next(r for r in rep.replies if r.number == "12")
    assert "（联系人：王强）" in first.text and "第18号" not in first.text  # the contact line stays with its letter
    assert any("3 signed letters" in w for w in rep.warnings)


def test_one_letter_quoting_a_salutation_is_not_split(tmp_path):
    text = COMPILED[0].replace("全市农村中小学配备专职心理教师86名。", "全市农村中小学配备专职心理教师86名。\n王华委员：另有一件提案一并答复。")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    assert len(load_paths([tmp_path]).replies) == 1


TWO_PLACES = {  # 虚构示例: two places' 第23号, answered the same day
    "a.txt": "关于区人大第23号建议的答复\n\n陈卫东代表：\n你的建议收悉。全区新增共享车位1200个。\n\n宁屿区住房和城乡建设局\n2025年6月18日\n",
    "b.txt": "关于县政协第23号提案的答复\n\n郑鸣远委员：\n你的提案收悉。全县新建集中供水工程8处。\n\n棠阜县水利局\n2025年6月18日\n",
}


def test_two_places_letters_with_one_number_and_date_are_two_records(tmp_path):
    for name, text in TWO_PLACES.items():
        (tmp_path / name).write_text(text, "utf-8")
    report = load_paths([tmp_path])
    ids = sorted(r.id for r in report.replies)
    assert len(ids) == 2 and report.duplicates_merged == 0
    assert ids[0] == "23_20250618" and ids[1].startswith("23_20250618-")
    assert sorted(r.id for r in load_paths([tmp_path]).replies) == ids  # stable
    # a second copy of one of them is still a copy
    (tmp_path / "c.txt").write_text(TWO_PLACES["b.txt"], "utf-8")
    again = load_paths([tmp_path])
    assert len(again.replies) == 2 and again.duplicates_merged == 1


def test_adding_another_places_letter_with_a_taken_id_keeps_both(settings, tmp_path):
    from index.builder import Indexer, open_index

    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    (tmp_path / "first" / "a.txt").write_text(TWO_PLACES["a.txt"], "utf-8")
    (tmp_path / "second" / "b.txt").write_text(TWO_PLACES["b.txt"], "utf-8")
    ix = Indexer(settings)
    ix.build([tmp_path / "first"])
    result = ix.add([tmp_path / "second"])
    idx = open_index(settings)
    assert len(idx.reply_pos) == 2 and result.report.duplicates_merged == 0
    ix.add([tmp_path / "second"])  # the same letter again replaces itself
    assert len(open_index(settings).reply_pos) == 2
