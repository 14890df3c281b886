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


def same_person_groups(group: np.ndarray, bmi: np.ndarray, candidates: np.ndarray,
                       min_change: float = 0.5) -> list[np.ndarray]:
    """Groups (person stand-ins: bmi-reddit's group_id) among `candidates` with at least two photos whose BMIs
    differ by min_change or more: the before/after photos a pairwise loss and the change metrics use."""
    members = defaultdict(list)
    for i in candidates:
        members[group[i]].append(i)
    return [np.array(m) for m in members.values()
            if len(m) >= 2 and np.ptp(bmi[m]) >= min_change]


def draw_pairs(groups: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """n (first, second) index pairs: a group uniformly, then two different photos of it."""
    picks = rng.integers(len(groups), size=n)
    return np.array([rng.choice(groups[g], 2, replace=False) for g in picks]).reshape(n, 2)


def all_pairs(groups: list[np.ndarray], bmi: np.ndarray, min_change: float = 0.5) -> np.ndarray:
    """Every (earlier, later) pair within each group whose BMIs differ by min_change or more: evaluation."""
    pairs = [(a, b) for g in groups for k, a in enumerate(g) for b in g[k + 1:] if abs(bmi[a] - bmi[b]) >= min_change]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
