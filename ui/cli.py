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
        from ui.client import HttpBackend

        backend = HttpBackend(api)
        if check:
            try:
                backend.stats()
            except Exception as e:  # noqa: BLE001 - reported as a user error
                raise DafuError(f"cannot reach the dafu service at {api} ({e}); start it with `dafu serve` "
                                "or pass --no-check") from None
        import uvicorn

        from index.settings import Settings

        typer.echo(f"答复通 web chat: http://{host}:{port}/  (service: {api})")
        uvicorn.run(web_app(backend, Settings()), host=host, port=port, log_level="warning")


def web_app(backend, settings):
    """The web chat alone as an ASGI app with `dafu serve`'s web hardening: CORS only for the allow-list
    (DAFU_CORS_ORIGINS; same origin by default), the security headers and CSP, Gradio's upload route off."""
    from fastapi import FastAPI
    from starlette.middleware.cors import CORSMiddleware

    from service.api.security import SecurityHeadersMiddleware
    from ui.app import mount_ui

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["Content-Type"], max_age=600)
    app.add_middleware(SecurityHeadersMiddleware)
    mount_ui(app, backend)
    return app
