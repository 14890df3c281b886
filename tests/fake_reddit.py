"""A loopback stand-in for Reddit's API, serving recorded-style JSON to a real praw client.

praw is pointed at it with its own config options (`oauth_url`, `reddit_url`, `short_url`, all http://127.0.0.1:PORT):
    POST /api/v1/access_token              -> an application-only bearer token (client id/secret checked)
    GET  /r/<sub>/{top,new,hot}            -> Listing pages (limit/after pagination, x-ratelimit headers)
    GET  /r/<sub>/search?q=                -> the same, filtered by title
    GET  /comments/<id>                    -> [Listing(post), Listing(comments)] (what a lazy praw fetch asks for)
Every API request must carry the bearer token. Failures are scripted per path prefix: `fail(prefix, 429, 503,
"slow")` makes the next matching requests answer 429 / 503 / stall past the client's timeout, in order;
`hold(prefix)` makes matching requests wait until `release()` (to interrupt a client mid-run).
"""
from __future__ import annotations

import base64
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"
TOKEN = "fake-bearer-token"


def post(post_id: str, title: str, author: str | None = "someone", subreddit: str = "progresspics",
         url: str | None = None, created_utc: float = 1_540_000_000.0, **extra) -> dict:
    """One t3 (link) object as Reddit's listing JSON has it (the fields praw and our scraper read, and more)."""
    data = {
        "id": post_id, "name": f"t3_{post_id}", "title": title, "author": author if author else "[deleted]",
        "author_fullname": f"t2_{abs(hash(author)) % 10**6}" if author else None,
        "subreddit": subreddit, "subreddit_name_prefixed": f"r/{subreddit}", "subreddit_id": "t5_2rkxs",
        "created_utc": created_utc, "created": created_utc,
        "permalink": f"/r/{subreddit}/comments/{post_id}/{title[:20].lower().replace(' ', '_')}/",
        "score": 1234, "ups": 1234, "upvote_ratio": 0.98, "num_comments": 12, "over_18": False,
        "link_flair_text": "F/25-29", "url": url or f"https://i.redd.it/{post_id}img.jpg",
        "domain": urlparse(url or "https://i.redd.it/").hostname, "is_self": False, "selftext": "",
        "post_hint": "image", "removed_by_category": None, "stickied": False, "locked": False,
    }
    data.update(extra)
    return data


def gallery_post(post_id: str, title: str, media_ids: list[str], with_metadata: bool = True, **extra) -> dict:
    """A Reddit gallery: gallery_data gives the order, media_metadata each item's file (keyed by media id)."""
    items = [{"media_id": m, "id": 100 + i} for i, m in enumerate(media_ids)]
    metadata = {m: {"status": "valid", "e": "Image", "m": "image/jpg", "id": m,
                    "s": {"y": 1080, "x": 1920, "u": f"https://preview.redd.it/{m}.jpg?width=1920&amp;format=pjpg"}}
                for m in media_ids}
    return post(post_id, title, url=f"https://www.reddit.com/gallery/{post_id}", is_gallery=True,
                gallery_data={"items": items}, media_metadata=metadata if with_metadata else None,
                post_hint=None, **extra)


class FakeReddit:
    def __init__(self, posts: dict[str, list[dict]] | None = None):
        self.posts: dict[str, list[dict]] = posts or {}  # subreddit -> posts, listing order
        self.full_posts: dict[str, dict] = {}  # id -> data served by /comments/<id> (defaults to the listing's)
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, query) of every request received
        self._failures: dict[str, deque] = defaultdict(deque)
        self._holds: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.slow_seconds = 3.0  # how long a "slow" answer stalls (set the client timeout below it)
        self.page_size = 100  # Reddit's largest listing page; lower it to get several pages from few posts
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def praw_config(self, timeout: int = 5) -> dict:
        """Keyword arguments for praw.Reddit / training.collect.scrape.make_reddit that point praw here."""
        return {"oauth_url": self.url, "reddit_url": self.url, "short_url": self.url, "timeout": timeout}

    def credentials_env(self) -> dict:
        return {"REDDIT_CLIENT_ID": CLIENT_ID, "REDDIT_CLIENT_SECRET": CLIENT_SECRET,
                "REDDIT_USER_AGENT": "facebmi-tests/0.1 (loopback)"}

    def fail(self, path_prefix: str, *outcomes) -> None:
        """Answer the next requests under `path_prefix` with these outcomes (an HTTP status or 'slow')."""
        with self._lock:
            self._failures[path_prefix].extend(outcomes)

    def hold(self, path_prefix: str) -> None:
        """Stall requests under `path_prefix` that ask for a later page (`after=`) until release()."""
        self._holds[path_prefix] = threading.Event()

    def release(self) -> None:
        for event in self._holds.values():
            event.set()
        self._holds.clear()

    def count(self, path_prefix: str, method: str = "GET") -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p.startswith(path_prefix))

    def start(self) -> "FakeReddit":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeReddit":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _next_failure(self, path: str):
        with self._lock:
            for prefix, queue in self._failures.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft()
        return None

    def _hold_for(self, path: str) -> threading.Event | None:
        for prefix, event in list(self._holds.items()):
            if path.startswith(prefix):
                return event
        return None


