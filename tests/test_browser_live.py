"""The Live tab in a real headless Chromium: its fake camera plays the astronaut clip (written to a temporary
folder, never committed) into the page, and frames with a drawn box come back from a real Gradio server."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks.live import astronaut_clip, write_y4m
from benchmarks.live_browser import CHROMEDRIVER, CHROMIUM, LABELLED_MIN_AMBER, chromium_options, frames_seen, \
    start_live_stream

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                       reason=f"needs Chromium at {CHROMIUM} and chromedriver at {CHROMEDRIVER} "
                              "(apt install chromium chromium-driver)"),
]

TIMEOUT = 180  # s: generous, the machine may be busy; nothing below depends on how fast frames come


@pytest.fixture
def live_browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    video = tmp_path / "astronaut.y4m"
    write_y4m(astronaut_clip(30), video)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=chromium_options(video, tmp_path / "profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def live_app(predictor, tmp_path):
    """app.py's page on its own server, so the test can look at what the server keeps for the session."""
    from conftest import load_app_module, serve

    app = load_app_module()
    demo = app.build_demo(predictor, app.write_examples(tmp_path / "examples"))
    url = serve(demo, **app.launch_options(app.MAX_UPLOAD_BYTES))
    try:
        yield demo, url
    finally:
        demo.close()


def test_live_tab_shows_labelled_frames_and_forgets_them_when_the_page_closes(live_browser, live_app):
    from selenium.webdriver.support.ui import WebDriverWait

    demo, url = live_app
    start_live_stream(live_browser, url, timeout=TIMEOUT)
    page = live_browser.find_element("tag name", "gradio-app").text
    assert "never stored" in page and "no frame is written to disk" in page

    def labelled(driver):
        frames = [f for f in frames_seen(driver) if f[1] >= LABELLED_MIN_AMBER]
        return frames if len(frames) >= 5 else None

    frames = WebDriverWait(live_browser, TIMEOUT).until(labelled)
    assert len({arrived for arrived, _ in frames}) == len(frames), "the same frame counted twice"

    # The server held this session's last labelled frame and tracker while it streamed ...
    live_view = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "live_view")
    stream = next(fn for fn in demo.fns.values() if fn.connection == "stream")
    tracker = next(b for b in stream.inputs if b.stateful)

    def held(kind: str) -> list:
        sessions = list(demo.state_holder.session_data.values())
        if kind == "frame":
            return [s for s in sessions if (s.config_values.get(live_view._id) or {}).get("props", {}).get("value")]
        return [s for s in sessions if s.state_data.get(tracker._id) is not None]

    assert held("frame") and held("tracker")
    # ... and forgets both once the page is closed (Gradio notices a closed page within a few seconds).
    live_browser.get("about:blank")
    deadline = time.monotonic() + TIMEOUT
    while held("frame") or held("tracker"):
        assert time.monotonic() < deadline, "the closed page's frame or tracker is still held"
        time.sleep(1)
