"""`dafu serve` (API + web chat with uvicorn), `dafu feedback export` (CSV/JSONL) and `dafu feedback review`
(service.review_cli)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from index.cli import IndexOpt, make_settings
from index.errors import DafuError

err = Console(stderr=True)
feedback_app = typer.Typer(help="回答反馈 (ratings of answers)", no_args_is_help=True)


def serve(host: str = typer.Option("127.0.0.1", "--host", help="address to bind (0.0.0.0: all interfaces)"),
          port: int = typer.Option(8000, "--port", min=1, max=65535),
          index: Optional[Path] = IndexOpt,
          log_level: str = typer.Option("info", "--log-level", help="critical | error | warning | info | debug"),
          no_ui: bool = typer.Option(False, "--no-ui", help="serve the API only, without the web chat")) -> None:
    """Serve the HTTP API (docs at /docs) and the web chat on one port."""
    import logging

    import uvicorn

    from service.api.app import create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = make_settings(index)
    app = create_app(settings, with_ui=not no_ui)
    err.print(f"dafu: serving index {settings.resolved_index_dir} on http://{host}:{port} (API docs: /docs)"
              + ("" if settings.admin_token else "; admin endpoints disabled (set DAFU_ADMIN_TOKEN)"))
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=log_level == "debug")


@feedback_app.command("export")
def export(format_: str = typer.Option("csv", "--format", help="csv | jsonl"),
           out: Optional[Path] = typer.Option(None, "--out", help="file to write (default: standard output)"),
           index: Optional[Path] = IndexOpt) -> None:
    """Write every rating with its question, answer and citations (CSV opens in Excel: UTF-8 with BOM)."""
    from service.feedback import EXPORT_FORMATS, FeedbackStore, existing_feedback_path, export_feedback

    fmt = format_.lower().strip()
    if fmt not in EXPORT_FORMATS:
        raise DafuError(f"--format {format_!r} is not supported; use one of: {', '.join(EXPORT_FORMATS)}")
    settings = make_settings(index)
    path = existing_feedback_path(settings)
    if not path.exists():
        err.print(f"no feedback recorded yet ({path} does not exist; `dafu serve` writes it)")
    store = FeedbackStore(path)
    try:
        if out is None:
            n = export_feedback(store, fmt, sys.stdout)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(out, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as f:
                n = export_feedback(store, fmt, f)
    finally:
        store.close()
    err.print(f"exported {n} feedback record(s) from {path}" + (f" to {out}" if out else ""))


def register(app: typer.Typer) -> None:
    from service.review_cli import review

    feedback_app.command("review")(review)
    app.command("serve")(serve)
    app.add_typer(feedback_app, name="feedback")