def _listing(children: list[dict], after: str | None) -> dict:
    return {"kind": "Listing", "data": {"after": after, "before": None, "dist": len(children), "modhash": None,
                                        "children": [{"kind": "t3", "data": c} for c in children]}}


def _handler(fake: FakeReddit):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: object, headers: dict | None = None) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in {"x-ratelimit-remaining": "595.0", "x-ratelimit-used": "5",
                                   "x-ratelimit-reset": "300", **(headers or {})}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def _scripted(self, path: str, query: dict) -> bool:
            """Play a scripted failure for this path; True when it answered."""
            event = fake._hold_for(path)
            if event is not None and query.get("after"):
                event.wait(timeout=60)
            outcome = fake._next_failure(path)
            if outcome is None:
                return False
            if outcome == "slow":
                time.sleep(fake.slow_seconds)
                return False  # then answer normally, long after the client stopped waiting
            headers = {"Retry-After": "0"} if outcome == 429 else {}
            self._send(int(outcome), {"message": "scripted failure", "error": int(outcome)}, headers)
            return True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            path = urlparse(self.path).path
            fake.requests.append(("POST", path, form))
            if path.rstrip("/") != "/api/v1/access_token":
                return self._send(404, {"error": 404})
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                return self._send(401, {"message": "Unauthorized", "error": 401})
            if self._scripted(path, {}):
                return None
            self._send(200, {"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400, "scope": "*"})

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            path = parsed.path.rstrip("/").removesuffix(".json")
            query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
            fake.requests.append(("GET", path, query))
            if self.headers.get("Authorization") != f"bearer {TOKEN}":
                return self._send(401, {"message": "Unauthorized", "error": 401})
            if self._scripted(path, query):
                return None
            parts = [p for p in path.split("/") if p]
            if len(parts) == 3 and parts[0] == "r" and parts[2] in ("top", "new", "hot", "search"):
                return self._listing_page(parts[1], parts[2], query)
            if len(parts) >= 2 and parts[0] == "comments":
                return self._comments(parts[1])
            self._send(404, {"message": "Not Found", "error": 404})

        def _listing_page(self, subreddit: str, kind: str, query: dict) -> None:
            if subreddit not in fake.posts:
                return self._send(404, {"message": "Not Found", "error": 404, "reason": "banned"})
            posts = fake.posts[subreddit]
            if kind == "search":
                words = query.get("q", "").lower().split()
                posts = [p for p in posts if all(w in p["title"].lower() for w in words)]
            start = 0
            if query.get("after"):
                names = [p["name"] for p in posts]
                start = names.index(query["after"]) + 1 if query["after"] in names else len(posts)
            limit = min(int(query.get("limit", 25)), fake.page_size)
            page = posts[start:start + limit]
            after = page[-1]["name"] if page and start + limit < len(posts) else None
            self._send(200, _listing(page, after))

        def _comments(self, post_id: str) -> None:
            found = fake.full_posts.get(post_id) or next(
                (p for posts in fake.posts.values() for p in posts if p["id"] == post_id), None)
            if found is None:
                return self._send(404, {"message": "Not Found", "error": 404})
            self._send(200, [_listing([found], None), {"kind": "Listing", "data": {"after": None, "children": []}}])

    return Handler
