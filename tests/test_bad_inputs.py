"""Bad and hostile inputs, as careless users and attackers send them (corpus: tests/bad_inputs.py, generated
here). Each gets a result, or a gr.Error whose sentence names the problem; never a generic error; and the
server keeps answering.

Every file goes through the app's own /analyze function; a spread of them, and the API payloads a browser
never sends (server paths, file:// and loopback URLs, wrong JSON types, data: URLs), through the real server.
"""
from __future__ import annotations

import base64
import json
import re
import socket

import httpx
import pytest

from bad_inputs import corpus
from conftest import load_app_module

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

import gradio as gr  # noqa: E402

GENERIC = "upstream Gradio app has raised an exception"
FILE_DATA = {"_type": "gradio.FileData"}
NOT_UPLOADED = r"must be uploaded with the request"
NO_FETCHING = r"does not fetch photos from addresses"
NOT_A_FILE = r"must be sent as a file object"


@pytest.fixture(scope="module")
def cases(astronaut):
    return corpus(astronaut)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Small images gain nothing from a second thread, and on a shared 2-core machine OpenMP's spinning
    threads can make each call 100x slower; the server under test runs in this process too."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def check(case, outcome) -> str | None:
    """None when the outcome is right for the case, else what is wrong. outcome: a result dict or an error text."""
    if isinstance(outcome, dict):
        if case.error is not None and not case.may_succeed:
            return f"a result, but expected an error matching {case.error!r}"
        if case.faces is not None and outcome["faces_found"] != case.faces:
            return f"{outcome['faces_found']} faces, expected {case.faces}"
        return None
    if GENERIC in outcome or not re.fullmatch(r"[A-Z].*\.", outcome, re.S):
        return f"not a sentence naming the problem: {outcome!r}"
    if case.error is None:
        return f"an error, but a result was expected: {outcome!r}"
    if not re.search(case.error, outcome, re.I):
        return f"{outcome!r} does not match {case.error!r}"
    return None


