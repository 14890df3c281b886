"""Parse post titles into JSON lines: `python -m training.collect.parse_titles [FILE ...] > parsed.jsonl`.

Each FILE holds one title per line, or is a CSV with a `title` column (a header row naming `title`), or is
a scrape JSONL (objects with a `title`, e.g. from training.collect.scrape; `id` is carried through as `post_id`).
With no FILE, titles are read from stdin. One JSON object per title: the title, then training.collect.titles'
fields (sex, age, height_m, *_kg, bmi_*, ok, reason).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Iterable, Iterator, TextIO

from training.collect.titles import parse_title


def _titles_from_text(stream: TextIO) -> Iterator[tuple[str | None, str]]:
    """(post id or None, title) from a stream of plain lines, CSV-with-title-column or JSON lines."""
    text = stream.read()
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if first.lstrip().startswith("{"):
        for line in text.splitlines():
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a truncated last line of an interrupted scrape
                if isinstance(record, dict) and isinstance(record.get("title"), str):
                    yield record.get("id"), record["title"]
        return
    header = next(csv.reader([first]), [])
    if "title" in [h.strip().lower() for h in header]:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        key = next(h for h in reader.fieldnames if h.strip().lower() == "title")
        for row in reader:
            yield row.get("id"), row.get(key) or ""
        return
    for line in text.splitlines():
        if line.strip():
            yield None, line.rstrip("\r")


def parse_lines(titles: Iterable[tuple[str | None, str]]) -> Iterator[dict]:
    for post_id, title in titles:
        row = {"post_id": post_id} if post_id is not None else {}
        row["title"] = title
        row.update(parse_title(title).to_dict())
        yield row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="title files (lines, CSV with a title column, or JSONL); stdin if none")
    parser.add_argument("--ok-only", action="store_true", help="write only titles that gave a BMI")
    args = parser.parse_args(argv)
    out = sys.stdout
    sources = args.files or ["-"]
    for name in sources:
        if name == "-":
            rows = parse_lines(_titles_from_text(sys.stdin))
        else:
            try:
                with open(name, encoding="utf-8", newline="") as f:
                    rows = list(parse_lines(_titles_from_text(f)))
            except OSError as error:
                print(f"parse_titles: cannot read {name}: {error.strerror}", file=sys.stderr)
                return 2
        try:
            for row in rows:
                if args.ok_only and not row["ok"]:
                    continue
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            sys.stderr.close()
            return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
