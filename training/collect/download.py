"""Download every image URL of the scraped posts into one folder, named by content hash. Resumable.

    python -m training.collect.download --posts posts.jsonl --out images/

Each URL is fetched once, streamed to `<out>/.part/` and renamed to `<out>/<sha256>.<ext>` only when it
is complete and verified (content type, magic bytes, size and pixel limits, a full decode), so a file
under its final name is always whole, and two URLs serving the same bytes share one file. Every outcome
goes to `<out>/download_log.jsonl` (one JSON object per URL: the file, or why there is none); a rerun
skips URLs with a final outcome and retries only transient failures (429, 5xx, timeouts, cut-off bodies).
`--workers N` (default 8) fetches N URLs at once, in threads; each outcome is logged when its URL is done.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

import requests
import requests.adapters

from facebmi.images import MAX_PIXELS, ImageError, load_image
from training.collect.jsonl import DurableLines, cut_partial_line

LOG_NAME = "download_log.jsonl"
USER_AGENT = "facebmi-dataset/0.1 (research; https://github.com/facebmi)"

# What the first bytes of each accepted format look like, and the extension its file gets.
MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))


@dataclass(frozen=True)
class DownloadLimits:
    max_bytes: int = 20_000_000  # a phone photo is 2-8 MB; anything larger is not a progress picture
    max_pixels: int = MAX_PIXELS  # the same limit the app applies, checked on the header before decoding
    connect_timeout: float = 10.0  # seconds to open the connection
    read_timeout: float = 30.0  # seconds of silence allowed between bytes of the body
    attempts: int = 4  # tries per URL for transient failures (429, 5xx, timeouts, cut-off bodies)
    backoff: float = 2.0  # seconds before the 2nd try, doubled for each later one
    max_backoff: float = 60.0  # cap on any single wait, including a server's Retry-After
    chunk_bytes: int = 64 * 1024  # streamed in pieces of this size


@dataclass
class DownloadResult:
    url: str
    file: str | None = None  # '<sha256>.<ext>' inside the output folder, when the download succeeded
    reason: str | None = None  # why there is no file
    transient: bool = False  # the failure may go away on a later run (429, 5xx, timeout); rerun retries it
    attempts: int = 0
    bytes: int | None = None
    width: int | None = None
    height: int | None = None
    content_type: str | None = None
    fetched_utc: float | None = None  # when the last try ended (the dataset card reports the collection dates)

    @property
    def final(self) -> bool:
        return self.file is not None or not self.transient


class _Transient(Exception):
    """A failure worth retrying."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class _Refused(Exception):
    """A permanent failure: retrying would fetch the same bad answer."""


def sniff_format(head: bytes) -> str | None:
    """The file extension for the image format the first bytes announce, None for anything else."""
    for magic, ext in MAGIC:
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date, or nothing: our own backoff decides


