"""Gold files: schema validation with line and field in every error; references resolved by id, number + date, path."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import (
    SCHEMA_PATH, GoldError, Ref, ReplyKey, Resolver, load_gold, numbers_match, parse_lines, relevant_ids,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "seed_gold.jsonl"
DEV_GOLD = ROOT / "eval" / "dev" / "gold.jsonl"

GOOD = {"id": "q1", "question": "通州在产教融合方面做了哪些工作？", "relevant": ["28_20230630"],
        "must_include": ["8家"], "answerable": True, "category": "keyword"}


def _lines(*objs) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objs]


def _errors(*objs) -> str:
    with pytest.raises(GoldError) as e:
        parse_lines(_lines(*objs), "g.jsonl")
    return str(e.value)


def test_schema_is_a_valid_json_schema():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_fixture_loads():
    gold = load_gold(FIXTURE)
    assert [i.id for i in gold.items] == ["s1", "s2", "s3", "s4"]
    s1, s2, s3 = gold.items[:3]
    assert s1.relevant == [Ref(id="28_20230630")] and s1.must_include == ["新增五年制高职专业3个", "8家"]
    assert not s2.answerable and s2.relevant == []
    assert s3.relevant == [Ref(number="28", reply_date="2023-06-30")] and s3.filters == {"number": "28"}
    assert gold.folder == FIXTURE.parent


def test_optional_fields_default():
    item = parse_lines(_lines({"id": "a", "question": "问", "relevant": ["x"]}))[0]
    assert item.answerable and item.must_include == [] and item.spans == [] and item.category == "uncategorised"


def test_errors_name_line_and_field():
    msg = _errors(
        GOOD,
        "{not json",
        {**GOOD, "id": "q3", "relevant": [{"number": "28", "reply_date": "2023/06/30"}]},  # accepted: date read
        {**GOOD, "id": "q4", "question": ""},
        {**GOOD, "id": "q5", "relevant": [{}]},
        {**GOOD, "id": "q6", "answerable": True, "relevant": []},
        {**GOOD, "id": "q7", "colour": "red"},  # accepted: unknown fields are ignored
        {**GOOD},  # duplicate id q1
        {**GOOD, "id": "q9", "filters": {"year_from": 2024, "year_to": 2020}},
        {**GOOD, "id": "q10", "relevant": [{"number": "28"}]},
    )
    assert "g.jsonl:2: not valid JSON" in msg
    assert "g.jsonl:3:" not in msg
    assert "g.jsonl:4: question" in msg
    assert "g.jsonl:5: relevant[0]" in msg
    assert "g.jsonl:6: relevant: empty, but the question is answerable" in msg
    assert "g.jsonl:7:" not in msg
    assert "g.jsonl:8: id: 'q1' already used on line 1" in msg
    assert "g.jsonl:9: filters.year_from" in msg
    assert "g.jsonl:10: relevant[0]" in msg and "reply_date" in msg
    assert msg.startswith("7 problem(s)")


def test_dates_in_other_writings_and_extra_fields_are_accepted():
    item = parse_lines(_lines({"id": "a", "question": "问", "source": "x", "relevant": [
        {"number": 28, "reply_date": "2023年6月30日", "title": "t"}]}))[0]
    assert item.relevant == [Ref(number="28", reply_date="2023-06-30")]


def test_unanswerable_with_replies_is_an_error():
    assert "\"answerable\" is false" in _errors({**GOOD, "answerable": False})


def test_empty_file_is_an_error(tmp_path):
    p = tmp_path / "g.jsonl"
    p.write_text("\n\n", encoding="utf-8")
    with pytest.raises(GoldError, match="no questions"):
        load_gold(p)
    with pytest.raises(GoldError, match="not found"):
        load_gold(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("gold,have,ok", [
    ("28", "28", True), ("28", "028", True), ("２８", "28", True), ("28", "〔2023〕28号", True),
    ("〔2023〕28号", "〔2023〕28号", True), ("2023-28", "〔2023〕28号", True), ("28", "128", False),
    ("28", "〔2028〕5号", False), ("", "28", False), ("28", "", False),
])
def test_numbers_match(gold, have, ok):
    assert numbers_match(gold, have) is ok


@pytest.fixture
def resolver(tmp_path):
    (tmp_path / "corpus").mkdir()
    keys = [
        ReplyKey("28_20230630", "〔2023〕28号", "2023-06-30", str(tmp_path / "corpus" / "a.txt")),
        ReplyKey("5_20210101", "5", "2021-01-01", str(tmp_path / "corpus" / "b.xlsx") + "#row3"),
        ReplyKey("hdeadbeef", "", "", "corpus/c.txt"),  # relative source: resolved against the working folder
    ]
    return Resolver(keys, [tmp_path / "gold-folder", tmp_path / "corpus"])


def test_resolve_by_id_number_and_path(resolver, tmp_path, monkeypatch):
    assert resolver.resolve(Ref(id="28_20230630")) == {"28_20230630"}
    assert resolver.resolve(Ref(number="28", reply_date="2023-06-30")) == {"28_20230630"}
    assert resolver.resolve(Ref(number="28", reply_date="2023-07-01")) == set()
    assert resolver.resolve(Ref(path="a.txt")) == {"28_20230630"}  # relative to --corpus
    assert resolver.resolve(Ref(path="../corpus/a.txt")) == {"28_20230630"}  # relative to the gold folder
    assert resolver.resolve(Ref(path=str(tmp_path / "corpus" / "a.txt"))) == {"28_20230630"}
    assert resolver.resolve(Ref(path="b.xlsx#row3")) == {"5_20210101"}
    assert resolver.resolve(Ref(path="b.xlsx")) == set()  # a spreadsheet row is named with #rowN
    # any resolvable key is enough
    assert resolver.resolve(Ref(id="nope", number="5", reply_date="2021-01-01", path="zzz.txt")) == {"5_20210101"}


def test_relevant_ids_counts_unresolved_references():
    r = Resolver([ReplyKey("a", "1", "2020-01-01", "")], [])
    item = parse_lines(_lines({"id": "x", "question": "问", "relevant": ["a", {"number": "9", "reply_date": "2020-01-01"}]}))[0]
    ids, missing = relevant_ids(item, r)
    assert "a" in ids and len(ids) == 2  # the unresolved one stays as a placeholder: recall cannot reach 1
    assert missing == ["第9号 2020-01-01"]


@pytest.mark.skipif(not DEV_GOLD.is_file(), reason="eval/dev/gold.jsonl not written yet")
def test_dev_gold_set_is_valid():
    gold = load_gold(DEV_GOLD)
    assert len(gold.items) >= 100
    assert {i.category for i in gold.items} >= {"paraphrase", "unanswerable", "follow-up", "multi-reply"}


def test_a_letter_of_a_compilation_is_referred_to_by_its_fragment():
    from eval.gold import split_source

    assert split_source("a/汇编.docx#letter2") == ("a/汇编.docx", "#letter2")
    assert split_source("a/b.xlsx#row3") == ("a/b.xlsx", "#row3")
    assert split_source("a/b.txt") == ("a/b.txt", "")


@pytest.mark.parametrize("folder", ["formats", "fresh"])
def test_formats_and_fresh_gold_sets_are_valid_and_their_facts_are_in_their_letters(folder):
    """eval/formats, eval/fresh: every key fact and answer span occurs in the (decoded) letter it is said to come from."""
    from index.loader import load_paths

    root = DEV_GOLD.parents[1] / folder
    gold = load_gold(root / "gold.jsonl")
    assert len(gold.items) >= 60 and {i.split for i in gold.items} == {"tune", "report"}
    texts = {}
    for r in load_paths([root / "corpus"]).replies:
        texts.setdefault((r.number.lstrip("0"), r.reply_date or r.signed_date), []).append(r.text)
    for item in gold.items:
        assert item.answerable == bool(item.relevant), item.id
        if not item.answerable:
            continue
        letters = [t for ref in item.relevant for t in texts.get((ref.number.lstrip("0"), ref.reply_date), [])]
        assert letters, item.id
        for fact in [*item.must_include, *item.answer_spans]:
            assert any(fact in t for t in letters), (item.id, fact)
