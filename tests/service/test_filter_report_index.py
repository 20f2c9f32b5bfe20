"""The filter report from an index's per-field lookups equals the one computed reply by reply."""
from __future__ import annotations

from index.builder import Indexer, open_index
from service.filters import Filters, filter_report, index_filter_report
from tests.conftest import ROOT


def test_index_filter_report_equals_the_reply_by_reply_report(settings, tmp_path):
    Indexer(settings).build([ROOT / "eval" / "dev" / "corpus"])
    idx = open_index(settings)
    replies = list(idx.replies.values())
    cases = [Filters(year_from=2022), Filters(departments=["民政"]), Filters(departments=["海门民政", "教体局"]),
             Filters(departments=["社会保障"], year_from=2023, year_to=2023), Filters(departments=["住建"], proposer="王"),
             Filters(year_from=2019, year_to=2019, departments=["卫健委"]),  # may leave nothing: names the culprit
             Filters(number="28"), Filters(departments=["不存在的部门"]), Filters(date_from="2023-01-01", date_to="2023-12-31")]
    for f in cases:
        assert index_filter_report(f, idx) == filter_report(f, replies), f
    assert index_filter_report(None, idx) is None