def _fetch_once(session: requests.Session, url: str, out: Path, limits: DownloadLimits,
                result: DownloadResult) -> None:
    part = out / ".part" / (hashlib.sha256(url.encode()).hexdigest() + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    try:
        with session.get(url, stream=True, timeout=(limits.connect_timeout, limits.read_timeout)) as response:
            if response.status_code == 429 or response.status_code >= 500:
                raise _Transient(f"HTTP {response.status_code}", _retry_after(response))
            if response.status_code != 200:
                raise _Refused(f"HTTP {response.status_code}")
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            result.content_type = content_type
            if not content_type.startswith("image/"):
                raise _Refused(f"not an image (content type {content_type or 'missing'!r})")
            if urlparse(response.url).path.endswith("/removed.png"):  # imgur's stand-in for deleted images
                raise _Refused("image removed by the host")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limits.max_bytes:
                raise _Refused(f"too large ({int(length)} bytes, limit {limits.max_bytes})")
            digest, size, ext = hashlib.sha256(), 0, None
            with part.open("wb") as f:
                for chunk in response.iter_content(limits.chunk_bytes):
                    size += len(chunk)
                    if size > limits.max_bytes:
                        raise _Refused(f"too large (over {limits.max_bytes} bytes)")
                    if size == len(chunk):  # the first chunk: its magic bytes name the format
                        ext = sniff_format(chunk[:16])
                        if ext is None:
                            raise _Refused(f"not an image (content type {content_type!r} but the bytes are no "
                                           "JPEG, PNG, GIF or WebP)")
                    digest.update(chunk)
                    f.write(chunk)
        if size == 0:
            raise _Refused("empty body")
        try:
            picture = load_image(part, max_pixels=limits.max_pixels)  # header checks, then a full decode
        except ImageError as err:
            raise _Refused(f"unreadable image: {err}") from None
        result.bytes, (result.width, result.height) = size, picture.size
        name = f"{digest.hexdigest()}.{ext}"
        if (out / name).exists():
            part.unlink()  # the same bytes came from another URL: keep one copy
        else:
            os.replace(part, out / name)
        result.file = name
    except requests.exceptions.Timeout:
        raise _Transient("timed out") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
        raise _Transient(f"connection failed or body cut short ({type(err).__name__})") from None
    finally:
        part.unlink(missing_ok=True)


def download(session: requests.Session, url: str, out: Path, limits: DownloadLimits = DownloadLimits(),
             sleep=time.sleep) -> DownloadResult:
    """Fetch one URL into `out`, retrying transient failures with exponential backoff."""
    result = DownloadResult(url=url)
    if urlparse(url).scheme not in ("http", "https"):
        result.reason = "not an http(s) URL"
        return result
    for attempt in range(1, limits.attempts + 1):
        result.attempts = attempt
        try:
            _fetch_once(session, url, out, limits, result)
            result.reason, result.transient = None, False
            return result
        except _Refused as err:
            result.reason, result.transient = str(err), False
            return result
        except requests.exceptions.RequestException as err:  # invalid URL, too many redirects, ...
            result.reason, result.transient = f"request failed: {type(err).__name__}", False
            return result
        except _Transient as err:
            result.reason, result.transient = str(err), True
            if attempt < limits.attempts:
                wait = limits.backoff * 2 ** (attempt - 1)
                if err.retry_after is not None:
                    wait = max(wait, err.retry_after)
                sleep(min(wait, limits.max_backoff))
    result.reason = f"{result.reason} (gave up after {limits.attempts} tries)"
    return result


def read_log(out: str | Path) -> dict[str, dict]:
    """url -> the latest logged outcome. A line cut short by an interruption is ignored (its URL is redone)."""
    path = Path(out) / LOG_NAME
    outcomes: dict[str, dict] = {}
    if not path.exists():
        return outcomes
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "url" in record:
            outcomes[record["url"]] = record
    return outcomes


def _is_final(record: dict, out: Path, retry_transient: bool) -> bool:
    if record.get("file"):
        return (out / record["file"]).exists()  # a file deleted since is fetched again
    return not (record.get("transient") and retry_transient)


def download_posts(posts, out: str | Path, limits: DownloadLimits = DownloadLimits(),
                   session: requests.Session | None = None, retry_transient: bool = True,
                   workers: int = 1) -> dict[str, int]:
    """Download every image URL of `posts` (objects with `.id` and `.image_urls`). Returns outcome counts.

    `workers` > 1: that many URLs are fetched at once, by threads sharing `session` (the waiting, hashing and
    decoding release the GIL). Each outcome is logged as soon as its URL is done, so an interruption loses at
    most the URLs in flight (fetched again by the rerun, into the same content-named file).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / LOG_NAME
    cut_partial_line(log_path)  # a half-written last record: its URL is fetched again
    for leftover in (out / ".part").glob("*.part"):  # bodies an interrupted run was still receiving
        leftover.unlink()
    done = {url for url, rec in read_log(out).items() if _is_final(rec, out, retry_transient)}
    if session is None:
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(10, workers))  # a kept connection per thread
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    session.headers.setdefault("User-Agent", USER_AGENT)
    counts = {"downloaded": 0, "failed": 0, "skipped": 0}
    todo = []  # (post id, url): each URL once, in post order
    for post in posts:
        for url in post.image_urls:
            if url in done:
                counts["skipped"] += 1
                continue
            done.add(url)
            todo.append((post.id, url))

    def fetch(post_id: str, url: str) -> dict:
        result = download(session, url, out, limits)
        result.fetched_utc = round(time.time(), 3)
        return {"post_id": post_id, **asdict(result)}

    with DurableLines(log_path) as log:  # the resume point: each outcome is flushed as soon as it is known
        def record(results: list[dict]) -> None:
            log.write("".join(json.dumps(r) + "\n" for r in results))
            for r in results:
                counts["downloaded" if r["file"] else "failed"] += 1

        if workers <= 1:
            for post_id, url in todo:
                record([fetch(post_id, url)])
            return counts
        with ThreadPoolExecutor(workers, thread_name_prefix="download") as pool:
            pending, queued = set(), iter(todo)
            try:
                while True:
                    for post_id, url in itertools.islice(queued, 2 * workers - len(pending)):
                        pending.add(pool.submit(fetch, post_id, url))
                    if not pending:
                        break
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    record([future.result() for future in finished])
            finally:
                for future in pending:
                    future.cancel()
    return counts


def main(argv=None):
    from training.collect.posts import read_posts

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=Path, required=True, help="the scraper's JSONL file")
    parser.add_argument("--out", type=Path, required=True, help="folder for the images and the download log")
    parser.add_argument("--max-bytes", type=int, default=DownloadLimits.max_bytes)
    parser.add_argument("--max-pixels", type=int, default=DownloadLimits.max_pixels)
    parser.add_argument("--timeout", type=float, default=DownloadLimits.read_timeout,
                        help="read timeout in seconds (connect timeout: a third of it, at least 1 s)")
    parser.add_argument("--attempts", type=int, default=DownloadLimits.attempts)
    parser.add_argument("--backoff", type=float, default=DownloadLimits.backoff)
    parser.add_argument("--no-retry-failed", action="store_true",
                        help="do not retry URLs that failed transiently on an earlier run")
    parser.add_argument("--workers", type=int, default=8, help="URLs fetched at once (threads; 1: one by one)")
    args = parser.parse_args(argv)
    limits = DownloadLimits(max_bytes=args.max_bytes, max_pixels=args.max_pixels,
                            connect_timeout=max(1.0, args.timeout / 3), read_timeout=args.timeout,
                            attempts=args.attempts, backoff=args.backoff)
    counts = download_posts(read_posts(args.posts), args.out, limits, retry_transient=not args.no_retry_failed,
                            workers=args.workers)
    print(f"{counts['downloaded']} downloaded, {counts['failed']} failed, {counts['skipped']} already done "
          f"(log: {args.out / LOG_NAME})", file=sys.stderr)


if __name__ == "__main__":
    main()
