"""Metric helpers shared by training (validation) and evaluate.py."""
from __future__ import annotations

import numpy as np


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
