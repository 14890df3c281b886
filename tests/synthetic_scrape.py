"""A synthetic r/progresspics scrape for the loopback servers: real-style posts, generated photos.

`synthetic_scrape(titles, n_posts, seed)` draws the titles (seeded) and builds, in memory, one listing post
per title (tests/fake_reddit.py's JSON) and every picture its images' URLs serve (tests/image_server.py
routes at /HOST/PATH, as LoopbackAdapter asks for them). The pictures are made from scikit-image's
public-domain astronaut, re-framed, resized, shifted and recoloured so that every file is different: one
face, a side-by-side before/after (two faces), galleries of 2-3 photos, and photos without a face (a cup, a
cat, a rocket). Some posts are what a real scrape also meets: a gallery whose listing lacks its media (the
scraper fetches the post), an imgur page link, an image deleted from its host (404), a text post.
Nothing is written to disk.
"""
from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from tests.fake_reddit import gallery_post, post

TITLES_CSV = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "progresspics-titles-more" / "titles.csv"
# Real titles of the shapes the parser meets, for tests that run without ../shared.
FALLBACK_TITLES = [
    "F/28/5'4\" [200lbs > 150lbs = 50lbs] one year of walking",
    "M/30/6'0 [250 > 200] before and after",
    "F/24/5'5\" (CW 160) finally happy with my face",
    "M/35/5'10\" [280lbs > 210lbs] 14 months",
    "F/41/5'2\" [190 > 135 = 55lbs] (1.5 years)",
    "M/22/6'2\" 320 > 245 > 230",
    "F/19/5'7\" [170lbs > 140lbs] Started in January!",
    "My face journey, 2 years apart",
    "M/27/180cm [110kg > 82kg] no more double chin",
    "F/33/163cm [95kg > 70kg]",
    "F/25/5'3 [180 > 130 = 50 lbs] hard to believe it's the same person",
    "M/44/5'11\" [260 > 195] (14 months) slow and steady",
]

# Where the astronaut's face is in skimage's 512x512 picture (MTCNN's box centre), and its height.
FACE_CENTER, FACE_HEIGHT = (224.0, 118.0), 113.0
# How often each kind of post appears (weights).
KINDS = {"side_by_side": 40, "gallery": 18, "single": 20, "no_face": 7, "imgur": 5, "gallery_fetch": 2,
         "deleted_image": 3, "text": 5}


@dataclass
class SyntheticScrape:
    posts: list[dict]  # listing order, as tests.fake_reddit.FakeReddit.posts[subreddit] wants them
    full_posts: dict[str, dict]  # what /comments/<id> serves for galleries the listing leaves bare
    images: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # "/HOST/PATH" -> (body, content type)
    urls: dict[str, list[str]] = field(default_factory=dict)  # post id -> the image URLs the scraper will find
    kinds: dict[str, int] = field(default_factory=dict)  # post kind -> count

    @property
    def n_image_urls(self) -> int:
        return sum(len(urls) for urls in self.urls.values())


def read_titles(path: Path = TITLES_CSV) -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:
        return [row["title"] for row in csv.DictReader(f) if row.get("title")]


def _sources() -> dict[str, np.ndarray]:
    from skimage import data

    return {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea(),
            "rocket": data.rocket()}


def _recolour(picture: Image.Image, rng: np.random.Generator) -> Image.Image:
    pixels = np.asarray(picture, dtype=np.float32)
    gains = rng.uniform(0.8, 1.2, 3) * rng.uniform(0.8, 1.15)
    pixels = np.clip(pixels * gains, 0, 255)
    if rng.random() < 0.1:
        pixels = np.repeat(pixels.mean(axis=2, keepdims=True), 3, axis=2)  # a black-and-white photo
    return Image.fromarray(pixels.astype(np.uint8))


def portrait(sources: dict, rng: np.random.Generator, height: int) -> Image.Image:
    """The astronaut re-framed: a random crop around her face on a random plain background, `height` px high,
    the face 15-45% of the frame's height, anywhere from the middle to near an edge, sometimes mirrored."""
    face_share = rng.uniform(0.15, 0.45)
    frame_h = FACE_HEIGHT / face_share
    frame_w = frame_h * rng.uniform(0.7, 1.1)
    fx, fy = rng.uniform(0.25, 0.75), rng.uniform(0.2, 0.5)  # where the face sits in the frame
    canvas = Image.new("RGB", (512 * 3, 512 * 3), tuple(int(v) for v in rng.integers(30, 226, 3)))
    canvas.paste(Image.fromarray(sources["astronaut"]), (512, 512))
    x0, y0 = 512 + FACE_CENTER[0] - fx * frame_w, 512 + FACE_CENTER[1] - fy * frame_h
    frame = canvas.crop((round(x0), round(y0), round(x0 + frame_w), round(y0 + frame_h)))
    frame = frame.resize((max(1, round(frame_w * height / frame_h)), height), Image.BILINEAR)
    if rng.random() < 0.5:
        frame = frame.transpose(Image.FLIP_LEFT_RIGHT)
    return _recolour(frame, rng)


def scene(sources: dict, rng: np.random.Generator, height: int) -> Image.Image:
    """A photo without a face, `height` px high."""
    name = ["coffee", "chelsea", "rocket"][int(rng.integers(3))]
    picture = Image.fromarray(sources[name])
    return _recolour(picture.resize((round(picture.width * height / picture.height), height), Image.BILINEAR), rng)


