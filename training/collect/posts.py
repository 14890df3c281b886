"""The scraped-post record: what `training.collect.scrape` writes (one JSON object per line) and later steps read.

This schema is the interface between the scraper and download/crop/dataset steps; keep field names stable.
The author is never stored, only `author_hash` = HMAC-SHA256(key=FACEBMI_AUTHOR_SALT, name) in hex, which
is enough to keep one person on one side of a split (training.collect.scrape skips posts whose author is deleted).
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostRecord:
    id: str  # Reddit base-36 post id without the 't3_' prefix, e.g. 'abc123'
    subreddit: str  # display name, e.g. 'progresspics'
    title: str  # raw post title (parsed later by training.collect.titles)
    created_utc: float  # seconds since the epoch, UTC
    permalink: str  # path on reddit.com, e.g. '/r/progresspics/comments/abc123/...'
    score: int  # net upvotes at scrape time
    over_18: bool  # NSFW flag
    flair: str | None  # link flair text, None when the post has none
    image_urls: list[str] = field(default_factory=list)  # every image, in gallery order for galleries
    is_gallery: bool = False  # True when image_urls came from a Reddit gallery's media_metadata
    author_hash: str | None = None  # keyed hash (hex) of the author name; None only where unknown

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict) -> "PostRecord":
        known = {f.name for f in fields(cls)}
        missing = {"id", "subreddit", "title", "created_utc", "permalink", "score", "over_18", "flair"} - set(data)
        if missing:
            raise ValueError(f"post record lacks fields {sorted(missing)}")
        values = {k: v for k, v in data.items() if k in known}
        values["image_urls"] = list(values.get("image_urls") or [])
        return cls(**values)


def read_posts(path: str | Path, strict: bool = False) -> list[PostRecord]:
    """All records in a scrape JSONL file, in file order, without duplicates (first occurrence wins).

    A missing file reads as empty. A truncated or corrupt line (an interrupted write leaves at most the
    last line partial) is logged and skipped, or raises ValueError when `strict`.
    """
    return list(iter_posts(path, strict=strict))


def iter_posts(path: str | Path, strict: bool = False) -> Iterator[PostRecord]:
    path = Path(path)
    if not path.exists():
        return
    seen: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = PostRecord.from_dict(json.loads(line))
            except (ValueError, TypeError) as error:  # json.JSONDecodeError is a ValueError
                if strict:
                    raise ValueError(f"{path}:{number}: unreadable post record: {error}") from error
                log.warning("%s:%d: skipping unreadable post record (%s)", path, number, error)
                continue
            if record.id in seen:
                continue
            seen.add(record.id)
            yield record
