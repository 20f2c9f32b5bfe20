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
    from index.backends import open_store
    from index.builder import open_index
    from service.retrieval import Retriever

    s = make_settings(index)
    if overrides:
        s = s.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    from index.threads import limit_for_questions

    limit_for_questions(s.query_threads)
    default = s.uses_default_index if s.backend == "faiss" else not s.milvus_uri
    first_run = default and open_store(s).is_absent()  # a damaged index is not a first run
    if first_run:
        err.print(f"首次使用：正在用内置样例建立默认索引 {s.resolved_index_dir}（模型 {s.embed_model}，约需数秒到一分钟）；"
                  "自己的答复请用 dafu index build 文件夹 建立。", markup=False, highlight=False, soft_wrap=True)
    return Retriever(open_index(s, progress=not first_run), s)


def _question(text: str, what: str = "question") -> str:
    """The question stripped; an empty one is refused (exit status 2) with how to ask."""
    q = (text or "").strip()
    if not q:
        raise DafuError(f"{what} is empty (got {text!r}); ask in Chinese, e.g. dafu ask \"某某局在某方面做了哪些工作？\"")
    return q


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


PlainOpt = typer.Option(False, "--plain", help="plain text for scripts: no colours, no wrapping")


@app.command()
def search(query: str, index: Optional[Path] = IndexOpt, year: Optional[str] = typer.Option(None, "--year"),
           dept: Optional[list[str]] = typer.Option(None, "--dept"), top_k: int = typer.Option(5, "--top-k", min=1, max=50),
           retriever: Optional[str] = typer.Option(None, "--retriever", help="hybrid | dense | bm25"),
           json_: bool = typer.Option(False, "--json"), plain: bool = PlainOpt) -> None:
    """Retrieve passages (no answer), grouped by reply."""
    from service.render_terminal import reply_line

    query = _question(query, "query")
    r = _retriever(index)
    res = r.search(query, _filters(year, dept, None, None), top_k=top_k, retriever=retriever)
    if json_:
        typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=1))
        return
    lines = []
    for i, g in enumerate(res.replies, 1):
        title, detail = reply_line(g.reply.summary())
        lines += [f"{i}. [{g.reply.id}] {title}  score={g.score:.4f} coverage={g.coverage:.2f}", f"   {detail}"]
        for h in g.hits[:3]:
            head = " › ".join(h.chunk.heading_path)
            lines.append(f"     {h.chunk.label:8s} {h.start}-{h.end} {head[:40]} | {' '.join(h.chunk.text[:60].split())}")
    if not res.replies:
        lines.append("没有检索到段落。")
    _print("\n".join(lines), plain)


def _print(text: str, plain: bool) -> None:
    if plain:
        typer.echo(text)
    else:
        Console().print(text, markup=False, highlight=False)


@app.command()
def ask(question: str, index: Optional[Path] = IndexOpt,
        year: Optional[str] = typer.Option(None, "--year", help="2023 or 2021-2023"),
        dept: Optional[list[str]] = typer.Option(None, "--dept", help="department; short names (民政, 住建) and aliases (人社局) are folded"),
        proposer: Optional[str] = typer.Option(None, "--proposer"), number: Optional[str] = typer.Option(None, "--number"),
        top_k: int = typer.Option(5, "--top-k", min=1, max=50), json_: bool = typer.Option(False, "--json"),
        plain: bool = PlainOpt) -> None:
    """Answer QUESTION with cited passages."""
    from service.answer import answer_question
    from service.filters import index_filter_report
    from service.hints import annotate_answer
    from service.render_terminal import answer_plain, render_answer

    question = _question(question)
    r = _retriever(index)
    f = _filters(year, dept, proposer, number)
    d = answer_question(r, question, f, top_k=top_k).to_dict()
    annotate_answer(d, question, index_filter_report(f, r.index))
    if json_:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=1))
    elif plain:
        typer.echo(answer_plain(d))
    else:
        Console().print(render_answer(d))
        empty = (d.get("filter_report") or {}).get("empty")
        if empty and empty.get("drop"):
            flags = {"year_from": "--year", "year_to": "--year", "departments": "--dept", "proposer": "--proposer",
                     "number": "--number"}
            opts = sorted({flags[k] for k in empty["drop"] if k in flags})
            if opts:
                Console().print(f"（去掉 {' '.join(opts)} 再问一次，可在这 {empty['without']} 件答复中查找。）",
                                style="yellow", markup=False, highlight=False)


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
