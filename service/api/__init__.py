"""The HTTP service: FastAPI app (``service.api.app.create_app``) and the `dafu serve` / `dafu feedback` commands."""
