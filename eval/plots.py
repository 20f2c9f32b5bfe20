"""The report's plots (matplotlib, Agg backend, PNG): Recall@k curve, per-category bars, latency histogram."""
from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path
from typing import Any

KS = (1, 3, 5, 10)
CATEGORY_METRICS = ("hit@1", "recall@5", "key_fact_coverage", "refusal_accuracy")


CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
                "Microsoft YaHei", "PingFang SC")
_CJK_FILE = re.compile(r"(?i)wqy|notosanscjk|notosanssc|sourcehansans|simhei|msyh|pingfang")
FALLBACK_FAMILY = "DejaVu Sans"  # ships with matplotlib: Latin, digits and symbols


def cjk_family(font_manager) -> str | None:
    """The first installed CJK family, registered at the regular weight (400) as well.

    Fonts installed after matplotlib built its font cache are picked up by a scan of the system font files.
    Single-weight CJK fonts (WenQuanYi Zen Hei is only 500) get a regular-weight entry pointing to the same
    file, so text at the default weight uses them without 'findfont: Failed to find font weight' warnings.
    """
    fm = font_manager.fontManager
    names = {f.name for f in fm.ttflist}
    if not names & set(CJK_FAMILIES):
        for path in font_manager.findSystemFonts():
            if _CJK_FILE.search(Path(path).name):
                try:
                    fm.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = {f.name for f in fm.ttflist}
    name = next((n for n in CJK_FAMILIES if n in names), None)
    if name is None:
        return None
    entries = [f for f in fm.ttflist if f.name == name and f.style == "normal"]
    weight = font_manager.weight_dict.get
    if entries and not any((weight(f.weight, f.weight) if isinstance(f.weight, str) else f.weight) == 400 for f in entries):
        fm.ttflist.append(dataclasses.replace(entries[0], weight=400))
        cache = getattr(fm, "_findfont_cached", None)
        if cache is not None and hasattr(cache, "cache_clear"):
            cache.cache_clear()
    return name


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    # category names may be Chinese: a CJK family first, DejaVu Sans (always there) for what it lacks
    name = cjk_family(font_manager)
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [name, FALLBACK_FAMILY] if name else [FALLBACK_FAMILY]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def recall_curve(data: dict[str, Any], path: Path) -> Path | None:
    m = data["metrics"]
    if m.get("recall@1") is None:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=110)
    for name, style, dy in (("recall", "o-", -13), ("hit", "s--", 6)):  # labels below / above their line
        ys = [m.get(f"{name}@{k}") for k in KS]
        ax.plot(KS, ys, style, label=f"{name.capitalize()}@k")
        for k, y in zip(KS, ys):
            ax.annotate(f"{y:.2f}", (k, y), textcoords="offset points", xytext=(0, dy), ha="center", fontsize=8)
    ax.set_xticks(KS)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("k (replies)")
    ax.set_ylabel("share of answerable questions")
    ax.set_title(f"Retrieval at reply level ({data.get('label', '')})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def category_bars(data: dict[str, Any], path: Path) -> Path | None:
    cats = data.get("by_category") or {}
    if not cats:
        return None
    plt = _plt()
    names = list(cats)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(names) + 2), 3.8), dpi=110)
    width = 0.8 / len(CATEGORY_METRICS)
    for j, metric in enumerate(CATEGORY_METRICS):
        xs = [i + (j - (len(CATEGORY_METRICS) - 1) / 2) * width for i in range(len(names))]
        ys = [cats[c].get(metric) for c in names]
        ax.bar(xs, [0 if y is None else y for y in ys], width, label=metric)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{c}\n(n={cats[c]['n']})" for c in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title("By category (missing bar: metric not defined there)")
    ax.legend(fontsize=7, ncol=len(CATEGORY_METRICS), loc="upper center", bbox_to_anchor=(0.5, -0.22))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def latency_hist(data: dict[str, Any], path: Path) -> Path | None:
    totals = [q["latency"].get("total_ms") for q in data["questions"]]
    totals = [t for t in totals if t is not None]
    if not totals:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=110)
    ax.hist(totals, bins=min(30, max(5, len(totals) // 3)), color="#4C72B0", alpha=0.85)
    m = data["metrics"]
    for q, style in (("p50", "-"), ("p95", "--")):
        v = m.get(f"latency.total_ms.{q}")
        if v is not None:
            ax.axvline(v, color="k", linestyle=style, linewidth=1)
            ax.annotate(f"{q} {v:.0f} ms", (v, ax.get_ylim()[1] * 0.9), xytext=(4, 0), textcoords="offset points", fontsize=8)
    ax.set_xlabel("total time per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def make_plots(out: Path, data: dict[str, Any]) -> dict[str, Path]:
    made: dict[str, Path] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing-glyph and tight_layout warnings are not the user's problem
        for name, fn in (("recall_at_k", recall_curve), ("by_category", category_bars), ("latency", latency_hist)):
            p = fn(data, out / f"{name}.png")
            if p is not None:
                made[name] = p
    return made
