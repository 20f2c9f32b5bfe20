"""`dafu feedback review`: grade the answers users got, then write them as gold cases for `dafu eval run`.

Interactive by default (newest unreviewed answers first; each point c/w/u, then complete/incomplete, missed
facts, replies that should have been cited); `--answer ID --grades c,w,u --verdict complete` grades one from a
script; `--list` shows recent answers and their state; every run that graded something, and `--export-only`,
(re)writes the gold file (default $DAFU_HOME/gold-reviewed.jsonl).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from index.cli import IndexOpt, make_settings
from index.errors import DafuError

out = Console()
err = Console(stderr=True)
GRADE_KEYS = {"c": "correct", "w": "wrong", "u": "unsupported"}


def _show(item: dict, i: int, n: int) -> None:
    from service.render_terminal import reply_line

    out.rule(f"{i}/{n} · {item['asked']} · {item['answer_id'][:12]}")
    out.print(f"[bold]问题：[/bold]{item['question']}", highlight=False)
    if item["rewritten_question"] and item["rewritten_question"] != item["question"]:
        out.print(f"[dim]检索问题：{item['rewritten_question']}[/dim]", highlight=False)
    hist = (item.get("context") or {}).get("history") or []
    if hist:
        out.print(f"[dim]此前的问题：{' / '.join(hist)}[/dim]", highlight=False)
    if item["filters"]:
        out.print(f"[dim]筛选：{item['filters']}[/dim]", highlight=False)
    if item["ratings"]:
        out.print(f"[dim]用户评价：{'、'.join('有帮助' if r == 'up' else '没帮助' for r in item['ratings'])}[/dim]")
    cits = {c["n"]: c for c in item["citations"]}
    if item["no_answer"] or not item["points"]:
        out.print("[yellow]回答：未找到能直接回答这个问题的答复。[/yellow]")
        for r in item["related"][:5]:
            title, _ = reply_line(r)
            out.print(f"  · 可能相关：{title} [dim]({r.get('id')})[/dim]", highlight=False)
    for k, p in enumerate(item["points"], 1):
        srcs = "；".join(f"[{n}] {reply_line(cits[n])[0]}" for n in p.get("citations") or [] if n in cits)
        kind = "已办" if p.get("kind") == "done" else "计划"
        out.print(f"  [bold]{k}.[/bold]（{kind}）{p['text']}", highlight=False)
        out.print(f"     [dim]{srcs}[/dim]", highlight=False)


def _ask_grades(item: dict) -> list[str] | None:
    grades = []
    for k in range(1, len(item["points"]) + 1):
        while True:
            a = typer.prompt(f"第{k}点：c 正确 / w 错误 / u 无依据（s 跳过这条回答，q 结束）", default="c").strip().lower()
            if a in ("s", "q"):
                return [a]
            if a in GRADE_KEYS:
                grades.append(GRADE_KEYS[a])
                break
            err.print("请输入 c、w、u、s 或 q")
    return grades


def _list(store, limit: int) -> None:
    t = Table("answer_id", "时间", "问题", "要点", "用户评价", "审阅", title="最近的回答")
    for it in store.recent(limit, "all"):
        rev = it["review"]
        state = "—" if rev is None else (f"{rev['verdict']}: " + "".join(g[0] for g in rev["points"]))
        t.add_row(it["answer_id"][:12], it["asked"], it["question"], "未找到" if it["no_answer"] else str(len(it["points"])),
                  "、".join(it["ratings"]) or "—", state)
    out.print(t)


def review(limit: int = typer.Option(10, "--limit", min=1, help="answers to go through (newest unreviewed first)"),
           export: Optional[Path] = typer.Option(None, "--export", help="gold file to write (default $DAFU_HOME/gold-reviewed.jsonl)"),
           export_only: bool = typer.Option(False, "--export-only", help="write the gold file from the reviews so far and stop"),
           list_: bool = typer.Option(False, "--list", help="list recent answers with their review state and stop"),
           answer: Optional[str] = typer.Option(None, "--answer", help="grade this answer id without prompts"),
           grades: Optional[str] = typer.Option(None, "--grades", help="with --answer: one of c/w/u per point, e.g. c,c,w"),
           verdict: Optional[str] = typer.Option(None, "--verdict", help="with --answer: complete | incomplete"),
           missing: Optional[list[str]] = typer.Option(None, "--missing", help="with --answer: a fact the answer missed (repeatable)"),
           relevant: Optional[list[str]] = typer.Option(None, "--relevant", help="with --answer: a reply id that answers it (repeatable)"),
           note: str = typer.Option("", "--note"), reviewer: str = typer.Option("", "--reviewer", help="your name, kept with the review"),
           index: Optional[Path] = IndexOpt) -> None:
    """Grade answers users got (each point correct / wrong / unsupported, the answer complete / incomplete) and
    export them as gold cases that `dafu eval run` scores."""
    from service.feedback import FeedbackStore, existing_feedback_path
    from service.review import ReviewStore, export_gold

    settings = make_settings(index)
    path = existing_feedback_path(settings)
    if not path.exists():
        raise DafuError(f"no answers recorded yet ({path} does not exist): answers are stored when asked through "
                        "`dafu serve` (API or web chat)")
    target = export or Path(settings.home) / "gold-reviewed.jsonl"
    store = ReviewStore(FeedbackStore(path))
    graded = 0
    try:
        if list_:
            _list(store, limit)
            return
        if answer:
            if not grades or not verdict:
                raise DafuError("--answer needs --grades (c/w/u per point, e.g. c,c,w) and --verdict complete|incomplete")
            store.save(answer, [g for g in grades.replace("，", ",").split(",") if g.strip()], verdict, missing, relevant,
                       None, note, reviewer)
            graded = 1
        elif not export_only:
            items = store.recent(limit, "unreviewed")
            if not items:
                err.print("没有待审阅的回答 (no unreviewed answers).")
            for i, it in enumerate(items, 1):
                _show(it, i, len(items))
                g = _ask_grades(it)
                if g == ["q"]:
                    break
                if g == ["s"]:
                    continue
                v = typer.prompt("回答是否完整：c 完整 / i 不完整", default="c").strip().lower()
                miss = typer.prompt("漏掉的事实（如 8家；用；分隔，可留空）", default="", show_default=False)
                rel = ""
                if "correct" not in g and v.startswith("i"):
                    rel = typer.prompt("应引用的答复 id（dafu index list 可查；用；分隔，可留空）", default="", show_default=False)
                try:
                    store.save(it["answer_id"], g, v, [miss], [rel], None, "", reviewer)
                    graded += 1
                except DafuError as e:
                    err.print(f"未保存：{e}", markup=False)
        if graded or export_only:
            res = export_gold(store, target)
            err.print(f"{graded} answer(s) graded now; {res['cases']} gold case(s) written to {res['path']} "
                      f"({res['answerable']} answerable, {res['unanswerable']} unanswerable)", markup=False, highlight=False)
            for s in res["skipped"]:
                err.print(f"  skipped {s['answer_id'][:12]} 「{s['question']}」: {s['reason']}", markup=False, highlight=False)
            err.print(f"score them: dafu eval run {res['path']} --index {settings.resolved_index_dir}", markup=False,
                      highlight=False)
    finally:
        store.store.close()
