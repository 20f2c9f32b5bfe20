"""The report's plots pick an installed CJK font with a fallback, and draw without font warnings."""
from __future__ import annotations

import logging
import warnings

import pytest

from eval import plots


def _data():
    return {"label": "t", "metrics": {f"{n}@{k}": 0.5 for n in ("recall", "hit") for k in plots.KS}
            | {"latency.total_ms.p50": 10.0, "latency.total_ms.p95": 20.0},
            "by_category": {"关键词": {"n": 2, "hit@1": 1.0, "recall@5": 1.0, "key_fact_coverage": 0.5, "refusal_accuracy": 1.0},
                            "追问": {"n": 1, "hit@1": 0.0, "recall@5": None, "key_fact_coverage": None, "refusal_accuracy": 1.0}},
            "questions": [{"latency": {"total_ms": t}} for t in (8.0, 10.0, 25.0)]}


def test_font_family_is_installed_with_a_fallback():
    plt = plots._plt()
    from matplotlib import font_manager

    fam = plt.rcParams["font.sans-serif"]
    assert fam[-1] == plots.FALLBACK_FAMILY
    installed = {f.name for f in font_manager.fontManager.ttflist}
    assert all(name in installed for name in fam)


def test_plots_draw_without_font_warnings(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="matplotlib.font_manager")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = plots.make_plots(tmp_path, _data())
    assert set(made) == {"recall_at_k", "by_category", "latency"}
    assert all(p.stat().st_size > 5000 for p in made.values())
    assert [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()] == []


def test_cjk_font_gets_a_regular_weight_entry(caplog):
    from matplotlib import font_manager

    name = plots.cjk_family(font_manager)
    if name is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-zenhei)")
    caplog.set_level(logging.WARNING, logger="matplotlib.font_manager")
    path = font_manager.fontManager.findfont(font_manager.FontProperties(family=name, weight="normal"),
                                             fallback_to_default=False)
    assert any(f.fname == path and f.name == name for f in font_manager.fontManager.ttflist)
    assert not [r for r in caplog.records if "Failed to find font weight" in r.getMessage()]
