"""The `dafu` command: index, search, ask, serve, ui, feedback, eval."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

from index.cli import IndexOpt, app as index_app, make_settings
from index.errors import DafuError

class _Group(TyperGroup):
    """Domain errors become one clear line on stderr and exit status 2 (no traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DafuError as e:
            Console(stderr=True).print(f"错误 (error): {e}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from e


app = typer.Typer(help="dafu 答复通: 政协提案/人大建议答复问答 (cited answers over government replies)",
                  no_args_is_help=True, pretty_exceptions_enable=False, cls=_Group)
app.add_typer(index_app, name="index")
err = Console(stderr=True)


def _retriever(index: Optional[Path], **overrides):
    from index.builder import open_index
    from service.retrieval import Retriever

    s = make_settings(index)
    if overrides:
        s = s.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    return Retriever(open_index(s, progress=True), s)


def _filters(year: Optional[str], dept: Optional[list[str]], proposer: Optional[str], number: Optional[str]):
    from service.filters import Filters

    y_from = y_to = None
    if year:
        parts = year.replace("–", "-").split("-")
        try:
            y_from = int(parts[0]) if parts[0] else None
            y_to = int(parts[-1]) if parts[-1] else None
        except ValueError:
            raise DafuError(f"--year {year!r}: expected a year like 2023 or a range like 2021-2023") from None
    return Filters(year_from=y_from, year_to=y_to, departments=list(dept or []), proposer=proposer, number=number)


@app.command()
def search(query: str, index: Optional[Path] = IndexOpt, year: Optional[str] = typer.Option(None, "--year"),
           dept: Optional[list[str]] = typer.Option(None, "--dept"), top_k: int = typer.Option(5, "--top-k", min=1, max=50),
           retriever: Optional[str] = typer.Option(None, "--retriever", help="hybrid | dense | bm25"),
           json_: bool = typer.Option(False, "--json")) -> None:
    """Retrieve passages (no answer), grouped by reply."""
    r = _retriever(index)
    res = r.search(query, _filters(year, dept, None, None), top_k=top_k, retriever=retriever)
    if json_:
        typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=1))
        return
    for i, g in enumerate(res.replies, 1):
        rep = g.reply
        typer.echo(f"{i}. [{rep.id}] 第{rep.number}号《{rep.title}》 {rep.lead_unit} {rep.reply_date}  score={g.score:.4f} coverage={g.coverage:.2f}")
        for h in g.hits[:3]:
            typer.echo(f"     {h.chunk.label:8s} {h.start}-{h.end} {' > '.join(h.chunk.heading_path)[:40]} | {h.chunk.text[:60].strip()}")


@app.command()
def ask(question: str, index: Optional[Path] = IndexOpt,
        year: Optional[str] = typer.Option(None, "--year", help="2023 or 2021-2023"),
        dept: Optional[list[str]] = typer.Option(None, "--dept", help="department; aliases such as 人社局 are folded"),
        proposer: Optional[str] = typer.Option(None, "--proposer"), number: Optional[str] = typer.Option(None, "--number"),
        top_k: int = typer.Option(5, "--top-k", min=1, max=50), json_: bool = typer.Option(False, "--json")) -> None:
    """Answer QUESTION with cited passages."""
    from service.answer import answer_question

    r = _retriever(index)
    a = answer_question(r, question, _filters(year, dept, proposer, number), top_k=top_k)
    if json_:
        typer.echo(json.dumps(a.to_dict(), ensure_ascii=False, indent=1))
    else:
        typer.echo(a.answer_markdown)


def _register_plugins() -> None:
    """Commands that live with their package: `serve`/`feedback` (service.api), `ui` (ui), `eval` (eval),
    `track` (service.track_cli)."""
    import importlib

    for mod in ("service.api.cli", "ui.cli", "eval.cli", "service.track_cli"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name and mod.startswith(e.name):
                continue  # that part is not installed in this checkout
            raise
        m.register(app)


_register_plugins()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; the index was not changed unless a swap had completed")
        sys.exit(130)
