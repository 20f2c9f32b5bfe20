"""Filter masks per field value select exactly the replies Filters.matches accepts."""
from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from index.facets import ReplyFacets, ReplyMeta
from index.loader import load_paths
from service.filters import Filters
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def replies():
    return load_paths([ROOT / "eval" / "dev" / "corpus"]).replies


def _filters(replies) -> list[Filters]:
    rng = random.Random(0)
    years = sorted({r.year for r in replies if r.year})
    units = sorted({u for r in replies for u in r.units} | {r.signer for r in replies if r.signer})
    people = sorted({r.proposer for r in replies if r.proposer})
    numbers = sorted({r.number for r in replies if r.number})
    out = [Filters(year_from=y) for y in years] + [Filters(year_to=y) for y in years]
    out += [Filters(year_from=a, year_to=b) for a, b in itertools.combinations(years, 2)]
    out += [Filters(date_from="2022-03-01"), Filters(date_to="2023-06-30"), Filters(date_from="2021-01-01", date_to="2022-12-31")]
    out += [Filters(departments=[u]) for u in units] + [Filters(departments=["教育局"]), Filters(departments=["人社局", "民政局"])]
    # typed the way people type them: a prefix, a part, a place in front, a place without 区
    out += [Filters(departments=[d]) for d in ("民政", "住建", "社会保障", "卫健", "海门区民政局", "通州教育", "崇川区住建局",
                                                "南通市通州区教育体育局", "政法委", "不存在的部门")]
    out += [Filters(proposer=p) for p in people[:20]] + [Filters(proposer=p[:1]) for p in people[:5]] + [Filters(proposer="无此人")]
    out += [Filters(number=n) for n in numbers[:20]] + [Filters(number="0" + numbers[0]), Filters(number=f"第{numbers[1]}号")]
    for _ in range(40):
        out.append(Filters(year_from=rng.choice(years), departments=[rng.choice(units)],
                           proposer=rng.choice(people)[:1] if rng.random() < 0.5 else None))
    return out


def test_masks_equal_matches(replies):
    facets = ReplyFacets(ReplyMeta.of(r) for r in replies)
    for f in _filters(replies):
        want = np.array([f.matches(r) for r in replies])
        assert (facets.mask(f) == want).all(), f


def test_learned_lists(replies):
    facets = ReplyFacets(ReplyMeta.of(r) for r in replies)
    assert facets.proposers() == {r.proposer for r in replies if len(r.proposer) >= 2}
    assert set(facets.signers()) == {r.signer for r in replies if r.signer}
