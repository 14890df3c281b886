"""One real headless-Chromium session: upload the astronaut through the page and see a labelled box."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = os.environ.get("FACEBMI_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FACEBMI_CHROMEDRIVER", "/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                       reason=f"needs Chromium at {CHROMIUM} and chromedriver at {CHROMEDRIVER} "
                              "(apt install chromium chromium-driver)"),
]


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1300", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_upload_astronaut_shows_a_labelled_box_and_a_table_row(browser, app_url, astronaut_file, astronaut):
    import io

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(app_url)
    wait = WebDriverWait(browser, 60)
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#photo input[type=file]")))
    page = browser.find_element(By.TAG_NAME, "gradio-app").text
    assert "not medical advice" in page and "adults only" in page and "model card" in page
    upload.send_keys(str(astronaut_file))

    output = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#annotated img"))
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#faces [role=row].virtual-row"))
    assert len(rows) == 1
    cells = [c.text for c in rows[0].find_elements(By.CSS_SELECTOR, "[role=gridcell]")]
    assert cells[0] == "1" and 10 < float(cells[1]) < 80, cells
    probs = browser.find_element(By.ID, "probs").text
    assert "face #1" in probs and sum(b in probs for b in ("0-2", "25-32", "60+")) == 3

    # The image the page shows is the photo with a box drawn on it, not the upload echoed back.
    shown = output.get_attribute("src")
    assert shown
    screenshot = Path(tempfile.gettempdir()) / "facebmi-browser-test.png"
    browser.save_screenshot(str(screenshot))
    png = output.screenshot_as_png
    drawn = np.asarray(Image.open(io.BytesIO(png)).convert("RGB").resize((512, 512)))
    amber = (drawn[:, :, 0] > 200) & (drawn[:, :, 1] > 150) & (drawn[:, :, 1] < 230) & (drawn[:, :, 2] < 80)
    assert amber[40:200, 150:300].sum() > 100, "no amber face box where the face is"


def test_pair_tab_compares_two_photos(browser, app_url, astronaut_file):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(app_url)
    wait = WebDriverWait(browser, 60)
    tab = wait.until(lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "button[role=tab]")
                                     if "Before / after" in b.text), None))
    tab.click()
    before = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#before input[type=file]")))
    before.send_keys(str(astronaut_file))
    browser.find_element(By.CSS_SELECTOR, "#after input[type=file]").send_keys(str(astronaut_file))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#after img"))
    browser.find_element(By.ID, "compare").click()
    change = wait.until(lambda d: d.find_element(By.ID, "change").text or None)
    assert "BMI +0.0" in change and "Same person assumed" in change
    assert wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#pair_annotated img")).get_attribute("src")
    assert "same person" in browser.find_element(By.TAG_NAME, "gradio-app").text.lower()
