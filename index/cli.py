"""`dafu index …`: build, add, remove, info, list."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from index.backends import describe, make_indexer, open_store
from index.builder import BuildResult, open_index
from index.errors import DafuError
from index.settings import Settings

app = typer.Typer(help="建立和维护答复索引 (build and maintain the index)", no_args_is_help=True)
console = Console(stderr=True)

IndexOpt = typer.Option(None, "--index", help="index folder (default: $DAFU_INDEX_DIR or the bundled sample index)")
MapOpt = typer.Option(None, "--map", help="spreadsheet column mapping, e.g. 提案号=number,标题=title")
WorkersOpt = typer.Option(None, "--workers", min=1, help="encode passages in N worker processes (default $DAFU_EMBED_WORKERS or 1)")
RayOpt = typer.Option(False, "--ray", help="encode on Ray (Ray Data; a local Ray with --workers CPUs, or $DAFU_RAY_ADDRESS); extra [scale]")


def make_settings(index: Optional[Path], workers: Optional[int] = None, ray: bool = False) -> Settings:
    kw: dict = {"index_dir": index} if index else {}
    if workers:
        kw["embed_workers"] = workers
    if ray:
        kw["embed_executor"] = "ray"
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
        f"index {describe(settings)} → version {res.version}: {res.replies} replies, {res.chunks} chunks; "
        f"embedded {res.embedded} new passages ({res.chars_embedded} chars, {res.embed_rate:.0f} chars/s), "
        f"reused {res.reused} from cache or the index; {res.segments} segment(s); {res.total_seconds:.1f}s in all",
        markup=False, highlight=False,
    )


@app.command()
def build(paths: list[Path] = typer.Argument(..., help="reply files or folders (read recursively)"),
          index: Optional[Path] = IndexOpt, map_: Optional[str] = MapOpt, workers: Optional[int] = WorkersOpt,
          ray: bool = RayOpt) -> None:
    """Build a new index from PATHS (replaces the index's contents; written beside the old one, then swapped).
    Interrupted, it leaves the old index serving; run it again and the vectors already made come from the cache."""
    s = make_settings(index, workers, ray)
    res = make_indexer(s, progress=True).build(list(paths), _options(map_))
    print_build(res, s)


@app.command()
def add(files: list[Path] = typer.Argument(..., help="reply files or folders to add or update"),
        index: Optional[Path] = IndexOpt, map_: Optional[str] = MapOpt, workers: Optional[int] = WorkersOpt,
        ray: bool = RayOpt) -> None:
    """Add or update replies; only new text is embedded, written as a small new segment."""
    s = make_settings(index, workers, ray)
    open_index(s)  # builds the default sample index on first use
    res = make_indexer(s, progress=True).add(list(files), _options(map_))
    print_build(res, s)


@app.command()
def remove(ids: list[str] = typer.Argument(..., help="reply ids (see `dafu index list`)"),
           index: Optional[Path] = IndexOpt) -> None:
    """Remove replies by id."""
    s = make_settings(index)
    open_index(s)
    res = make_indexer(s).remove(list(ids))
    console.print(f"removed {', '.join(res.removed)}; the index now holds {res.replies} replies (version {res.version})")


@app.command()
def compact(index: Optional[Path] = IndexOpt) -> None:
    """Merge the index's segments into one and drop removed replies (no re-embedding)."""
    s = make_settings(index)
    open_index(s)
    res = make_indexer(s).compact()
    console.print(f"merged {res.merged} segment(s) into one: {res.replies} replies, {res.chunks} chunks "
                  f"(version {res.version}, {res.total_seconds:.1f}s)", markup=False, highlight=False)


@app.command("import-faiss")
def import_faiss(source: Path = typer.Argument(..., help="folder of a FAISS-backend index (what --index named)")) -> None:
    """With DAFU_BACKEND=milvus: move a FAISS-backend index into Milvus, reusing its stored vectors."""
    s = make_settings(None)
    if s.backend != "milvus":
        raise DafuError("import-faiss writes into Milvus: set DAFU_BACKEND=milvus and DAFU_MILVUS_URI first")
    res = make_indexer(s, progress=True).import_faiss(source)
    print_build(res, s)


@app.command()
def verify(index: Optional[Path] = IndexOpt) -> None:
    """Read every file of the live version and check it against its recorded size and checksum, and
    every count (a load checks sizes and counts always, checksums of segments up to 64 MB)."""
    s = make_settings(index)
    store = open_store(s)
    if not hasattr(store, "verify"):
        raise DafuError("verify checks index files; with DAFU_BACKEND=milvus, Milvus keeps its own data")
    idx = store.verify()
    console.print(f"index {describe(s)}, version {idx.version}: {len(idx.segments)} segment(s), {len(idx.replies)} replies, "
                  f"{idx.chunk_count} chunks — every file matches its checksum", markup=False, highlight=False)


@app.command()
def info(index: Optional[Path] = IndexOpt, json_: bool = typer.Option(False, "--json")) -> None:
    """Show the index's model, size and counts."""
    s = make_settings(index)
    idx = open_index(s)
    store = open_store(s)
    live = idx.live_metas()  # no letter text decoded
    data = {**{k: v for k, v in idx.manifest.items() if k != "dead"}, "path": describe(s), "version": idx.version,
            "size_bytes": store.size_on_disk(), "years": sorted({m.year for m in live if m.year}),
            "departments": len({u for m in live for u in m.units}),
            "removed_not_yet_merged": sum(len(v) for v in idx.manifest.get("dead", {}).values())}
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
