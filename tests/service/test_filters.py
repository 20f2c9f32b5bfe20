"""Metadata filters: years, dates, departments with aliases, proposer, number."""
from __future__ import annotations

import pytest

from index.errors import DafuError
from index.records import Reply
from service.filters import Filters


@pytest.fixture
def reply():
    return Reply(id="x", text="", proposer="戴红玲", number="〔2023〕28号", lead_unit="教育体育局",
                 co_units=["人力资源和社会保障局"], reply_date="2023-06-30")


@pytest.mark.parametrize("f,ok", [
    (Filters(), True),
    (Filters(year_from=2023, year_to=2023), True),
    (Filters(year_from=2024), False),
    (Filters(year_to=2022), False),
    (Filters(date_from="2023-06-01", date_to="2023-06-30"), True),
    (Filters(date_to="2023-06-29"), False),
    (Filters(departments=["教体局"]), True),
    (Filters(departments=["区教育体育局"]), True),
    (Filters(departments=["人社局"]), True),  # co-handling counts
    (Filters(departments=["发改委"]), False),
    (Filters(departments=["发改委", "人社局"]), True),
    (Filters(proposer="戴红玲"), True),
    (Filters(proposer="张三"), False),
    (Filters(number="28"), True),
    (Filters(number="〔2023〕28号"), True),
    (Filters(number="2"), False),
])
def test_matches(reply, f, ok):
    assert f.matches(reply) is ok


def test_bad_ranges_are_errors():
    with pytest.raises(DafuError, match="year_from"):
        Filters(year_from=2024, year_to=2020)
    with pytest.raises(DafuError, match="2023-06-30"):
        Filters(date_from="June")


def test_filters_restrict_retrieval(seed_retriever):
    assert seed_retriever.search("产教融合", Filters(year_from=2024)).replies == []
    assert seed_retriever.search("产教融合", Filters(departments=["发改委"])).replies[0].reply.id == "28_20230630"
    assert seed_retriever.search("产教融合", Filters(departments=["卫健委"])).replies == []
