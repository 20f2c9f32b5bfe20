"""Commitment tracking over the fictional fixture letters (tests/fixtures/track), with the fake encoder."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "track"
AS_OF = "2024-06-30"


@pytest.fixture
def track_retriever(settings):
    from index.builder import Indexer, open_index
    from service.retrieval import Retriever

    Indexer(settings).build([FIXTURES])
    return Retriever(open_index(settings), settings)


def _by_text(items, needle):
    (hit,) = [t for t in items if needle in t.commitment.text]
    return hit


def test_statuses_and_evidence(track_retriever):
    from service.track_query import tracker_of

    items = tracker_of(track_retriever).all(AS_OF)
    assert len(items) == 7
    kept = _by_text(items, "2021年计划新增老年助餐点10个")
    assert (kept.status, kept.fulfilment) == ("reported", "met")
    assert [e.reply_id for e in kept.evidence] == ["7_20220615"]  # not 2023's figure for 2022, not the other county
    assert kept.comparisons[0]["reported"] == "12个"
    partly = _by_text(items, "2022年计划新增老年助餐点15个")
    assert (partly.status, partly.fulfilment) == ("reported", "partly") and partly.comparisons[0]["reported"] == "9个"
    restated = _by_text(items, "年底前建成区级中央厨房1个")
    assert restated.status == "in_progress" and [e.kind for e in restated.evidence] == ["restated"]
    assert _by_text(items, "时间银行").status == "not_reported"  # no date: due at the end of the next year, passed
    assert _by_text(items, "2022年建成区级中央厨房1个").status == "not_reported"
    assert _by_text(items, "2022年计划新增老年助餐点8个").status == "not_reported"  # 西岭县: nothing later there


def test_evidence_offsets_slice_the_reply_text(track_retriever):
    from service.track_query import tracker_of

    idx = track_retriever.index
    for t in tracker_of(track_retriever).all(AS_OF):
        c = t.commitment
        assert idx.replies[c.reply_id].text[c.start:c.end] == c.text
        for e in t.evidence:
            assert idx.replies[e.reply_id].text[e.start:e.end] == e.text
            assert e.reply_date > c.reply_date


def test_status_depends_on_as_of(track_retriever):
    from service.track_query import tracker_of

    tr = tracker_of(track_retriever)
    before = _by_text(tr.all("2023-09-01"), "2023年计划新增老年助餐点10个")
    after = _by_text(tr.all("2024-01-15"), "2023年计划新增老年助餐点10个")
    assert (before.status, after.status) == ("pending", "not_reported")
    # as of a date before the 2022 reply, the 2021 promise has no report yet
    early = _by_text(tr.all("2022-01-01"), "2021年计划新增老年助餐点10个")
    assert early.status == "not_reported" and early.evidence == []
    assert all(t.commitment.reply_date <= "2021-12-31" for t in tr.all("2021-12-31"))


def test_year_rules_keep_annual_targets_apart():
    from index.commitments import Commitment
    from service.track import CommitmentTracker

    c = Commitment(id="a@1", reply_id="a", text="2021年计划新增10个", start=0, end=1, measure="", due="2021-12-31",
                   reply_date="2021-06-10")
    assert CommitmentTracker.period(c, [2020], "2022-06-01", False) is None  # before the promise
    assert CommitmentTracker.period(c, [2021], "2022-06-01", False) == "in"
    assert CommitmentTracker.period(c, [2022], "2023-06-01", True) is None  # another year's figure, already reported
    assert CommitmentTracker.period(c, [2022], "2023-06-01", False) == "late"
    assert CommitmentTracker.period(c, [], "2022-06-01", True) == "in"
    assert CommitmentTracker.period(c, [], "2024-06-01", True) is None


def test_track_topic_filters(track_retriever):
    from index.errors import DafuError
    from service.track_query import track_dicts, track_topic

    assert {t.commitment.district for t in track_topic(track_retriever, "老年助餐", as_of=AS_OF)} == {"东港区", "西岭县"}
    only = track_topic(track_retriever, "老年助餐", district="西岭", as_of=AS_OF)
    assert [t.commitment.reply_id for t in only] == ["5_20220701"]
    assert track_topic(track_retriever, "老年助餐", departments=["民政部门"], as_of=AS_OF)  # alias folded
    assert track_topic(track_retriever, "老年助餐", departments=["交通运输局"], as_of=AS_OF) == []
    assert {t.commitment.year for t in track_topic(track_retriever, "", year_from=2022, year_to=2022, as_of=AS_OF)} == {2022}
    assert {t.status for t in track_topic(track_retriever, "", status="not_reported", as_of=AS_OF)} == {"not_reported"}
    assert track_topic(track_retriever, "地铁线路规划", as_of=AS_OF) == []
    with pytest.raises(DafuError, match="not a district of this index; known: 东港区、西岭县"):
        track_topic(track_retriever, "老年助餐", district="火星区")
    with pytest.raises(DafuError, match="not one of"):
        track_topic(track_retriever, "老年助餐", status="done")
    with pytest.raises(DafuError, match="not a date"):
        track_topic(track_retriever, "老年助餐", as_of="昨天")
    d = track_dicts(track_retriever, "老年助餐", as_of=AS_OF)[0]
    assert set(d) >= {"text", "source", "due", "status", "evidence"}
    assert set(d["source"]) >= {"reply_id", "number", "year", "department", "district", "citation"}
    json.dumps(d, ensure_ascii=False)


def test_chat_answers_whether_a_promise_was_kept(track_retriever):
    from service.track_query import answer_commitment_question, is_commitment_question

    a = answer_commitment_question(track_retriever, "东港区去年答应新增的助餐点建了没有？", None, today=dt.date(2022, 9, 1))
    assert a is not None and not a.no_answer
    assert [p.kind for p in a.points] == ["plan", "done"]
    assert a.points[0].text == "2021年计划新增老年助餐点10个。" and "12个" in a.points[1].text
    assert "达成" in a.answer_markdown
    cites = {c.n: c for c in a.citations}
    for p in a.points:  # every point is an exact sentence of its cited passage
        c = cites[p.citations[0]]
        assert p.text in c.passage and track_retriever.index.replies[c.reply_id].text[c.start:c.end] == c.passage
    # a year with no promise on it: the latest one, said so
    later = answer_commitment_question(track_retriever, "东港区去年答应新增的助餐点建了没有？", None, today=dt.date(2026, 3, 1))
    assert "没有找到2025年" in later.answer_markdown and "2023年计划新增老年助餐点10个" in later.points[0].text
    assert answer_commitment_question(track_retriever, "助餐点有哪些补贴？", None) is None
    # a year written out with no promise from it: the ordinary answer (a later letter may report on that year)
    assert answer_commitment_question(track_retriever, "东港区2025年答应新增的助餐点建了没有？", None,
                                      today=dt.date(2026, 3, 1)) is None
    assert not is_commitment_question("职业教育下一步有什么打算？")


def test_answer_question_uses_the_tracker_only_for_such_questions(track_retriever):
    from service.answer import answer_question

    a = answer_question(track_retriever, "2022年计划新增的助餐点完成了没有？")
    assert a.points and a.timings.get("tracked") == 1.0
    b = answer_question(track_retriever, "东港区助餐点建设情况")
    assert "tracked" not in b.timings


def test_cli_track_json_and_text(settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from index.builder import Indexer
    from service.cli import app

    Indexer(settings).build([FIXTURES])
    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    monkeypatch.setenv("DAFU_INDEX_DIR", str(settings.resolved_index_dir))
    run = CliRunner().invoke(app, ["track", "老年助餐", "--district", "东港区", "--as-of", AS_OF, "--json"])
    assert run.exit_code == 0, run.output
    items = json.loads(run.output)
    assert len(items) == 6 and {i["source"]["district"] for i in items} == {"东港区"}
    text = CliRunner().invoke(app, ["track", "老年助餐", "--as-of", AS_OF])
    assert "已报告（达成）" in text.output and "未见报告" in text.output
    bad = CliRunner().invoke(app, ["track", "老年助餐", "--district", "火星区"])
    assert bad.exit_code == 2 and "not a district" in bad.output


def test_api_track(settings):
    from fastapi.testclient import TestClient

    from index.builder import Indexer
    from service.api.app import create_app

    Indexer(settings).build([FIXTURES])
    with TestClient(create_app(settings.model_copy(update={"index_dir": settings.resolved_index_dir}), with_ui=False)) as c:
        r = c.get("/api/track", params={"topic": "老年助餐", "as_of": AS_OF, "departments": ["民政局"]})
        assert r.status_code == 200
        body = r.json()
        assert len(body) == 7 and body[0]["source"]["citation"]["text"] == body[0]["text"]
        assert c.get("/api/track", params={"as_of": AS_OF, "limit": 2}).json().__len__() == 2
        assert c.get("/api/track/districts").json() == ["东港区", "西岭县"]
        assert c.get("/api/track", params={"district": "火星区"}).status_code == 400
        assert c.get("/api/track", params={"status": "done"}).status_code == 422
        assert c.get("/api/track", params={"bogus": 1}).status_code == 422
        reply = c.get(f"/api/replies/{body[0]['evidence'][0]['reply_id']}").json()
        e = body[0]["evidence"][0]
        assert reply["text"][e["start"]:e["end"]] == e["text"]


def test_tracker_without_stored_commitments(settings):
    """A version written before commitments were stored: they are extracted (and embedded) on first use."""
    from index.builder import Indexer, open_index
    from index.store import IndexStore
    from service.retrieval import Retriever
    from service.track_query import tracker_of

    Indexer(settings).build([FIXTURES])
    for p in IndexStore(settings.resolved_index_dir).segments_dir.glob("s-*/commitments.jsonl"):  # kept per segment
        p.unlink()
    r = Retriever(open_index(settings), settings)
    assert r.index.commitments is None
    assert len(tracker_of(r).all(AS_OF)) == 7
