"""`dafu index …`: build, add, remove, info, list."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from index.builder import BuildResult, Indexer, open_index
from index.settings import Settings
from index.store import IndexStore

app = typer.Typer(help="建立和维护答复索引 (build and maintain the index)", no_args_is_help=True)
console = Console(stderr=True)

IndexOpt = typer.Option(None, "--index", help="index folder (default: $DAFU_INDEX_DIR or the bundled sample index)")
MapOpt = typer.Option(None, "--map", help="spreadsheet column mapping, e.g. 提案号=number,标题=title")


def make_settings(index: Optional[Path]) -> Settings:
    kw = {"index_dir": index} if index else {}
    return Settings(**kw)


def _options(map_: Optional[str]) -> dict:
    if not map_:
        return {}
    from index.loader import parse_column_map  # provided with the spreadsheet reader

    return {"column_map": parse_column_map(map_)}


def print_build(res: BuildResult, settings: Settings) -> None:
    from index import loader

    rep = res.report
    console.print(loader.summary_table(rep))
    for w in rep.warnings:
        console.print(f"warning: {w}", markup=False, highlight=False)
    console.print(
        f"index {settings.resolved_index_dir} → version {res.version}: {res.replies} replies, {res.chunks} chunks; "
        f"embedded {res.embedded} new passages ({res.chars_embedded} chars, {res.embed_rate:.0f} chars/s), "
        f"reused {res.reused} from cache; {res.total_seconds:.1f}s in all",
        markup=False, highlight=False,
    )


@app.command()
def build(paths: list[Path] = typer.Argument(..., help="reply files or folders (read recursively)"),
          index: Optional[Path] = IndexOpt, map_: Optional[str] = MapOpt) -> None:
    """Build a new index from PATHS (replaces the index's contents; written beside the old one, then swapped)."""
    s = make_settings(index)
    res = Indexer(s, progress=True).build(list(paths), _options(map_))
    print_build(res, s)


@app.command()
def add(files: list[Path] = typer.Argument(..., help="reply files or folders to add or update"),
        index: Optional[Path] = IndexOpt, map_: Optional[str] = MapOpt) -> None:
    """Add or update replies; only new text is embedded."""
    s = make_settings(index)
    open_index(s)  # builds the default sample index on first use
    res = Indexer(s, progress=True).add(list(files), _options(map_))
    print_build(res, s)


@app.command()
def remove(ids: list[str] = typer.Argument(..., help="reply ids (see `dafu index list`)"),
           index: Optional[Path] = IndexOpt) -> None:
    """Remove replies by id."""
    s = make_settings(index)
    open_index(s)
    res = Indexer(s).remove(list(ids))
    console.print(f"removed {', '.join(res.removed)}; the index now holds {res.replies} replies (version {res.version})")


@app.command()
def info(index: Optional[Path] = IndexOpt, json_: bool = typer.Option(False, "--json")) -> None:
    """Show the index's model, size and counts."""
    s = make_settings(index)
    idx = open_index(s)
    store = IndexStore(s.resolved_index_dir)
    data = {**idx.manifest, "path": str(s.resolved_index_dir), "version": idx.version, "size_bytes": store.size_on_disk(),
            "years": sorted({r.year for r in idx.replies.values() if r.year}),
            "departments": len({u for r in idx.replies.values() for u in r.units})}
    if json_:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    t = Table(show_header=False)
    for k, v in data.items():
        t.add_row(str(k), str(v))
    Console().print(t)


@app.command("list")
def list_(index: Optional[Path] = IndexOpt, json_: bool = typer.Option(False, "--json", help="one JSON record per line"),
          plain: bool = typer.Option(False, "--plain", help="tab-separated, one reply per line, with a header (for scripts)")) -> None:
    """One record per reply with its fields and source path."""
    s = make_settings(index)
    idx = open_index(s)
    replies = sorted(idx.replies.values(), key=lambda r: (r.reply_date, r.id))
    if json_:
        for r in replies:
            typer.echo(json.dumps({**r.summary(), "field_sources": r.field_sources}, ensure_ascii=False))
        return
    if plain:
        cols = ("id", "number", "kind", "title", "proposer", "lead_unit", "co_units", "reply_date", "source")
        typer.echo("\t".join(cols))
        for r in replies:
            d = {**r.summary(), "co_units": "、".join(r.co_units)}
            typer.echo("\t".join(str(d.get(c) or "").replace("\t", " ").replace("\n", " ") for c in cols))
        return
    Console().print(reply_table(replies))


def reply_table(replies) -> Table:
    """Replies as a table that wraps instead of cutting: the title gets the room, folded over lines; the
    co-units and the source file go under it."""
    t = Table(show_lines=True, expand=True, title=f"{len(replies)} 件答复")
    t.add_column("号", no_wrap=True, max_width=14, overflow="fold")
    t.add_column("标题 / 协办 / 来源", ratio=4, min_width=16, overflow="fold")
    t.add_column("提出者", ratio=1, min_width=6, overflow="fold")
    t.add_column("主办", ratio=1, min_width=6, overflow="fold")
    t.add_column("答复日期", no_wrap=True, min_width=10)
    for r in replies:
        cell = Text(r.title or "（无标题）")
        if r.co_units:
            cell.append("\n协办：" + "、".join(r.co_units), style="dim")
        cell.append(f"\nid {r.id}" + (f"\n{Path(r.source).name}" if r.source else ""), style="dim")
        t.add_row(f"{r.number or '—'} {r.kind}".strip(), cell, r.proposer or "—", r.lead_unit or "—", r.reply_date or "—")
    return t
