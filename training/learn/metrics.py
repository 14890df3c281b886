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


def change_metrics(true_change: np.ndarray, pred_change: np.ndarray, min_change: float = 1.0) -> dict:
    """How well predicted BMI changes between two photos of one person follow the true ones: Pearson r, the
    slope of predicted on true change (1 = the full change seen), and the share of pairs whose true change is
    at least min_change with the right sign."""
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
    return out
