"""The 跟踪 tab in a real browser (Debian's chromium via Playwright) at 1280 px and 390 px.

`dafu serve` over an index of the fictional fixture letters (tests/fixtures/track, fake encoder). For the topic
老年助餐 the timeline must show one row per reply, an arrow from each promise to the passage that reports it
(ending on that passage), a dashed one to the reply that plans it again, the unreported promises marked, no
sideways scrolling on a phone; a click on a report opens the letter with that sentence highlighted. Screenshots
go to $DAFU_TEST_ARTIFACTS (default ./artifacts/): track_1280.png, track_390.png.
"""
from __future__ import annotations

import pytest

from tests.browser_support import ARGS, CHROMIUM, ROOT, T, artifacts, need_chromium
from tests.browser_support import dafu_serve as serve_index

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated")]

FIXTURES = ROOT / "tests" / "fixtures" / "track"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_chromium()
    with serve_index(tmp_path_factory.mktemp("track-serve"), FIXTURES) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


ARROWS_END_ON_TARGETS = """() => [...document.querySelectorAll('#t-timeline svg path.arrow')].map((p) => {
    const end = p.getPointAtLength(p.getTotalLength());
    const svg = p.ownerSVGElement.getBoundingClientRect();
    const dst = document.getElementById(p.dataset.to).getBoundingClientRect();
    const src = document.getElementById(p.dataset.from).getBoundingClientRect();
    const start = p.getPointAtLength(0);
    return {kind: p.classList.contains('restated') ? 'restated' : 'report',
            endsOnTarget: Math.abs(svg.left + end.x - dst.left) < 4 && svg.top + end.y >= dst.top && svg.top + end.y <= dst.bottom,
            startsOnSource: Math.abs(svg.left + start.x - src.left) < 4 && svg.top + start.y >= src.top && svg.top + start.y <= src.bottom,
            downwards: dst.top > src.top};
})"""


@pytest.mark.parametrize("width, height", [(1280, 1000), (390, 844)])
def test_track_tab_timeline(server, browser, width, height):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    page.set_default_timeout(T)
    page.goto(server)
    page.wait_for_selector("#question")
    page.get_by_role("tab", name="跟踪").click()
    page.wait_for_selector("#t-topic")
    page.fill("#t-topic textarea, #t-topic input", "老年助餐")
    page.click("#t-go")
    page.wait_for_selector("#t-timeline .tl-row")
    page.wait_for_function("document.querySelectorAll('#t-timeline svg path.arrow').length >= 3")
    assert page.locator("#t-timeline .tl-row").count() == 4  # f1, f2, f4 (other county), f3: one row per reply
    years = page.locator("#t-timeline .tl-year").all_inner_texts()
    assert years == sorted(years)
    arrows = page.evaluate(ARROWS_END_ON_TARGETS)
    assert sorted(a["kind"] for a in arrows) == ["report", "report", "restated"]
    assert all(a["endsOnTarget"] and a["startsOnSource"] and a["downwards"] for a in arrows), arrows
    unreported = page.locator("#t-timeline .tl-pt.not_reported")
    assert unreported.count() == 4 and unreported.first.locator(".tl-st.not_reported").inner_text() == "未见报告"
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    page.screenshot(path=str(artifacts() / f"track_{width}.png"), full_page=True)
    # a report opens its letter with that sentence marked
    report = page.locator("#t-timeline .tl-pt.done").first
    sentence = report.locator(".tl-text").inner_text()
    report.click()
    page.wait_for_selector("#t-view mark")
    assert page.locator("#t-view mark").inner_text() == sentence
    page.close()


def test_filters_narrow_the_timeline(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(T)
    page.goto(server)
    page.wait_for_selector("#question")
    page.get_by_role("tab", name="跟踪").click()
    page.wait_for_selector("#t-topic")
    page.fill("#t-topic textarea, #t-topic input", "老年助餐")
    page.locator("#t-district input").fill("西岭县")
    page.keyboard.press("Enter")
    page.click("#t-go")
    page.wait_for_function("document.querySelectorAll('#t-timeline .tl-row').length === 1")
    assert "西岭县" in page.locator("#t-timeline .tl-row").inner_text()
    page.close()
