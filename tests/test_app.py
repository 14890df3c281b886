"""The Gradio app served for real on loopback (conftest.app_url) and called as users' code would: gradio_client."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from facebmi.labels import AGE_BRACKETS, WHO_CATEGORIES  # noqa: E402


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False, download_files=True)


def analyze(client, path):
    return client.predict(handle_file(str(path)), api_name="/analyze")


def test_only_the_three_endpoints_are_public(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert sorted(endpoints) == ["/analyze", "/analyze_pair", "/explain"]
    assert len(endpoints["/analyze"]["parameters"]) == 1 and len(endpoints["/analyze"]["returns"]) == 2
    assert [p["parameter_name"] for p in endpoints["/analyze_pair"]["parameters"]] == [
        "before_path", "after_path", "before_face", "after_face"]


def test_astronaut_gives_one_face_with_every_field_and_a_drawn_box(client, astronaut_file, astronaut):
    image_path, result = analyze(client, astronaut_file)
    assert result["faces_found"] == 1 and (result["width"], result["height"]) == (512, 512)
    assert "1 face" in result["message"]
    (face,) = result["faces"]
    assert face["face"] == 1
    x0, y0, x1, y1 = face["box"]
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512 and (x1 - x0) > 40
    assert 0.9 <= face["score"] <= 1 and 10 < face["bmi"] < 80
    assert face["who_category"] in {name for _, name in WHO_CATEGORIES}
    assert face["age_bracket"] in AGE_BRACKETS and list(face["age_probs"]) == list(AGE_BRACKETS)
    assert abs(sum(face["age_probs"].values()) - 1) < 1e-4
    assert face["age_bracket_prob"] == max(face["age_probs"].values())
    if result["bmi_interval_level"] is None:
        assert face["bmi_interval"] is None
    else:
        low, high = face["bmi_interval"]
        assert low < face["bmi"] < high and 0 < result["bmi_interval_level"] < 1

    annotated = np.asarray(Image.open(image_path).convert("RGB")).astype(int)
    original = np.asarray(astronaut).astype(int)
    assert annotated.shape == original.shape
    changed = np.abs(annotated - original).sum(axis=2) > 60
    assert changed[int(y0):int(y1), int(x0) - 3:int(x0) + 4].mean() > 0.5, "no box on the face's left edge"
    assert changed[:int(y0), int(x0):int(x1)].any(), "no label above the face"
    assert changed[400:, :].mean() < 0.01, "the image changed away from the face"


def test_a_photo_cut_close_to_the_face_gets_a_caution(client, tmp_path, astronaut, astronaut_file):
    """An ID-photo framing: the face is flagged and the message says what that means and what reads better; the
    portrait as it is gets neither."""
    astronaut.crop((170, 50, 280, 185)).save(tmp_path / "tight.png")
    _, result = analyze(client, tmp_path / "tight.png")
    assert result["faces"][0]["cut_close"] is True
    assert "Face #1 is near the edge of the photo" in result["message"] and "model card" in result["message"]
    _, result = analyze(client, astronaut_file)
    assert result["faces"][0]["cut_close"] is False and "edge" not in result["message"]


def test_non_image_gets_a_clear_error(client, tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("hello, I am a text file with a .jpg name")
    with pytest.raises(AppError, match="not an image format we can read"):
        analyze(client, path)


def test_truncated_jpeg_gets_a_clear_error(client, tmp_path, astronaut):
    buffer = io.BytesIO()
    astronaut.save(buffer, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[:5000])
    with pytest.raises(AppError, match="damaged or cut short"):
        analyze(client, path)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side,message", [(10_000, "megapixel limit"), (20_000, "too many pixels")])
def test_huge_image_gets_a_clear_error(client, tmp_path, side, message):
    # Only a PNG header: 100 MP passes Gradio's own check and meets ours; 400 MP trips Pillow's bomb guard.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                     + chunk(b"IEND", b""))
    with pytest.raises(AppError, match=message):
        analyze(client, path)


def test_blank_image_says_no_face_and_what_helps(client, tmp_path, blank_image):
    path = tmp_path / "blank.png"
    blank_image.save(path)
    image_path, result = analyze(client, path)
    assert result["faces"] == [] and result["faces_found"] == 0
    assert "No face found" in result["message"] and "well-lit" in result["message"]
    assert Image.open(image_path).size == blank_image.size


def test_exif_rotated_upload_is_analysed_upright(client, tmp_path, astronaut, astronaut_file):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, "rotate 90 degrees clockwise to display"
    path = tmp_path / "phone.jpg"
    astronaut.transpose(Image.Transpose.ROTATE_90).save(path, quality=92, exif=exif.tobytes())
    _, upright = analyze(client, astronaut_file)
    image_path, result = analyze(client, path)
    (face,) = result["faces"]
    assert np.allclose(face["box"], upright["faces"][0]["box"], atol=8), "box not in upright coordinates"
    assert Image.open(image_path).size == (512, 512)


def test_many_faces_are_all_returned_and_numbered(client, tmp_path, astronaut):
    grid = Image.new("RGB", (1024, 1024))
    for i in range(4):
        grid.paste(astronaut, ((i % 2) * 512, (i // 2) * 512))
    path = tmp_path / "four.png"
    grid.save(path)
    _, result = analyze(client, path)
    assert result["faces_found"] == 4 and [f["face"] for f in result["faces"]] == [1, 2, 3, 4]
    assert "4 faces" in result["message"]


def test_faces_beyond_the_cap_are_counted_and_the_largest_kept(predictor, tmp_path, astronaut):
    from conftest import load_app_module, serve

    app = load_app_module()
    demo = app.build_demo(predictor, app.write_examples(tmp_path / "examples"), max_faces=2)
    url = serve(demo)
    try:
        grid = Image.new("RGB", (1024, 768))
        grid.paste(astronaut, (0, 0))
        grid.paste(astronaut.resize((400, 400)), (512, 0))
        grid.paste(astronaut.resize((300, 300)), (512, 420))
        grid.save(tmp_path / "three.png")
        _, result = analyze(Client(url, verbose=False), tmp_path / "three.png")
    finally:
        demo.close()
    assert result["faces_found"] == 3 and len(result["faces"]) == 2
    assert "Found 3 faces; showing the 2 largest" in result["message"]
    widths = sorted(f["box"][2] - f["box"][0] for f in result["faces"])
    assert widths[0] > 60, "the smallest face was kept instead of a larger one"


def test_python_app_py_starts_on_the_configured_port_and_serves_the_api(tmp_path):
    """`python app.py` as a user runs it: port from GRADIO_SERVER_PORT, loopback by default, /analyze listed."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from conftest import ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "PYTHONPATH": str(ROOT), "GRADIO_TEMP_DIR": str(tmp_path)}
    env.pop("GRADIO_SERVER_NAME", None)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2) as response:
                    info = response.read().decode()
                break
            except OSError:
                assert proc.poll() is None, f"app.py exited: {proc.stdout.read()}"
                assert time.monotonic() < deadline, "app.py did not start within 120 s"
                time.sleep(0.5)
        assert '"/analyze"' in info
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_identical_requests_at_once_each_get_a_whole_result_of_their_own(app_url, astronaut_file):
    """Many people clicking the example photo at the same moment: identical outputs once shared one file,
    rewritten while another response was still streaming it (a cut-off image for 1-5% of them)."""
    import httpx

    client = Client(app_url, verbose=False, download_files=False)  # the server's own paths and URLs
    jobs = [client.submit(handle_file(str(astronaut_file)), api_name="/analyze") for _ in range(8)]
    outputs = [job.result(timeout=300)[0] for job in jobs]
    assert len({o["path"] for o in outputs}) == len(outputs), "two responses share one result file"
    pixels = []
    for output in outputs:
        response = httpx.get(output["url"], timeout=60)
        response.raise_for_status()
        image = Image.open(io.BytesIO(response.content))
        image.load()  # a cut-off PNG fails here
        pixels.append(np.asarray(image.convert("RGB")))
    assert all(np.array_equal(p, pixels[0]) for p in pixels), "identical requests drew different pictures"


