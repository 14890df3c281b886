"""Scrape r/progresspics posts with praw into a resumable JSONL file (schema: training.collect.posts.PostRecord).

    export REDDIT_CLIENT_ID=... REDDIT_CLIENT_SECRET=... REDDIT_USER_AGENT="facebmi-scraper/0.1 by u/you"
    export FACEBMI_AUTHOR_SALT=$(openssl rand -hex 16)   # keep it: the same salt gives the same author_hash
    python -m training.collect.scrape --out posts.jsonl --subreddit progresspics --listing top --time-filter year --limit 1000

Credentials come from the environment (REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USER_AGENT and optionally
REDDIT_USERNAME / REDDIT_PASSWORD) or from a praw.ini section outside the repository (`--site NAME`, read by
praw from ~/.config/praw.ini); they are never logged. Authors are stored only as an HMAC-SHA256 of the name
keyed by FACEBMI_AUTHOR_SALT, which is required.

Resumable: posts already in --out are skipped, every line is flushed as it is written (and synced to disk
every half second and at the end), and a truncated last line left by a killed run is cut off (that post is
fetched again). praw's rate limiter paces requests from Reddit's x-ratelimit headers; 429s, 5xx and timeouts
are retried with exponential backoff (after prawcore's own two quick retries for 5xx and timeouts); a post
that cannot be read is logged and skipped.
Deleted or removed posts and posts without a direct image are skipped (counted in the summary).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TypeVar
from urllib.parse import urlparse

import praw
import prawcore

from training.collect.jsonl import DurableLines, cut_partial_line
from training.collect.posts import PostRecord, read_posts

log = logging.getLogger(__name__)
T = TypeVar("T")

LISTINGS = ("top", "new", "hot")  # subreddit listings; with --search the listing is the search sort
TIME_FILTERS = ("all", "year", "month", "week", "day", "hour")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")  # stills only: gif/gifv/mp4 are not face photos
DIRECT_IMAGE_HOSTS = ("i.redd.it", "i.imgur.com")
IMGUR_PAGE_HOSTS = ("imgur.com", "www.imgur.com", "m.imgur.com")
# Transient failures worth retrying: rate limited, server errors, timeouts / dropped connections.
TRANSIENT_ERRORS = (prawcore.exceptions.TooManyRequests, prawcore.exceptions.ServerError,
                    prawcore.exceptions.RequestException)


class ScrapeError(RuntimeError):
    """A problem the user must fix (missing credentials or salt, bad arguments)."""


@dataclass
class ScrapeConfig:
    out: Path  # JSONL file to append to
    subreddits: list[str] = field(default_factory=lambda: ["progresspics"])
    listing: str = "top"  # top | new | hot; the sort order when `search` is given
    time_filter: str = "year"  # for top and search
    limit: int | None = 1000  # posts to examine per subreddit (Reddit serves at most ~1000 per listing)
    search: str | None = None  # search query within each subreddit instead of a listing
    max_retries: int = 6  # attempts after the first for a transient failure
    backoff_seconds: float = 5.0  # first wait; doubles each retry, with up to 10% jitter
    max_backoff_seconds: float = 300.0  # cap on one wait (also on a server's Retry-After)


@dataclass
class ScrapeStats:
    written: int = 0  # new records appended
    skipped: Counter = field(default_factory=Counter)  # reason -> count ('already saved', 'no image', ...)

    def summary(self) -> str:
        parts = [f"{self.written} written"] + [f"{n} {why}" for why, n in sorted(self.skipped.items())]
        return ", ".join(parts)


# --- credentials and the praw client --------------------------------------------------------------------

def author_salt() -> bytes:
    salt = os.environ.get("FACEBMI_AUTHOR_SALT", "")
    if len(salt) < 8:
        raise ScrapeError("set FACEBMI_AUTHOR_SALT (a secret of 8+ characters, e.g. `openssl rand -hex 16`) "
                          "to hash author names; keep it to get the same hashes on later runs")
    return salt.encode()


def author_hash(name: str, salt: bytes) -> str:
    """Keyed hash of a Reddit username: stable per person for splitting, not reversible without the salt."""
    return hmac.new(salt, name.encode("utf-8"), hashlib.sha256).hexdigest()


class TimeoutRequestor(prawcore.Requestor):
    """prawcore's Requestor with one timeout for every request.

    praw 8 parses its `timeout` option but prawcore's Session always sends its import-time default (16 s, env
    PRAWCORE_TIMEOUT); praw's `requestor_class` hook is the supported way to choose it per client.
    """

    def request(self, *args, timeout: float | None = None, **kwargs):
        return super().request(*args, timeout=self.timeout, **kwargs)


def make_reddit(site: str | None = None, timeout: float = 16.0, **overrides) -> praw.Reddit:
    """A read-only praw client. Credentials: REDDIT_* environment variables, else praw.ini section `site`.

    `timeout`: seconds to wait for Reddit to send data on each request. `overrides` go to praw as config
    options (e.g. oauth_url / reddit_url / short_url for a mirror or the test server).
    """
    env = {key: os.environ.get(f"REDDIT_{key.upper()}") for key in
           ("client_id", "client_secret", "user_agent", "username", "password")}
    settings = {key: value for key, value in env.items() if value}
    if site is None and not (settings.get("client_id") and settings.get("user_agent")):
        raise ScrapeError("no Reddit credentials: set REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET and REDDIT_USER_AGENT "
                          "(or pass --site NAME for a praw.ini section outside the repository)")
    settings.update(overrides)
    # check_for_updates: praw would otherwise ask PyPI at start-up.
    return praw.Reddit(site, check_for_updates=False, requestor_class=TimeoutRequestor,
                       requestor_kwargs={"timeout": float(timeout)}, **settings)


# --- what we keep from a submission ---------------------------------------------------------------------

def _direct_image(url: str | None) -> str | None:
    if not url:
        return None
    parsed = urlparse(url)
    host, path = (parsed.hostname or "").lower(), parsed.path
    ext = os.path.splitext(path)[1].lower()
    if host in DIRECT_IMAGE_HOSTS and ext in IMAGE_EXTENSIONS:
        return url
    if host in IMGUR_PAGE_HOSTS:
        parts = [p for p in path.split("/") if p]
        # imgur.com/<id> is one image (served at i.imgur.com/<id>.jpg); /a/ and /gallery/ albums need imgur's API.
        if len(parts) == 1 and parts[0].isalnum():
            return f"https://i.imgur.com/{parts[0]}.jpg"
    return None


def _gallery_images(data: dict) -> list[str]:
    """Each still image of a Reddit gallery, in gallery order, as its direct i.redd.it address."""
    items = (data.get("gallery_data") or {}).get("items") or []
    metadata = data.get("media_metadata") or {}
    urls = []
    for item in items:
        media = metadata.get(item.get("media_id")) or {}
        if media.get("status") != "valid" or media.get("e") != "Image":
            continue  # failed upload or an animated item
        mime = media.get("m") or ""
        ext = {"image/jpg": "jpg", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(mime)
        if ext:
            urls.append(f"https://i.redd.it/{item['media_id']}.{ext}")
        elif (media.get("s") or {}).get("u"):
            urls.append(media["s"]["u"].replace("&amp;", "&"))
    return urls


def post_record(submission, salt: bytes, fetch: Callable[[str], dict] | None = None) -> tuple[PostRecord | None, str]:
    """(record, '') for a usable post, (None, skip reason) otherwise.

    Reads the listing data as loaded (vars()), so no attribute access triggers praw's lazy per-post fetch;
    `fetch(id)` is called only for a gallery whose media metadata the listing left out.
    """
    data = vars(submission)
    if data.get("removed_by_category") or data.get("selftext") in ("[removed]", "[deleted]"):
        return None, "removed"
    author = data.get("author")
    if author is None:
        return None, "deleted author"
    is_gallery = bool(data.get("is_gallery"))
    if is_gallery and not data.get("media_metadata") and fetch is not None:
        data = {**data, **fetch(data["id"])}
    urls = _gallery_images(data) if is_gallery else [u for u in [_direct_image(
        data.get("url_overridden_by_dest") or data.get("url"))] if u]
    if not urls:
        return None, "no image"
    record = PostRecord(
        id=str(data["id"]),
        subreddit=str(data.get("subreddit") or ""),
        title=str(data.get("title") or ""),
        created_utc=float(data["created_utc"]),
        permalink=str(data.get("permalink") or ""),
        score=int(data.get("score") or 0),
        over_18=bool(data.get("over_18")),
        flair=data.get("link_flair_text") or None,
        image_urls=urls,
        is_gallery=is_gallery,
        author_hash=author_hash(getattr(author, "name", str(author)), salt),
    )
    return record, ""


# --- resumable output -----------------------------------------------------------------------------------

class JsonlAppender:
    """Appends one JSON object per line, each flushed as written (training.collect.jsonl.DurableLines); repairs a
    truncated last line first."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        cut = cut_partial_line(self.path)
        if cut:
            log.warning("%s: cutting a truncated last line (%d bytes) left by an interrupted run", self.path, cut)
        self._file = DurableLines(self.path)

    def write(self, record: PostRecord) -> None:
        self._file.write(record.to_json() + "\n")

    def close(self) -> None:
        self._file.close()


