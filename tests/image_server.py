"""A loopback HTTP image host for the download and dataset tests: real sockets, real HTTP, scripted failures.

Every route is a `Route`: the body and content type to serve, plus how many of the first requests fail and
how (an HTTP status, a stall past the client's timeout, a body cut short). Hits are counted per path so a
test can tell a retry or a resumed download from a repeated one. Test pictures are made here at test time
from scikit-image's public-domain astronaut; nothing is read from ../shared.
"""
from __future__ import annotations

import io
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import numpy as np
from PIL import Image
from requests.adapters import HTTPAdapter


@dataclass
class Route:
    body: bytes
    content_type: str = "image/jpeg"
    fail_times: int = 0  # the first N requests fail in the way below, later ones succeed
    fail_status: int | None = None  # e.g. 429 or 503
    retry_after: str | None = None  # Retry-After header sent with the failures
    stall: float = 0.0  # failing requests wait this long before answering (past the client's read timeout)
    cut: bool = False  # failing requests announce the full length, send half the body and close
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    block: threading.Event | None = None  # every request waits for this event before answering
    redirect: str | None = None  # answer 302 to this path instead of a body


class ImageServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.hits: Counter = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                server.hits[path] += 1
                route = server.routes.get(path)
                if route is None:
                    return self._send(404, b"not found", "text/plain")
                if route.redirect:
                    return self._send(302, b"", "text/plain", {"Location": server.url(route.redirect)})
                if route.block is not None:
                    route.block.wait(30)
                if server.hits[path] <= route.fail_times:
                    if route.stall:
                        time.sleep(route.stall)
                    if route.fail_status:
                        headers = {"Retry-After": route.retry_after} if route.retry_after else {}
                        return self._send(route.fail_status, b"try later", "text/plain", headers)
                    if route.cut:
                        self.send_response(200)
                        self.send_header("Content-Type", route.content_type)
                        self.send_header("Content-Length", str(len(route.body)))
                        self.send_header("Connection", "close")
                        self.end_headers()
                        self.wfile.write(route.body[: len(route.body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                if not route.send_length:
                    self.send_response(200)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    for start in range(0, len(route.body), 65536):
                        try:
                            self.wfile.write(route.body[start:start + 65536])
                        except OSError:  # the client stopped reading, as it should past its size limit
                            return
                    return
                self._send(200, route.body, route.content_type)

            def _send(self, status, body, content_type, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = self._handle_error
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @staticmethod
    def _handle_error(request, client_address) -> None:
        """A client that closed its kept-alive connection (without reading a refused body) is no error."""
        import sys
        import traceback

        if not isinstance(sys.exc_info()[1], ConnectionError):
            traceback.print_exc()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def __enter__(self) -> "ImageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class LoopbackAdapter(HTTPAdapter):
    """Sends https://HOST/PATH to http://127.0.0.1:PORT/HOST/PATH: every image host (i.redd.it, i.imgur.com)
    lives on the loopback server, a stand-in for DNS; the code under test keeps the real URLs. Mount it on a
    requests.Session for "https://"."""

    def __init__(self, base: str, **options):
        super().__init__(**options)
        self.base = base

    def send(self, request, **kwargs):
        parsed = urlparse(request.url)
        request.url = f"{self.base}/{parsed.hostname}{parsed.path}"
        return super().send(request, **kwargs)


# --- test pictures -------------------------------------------------------------------------------------

def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    """A before/after composite: two photos pasted next to each other."""
    out = Image.new("RGB", (left.width + right.width, max(left.height, right.height)), (255, 255, 255))
    out.paste(left, (0, 0))
    out.paste(right, (left.width, 0))
    return out


def stacked(top: Image.Image, bottom: Image.Image) -> Image.Image:
    out = Image.new("RGB", (max(top.width, bottom.width), top.height + bottom.height), (255, 255, 255))
    out.paste(top, (0, 0))
    out.paste(bottom, (0, top.height))
    return out


def blank(width: int = 320, height: int = 240) -> Image.Image:
    return Image.fromarray(np.full((height, width, 3), 127, dtype=np.uint8))


def pixel_bomb(side: int = 7000) -> bytes:
    """A small PNG (a few KB) that would decode to side*side pixels: 49 megapixels at the default."""
    return encode(Image.new("1", (side, side), 0), "PNG", optimize=True)


def noise_jpeg(n_bytes: int) -> bytes:
    """A real JPEG of random pixels at least `n_bytes` long (random pixels do not compress)."""
    side = 256
    while True:
        rng = np.random.default_rng(0)
        body = encode(Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)), quality=95)
        if len(body) >= n_bytes:
            return body
        side *= 2
