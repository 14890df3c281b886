"""`python app.py` as deployed, with its own GRADIO_TEMP_DIR: no temporary copy of a photo outlives the time
the page states, and SIGTERM (how Docker and Spaces stop it) leaves the folder empty."""
from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from conftest import ROOT  # noqa: E402

FILE_DATA = {"_type": "gradio.FileData"}
START_TIMEOUT = 180  # s: the model load and Gradio's import, on a busy 2-core machine


def start_app(temp_dir: Path, delete_after: float | None = None) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "PYTHONPATH": str(ROOT), "GRADIO_TEMP_DIR": str(temp_dir)}
    if delete_after is not None:
        env["FACEBMI_DELETE_AFTER"] = str(delete_after)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=2):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(f"app.py exited: {proc.stdout.read()}")
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"app.py did not answer within {START_TIMEOUT} s")
            time.sleep(0.5)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def send_photos(url: str, photo: Path) -> None:
    """The astronaut twice: uploaded as a file, and inline as a data: URL (which skips the upload route)."""
    client = Client(url, verbose=False, download_files=False)
    data_url = "data:image/jpeg;base64," + base64.b64encode(photo.read_bytes()).decode()
    for payload in (handle_file(str(photo)), {"path": None, "url": data_url, "meta": FILE_DATA}):
        _, result = client.predict(payload, api_name="/analyze")
        assert result["faces_found"] == 1


@pytest.fixture
def photo(tmp_path, astronaut) -> Path:
    """A photo of one face that is not byte-identical to the app's example (Gradio files both by content)."""
    path = tmp_path / "me.jpg"
    astronaut.transpose(0).save(path, quality=90)  # mirrored
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def written_at(path: Path) -> float:
    st = path.stat()
    return max(st.st_mtime, st.st_ctime)


def test_sigterm_deletes_every_temporary_file(tmp_path, photo):
    temp_dir = tmp_path / "gradio-temp"
    temp_dir.mkdir()
    proc, url = start_app(temp_dir)
    try:
        send_photos(url, photo)
        names = {p.name for p in files_under(temp_dir)}
        assert {"photo", "annotated.png", photo.name, "astronaut.jpg"} <= names, names
    finally:
        code = stop(proc, signal.SIGTERM)
    assert code == 0, f"app.py did not exit cleanly on SIGTERM ({code}): {proc.stdout.read()[-2000:]}"
    assert list(temp_dir.iterdir()) == [], f"left after SIGTERM: {sorted(map(str, temp_dir.rglob('*')))}"


def test_every_copy_goes_within_the_time_the_page_states(tmp_path, photo):
    delete_after = 6  # s; the app's default is 600, the same code path
    temp_dir = tmp_path / "gradio-temp"
    temp_dir.mkdir()
    proc, url = start_app(temp_dir, delete_after)
    try:
        with urllib.request.urlopen(url + "config", timeout=10) as response:
            page = response.read().decode()
        stated = re.search(r"deleted at most (\d+) seconds after it was last used", page)
        assert stated and int(stated.group(1)) == delete_after, "the page does not state the setting"

        examples = files_under(temp_dir)  # the example photo and Gradio's copy: kept while the app runs
        assert len(examples) == 2
        send_photos(url, photo)
        born = {p: written_at(p) for p in files_under(temp_dir) - examples}
        assert len(born) == 4, sorted(map(str, born))  # upload, data: URL, and a result for each

        gone: dict[Path, float] = {}
        deadline = time.time() + delete_after * 3
        while len(gone) < len(born) and time.time() < deadline:
            for path in born:
                if path not in gone and not path.exists():
                    gone[path] = time.time()
            time.sleep(0.1)
        assert set(gone) == set(born), f"still there: {sorted(map(str, set(born) - set(gone)))}"
        slack = 1.5  # s: the polling interval and a busy machine's scheduling
        for path, when in gone.items():
            lived = when - born[path]
            assert lived <= delete_after + slack, f"{path.name} lived {lived:.1f} s, over the stated {delete_after}"
            assert lived >= 0.8 * delete_after - slack, f"{path.name} went after {lived:.1f} s: too soon to be seen"
        assert files_under(temp_dir) == examples, "the example photo was swept while the app runs"
    finally:
        stop(proc)
    assert list(temp_dir.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-5", "ten minutes"])
def test_a_delete_after_that_is_not_a_positive_time_is_refused_at_start(tmp_path, value):
    env = {**os.environ, "FACEBMI_DELETE_AFTER": value, "GRADIO_TEMP_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "FACEBMI_DELETE_AFTER must be a number of seconds above 0" in proc.stderr
    assert list(tmp_path.iterdir()) == []