def test_photo_sent_as_a_data_url_keeps_to_the_upload_limit(client):
    """A data: URL skipped the 50 MB limit that uploads have; now both are refused with the same words."""
    import base64

    over = base64.b64encode(bytes(50 * 2**20 + 65536)).decode()
    with pytest.raises(AppError, match=r"over the 50 MB upload limit"):
        client.predict({"path": None, "url": "data:image/png;base64," + over,
                        "meta": {"_type": "gradio.FileData"}}, api_name="/analyze")


def test_a_full_queue_says_to_try_again_shortly(predictor, tmp_path, astronaut_file):
    import concurrent.futures

    import httpx

    from conftest import load_app_module, serve

    app = load_app_module()
    demo = app.build_demo(predictor, app.write_examples(tmp_path / "examples"))
    url = serve(demo, queue_size=1, **app.launch_options(app.MAX_UPLOAD_BYTES))
    try:
        data = [{"path": None, "url": "data:image/jpeg;base64," + _b64(astronaut_file),
                 "meta": {"_type": "gradio.FileData"}}]
        with concurrent.futures.ThreadPoolExecutor(12) as pool:  # 12 at once: 2 run, 1 waits, the rest turned away
            replies = list(pool.map(lambda _: httpx.post(url + "gradio_api/call/analyze", json={"data": data},
                                                         timeout=60), range(12)))
    finally:
        demo.close()
    busy = [r for r in replies if r.status_code == 503]
    assert busy, f"the queue never filled: {[r.status_code for r in replies]}"
    assert all(r.json()["detail"] == "The server is busy: every place in its queue is taken. "
               "Try again in a few seconds." for r in busy), busy[0].text


def _b64(path) -> str:
    import base64

    return base64.b64encode(path.read_bytes()).decode()
