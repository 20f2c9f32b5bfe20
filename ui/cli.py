"""`dafu ui --api URL`: the web chat alone, against a running `dafu serve` elsewhere."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui(api: str = typer.Option("http://127.0.0.1:8000", "--api", help="base URL of a running `dafu serve`"),
           host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(7860, "--port"),
           check: bool = typer.Option(True, "--check/--no-check", help="check that the service answers before starting")) -> None:
        """Web chat (Gradio) for delegates, talking to the service at --api."""
        from index.errors import DafuError
        from ui.app import LAUNCH_KW, build_ui
        from ui.assets import theme
        from ui.client import HttpBackend

        backend = HttpBackend(api)
        if check:
            try:
                backend.stats()
            except Exception as e:  # noqa: BLE001 - reported as a user error
                raise DafuError(f"cannot reach the dafu service at {api} ({e}); start it with `dafu serve` "
                                "or pass --no-check") from None
        typer.echo(f"答复通 web chat: http://{host}:{port}/  (service: {api})")
        build_ui(backend).launch(server_name=host, server_port=port, theme=theme(), **LAUNCH_KW)
