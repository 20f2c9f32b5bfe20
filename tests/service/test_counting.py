"""Questions that count replies (service/counting.py), on the fictional other-province corpus (虚构示例)."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.counting import asks_count

CORPUS = Path(__file__).parents[1] / "fixtures" / "other_province" / "corpus"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    from index.builder import Indexer, open_index
    from index.settings import Settings
    from service.retrieval import Retriever

    s = Settings(home=tmp_path_factory.mktemp("count"), embed_model="fake")
    Indexer(s).build([CORPUS])
    return Retriever(open_index(s), s)


@pytest.mark.parametrize("question, counts", [
    ("2023年答复了多少件建议？", True), ("关于农村公路的提案有几件？", True), ("綦江区有几件答复？", True),
    ("民政局答复了几件提案？", True), ("新建了多少个助餐点？", False), ("农村公路修了多少公里？", False),
])
def test_a_count_of_letters_is_told_from_a_figure_in_one(question, counts):
    assert asks_count(question) is counts


def test_records_are_counted_by_year_place_and_department(retriever):
    from service.answer import answer_question

    idx = retriever.index
    in_2023 = [r for r in idx.replies.values() if r.year == 2023]
    a = answer_question(retriever, "2023年答复了多少件提案和建议？")
    assert not a.no_answer and a.lead.startswith(f"2023年已收录的提案和建议答复共{len(in_2023)}件")
    assert {r["id"] for r in a.related} == {r.id for r in in_2023}
    a = answer_question(retriever, "綦江区有几件答复？")
    assert "共2件" in a.lead and all("綦江" in (r["lead_unit"] + r["signer"]) for r in a.related)
    a = answer_question(retriever, "如东县有几件答复？")  # a place the index has no letter from
    assert a.no_answer and "没有如东县的答复" in a.lead and not a.related


def test_a_year_asked_with_nothing_else_lists_that_years_letters(retriever):
    """"2023年" or "2023年的答复" typed alone: the year's letters, listed (not "no letter on this topic")."""
    from service.answer import answer_question

    in_2023 = {r.id for r in retriever.index.replies.values() if r.year == 2023}
    for question in ("2023年", "2023年的答复"):
        a = answer_question(retriever, question)
        assert not a.no_answer and a.lead.startswith(f"2023年已收录的提案和建议答复共{len(in_2023)}件")
        assert {r["id"] for r in a.related} == in_2023
    assert not answer_question(retriever, "2023年农村公路修了多少公里？").lead.startswith("2023年已收录")


def test_last_year_in_a_count_is_the_calendar_s(retriever):
    from service.counting import count_records
    from service.query import analyse

    q = analyse("去年答复了多少件提案和建议？", retriever.gazetteer, current_year=2024)
    a = count_records(retriever, q, q.text, q.text)
    in_2023 = {r.id for r in retriever.index.replies.values() if r.year == 2023}
    assert in_2023 and a.lead.startswith(f"2023年已收录的提案和建议答复共{len(in_2023)}件")


def test_letters_on_a_topic_are_counted_as_they_are_judged(retriever):
    from service.answer import answer_question

    a = answer_question(retriever, "关于农村公路的答复有几件？")
    assert not a.no_answer and a.lead.startswith("共有2件答复谈到了")
    assert {c.place for c in a.citations} == {"江津区", "泽州县"}


def test_a_count_keeps_to_the_filters_given_and_lists_at_most_ten(retriever):
    from service.answer import answer_question
    from service.filters import Filters

    a = answer_question(retriever, "答复了多少件提案和建议？", filters=Filters(year_from=2023, year_to=2023))
    in_2023 = {r.id for r in retriever.index.replies.values() if r.year == 2023}
    assert f"共{len(in_2023)}件" in a.lead and {r["id"] for r in a.related} == in_2023
    a = answer_question(retriever, "答复了多少件提案和建议？")
    n = len(retriever.index.replies)
    assert f"共{n}件" in a.lead and len(a.related) == min(n, 10)
