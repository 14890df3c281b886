"""What each training batch is drawn from: balanced over age and population, and same-person pairs.

Left to the raw counts, UTKFace's largest cells (white and Asian adults of 20-35) would decide the age heads,
and children, people over 60 and the smaller groups would be read with the majority's prior. Each face's
weight is its cell's count to the power -`power`: 0 keeps the raw mix, 1 makes every cell equally likely.
"""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np


def balance_weights(source: np.ndarray, bracket: np.ndarray, race: np.ndarray, power: float = 0.5) -> np.ndarray:
    """Sampling probabilities (sum 1) over faces, equalising (source, age bracket, race) cells by count**-power."""
    cells = list(zip(source.tolist(), bracket.tolist(), race.tolist()))
    counts = Counter(cells)
    weights = np.array([counts[c] ** -power for c in cells], dtype=np.float64)
    return weights / weights.sum()


def same_person_groups(group: np.ndarray, bmi: np.ndarray, candidates: np.ndarray, min_change: float = 0.5,
                       descriptors: np.ndarray | None = None, max_distance: float = 0.6) -> list[np.ndarray]:
    """Groups of photos of one person among `candidates` with at least two photos whose BMIs differ by min_change
    or more: the before/after photos a pairwise loss and the change metrics use.

    bmi-reddit's group_id (same sex, age and height) over-merges: most of its groups hold several posters, and
    about 4 in 5 of their within-group pairs are two different people. With `descriptors` (dlib's 128-d face
    descriptor per row, NaN where there is none) each group is split into the photos linked by descriptor
    distance < max_distance (dlib's own same-person threshold), single linkage; photos without one are left out.
    """
    members = defaultdict(list)
    for i in candidates:
        if descriptors is None or not np.isnan(descriptors[i, 0]):
            members[group[i]].append(i)
    people = []
    for m in members.values():
        people += [m] if descriptors is None else _linked(np.array(m), descriptors, max_distance)
    return [np.array(m) for m in people if len(m) >= 2 and np.ptp(bmi[m]) >= min_change]


def _linked(rows: np.ndarray, descriptors: np.ndarray, max_distance: float) -> list[list[int]]:
    """Connected components of `rows` under descriptor distance < max_distance."""
    d = np.linalg.norm(descriptors[rows][:, None] - descriptors[rows][None], axis=2)
    label = list(range(len(rows)))

    def root(k):
        while label[k] != k:
            k = label[k]
        return k

    for a, b in zip(*np.nonzero(np.triu(d < max_distance, 1))):
        label[root(a)] = root(b)
    components = defaultdict(list)
    for k, r in enumerate(rows):
        components[root(k)].append(int(r))
    return list(components.values())


def draw_pairs(groups: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """n (first, second) index pairs: a group uniformly, then two different photos of it."""
    picks = rng.integers(len(groups), size=n)
    return np.array([rng.choice(groups[g], 2, replace=False) for g in picks]).reshape(n, 2)


def all_pairs(groups: list[np.ndarray], bmi: np.ndarray, min_change: float = 0.5) -> np.ndarray:
    """Every (earlier, later) pair within each group whose BMIs differ by min_change or more: evaluation."""
    pairs = [(a, b) for g in groups for k, a in enumerate(g) for b in g[k + 1:] if abs(bmi[a] - bmi[b]) >= min_change]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
