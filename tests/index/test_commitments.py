"""Commitment extraction: figures, due dates, districts, and the records the index stores."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.commitments import (
    Commitment, district_of, extract_commitments, parse_due, parse_figures, reply_commitments, topic_of,
)
from index.records import Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "track"


def _figs(text):
    return [(f.value, f.unit, f.group) for f in parse_figures(text)]


def test_figures_units_multipliers_and_ranges():
    assert _figs("2022年计划开展职业技能培训1.5万人次") == [(15000.0, "人次", "person_times")]
    assert _figs("完成提档升级46.5公里，投入资金6500万元") == [(46.5, "公里", "length"), (6.5e7, "元", "money")]
    assert _figs("每年培育产教融合型企业3~5个")[0][:2] == (3.0, "个")
    assert parse_figures("每年培育企业3~5个")[0].high == 5.0
    assert _figs("参与率达到86.5%，提高3.2个百分点") == [(86.5, "%", "percent"), (3.2, "个百分点", "points")]
    assert _figs("加装电梯34台")[0][2] == _figs("加装电梯30部")[0][2] == "machines"


def test_figures_ignore_years_times_and_codes():
    assert _figs("2023年秋季学期起延时服务至18:00，完成县道X205拓宽改造") == []
    assert _figs("一个重要举措") == []


def test_figure_roles_ceiling_origin_cumulative_and_context():
    f45, f15 = parse_figures("审批时限由原来的45个工作日压缩至15个工作日")
    assert f45.origin and not f45.at_most and f15.at_most and not f15.origin
    assert parse_figures("审批时限压缩至20个工作日以内")[0].at_most
    total, part = parse_figures("2021年以来全区累计新建公共充电桩620个，其中2021年新建280个。")
    assert total.cumulative and not part.cumulative
    assert "充电桩" in part.context  # 其中…: what is counted is said in the clause before
    assert part.year == 2021


def test_figure_offsets_slice_the_text():
    text = "前言。2022年计划新增老年助餐点20个。"
    f = parse_figures(text[3:], offset=3)[0]
    assert text[f.start:f.end] == f.text == "20个"


@pytest.mark.parametrize("sentence, year, due", [
    ("2022年计划新增老年助餐点20个。", 2022, "2022-12-31"),
    ("年底前完成危桥改造10座。", 2021, "2021-12-31"),
    ("预计2023年10月投入使用。", 2023, "2023-10-31"),
    ("2023年6月底前出台办法。", 2023, "2023-06-30"),
    ("到2025年，优良中等路率达到85%以上。", 2023, "2025-12-31"),
    ("力争明年建成。", 2022, "2023-12-31"),
    ("三年内改造老旧小区50个。", 2022, "2025-12-31"),
    ("上半年完成招标。", 2024, "2024-06-30"),
    ("在2019年基础上继续扩大覆盖面。", 2022, ""),  # a year before the reply is a reference, not a due date
    ("探索送餐上门服务。", 2022, ""),
])
def test_due_dates(sentence, year, due):
    assert parse_due(sentence, year)[0] == due


def test_due_from_heading_when_the_sentence_has_none():
    assert parse_due("新建公共实训基地1个。", 2022, "二、2023年工作计划")[0] == "2023-12-31"


def test_district_department_topic_from_the_letter_not_a_list():
    r = Reply(id="x", text="", title="关于发展老年助餐服务的建议", signer="江北市东港区民政局")
    assert district_of(r) == "东港区" and topic_of(r) == "发展老年助餐服务"
    assert district_of(Reply(id="y", text="", signer="某某市西岭县交通运输局")) == "西岭县"
    assert district_of(Reply(id="z", text="", signer="南通市民政局")) == "南通市"  # a city-level reply
    assert district_of(Reply(id="w", text="", title="关于临江区养老服务的建议")) == "临江区"
    assert district_of(Reply(id="v", text="", signer="民政局")) == ""


def _load(path: Path) -> list:
    from index.chunking import chunk_reply
    from index.loader import load_paths

    replies = load_paths([path]).replies
    return replies, [c for r in replies for c in chunk_reply(r)]


def test_commitments_are_the_plan_sentences_with_offsets():
    replies, chunks = _load(FIXTURES / "f1_donggang_2021.txt")
    (r,) = replies
    cs = reply_commitments(r, chunks)
    assert [c.text for c in cs] == ["2021年计划新增老年助餐点10个。", "年底前建成区级中央厨房1个。",
                                    "探索老年助餐“时间银行”志愿服务模式。"]
    for c in cs:
        assert r.text[c.start:c.end] == c.text
        assert c.district == "东港区" and c.department == "民政局" and c.reply_date == "2021-06-10"
        for f in c.targets:
            assert r.text[f.start:f.end] == f.text
    assert cs[0].targets[0].value == 10 and cs[0].due == "2021-12-31" and cs[0].measure == "新增老年助餐点10个"
    assert cs[1].due_text == "年底前" and cs[2].due == "" and cs[2].targets == []
    assert Commitment.from_dict(json.loads(json.dumps(cs[0].to_dict(), ensure_ascii=False))) == cs[0]


def test_done_sentences_and_courtesy_are_not_commitments():
    replies, chunks = _load(FIXTURES / "f2_donggang_2022.txt")
    texts = [c.text for c in extract_commitments(replies, chunks)]
    assert texts == ["2022年计划新增老年助餐点15个。", "2022年建成区级中央厨房1个。"]


def test_the_builder_stores_commitments_and_updates_them_with_add_and_remove(settings):
    from index.builder import Indexer
    from index.store import IndexStore

    ix = Indexer(settings)
    ix.build([FIXTURES / "f1_donggang_2021.txt"])
    idx = IndexStore(settings.resolved_index_dir).load()
    assert len(idx.commitments) == 3 and idx.manifest["commitments"] == 3
    ix.add([FIXTURES / "f2_donggang_2022.txt"])
    idx = IndexStore(settings.resolved_index_dir).load()
    assert {c.reply_id for c in idx.commitments} == {"3_20210610", "7_20220615"} and len(idx.commitments) == 5
    res = ix.add([FIXTURES / "f2_donggang_2022.txt"])
    assert res.embedded == 0  # unchanged text: vectors come from the cache
    ix.remove(["3_20210610"])
    idx = IndexStore(settings.resolved_index_dir).load()
    assert [c.reply_id for c in idx.commitments] == ["7_20220615", "7_20220615"]


def test_a_version_without_commitments_still_loads(settings):
    from index.builder import Indexer
    from index.store import IndexStore

    Indexer(settings).build([FIXTURES / "f1_donggang_2021.txt"])
    store = IndexStore(settings.resolved_index_dir)
    v = store.current_version()
    (v / "commitments.jsonl").unlink()
    idx = store.load()
    assert idx.commitments is None