# --- the scrape loop ------------------------------------------------------------------------------------

def with_retries(call: Callable[[], T], what: str, config: ScrapeConfig, sleep=time.sleep) -> T:
    """`call()`, retrying transient Reddit failures with exponential backoff (or the server's Retry-After)."""
    for attempt in range(config.max_retries + 1):
        try:
            return call()
        except TRANSIENT_ERRORS as error:
            if attempt == config.max_retries:
                raise
            wait = min(config.max_backoff_seconds, config.backoff_seconds * 2**attempt)
            response = getattr(error, "response", None)
            retry_after = response.headers.get("retry-after") if response is not None else None
            if retry_after and retry_after.replace(".", "", 1).isdigit():
                wait = min(config.max_backoff_seconds, max(wait, float(retry_after)))
            wait *= 1 + 0.1 * random.random()
            log.warning("%s: %s; retry %d/%d in %.1fs", what, _describe(error), attempt + 1, config.max_retries,
                        wait)
            sleep(wait)
    raise AssertionError("unreachable")


def _describe(error: Exception) -> str:
    """The failure without request details (headers carry the bearer token)."""
    response = getattr(error, "response", None)
    if response is not None:
        return f"HTTP {response.status_code}"
    original = getattr(error, "original_exception", None)
    return type(original or error).__name__


