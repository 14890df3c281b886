"""Metric helpers shared by training (validation) and evaluate.py."""
from __future__ import annotations

import numpy as np


def age_decade(age: float) -> str:
    """'0-9', '10-19', ... '70+': the age groups the per-decade figures are reported (and chosen) by."""
    low = min(int(age) // 10 * 10, 70)
    return "70+" if low == 70 else f"{low}-{low + 9}"


def bmi_metrics(true: np.ndarray, pred: np.ndarray, constant: float | None = None) -> dict:
    true, pred = np.asarray(true, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    out = {"n": int(len(true))}
    if len(true) == 0:
        return out
    err = pred - true
    out.update(mae=float(np.abs(err).mean()), rmse=float(np.sqrt((err ** 2).mean())),
               pearson_r=float(np.corrcoef(true, pred)[0, 1]) if len(true) > 2 and true.std() > 0 and pred.std() > 0 else None)
    if constant is not None:
        out["mean_predictor"] = {"value": float(constant), "mae": float(np.abs(true - constant).mean()),
                                 "rmse": float(np.sqrt(((true - constant) ** 2).mean()))}
    return out


def bracket_metrics(true_index: np.ndarray, probs: np.ndarray) -> dict:
    """Exact and one-off accuracy (one-off: the predicted bracket is the true one or a neighbour)."""
    true_index = np.asarray(true_index)
    if len(true_index) == 0:
        return {"n": 0}
    pred = np.asarray(probs).argmax(1)
    return {"n": int(len(true_index)), "exact": float((pred == true_index).mean()),
            "one_off": float((np.abs(pred - true_index) <= 1).mean())}


def change_metrics(true_change: np.ndarray, pred_change: np.ndarray, min_change: float = 1.0,
                   person: np.ndarray | None = None) -> dict:
    """How well predicted BMI changes between two photos of one person follow the true ones: Pearson r, the
    slope of predicted on true change (1 = the full change seen), and the share of pairs whose true change is
    at least min_change with the right sign; with `person` (who each pair is of), that share's 95% interval."""
    true_change, pred_change = np.asarray(true_change, np.float64), np.asarray(pred_change, np.float64)
    out = {"n": int(len(true_change))}
    if len(true_change) < 3 or true_change.std() == 0:
        return out
    clear = np.abs(true_change) >= min_change
    out.update(
        pearson_r=float(np.corrcoef(true_change, pred_change)[0, 1]) if pred_change.std() > 0 else None,
        slope=float(np.polyfit(true_change, pred_change, 1)[0]),
        right_sign=float((np.sign(pred_change[clear]) == np.sign(true_change[clear])).mean()) if clear.any() else None,
        mae=float(np.abs(pred_change - true_change).mean()),
    )
    if person is not None and clear.sum() >= 2:
        right = np.sign(pred_change[clear]) == np.sign(true_change[clear])
        out["right_sign_ci95"] = person_bootstrap_ci(right, np.asarray(person)[clear])
    return out


def person_draws(person: np.ndarray, draws: int = 2000, seed: int = 0) -> np.ndarray | None:
    """(draws, rows): how often each row is drawn when the people (not the rows) are resampled with
    replacement: one person's photos share a face and err together, so resampling rows would claim more
    certainty than the data hold. None for fewer than 2 people."""
    people, index = np.unique(np.asarray(person), return_inverse=True)
    if len(people) < 2:
        return None
    rng = np.random.default_rng(seed)
    drawn = np.stack([np.bincount(rng.integers(len(people), size=len(people)), minlength=len(people))
                      for _ in range(draws)])  # (draws, people)
    return drawn[:, index].astype(np.float64)


def _interval(statistics: np.ndarray, level: float) -> tuple[float, float]:
    low, high = np.nanquantile(statistics, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def person_bootstrap_ci(values: np.ndarray, person: np.ndarray, level: float = 0.95, draws: int = 2000,
                        seed: int = 0) -> tuple[float, float] | None:
    """A `level` confidence interval for the mean of per-row `values` (e.g. 1 where a pair's change had the
    right sign), resampling people (person_draws). None for fewer than 2 people."""
    weights = person_draws(person, draws, seed)
    if weights is None:
        return None
    return _interval(weights @ np.asarray(values, np.float64) / weights.sum(1), level)


def _weighted_r(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of x and y under each row of weights (draws, rows); NaN where either is constant."""
    total = weights.sum(1, keepdims=True)
    dx = x - (weights @ x)[:, None] / total
    dy = y - (weights @ y)[:, None] / total
    sxy, sxx, syy = ((weights * dx * dy).sum(1), (weights * dx * dx).sum(1), (weights * dy * dy).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return sxy / np.sqrt(sxx * syy)


def person_bootstrap_r_drop_ci(true: np.ndarray, before: np.ndarray, after: np.ndarray, person: np.ndarray,
                               level: float = 0.95, draws: int = 2000, seed: int = 0) -> tuple[float, float] | None:
    """A `level` confidence interval for r(true, before) - r(true, after) on the same rows (how much Pearson r
    a change of the photos costs), resampling people. None for fewer than 2 people."""
    weights = person_draws(person, draws, seed)
    if weights is None:
        return None
    true, before, after = (np.asarray(a, np.float64) for a in (true, before, after))
    return _interval(_weighted_r(weights, true, before) - _weighted_r(weights, true, after), level)
