"""The 跟踪 tab's timeline HTML (pure renderer) and its filters."""
from __future__ import annotations

import re

from ui.track import render_timeline, summary_line, track_filters

EVIL = "<script>alert(1)</script>"


def _c(cid, reply, year, start, status, evidence=(), fulfilment=None, text="2021年计划新增老年助餐点10个。", title="标题"):
    return {"id": cid, "text": text, "status": status, "fulfilment": fulfilment, "due": f"{year}-12-31", "due_stated": True,
            "comparisons": [], "as_of": "2024-06-30",
            "source": {"reply_id": reply, "number": "3", "year": year, "reply_date": f"{year}-06-10", "title": title,
                       "department": "民政局", "district": "东港区", "citation": {"start": start, "end": start + len(text)}},
            "evidence": [{"reply_id": r, "number": "7", "year": y, "reply_date": f"{y}-06-15", "title": "后来的答复",
                          "department": "民政局", "district": "东港区", "kind": k, "text": t, "start": s, "end": s + len(t)}
                         for r, y, k, t, s in evidence]}


ITEMS = [
    _c("a", "R1", 2021, 100, "reported", [("R2", 2022, "report", "2021年新增12个。", 50)], "met"),
    _c("b", "R1", 2021, 200, "in_progress", [("R2", 2022, "restated", "2022年建成中央厨房1个。", 300)], text="建成中央厨房。"),
    _c("c", "R1", 2021, 300, "not_reported", text="探索时间银行。"),
    _c("d", "R2", 2022, 300, "not_reported", text="2022年建成中央厨房1个。"),
]


def test_one_row_per_reply_oldest_first_with_arrow_targets():
    html = render_timeline(ITEMS, "老年助餐")
    assert html.count('class="tl-row"') == 2
    assert html.index('data-reply="R1"') < html.index('data-reply="R2"')
    targets = re.findall(r'data-to="([^"]+)"', html)
    restated = re.findall(r'data-restated="([^"]+)"', html)
    assert len(targets) == 1 and len(restated) == 1
    for pid in targets + restated:
        assert f'id="{pid}"' in html
    # the restating plan sentence of R2 is the commitment d itself: one point, not two
    assert html.count("2022年建成中央厨房1个。") == 1


def test_statuses_marked_and_counted():
    html = render_timeline(ITEMS, "老年助餐")
    assert html.count("tl-pt plan not_reported") == 2 and "未见报告" in html and "已报告·达成" in html
    assert summary_line(ITEMS) == "共 4 项承诺：已报告 1（达成 1、部分完成 0）、仍在推进 1、未见报告 2、未到期 0"


def test_document_text_is_escaped():
    html = render_timeline([_c("x", "R1", 2021, 1, "pending", text=EVIL, title=EVIL)], EVIL)
    assert EVIL not in html and "&lt;script&gt;" in html


def test_empty_and_error_states():
    assert "输入话题" in render_timeline(None)
    assert "没有找到" in render_timeline([], "地铁")
    assert "无法加载" in render_timeline(None, error="HTTP 503: busy")


def test_filters_like_the_chat():
    assert track_filters("东港区", ["民政局", " "], "2023", "2021", "not_reported") == {
        "year_from": 2021, "year_to": 2023, "departments": ["民政局"], "district": "东港区", "status": "not_reported"}
    assert track_filters("不限", [], "不限", "不限", "") == {}
