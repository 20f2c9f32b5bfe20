"""`dafu track TOPIC`: the promises replies made on a topic, and what the later replies reported."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from index.records import number_label

STATUS_MARK = {"reported": "✔", "in_progress": "…", "not_reported": "✘", "pending": "○"}


def render_text(items: list[dict]) -> str:
    """Commitments grouped by the reply that made them, oldest first, each with its status and evidence."""
    if not items:
        return "没有找到相关答复中的承诺（no commitments on this topic; try a broader topic or fewer filters）。"
    lines: list[str] = []
    current = None
    for c in items:
        src = c["source"]
        key = src["reply_id"]
        if key != current:
            current = key
            if lines:
                lines.append("")
            lines.append(f"{src['year'] or '—'}年 {number_label(src['number'])}《{src['title'] or '（无标题）'}》 "
                         f"{src['district'] or ''}{src['department'] or ''} 答复日期 {src['reply_date'] or '—'}")
        due = c["due"] + ("" if c["due_stated"] else "（未写明，按次年底）") if c["due"] else "—"
        lines.append(f"  {STATUS_MARK[c['status']]} {c['status_label']} ｜ 承诺：{c['text']} "
                     f"[{src['reply_id']} {src['citation']['start']}-{src['citation']['end']}] ｜ 期限 {due}")
        for cmp in c["comparisons"]:
            if cmp["reported"]:
                lines.append(f"      目标 {cmp['target']} → 报告 {cmp['reported']}（{'达成' if cmp['verdict'] == 'met' else '部分完成'}）")
        for e in c["evidence"]:
            kind = "报告" if e["kind"] == "report" else "再次计划"
            lines.append(f"      → {e['year'] or '—'}年{number_label(e['number'])}答复{kind}：{e['text']} "
                         f"[{e['reply_id']} {e['start']}-{e['end']}]")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("track")
    def track(topic: str = typer.Argument(..., help="topic, e.g. 老年助餐 (\"\" for every commitment)"),
              index: Optional[Path] = typer.Option(None, "--index", help="index folder (default: $DAFU_INDEX_DIR or the sample index)"),
              district: Optional[str] = typer.Option(None, "--district", help="district, e.g. 通州区 or 通州"),
              dept: Optional[list[str]] = typer.Option(None, "--dept", help="department; aliases such as 民政部门 are folded"),
              year: Optional[str] = typer.Option(None, "--year", help="year of the promising reply: 2023 or 2021-2023"),
              status: Optional[str] = typer.Option(None, "--status", help="reported | in_progress | not_reported | pending"),
              as_of: Optional[str] = typer.Option(None, "--as-of", help="judge due dates as of this date (default today)"),
              json_: bool = typer.Option(False, "--json", help="a JSON list of commitments")) -> None:
        """Commitment tracking (办理情况跟踪): each promise of the replies on TOPIC, with the later replies that
        report on it, its status (reported: met / partly / unclear, in_progress, not_reported, pending) and the
        cited passages."""
        from service.cli import _filters, _retriever
        from service.track_query import track_dicts

        f = _filters(year, dept, None, None)
        r = _retriever(index)
        items = track_dicts(r, topic, district=district, departments=f.departments, year_from=f.year_from,
                            year_to=f.year_to, status=status, as_of=as_of)
        if json_:
            typer.echo(json.dumps(items, ensure_ascii=False, indent=1))
        else:
            typer.echo(render_text(items))
