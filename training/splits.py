"""Deterministic person-level splits: a group's hash decides its split, so reruns and new rows agree."""
from __future__ import annotations

import hashlib

# Fractions of groups in each split; test is never read by training or calibration.
SPLIT_FRACTIONS = (("train", 0.70), ("validation", 0.15), ("test", 0.15))


def split_of(group: str, salt: str = "facebmi-v1") -> str:
    digest = hashlib.sha256(f"{salt}:{group}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2 ** 64
    edge = 0.0
    for name, fraction in SPLIT_FRACTIONS:
        edge += fraction
        if u < edge:
            return name
    return SPLIT_FRACTIONS[-1][0]
