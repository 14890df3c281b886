"""Live tab, end to end: labelled frames per second arriving in a real page, with headless Chromium's fake camera
playing the astronaut clip (benchmarks/live.py) into the Live tab of `python app.py`.

    python -m benchmarks.live_browser [--seconds 20] [--warmup 5]

Everything runs on this machine: the app, Chromium (camera, JPEG encoding of each frame, the page) and the
counting. A frame counts as labelled when it shows at least LABELLED_MIN_AMBER pixels of the box colour. The
video is written to a temporary folder and deleted afterwards. Needs Debian's chromium and chromium-driver.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("FACEBMI_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FACEBMI_CHROMEDRIVER", "/usr/bin/chromedriver")
LABELLED_MIN_AMBER = 200  # pixels of draw.BOX_COLOUR: a box round a ~150 px face has ~1,300

# Installed in the page: notes the time of every new picture in #live_view and how many of its pixels are the
# box's amber (facebmi/draw.py BOX_COLOUR, allowing for JPEG), in window.__live.frames as [ms, amber pixels].
FRAME_COUNTER_JS = """
window.__live = {frames: []};
let shown = null;
const count = () => {
  const img = document.querySelector('#live_view img');
  if (!img || !img.src || img.src === shown || !img.src.startsWith('data:image/')) return;
  shown = img.src;
  const arrived = performance.now(), probe = new Image();
  probe.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = probe.naturalWidth; canvas.height = probe.naturalHeight;
    const context = canvas.getContext('2d', {willReadFrequently: true});
    context.drawImage(probe, 0, 0);
    const px = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let amber = 0;
    for (let i = 0; i < px.length; i += 4)
      if (px[i] > 200 && px[i + 1] > 150 && px[i + 1] < 230 && px[i + 2] < 80) amber++;
    window.__live.frames.push([arrived, amber]);
  };
  probe.src = shown;
};
new MutationObserver(count).observe(document.querySelector('#live_view'),
  {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
"""


def chromium_options(video: Path, profile: Path):
    """Headless Chromium whose camera plays `video` (.y4m) and which grants camera access without asking."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1300", f"--user-data-dir={profile}",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 f"--use-file-for-fake-video-capture={video}"):
        options.add_argument(flag)
    return options


def start_live_stream(driver, url: str, timeout: float = 90) -> None:
    """Open the app, switch to the Live tab, open the camera, press Record and start counting frames."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    # The page re-renders and moves while it loads: an element found a moment ago may be gone or covered; look
    # again until the click lands.
    wait = WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException,
                                                              ElementClickInterceptedException])

    def click(css: str, text: str):
        def clicked(d) -> bool:
            for b in d.find_elements(By.CSS_SELECTOR, css):
                if b.is_displayed() and b.text.strip() == text:
                    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", b)
                    b.click()
                    return True
            return False
        wait.until(clicked)

    click("button[role=tab]", "Live")
    click("#live_camera button", "Click to Access Webcam")
    click("#live_camera button", "Record")
    driver.execute_script(FRAME_COUNTER_JS)


def frames_seen(driver) -> list[tuple[float, int]]:
    """[(arrival ms, amber pixels)] of every distinct picture shown in #live_view since counting began."""
    return [tuple(f) for f in driver.execute_script("return window.__live.frames")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(port: int, temp: Path) -> subprocess.Popen:
    """`python app.py` as a user runs it, on a loopback port; returns once it answers."""
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_TEMP_DIR": str(temp), "PYTHONPATH": str(ROOT)}
    env.pop("GRADIO_SERVER_NAME", None)
    app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2):
                return app
        except OSError:
            if app.poll() is not None or time.monotonic() > deadline:
                app.kill()
                raise SystemExit("benchmarks.live_browser: app.py did not start")
            time.sleep(0.5)


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="how long to count frames")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of streaming before counting")
    parser.add_argument("--clip-frames", type=int, default=90, help="length of the looping camera video")
    args = parser.parse_args(argv)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from benchmarks.live import astronaut_clip, write_y4m

    with tempfile.TemporaryDirectory(prefix="facebmi-live-") as folder:
        folder = Path(folder)
        video = folder / "astronaut.y4m"
        write_y4m(astronaut_clip(args.clip_frames), video)
        (folder / "gradio").mkdir()
        port = free_port()
        app = start_app(port, folder / "gradio")
        driver = None
        try:
            driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                      options=chromium_options(video, folder / "profile"))
            start_live_stream(driver, f"http://127.0.0.1:{port}/")
            time.sleep(args.warmup)
            start, app_cpu = frames_seen(driver), cpu_seconds(app.pid)
            time.sleep(args.seconds)
            frames = frames_seen(driver)[len(start):]
            app_cpu_end = cpu_seconds(app.pid)
        finally:
            if driver is not None:
                driver.quit()
            app.terminate()
            app.wait(timeout=30)
    labelled = [f for f in frames if f[1] >= LABELLED_MIN_AMBER]
    span = (frames[-1][0] - frames[0][0]) / 1000 if len(frames) > 1 else float("nan")
    gaps = sorted(b[0] - a[0] for a, b in zip(frames, frames[1:]))
    print(json.dumps({
        "seconds_counted": args.seconds, "frames_arrived": len(frames), "frames_labelled": len(labelled),
        "labelled_frames_per_second": round(len(labelled) / args.seconds, 1),
        "frames_per_second_between_first_and_last": round((len(frames) - 1) / span, 1) if len(frames) > 1 else 0,
        "gap_ms_p50": round(gaps[len(gaps) // 2], 1) if gaps else None,
        "gap_ms_p95": round(gaps[int(len(gaps) * 0.95)], 1) if gaps else None,
        # How much of the machine the server used while it streamed: 1.0 is one core busy all the time.
        "server_cores_busy": round((app_cpu_end - app_cpu) / args.seconds, 2) if app_cpu is not None else None,
    }, indent=2))


if __name__ == "__main__":
    main()
