"""/docs and /redoc work offline: every script and style they load is served by the app itself."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, with_ui=False)) as c:
        yield c


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(client, page):
    r = client.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""", html)
    urls = [a or b for a, b in urls]
    assert urls, html[:500]
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls  # nothing from a CDN
    assert "cdn.jsdelivr" not in html and "fonts.googleapis" not in html
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts
    for u in scripts + [u for u in urls if u.endswith(".css")]:
        asset = client.get(u)
        assert asset.status_code == 200, u
        assert len(asset.content) > 50_000, u  # the real bundle, not a placeholder
    assert client.get("/openapi.json").status_code == 200
