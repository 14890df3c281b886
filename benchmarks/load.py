"""Many users at once: N gradio_client users call /analyze for T seconds, on loopback only.

    python -m benchmarks.load --users 10 --seconds 30                # starts python app.py on a free port
    python -m benchmarks.load --users 50 --seconds 60 --runs 3       # three runs back to back, one server
    python -m benchmarks.load --url http://127.0.0.1:7860/ --pid PID # an app already running (RSS from PID)

Reports, per run: requests, errors by message, latency p50/p95/max, throughput, and the server's resident
memory (RSS) sampled every second, then how flat RSS stayed after the first run (the warm-up). Each user
sends the public-domain astronaut (one face) or a 2x2 grid of it, and checks the annotated image it gets
back decodes completely (a cut-off file counts as an error). Bounded: at most 200 users, 600 s a run, 5 runs.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_USERS, MAX_SECONDS, MAX_RUNS = 200, 600, 5


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--url", help="a running app on loopback (default: start python app.py)")
    parser.add_argument("--pid", type=int, help="the running app's process id, for its RSS")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not (1 <= args.users <= MAX_USERS and 0 < args.seconds <= MAX_SECONDS and 1 <= args.runs <= MAX_RUNS):
        parser.error(f"--users 1-{MAX_USERS}, --seconds up to {MAX_SECONDS}, --runs 1-{MAX_RUNS}")
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        parser.error("--url must be a loopback address (127.0.0.1, localhost, ::1)")

    with tempfile.TemporaryDirectory(prefix="facebmi-load-") as work:
        photos = write_photos(Path(work))
        server = None if args.url else start_app(Path(work) / "gradio-temp")
        url, pid = (args.url, args.pid) if args.url else (server[1], server[0].pid)
        try:
            reports = [run(url, pid, photos, args.users, args.seconds, Path(work) / f"run{i}")
                       for i in range(args.runs)]
        finally:
            if server is not None:
                server[0].terminate()
                server[0].wait(timeout=60)
    summary = {"users": args.users, "seconds": args.seconds, "runs": reports, "rss_flatness": flatness(reports)}
    print(json.dumps(summary, indent=1) if args.json else text(summary))


def write_photos(folder: Path) -> list[str]:
    from skimage import data

    face = Image.fromarray(data.astronaut())
    grid = Image.new("RGB", (1024, 1024))
    for i in range(4):
        grid.paste(face, ((i % 2) * 512, (i // 2) * 512))
    one, four = folder / "astronaut.jpg", folder / "four.jpg"
    face.save(one, quality=92)
    grid.save(four, quality=85)
    return [str(one)] * 3 + [str(four)]  # mostly the same photo: identical requests at the same moment


def start_app(temp_dir: Path) -> tuple[subprocess.Popen, str]:
    temp_dir.mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_TEMP_DIR": str(temp_dir), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    import urllib.request

    while True:
        try:
            urllib.request.urlopen(url + "gradio_api/info", timeout=2).close()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("app.py did not start")
            time.sleep(0.5)


def rss_mb(pid: int | None) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, TypeError):
        return None


def run(url: str, pid: int | None, photos: list[str], users: int, seconds: float, downloads: Path) -> dict:
    from gradio_client import Client

    clients = [Client(url, verbose=False, download_files=str(downloads / str(i))) for i in range(users)]
    latencies: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    rss: list[tuple[float, float]] = []
    start = time.monotonic()
    stop_at = start + seconds
    done = threading.Event()

    def sample():
        while not done.is_set():
            value = rss_mb(pid)
            if value is not None:
                rss.append((round(time.monotonic() - start, 1), round(value)))
            done.wait(1.0)

    def user(index: int):
        client, turn = clients[index], index
        while time.monotonic() < stop_at:
            photo = photos[turn % len(photos)]
            turn += 1
            began = time.monotonic()
            error = call(client, photo, timeout=max(stop_at - began, 0) + 120)
            with lock:
                if error:
                    errors[error] += 1
                else:
                    latencies.append(time.monotonic() - began)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)  # a request stuck past its own timeout does not hold the report
    elapsed = time.monotonic() - start
    done.set()
    sampler.join(timeout=5)
    return {"requests": len(latencies) + sum(errors.values()), "ok": len(latencies), "errors": dict(errors),
            "p50_s": pct(latencies, 50), "p95_s": pct(latencies, 95), "max_s": round(max(latencies, default=0), 2),
            "per_second": round(len(latencies) / elapsed, 2), "rss_mb": rss}


def call(client, photo: str, timeout: float) -> str | None:
    """None when the call succeeded and its annotated image decodes completely; otherwise the error's message."""
    from gradio_client import handle_file

    try:
        image_path, result = client.submit(handle_file(photo), api_name="/analyze").result(timeout=timeout)
        try:
            with Image.open(image_path) as image:
                image.load()  # a file cut short while another response rewrote it fails here
        finally:
            os.remove(image_path)  # the client's copy: a long run would fill the disk
        if not result["faces"]:
            return "no face found in a photo with one"
        return None
    except Exception as err:  # every failure is counted, by what it says
        return f"{type(err).__name__}: {str(err)[:200]}"


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def flatness(reports: list[dict]) -> dict | None:
    """RSS after the warm-up (the first run, or the first third of a single run): range, first and last."""
    if len(reports) > 1:
        later = [mb for report in reports[1:] for _, mb in report["rss_mb"]]
    else:
        samples = reports[0]["rss_mb"]
        later = [mb for _, mb in samples[len(samples) // 3:]]
    if not later:
        return None
    return {"min_mb": min(later), "max_mb": max(later), "first_mb": later[0], "last_mb": later[-1]}


def text(summary: dict) -> str:
    lines = [f"{summary['users']} users x {summary['seconds']:.0f} s, {len(summary['runs'])} run(s)"]
    for i, r in enumerate(summary["runs"], 1):
        rss = [mb for _, mb in r["rss_mb"]]
        lines.append(f"run {i}: {r['requests']} requests, {r['ok']} ok, {sum(r['errors'].values())} errors; "
                     f"latency p50 {r['p50_s']} s, p95 {r['p95_s']} s, max {r['max_s']} s; "
                     f"{r['per_second']} requests/s; RSS {min(rss, default=0):.0f}-{max(rss, default=0):.0f} MB")
        lines += [f"   {count} x {message}" for message, count in r["errors"].items()]
        lines.append("   RSS over time (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in r["rss_mb"][::5]))
    if summary["rss_flatness"]:
        f = summary["rss_flatness"]
        lines.append(f"RSS after the warm-up: {f['min_mb']:.0f}-{f['max_mb']:.0f} MB "
                     f"(first {f['first_mb']:.0f}, last {f['last_mb']:.0f})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
