"""Record fields of the letters in eval/fresh/corpus (虚构示例; unseen material of sessions 19 and 20), each checked
against eval/fresh/expected.jsonl, which the letters' writers filled in. The lead unit is compared through the
department table (the writer's 市人社局 is the signature's 榆汀市人力资源和社会保障局); the proposer on its first name."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, corpus_replies, expected_records, last_digits as _digits

FRESH = ROOT / "eval" / "fresh"
EXPECTED = expected_records(FRESH)


@pytest.fixture(scope="module")
def replies():
    return corpus_replies(FRESH)


@pytest.mark.parametrize("want", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_fields_as_the_letter_states_them(replies, want):
    from index.departments import department_table
    from service.units import written_units

    table = department_table()
    r = replies[want["file"]]
    lead, co = written_units(r)
    assert _digits(r.number) == _digits(want["number"])
    assert r.kind == want["kind"]
    assert r.title == want["title"]
    assert (r.reply_date or r.signed_date) == want["reply_date"]
    w = want["lead_unit"]
    assert lead == w or w.endswith(lead) or lead.endswith(w) or table.canonical(lead) == table.canonical(w), (lead, w)
    # 县委宣传部 (a party organ), 县红十字会 and 本答复经商…同意 included; a unit the header shortens (市卫健委) and
    # the opening writes in full (市卫生健康委员会) is the same unit
    assert sorted(map(table.canonical, co)) == sorted(map(table.canonical, want["co_units"]))
    first = re.split(r"[、，,等]", want["proposer"])[0].removesuffix("委员").removesuffix("代表")
    assert r.proposer.startswith(first)