def side_by_side(left: Image.Image, right: Image.Image, gap: int = 0) -> Image.Image:
    out = Image.new("RGB", (left.width + gap + right.width, max(left.height, right.height)), (255, 255, 255))
    out.paste(left, (0, 0))
    out.paste(right, (left.width + gap, 0))
    return out


def _encode(picture: Image.Image, rng: np.random.Generator, png: bool = True) -> tuple[bytes, str, str]:
    """(body, content type, extension): mostly JPEG, sometimes PNG (if `png`), as phones and screenshots give
    them."""
    buffer = io.BytesIO()
    if png and rng.random() < 0.05:
        picture.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue(), "image/png", "png"
    picture.save(buffer, format="JPEG", quality=int(rng.integers(75, 93)))
    return buffer.getvalue(), "image/jpeg", "jpg"


def _pictures(kind: str, sources: dict, rng: np.random.Generator) -> list[Image.Image]:
    height = int(rng.integers(480, 1100))
    if kind == "side_by_side":
        before, after = portrait(sources, rng, height), portrait(sources, rng, height)
        return [side_by_side(before, after, gap=int(rng.choice([0, 0, 8, 20])))]
    if kind in ("gallery", "gallery_fetch"):
        pictures = [portrait(sources, rng, height) for _ in range(int(rng.choice([2, 2, 2, 3])))]
        if rng.random() < 0.1:
            pictures[-1] = scene(sources, rng, height)  # a meal or a pet at the end of the gallery
        return pictures
    if kind == "no_face":
        return [scene(sources, rng, height)]
    return [portrait(sources, rng, height)]  # single, imgur, deleted_image


def _make_post(index: int, title: str, kind: str, author: str, created: float, seed: int,
               sources: dict) -> tuple[dict, dict | None, dict[str, tuple[bytes, str]], list[str]]:
    """(listing post, full post or None, images it serves, its image URLs). Seeded per post: the same post
    whatever the thread that makes it."""
    rng = np.random.default_rng([seed, index])
    post_id = np.base_repr(36**4 + index, 36).lower()
    if kind == "text":
        return post(post_id, title, author=author, created_utc=created, is_self=True, post_hint="self",
                    url=f"https://www.reddit.com/r/progresspics/comments/{post_id}/"), None, {}, []
    images, urls = {}, []
    pictures = _pictures(kind, sources, rng)
    bodies = [_encode(p, rng, png=kind not in ("gallery", "gallery_fetch")) for p in pictures]  # galleries: JPEG
    if kind in ("gallery", "gallery_fetch"):
        media = [f"{post_id}m{i}" for i in range(len(bodies))]
        listing = gallery_post(post_id, title, media, with_metadata=kind == "gallery", author=author,
                               created_utc=created)
        for (body, content_type, _), media_id in zip(bodies, media):
            images[f"/i.redd.it/{media_id}.jpg"] = (body, content_type)
            urls.append(f"https://i.redd.it/{media_id}.jpg")
        full = gallery_post(post_id, title, media, author=author, created_utc=created) \
            if kind == "gallery_fetch" else None
        return listing, full, images, urls
    body, content_type, ext = bodies[0]
    if kind == "imgur":
        code = f"Im{post_id}X"
        images[f"/i.imgur.com/{code}.jpg"] = (body, content_type)  # imgur serves any format at .jpg
        return post(post_id, title, author=author, created_utc=created, url=f"https://imgur.com/{code}",
                    domain="imgur.com"), None, images, [f"https://i.imgur.com/{code}.jpg"]
    url = f"https://i.redd.it/{post_id}.{ext}"
    if kind != "deleted_image":  # a deleted image: the URL answers 404
        images[f"/i.redd.it/{post_id}.{ext}"] = (body, content_type)
    return post(post_id, title, author=author, created_utc=created, url=url), None, images, [url]


def synthetic_scrape(titles: list[str], n_posts: int, seed: int = 0, threads: int = 2,
                     kinds: dict[str, int] | None = None) -> SyntheticScrape:
    """`n_posts` posts with titles drawn from `titles` (seeded; without repeats while there are enough),
    their kinds drawn with `kinds`' weights, by a few hundred authors, over one year."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(titles), size=n_posts, replace=n_posts > len(titles))
    weights = kinds or KINDS
    names = list(weights)
    p = np.asarray([weights[k] for k in names], dtype=float)
    post_kinds = rng.choice(names, size=n_posts, p=p / p.sum())
    n_authors = max(1, int(n_posts * 0.8))
    authors = [f"user_{int(a):05d}" for a in rng.integers(0, n_authors, n_posts)]
    created = 1.70e9 + np.sort(rng.uniform(0, 365 * 86400, n_posts))[::-1]  # newest first
    sources = _sources()
    with ThreadPoolExecutor(threads) as pool:  # PIL resizes and encodes without the GIL
        made = list(pool.map(lambda i: _make_post(i, titles[picks[i]], str(post_kinds[i]), authors[i],
                                                  float(created[i]), seed, sources), range(n_posts)))
    scrape = SyntheticScrape(posts=[m[0] for m in made], full_posts={m[0]["id"]: m[1] for m in made if m[1]})
    for listing, _, images, urls in made:
        scrape.images.update(images)
        scrape.urls[listing["id"]] = urls
    scrape.kinds = {k: int((post_kinds == k).sum()) for k in names}
    return scrape
