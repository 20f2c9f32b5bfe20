"""report.md and report.html of one run: settings, metric table, per-category table, plots, failed questions.

The HTML is self-contained (plots embedded as data: URIs); the Markdown links the PNGs beside it.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from eval.scoring import METRIC_ORDER

DESCRIPTIONS = {
    "hit@1": "a relevant reply ranked first", "hit@3": "a relevant reply in the top 3",
    "hit@5": "a relevant reply in the top 5", "hit@10": "a relevant reply in the top 10",
    "recall@1": "share of relevant replies in the top 1", "recall@3": "… in the top 3",
    "recall@5": "… in the top 5", "recall@10": "… in the top 10",
    "mrr@10": "1/rank of the first relevant reply (0 beyond 10)", "ndcg@10": "binary nDCG over the top 10",
    "span_cited": "gold spans found in the cited passages", "span_top5": "gold spans found in the top-5 retrieved passages",
    "key_fact_coverage": "must_include facts stated in the answer", "citation_precision": "cited replies that are relevant",
    "citation_support": "facts stated in a point that its cited passage contains",
    "groundedness": "answer points that are verbatim in their cited passages",
    "refusal_accuracy": "answered when answerable, 'not found' when not", "answered_rate": "answerable questions answered",
    "refused_rate": "unanswerable questions declined",
}
KEY_SETTINGS = ("retriever", "embed_model", "dense_weight", "bm25_weight", "rrf_k", "chunk_target", "chunk_max",
                "top_k", "min_relevance", "min_dense", "constraint_boost")  # shown when the Settings have them
CATEGORY_COLUMNS = ("hit@1", "recall@5", "mrr@10", "key_fact_coverage", "citation_precision", "refusal_accuracy")


def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def metric_rows(data: dict[str, Any]) -> list[list[str]]:
    m, qs = data["metrics"], data["questions"]
    rows = []
    for name in METRIC_ORDER:
        if name in m:
            n = sum(q["values"].get(name) is not None for q in qs)
            rows.append([name, fmt(m[name]), str(n), DESCRIPTIONS.get(name, "")])
    for name, v in m.items():
        if name.startswith("latency.") and v is not None:
            rows.append([name, f"{v:.1f} ms", "", "per-question time of this stage"])
    return rows


def category_rows(data: dict[str, Any]) -> list[list[str]]:
    return [[cat, str(v["n"]), *[fmt(v.get(c)) for c in CATEGORY_COLUMNS]] for cat, v in data["by_category"].items()]


def failure_rows(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for q in data["questions"]:
        p = q["pass"]
        failed = [k for k in ("hit@1", "key_facts", "refusal", "grounded") if p.get(k) is False]
        if q["error"]:
            failed.append("error")
        if not failed:
            continue
        rows.append([q["id"], q["category"], q["question"], ", ".join(failed), " / ".join(q["expected"]) or "（无）",
                     " ".join(q["retrieved"][:3]) or "—", "是" if q["no_answer"] else "否",
                     "、".join(q["facts_missing"]) or "—", q["error"] or ""])
    return rows


FAIL_HEAD = ["id", "category", "question", "failed", "expected", "retrieved top 3", "not found", "facts missing", "error"]


def header_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    c = data["config"]
    s = c.get("settings") or {}
    src = c["source"]
    where = src.get("api") or src.get("corpus") or src.get("index") or "?"
    counts = data["counts"]
    extra = f"; {counts['commitments']} commitments to track" if counts.get("commitments") else ""
    lines = [("gold", f"{c['gold']['path']} ({counts['questions']} questions: {counts['answerable']} answerable, "
                      f"{counts['unanswerable']} unanswerable{extra})"),
             ("source", f"{c['backend'].get('backend')}: {where}"),
             ("settings", ", ".join(f"{k}={s[k]}" for k in KEY_SETTINGS if k in s)),
             ("created", f"{data['created']} ({data['seconds']:.1f} s)")]
    if counts.get("errors"):
        lines.append(("errors", f"{counts['errors']} question(s) failed with an error (see the table below)"))
    if counts.get("unresolved_references"):
        lines.append(("unresolved", f"{counts['unresolved_references']} gold reference(s) matched no reply of the index"))
    return lines


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = [[x.replace("|", "\\|").replace("\n", " ") for x in r] for r in rows]
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *["| " + " | ".join(r) + " |" for r in esc]])


def render_markdown(data: dict[str, Any], plots: dict[str, Path]) -> str:
    out = [f"# dafu eval: {data.get('label', '')}", ""]
    out += [f"- **{k}**: {v}" for k, v in header_lines(data)]
    out += [f"- note: {n}" for n in data.get("notes", [])]
    out += ["", "## Metrics", "", _md_table(["metric", "value", "n", "meaning"], metric_rows(data))]
    out += ["", "## By category", "", _md_table(["category", "n", *CATEGORY_COLUMNS], category_rows(data))]
    out += tracking_markdown(data)
    if plots:
        out += ["", "## Plots", ""] + [f"![{name}]({p.name})" for name, p in plots.items()]
    fails = failure_rows(data)
    out += ["", f"## Questions that failed ({len(fails)})", ""]
    out += [_md_table(FAIL_HEAD, fails) if fails else "None."]
    out += ["", "Full table: per_question.csv / per_question.jsonl; all numbers: metrics.json.", ""]
    return "\n".join(out)


def track_head(data: dict[str, Any]) -> list[str]:
    from eval.track import table_splits

    return ["metric", "all", *table_splits(data["tracking"])]
TRACK_FAIL_HEAD = ["id", "split", "category", "commitment", "gold status", "predicted", "missed links", "wrong links"]


def tracking_rows(data: dict[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    """(metric × split rows, commitments with a wrong status or link) of a run with commitment lines."""
    from eval.track import table

    tr = data.get("tracking")
    if not tr:
        return [], []
    rows = [[name, *map(fmt, vals)] for name, *vals in table(tr)]
    fails = []
    for r in tr["commitments"]:
        if r["status_ok"] and not r["missed_links"] and not r["wrong_links"]:
            continue
        gs = r["gold_status"] + (f"/{r['gold_fulfilment']}" if r["gold_fulfilment"] else "")
        ps = (r["status"] or "not extracted") + (f"/{r['fulfilment']}" if r["fulfilment"] else "")
        fails.append([r["id"], r["split"], r["category"], r["commitment"], gs, ps, " ".join(r["missed_links"]) or "—",
                      " ".join(r["wrong_links"]) or "—"])
    return rows, fails


def tracking_markdown(data: dict[str, Any]) -> list[str]:
    rows, fails = tracking_rows(data)
    if not rows:
        return []
    links = data["tracking"]["overall"]["links"]
    return ["", "## Commitment tracking", "", _md_table(track_head(data), rows), "",
            f"Links: {links['right']} right of {links['predicted']} predicted; {links['gold']} in the gold. "
            "Thresholds were tuned on `tune`; `report` is the held-out half.", "",
            f"### Commitments with a wrong status or link ({len(fails)})", "",
            _md_table(TRACK_FAIL_HEAD, fails) if fails else "None."]


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


CSS = """body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}img{max-width:100%;margin:.5em 1em .5em 0;border:1px solid #eee}ul.meta li{margin:.2em 0}"""


def render_html(data: dict[str, Any], plots: dict[str, Path]) -> str:
    title = html.escape(f"dafu eval: {data.get('label', '')}")
    meta = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in header_lines(data))
    meta += "".join(f"<li>note: {html.escape(n)}</li>" for n in data.get("notes", []))
    imgs = "".join(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
                   for name, p in plots.items())
    fails = failure_rows(data)
    parts = [f"<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{CSS}</style></head><body>",
             f"<h1>{title}</h1><ul class=\"meta\">{meta}</ul>",
             "<h2>Metrics</h2>", _html_table(["metric", "value", "n", "meaning"], metric_rows(data)),
             "<h2>By category</h2>", _html_table(["category", "n", *CATEGORY_COLUMNS], category_rows(data)),
             *_tracking_html(data),
             f"<h2>Plots</h2><div>{imgs}</div>" if imgs else "",
             f"<h2>Questions that failed ({len(fails)})</h2>", _html_table(FAIL_HEAD, fails) if fails else "<p>None.</p>",
             "<p>Full table: per_question.csv / per_question.jsonl; all numbers: metrics.json.</p></body></html>"]
    return "".join(parts)


def _tracking_html(data: dict[str, Any]) -> list[str]:
    rows, fails = tracking_rows(data)
    if not rows:
        return []
    return ["<h2>Commitment tracking</h2>", _html_table(track_head(data), rows),
            f"<h3>Commitments with a wrong status or link ({len(fails)})</h3>",
            _html_table(TRACK_FAIL_HEAD, fails) if fails else "<p>None.</p>"]


def write_report(out: Path, data: dict[str, Any]) -> dict[str, Path]:
    from eval.plots import make_plots

    plots = make_plots(out, data)
    (out / "report.md").write_text(render_markdown(data, plots), encoding="utf-8")
    (out / "report.html").write_text(render_html(data, plots), encoding="utf-8")
    return {"report.md": out / "report.md", "report.html": out / "report.html", **plots}
