"""The model card renders whatever part of the evaluate metrics is there, and nothing that is not."""
from __future__ import annotations

import dataclasses
import math

from huggingface_hub import ModelCard

from facebmi.config import ModelConfig
from training.model_card import render_model_card

CONFIG = dataclasses.replace(ModelConfig(), bmi_interval_log_halfwidth=0.1,
                             training={"data": {"bmi-reddit": 812, "age-utkface": 19000}, "split": "by group"})


def test_single_report_as_evaluate_prints_it():
    report = {"data": "../shared/datasets/bmi-reddit", "split": "test", "n": 50, "faces_not_found": 2,
              "unreadable": 1, "bmi": {"n": 47, "mae": 4.25, "rmse": 5.5, "pearson_r": 0.5,
                                       "mean_predictor": {"value": 30.0, "mae": 7.0, "rmse": 9.0},
                                       "interval_coverage": 0.81},
              "per_sex": {"F": {"bmi": {"n": 30, "mae": 4.5}}, "M": {"bmi": {"n": 17, "mae": 3.75}}}}
    card = render_model_card(CONFIG, report, repo_id="org/m")
    assert "| bmi-reddit | all | 47 | 4.25 | 5.50 | 0.50 | 7.00 | 81% |" in card
    assert "| bmi-reddit | women | 30 | 4.50 |" in card and "| bmi-reddit | men | 17 | 3.75 |" in card
    assert "| bmi-reddit | 50 | 2 | 1 |" in card  # images, no face found, unreadable
    assert "BMI MAE 4.50 for women, 3.75 for men on bmi-reddit" in card
    assert "| bmi-reddit | 812 |" in card and "Split: by group." in card
    assert f"BMI×{math.exp(-0.1):.2f}" in card


def test_missing_and_malformed_metrics_never_break_the_card():
    for metrics in (None, {}, [], "junk", {"set": "junk"}, {"set": {"bmi": "x", "per_sex": [1]}},
                    {"set": {"n": "many", "bmi": {"mae": float("nan"), "rmse": None}, "age_mae": True}}):
        card = render_model_card(CONFIG, metrics, repo_id="org/m")
        assert "nan" not in card.lower().replace("non-commercial", "") and "None" not in card
        assert "## Known failure modes" in card
    assert "No evaluation results were supplied" in render_model_card(CONFIG, None, repo_id="org/m")
    card = render_model_card(CONFIG, {"set": {"n": "many", "bmi": {"mae": float("nan")}}}, repo_id="org/m")
    assert "| set | all | – | – |" in card


def test_front_matter_and_determinism():
    card = render_model_card(CONFIG, None, repo_id="org/m", dataset_repo="org/faces", license="other")
    assert card == render_model_card(CONFIG, None, repo_id="org/m", dataset_repo="org/faces", license="other")
    data = ModelCard(card).data
    assert data.license == "other" and data.datasets == ["org/faces"] and data.library_name == "pytorch"
    assert set(data.metrics) >= {"mae", "accuracy"}
    assert "https://huggingface.co/datasets/org/faces" in card
    plain = render_model_card(CONFIG, None, repo_id="org/m")
    assert ModelCard(plain).data.datasets is None and "datasets/" not in plain
