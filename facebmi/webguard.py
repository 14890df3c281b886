"""The server's limits: an ASGI layer in front of Gradio (request bodies of bounded size, a full queue that
says "try again") and the launch() settings that install it.

Gradio limits file uploads (max_file_size) but reads any other request body whole, so one JSON request with
a gigabyte-long `data:` URL would be held in memory before any check of ours could run. And its answer to a
full queue ("Queue is full. Max size is 64 and size is 64.") does not tell the person what to do. And the
process's memory allocator is capped (limit_malloc_arenas) so that memory stays flat under many users.
"""
from __future__ import annotations

import json

from starlette.middleware import Middleware

BUSY = "The server is busy: every place in its queue is taken. Try again in a few seconds."


class RequestGuard:
    def __init__(self, app, max_body: int, too_large: str, busy_message: str = BUSY):
        self.app = app
        self.max_body = max_body
        self.too_large = too_large
        self.busy_message = busy_message

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await _answer(send, 413, "text/plain; charset=utf-8", self.too_large.encode())
        received = 0

        async def bounded_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:  # a chunked body without a length: cut it off as a disconnect
                return {"type": "http.disconnect"}
            return message

        held: dict = {}

        async def reworded_send(message):
            # A 503 is Gradio's queue-full answer: hold it back, and reword it if that is what it says.
            if message["type"] == "http.response.start" and message["status"] == 503:
                held.update(start=message, body=b"")
                return
            if held and message["type"] == "http.response.body":
                held["body"] += message.get("body", b"")
                if message.get("more_body"):
                    return
                body = held["body"]
                if b"Queue is full" in body:
                    return await _answer(send, 503, "application/json",
                                         json.dumps({"detail": self.busy_message}).encode())
                await send(held["start"])
                return await send({"type": "http.response.body", "body": body})
            await send(message)

        await self.app(scope, bounded_receive, reworded_send)


async def _answer(send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def launch_options(max_upload_bytes: int) -> dict:
    """The launch() settings that bound what a request can cost; main() and the tests' servers use them."""
    # A data: URL carries 4 bytes of base64 per 3 of photo, plus a little JSON around it.
    max_body = max_upload_bytes * 4 // 3 + 2**20
    too_large = (f"The request is larger than any photo within the {max_upload_bytes / 2**20:.0f} MB upload limit "
                 "needs: send a smaller photo.")
    return {"max_file_size": max_upload_bytes, "run_history": False,  # no run is recorded, in any browser
            "app_kwargs": {"middleware": [Middleware(RequestGuard, max_body=max_body, too_large=too_large)]}}


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for this process (what MALLOC_ARENA_MAX=2 does); True if applied.

    Gradio answers each request on a worker thread, and glibc gives busy threads arenas of their own (up to 8
    per core) that keep freed memory: under 50 users the server's RSS grew ~85 MB a minute-long run and did not
    come back. With 2 arenas it stays flat after the warm-up (benchmarks/load.py), at no measured cost in
    latency. Call it before the server's threads start. A no-op on a C library other than glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(-8, arenas))  # -8 is M_ARENA_MAX in glibc's malloc.h
    except (OSError, AttributeError):
        return False