def test_every_case_through_the_apps_function(cases, predictor, tmp_path):
    analyze = load_app_module().make_analyze(predictor, tmp_path / "results")
    assert len(cases) >= 150 and len({c.name for c in cases}) == len(cases)
    failures = []
    for i, case in enumerate(cases):
        path = tmp_path / f"case-{i}"
        path.write_bytes(case.data)
        try:
            outcome = analyze(str(path))[1]
        except gr.Error as err:
            outcome = err.message
        except Exception as err:  # anything else is the generic error a person would have seen
            outcome = f"{type(err).__name__}: {err}"
            failures.append(f"{case.name}: generic error {outcome}")
            continue
        if (problem := check(case, outcome)) is not None:
            failures.append(f"{case.name}: {problem}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False, download_files=False)


def answers(app_url: str) -> bool:
    return httpx.get(app_url + "gradio_api/info", timeout=30).status_code == 200


def test_a_spread_of_the_files_through_the_server(cases, client, app_url, tmp_path, astronaut_file):
    chosen = cases[::4]  # every category, ~38 files (a stride of 4 also varies the cut of the truncated ones)
    assert len(chosen) >= 30
    failures = []
    for i, case in enumerate(chosen):
        path = tmp_path / f"case-{i}.bin"
        path.write_bytes(case.data)
        try:
            outcome = client.predict(handle_file(str(path)), api_name="/analyze")[1]
        except AppError as err:
            outcome = str(err)
        if (problem := check(case, outcome)) is not None:
            failures.append(f"{case.name}: {problem}")
        assert answers(app_url), f"the server stopped answering after {case.name}"
    assert not failures, "\n".join(failures)
    assert client.predict(handle_file(str(astronaut_file)), api_name="/analyze")[1]["faces_found"] == 1


def call_raw(app_url: str, data) -> tuple[str, object]:
    """POST /gradio_api/call/analyze as any HTTP client can, bypassing gradio_client's own handling of files."""
    response = httpx.post(app_url + "gradio_api/call/analyze", json={"data": data}, timeout=60)
    response.raise_for_status()
    event_id = response.json()["event_id"]
    with httpx.stream("GET", app_url + f"gradio_api/call/analyze/{event_id}", timeout=120) as stream:
        text = "".join(stream.iter_text())
    event, payload = re.findall(r"event: (\w+)\ndata: (.*)", text)[-1]
    payload = json.loads(payload)
    return event, payload[1] if event == "complete" else payload["error"]


def api_payloads(app_url: str, astronaut_file, astronaut_png_data_url: str) -> list[tuple[str, list, str | None]]:
    """(name, the request's data list, a pattern the error must match or None for a result with one face)."""
    return [
        ("a file on the server", [{"path": "/etc/passwd", "meta": FILE_DATA}], NOT_UPLOADED),
        ("an image on the server, no meta", [{"path": str(astronaut_file)}], NOT_UPLOADED),
        ("an image on the server, with meta", [{"path": str(astronaut_file), "meta": FILE_DATA}], NOT_UPLOADED),
        ("a relative path", [{"path": "../../../etc/hostname", "meta": FILE_DATA}], NOT_UPLOADED),
        ("a file:// URL", [{"path": "file:///etc/passwd", "meta": FILE_DATA}], NO_FETCHING),
        ("a loopback URL", [{"path": app_url + "gradio_api/info", "meta": FILE_DATA}], NO_FETCHING),
        ("a localhost URL", [{"path": "http://localhost:9/photo.jpg", "meta": FILE_DATA}], NO_FETCHING),
        ("a URL in 'url' only", [{"path": None, "url": "http://127.0.0.1:9/x.jpg", "meta": FILE_DATA}], NOT_A_FILE),
        ("a number", [5], r"not as a number"),
        ("text", ["photo.jpg"], r"not as text"),
        ("a list", [[1, 2]], r"not as a list"),
        ("true", [True], r"not as true or false"),
        ("an object without a path", [{"foo": 1}], NOT_A_FILE),
        ("a number as the path", [{"path": 5, "meta": FILE_DATA}], NOT_A_FILE),
        ("null", [None], r"No photo given"),
        ("no inputs at all", [], r"carries no photo"),
        ("a data: URL", [{"path": None, "url": astronaut_png_data_url, "meta": FILE_DATA}], None),
        ("a data: URL in 'path', no meta", [{"path": astronaut_png_data_url}], None),
        ("a data: URL, not base64", [{"path": None, "url": "data:image/png,%89PNG", "meta": FILE_DATA}],
         r"must be base64-encoded"),
        ("a data: URL, broken base64", [{"path": None, "url": "data:image/png;base64,!!!!", "meta": FILE_DATA}],
         r"not valid base64"),
        ("a data: URL of text", [{"path": None, "url": "data:image/jpeg;base64,"
                                  + base64.b64encode(b"hello").decode(), "meta": FILE_DATA}], r"not an image format"),
    ]


def test_api_payloads_a_browser_never_sends(app_url, astronaut_file, astronaut):
    import io

    buffer = io.BytesIO()
    astronaut.save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    failures = []
    for name, data, error in api_payloads(app_url, astronaut_file, data_url):
        event, outcome = call_raw(app_url, data)
        if error is None:
            ok = event == "complete" and outcome["faces_found"] == 1
        else:
            ok = (event == "error" and isinstance(outcome, str) and re.search(error, outcome)
                  and re.fullmatch(r"[A-Z].*\.", outcome, re.S) is not None)
        if not ok:
            failures.append(f"{name}: {event} {outcome!r}")
        assert answers(app_url), f"the server stopped answering after {name}"
    assert not failures, "\n".join(failures)


def test_a_request_body_beyond_any_photo_is_refused_before_it_is_read(app_url):
    host, port = httpx.URL(app_url).host, httpx.URL(app_url).port
    with socket.create_connection((host, port), timeout=30) as sock:  # only the headers: 1 GB is declared, not sent
        sock.sendall(b"POST /gradio_api/call/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
        reply = b""
        while b"upload limit" not in reply and (part := sock.recv(4096)):  # headers and body may come apart
            reply += part
        reply = reply.decode()
    assert reply.startswith("HTTP/1.1 413") and "larger than any photo within the 50 MB upload limit" in reply, reply
    assert answers(app_url)
