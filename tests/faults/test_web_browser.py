"""The web chat works under its Content-Security-Policy in a real browser (no violation), and cannot be framed."""
from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.browser_support import ARGS, CHROMIUM, T, free_port, need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:.*no_silent_downcasting",
                                                           "ignore:The copy keyword is deprecated")]

QUESTION = "通州在产教融合方面做了哪些工作？"
RECORD_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    {directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample}));
"""


@pytest.fixture
def served(settings, seed_index):
    import uvicorn

    from service.api.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=free_port(), log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    base = f"http://127.0.0.1:{server.config.port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "readyz", trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base
    server.should_exit = True
    th.join(15)


def test_web_chat_runs_without_csp_violations(served, tmp_path):
    need_chromium()
    from playwright.sync_api import sync_playwright

    r = httpx.get(served, trust_env=False)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
                                                   args=ARGS, viewport={"width": 1280, "height": 900}, locale="zh-CN")
        ctx.set_default_timeout(T)
        ctx.add_init_script(RECORD_CSP)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(served)
        page.wait_for_selector("#question textarea")
        assert page.get_attribute("#question textarea", "maxlength") == "500"
        page.fill("#question textarea", QUESTION)
        page.click("#send")
        page.wait_for_selector("#chat-log .answer .actions")  # (no string predicates: Playwright evals those)
        page.locator("#chat-log li.point a.cite").first.click()
        page.wait_for_selector("#reply-view mark")
        assert page.locator("#chat-log li.point").count() > 0
        violations = page.evaluate("window.__csp")
        # a page that tries to frame the chat is refused by frame-ancestors / X-Frame-Options
        framer = tmp_path / "framer.html"
        framer.write_text(f'<iframe id="f" src="{served}" width="400" height="300"></iframe>')
        page2 = ctx.new_page()
        page2.goto(framer.as_uri())
        page2.wait_for_timeout(1500)
        framed = page2.frames[1].url if len(page2.frames) > 1 else ""
        framed_text = page2.frames[1].evaluate("document.body ? document.body.innerText.length : 0") if framed.startswith("http") else 0
        ctx.close()
    assert violations == [] and errors == [], (violations, errors)
    assert framed_text == 0
