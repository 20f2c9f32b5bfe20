"""The Milvus backend against embedded milvus-lite: filters as expressions, build/add/remove/list/info,
the same cited answers, not-found and follow-ups as the FAISS backend."""
from __future__ import annotations

import itertools
import json

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from typer.testing import CliRunner  # noqa: E402

from index.backends import make_indexer, open_store  # noqa: E402
from index.builder import open_index  # noqa: E402
from index.loader import load_paths  # noqa: E402
from index.milvus import filter_expression  # noqa: E402
from service.answer import answer_question  # noqa: E402
from service.filters import Filters  # noqa: E402
from service.retrieval import Retriever  # noqa: E402
from tests.conftest import ROOT, SEED_QUESTION  # noqa: E402

DEV = ROOT / "eval" / "dev" / "corpus"
QUESTIONS = [SEED_QUESTION, "养老服务补贴发放了多少？", "老旧小区改造下一步有什么打算？", "垃圾分类取得了哪些成效？",
             "城市公交线路怎么优化？", "人社局答复了哪些提案？", "2022年农村公路建设情况如何？"]


@pytest.fixture(scope="module")
def milvus_settings(tmp_path_factory):
    from index.settings import Settings

    home = tmp_path_factory.mktemp("milvus-home")
    return Settings(home=home, embed_model="fake", backend="milvus", milvus_uri=str(home / "milvus.db"))


@pytest.fixture(scope="module")
def built(milvus_settings):
    make_indexer(milvus_settings).build([DEV])
    return milvus_settings


@pytest.fixture(scope="module")
def faiss_retriever(tmp_path_factory):
    from index.builder import Indexer
    from index.settings import Settings

    s = Settings(home=tmp_path_factory.mktemp("faiss-home"), embed_model="fake")
    Indexer(s).build([DEV])
    return Retriever(open_index(s), s)


def test_filters_as_expressions_select_what_matches_selects(built):
    replies = load_paths([DEV]).replies
    idx = open_store(built).load()
    years = sorted({r.year for r in replies if r.year})
    units = sorted({u for r in replies for u in r.units})
    filters = [Filters(year_from=y) for y in years] + [Filters(year_from=a, year_to=b) for a, b in itertools.combinations(years, 2)]
    filters += [Filters(departments=[u]) for u in units] + [Filters(departments=["人社局", "教育局"])]
    filters += [Filters(departments=[d]) for d in ("民政", "社会保障", "海门区民政局", "通州教育", "政法委", "不存在的部门")]
    filters += [Filters(proposer=r.proposer[:1]) for r in replies[:5]] + [Filters(proposer="无此人")]
    filters += [Filters(number=r.number) for r in replies[:8]] + [Filters(number="第28号"), Filters(date_from="2022-03-01", date_to="2023-06-30")]
    for f in filters:
        expr = idx.chunk_mask(f).expr
        rows = idx.client.query(idx.names["chunks"], filter=expr, output_fields=["reply_pos"], limit=16384)
        got = {idx.reply_ids[int(r["reply_pos"])] for r in rows}
        want = {r.id for r in replies if f.matches(r)}
        assert got == want, (f, expr)
    assert filter_expression(None) is None and filter_expression(Filters()) is None


def test_answers_cite_like_the_faiss_backend(built, faiss_retriever):
    ret = Retriever(open_index(built), built)
    same_top = 0
    for q in QUESTIONS:
        a = answer_question(ret, q)
        b = answer_question(faiss_retriever, q)
        assert a.no_answer == b.no_answer, q
        for c in a.citations:  # offsets slice the letter exactly
            assert ret.index.reply(c.reply_id).text[c.start:c.end] == c.passage
        if a.citations and b.citations:
            same_top += a.citations[0].reply_id == b.citations[0].reply_id
    assert same_top >= len([q for q in QUESTIONS if not answer_question(faiss_retriever, q).no_answer]) - 1
    a = answer_question(ret, SEED_QUESTION)
    assert {c.number for c in a.citations} == {"28"} and not a.no_answer


def test_filters_and_follow_ups(built):
    ret = Retriever(open_index(built), built)
    a = answer_question(ret, "产教融合做了哪些工作？", Filters(number="28"))
    assert a.citations and {c.number for c in a.citations} == {"28"}
    res = ret.search("养老服务", filters=Filters(year_from=2023, year_to=2023), top_k=10)
    assert res.replies and all(g.reply.year == 2023 for g in res.replies)
    follow = answer_question(ret, "下一步呢？", history=[{"question": SEED_QUESTION}])
    assert follow.rewritten_question != "下一步呢？" and follow.citations