def _submissions(reddit: praw.Reddit, name: str, config: ScrapeConfig) -> Iterator:
    subreddit = reddit.subreddit(name)
    if config.search:
        generator = subreddit.search(config.search, sort=config.listing, time_filter=config.time_filter,
                                     limit=config.limit)
    elif config.listing == "top":
        generator = subreddit.top(time_filter=config.time_filter, limit=config.limit)
    else:
        generator = getattr(subreddit, config.listing)(limit=config.limit)
    sentinel = object()
    while True:
        # A failed page fetch leaves praw's ListingGenerator where it was, so retrying next() refetches that page.
        item = with_retries(lambda: next(generator, sentinel), f"r/{name} {config.listing} page", config)
        if item is sentinel:
            return
        yield item


def scrape(reddit: praw.Reddit, config: ScrapeConfig) -> ScrapeStats:
    if config.listing not in LISTINGS and not config.search:
        raise ScrapeError(f"listing must be one of {LISTINGS}, not {config.listing!r}")
    if config.time_filter not in TIME_FILTERS:
        raise ScrapeError(f"time filter must be one of {TIME_FILTERS}, not {config.time_filter!r}")
    salt = author_salt()
    stats = ScrapeStats()
    appender = JsonlAppender(config.out)  # repairs a truncated tail before we read what is there
    seen = {post.id for post in read_posts(config.out)}

    def fetch_full(post_id: str) -> dict:
        return with_retries(lambda: dict(vars(_loaded(reddit.submission(id=post_id)))),
                            f"post {post_id}", config)

    try:
        for name in config.subreddits:
            for submission in _submissions(reddit, name, config):
                post_id = vars(submission).get("id", "?")
                if post_id in seen:
                    stats.skipped["already saved"] += 1
                    continue
                try:
                    record, why = post_record(submission, salt, fetch_full)
                except Exception as error:  # one malformed post must not end a long scrape
                    log.warning("post %s skipped: %s: %s", post_id, type(error).__name__, error)
                    stats.skipped["bad post"] += 1
                    continue
                if record is None:
                    log.info("post %s skipped: %s", post_id, why)
                    stats.skipped[why] += 1
                    continue
                appender.write(record)
                seen.add(record.id)
                stats.written += 1
    finally:
        appender.close()
    log.info("scrape done: %s", stats.summary())
    return stats


def _loaded(submission):
    submission.title  # attribute access makes praw fetch the post (GET comments/<id>) once
    return submission


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="JSONL file to append posts to (resumable)")
    parser.add_argument("--subreddit", action="append", help="subreddit name; repeat for several (default progresspics)")
    parser.add_argument("--listing", default="top", help="top | new | hot; with --search: the sort (relevance, top, new...)")
    parser.add_argument("--time-filter", default="year", choices=TIME_FILTERS)
    parser.add_argument("--limit", type=int, default=1000, help="posts to examine per subreddit")
    parser.add_argument("--search", help="search query within the subreddit instead of a listing")
    parser.add_argument("--site", help="praw.ini section to read credentials from (a praw.ini outside the repo)")
    parser.add_argument("--max-retries", type=int, default=6)
    parser.add_argument("--backoff-seconds", type=float, default=5.0, help="first retry wait; doubles each retry")
    parser.add_argument("--timeout", type=float, help="seconds to wait for Reddit on each request (default 16)")
    parser.add_argument("--reddit-url", help="base URL instead of https://www.reddit.com (a mirror, or the tests' server)")
    parser.add_argument("--oauth-url", help="API base URL instead of https://oauth.reddit.com")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every skipped post")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {key: value for key, value in (("reddit_url", args.reddit_url), ("oauth_url", args.oauth_url),
                                               ("timeout", args.timeout)) if value is not None}
    if args.reddit_url:
        overrides.setdefault("short_url", args.reddit_url)
    config = ScrapeConfig(out=args.out, subreddits=args.subreddit or ["progresspics"], listing=args.listing,
                          time_filter=args.time_filter, limit=args.limit, search=args.search,
                          max_retries=args.max_retries, backoff_seconds=args.backoff_seconds)
    try:
        author_salt()  # fail before any network traffic
        stats = scrape(make_reddit(args.site, **overrides), config)
    except ScrapeError as error:
        parser.exit(2, f"scrape: {error}\n")
    except prawcore.exceptions.PrawcoreException as error:
        parser.exit(1, f"scrape: Reddit request failed ({_describe(error)}); rerun to resume\n")
    print(stats.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