def test_cli_build_add_remove_list_info(tmp_path, monkeypatch, seed_text):
    from service.cli import app

    db = tmp_path / "cli-milvus.db"
    for k, v in {"DAFU_BACKEND": "milvus", "DAFU_MILVUS_URI": str(db), "DAFU_EMBED_MODEL": "fake"}.items():
        monkeypatch.setenv(k, v)
    run = CliRunner().invoke
    res = run(app, ["index", "build", str(ROOT / "index" / "data" / "sample")])
    assert res.exit_code == 0, res.output
    extra = tmp_path / "extra.txt"
    extra.write_text(seed_text.replace("建议/提案号: 28", "建议/提案号: 31").replace("产教融合", "养老服务"), encoding="utf-8")
    res = run(app, ["index", "add", str(extra)])
    assert res.exit_code == 0, res.output
    listed = [json.loads(x) for x in run(app, ["index", "list", "--json"]).output.splitlines() if x.startswith("{")]
    assert sorted(r["number"] for r in listed) == ["28", "31"]
    info = json.loads(run(app, ["index", "info", "--json"]).output)
    assert info["backend"] == "milvus" and info["replies"] == 2 and info["model"] == "fake"
    ans = json.loads(run(app, ["ask", "养老服务做了哪些工作？", "--json"]).output)
    assert ans["citations"] and ans["citations"][0]["number"] == "31"
    # the same reply again replaces it; removing it leaves the seed
    res = run(app, ["index", "add", str(extra)])
    assert res.exit_code == 0 and json.loads(run(app, ["index", "info", "--json"]).output)["replies"] == 2
    rid = next(r["id"] for r in listed if r["number"] == "31")
    res = run(app, ["index", "remove", rid])
    assert res.exit_code == 0, res.output
    listed = [json.loads(x) for x in run(app, ["index", "list", "--json"]).output.splitlines() if x.startswith("{")]
    assert [r["number"] for r in listed] == ["28"]
    res = run(app, ["index", "remove", rid])
    assert res.exit_code == 2 and rid in res.output
    ans = json.loads(run(app, ["ask", SEED_QUESTION, "--json"]).output)
    assert {c["number"] for c in ans["citations"]} == {"28"}


def test_missing_extra_or_index_is_a_clear_error(tmp_path):
    from index.errors import IndexNotFoundError
    from index.settings import Settings

    s = Settings(home=tmp_path, embed_model="fake", backend="milvus", milvus_uri=str(tmp_path / "empty.db"))
    with pytest.raises(IndexNotFoundError) as e:
        open_store(s).load()
    assert "DAFU_BACKEND=milvus dafu index build" in str(e.value)


def test_move_a_faiss_index_into_milvus_without_encoding(tmp_path):
    from index.builder import Indexer
    from index.embed import FakeEncoder
    from index.settings import Settings

    src = Settings(home=tmp_path / "src", embed_model="fake")
    Indexer(src).build([DEV])
    calls: list[int] = []

    class Counting(FakeEncoder):
        def encode_passages(self, texts):
            calls.append(len(texts))
            return super().encode_passages(texts)

    dst = Settings(home=tmp_path / "dst", embed_model="fake", backend="milvus", milvus_uri=str(tmp_path / "m.db"))
    res = make_indexer(dst, encoder=Counting()).import_faiss(src.resolved_index_dir)
    assert sum(calls) == 0 and res.embedded == 0  # every vector came from the FAISS index
    faiss_idx = open_index(src)
    assert res.replies == len(faiss_idx.replies) and res.chunks == faiss_idx.chunk_count
    a = answer_question(Retriever(open_index(dst), dst), SEED_QUESTION)
    assert {c.number for c in a.citations} == {"28"}


def test_adding_another_places_letter_with_a_taken_id_keeps_both(tmp_path):
    from index.settings import Settings
    from tests.index.test_loader import TWO_PLACES

    s = Settings(home=tmp_path / "h", embed_model="fake", backend="milvus", milvus_uri=str(tmp_path / "m.db"))
    for d, name in (("first", "a.txt"), ("second", "b.txt")):
        (tmp_path / d).mkdir()
        (tmp_path / d / name).write_text(TWO_PLACES[name], "utf-8")
    ix = make_indexer(s)
    ix.build([tmp_path / "first"])
    ix.add([tmp_path / "second"])
    ix.add([tmp_path / "second"])  # the same letter again replaces itself
    ids = sorted(r.id for r in open_store(s).load().replies.values())
    assert len(ids) == 2 and ids[0] == "23_20250618" and ids[1].startswith("23_20250618-")
