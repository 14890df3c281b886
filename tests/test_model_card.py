"""The model card renders whatever part of the evaluate metrics is there, and nothing that is not."""
from __future__ import annotations

import dataclasses
import math

from huggingface_hub import ModelCard

from facebmi.config import ModelConfig
from training.learn.model_card import render_model_card

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


def test_robustness_groups_calibration_pairs_and_before_after_sections():
    reddit = {"n": 10, "bmi": {"n": 10, "mae": 4.9, "pearson_r": 0.72},
              "bmi_calibration": {"deciles": [{"true_low": 15.0, "true_high": 22.0, "n": 5, "true_mean": 19.0,
                                               "pred_mean": 24.5, "bias": 5.5},
                                              {"true_low": 22.0, "true_high": 50.0, "n": 5, "true_mean": 35.0,
                                               "pred_mean": 33.0, "bias": -2.0}],
                                  "slope_pred_on_true": 0.55, "lean_under_25": {"n": 5, "bias": 5.5}},
              "bmi_change": {"n": 40, "pearson_r": 0.7, "slope": 0.55, "right_sign": 0.8, "mae": 6.5,
                             "interval_coverage": 0.79, "interval_halfwidth": 12.0}}
    utk = {"n": 20, "bracket": {"n": 20, "exact": 0.6, "one_off": 0.93},
           "per_race": {"Asian": {"bracket": {"n": 8, "exact": 0.5, "one_off": 0.9}, "age_mae": 7.0}},
           "per_age_decade": {"0-9": {"bracket": {"n": 5, "exact": 0.7, "one_off": 1.0}, "age_mae": 2.0}}}
    robust = {"split": "test", "max_per_source": 300, "targets_missed": ["bmi-reddit box_cut: mean BMI shift +1.84"],
              "table": {"bmi-reddit": {"original": {"n": 10, "found": 1.0, "bmi_shift": 0.0, "bmi_r": 0.72},
                                       "box_cut": {"n": 10, "found": 1.0, "bmi_shift": 1.84, "bmi_r": 0.62}}}}
    before_robust = {"targets_missed": ["a", "b", "c"],
                     "table": {"bmi-reddit": {"box_cut": {"bmi_shift": 6.38, "bmi_r": 0.516}}}}
    card = render_model_card(CONFIG, {"bmi-reddit": reddit, "age-utkface": utk}, repo_id="org/m",
                             robustness=robust, before={"bmi-reddit": {"bmi": {"pearson_r": 0.666}}},
                             before_robustness=before_robust, what_changed="Framing no longer matters.",
                             mean_map={"faces": 80, "regions_by_magnitude": {"mouth and jaw": 0.4, "eyes": 0.3,
                                                                             "sides (background, ears)": 0.1}})
    assert "| bmi-reddit | box_cut | 10 | 100.0% | +1.84 | 0.620 |" in card
    assert "Targets missed (1):" in card and "- bmi-reddit box_cut: mean BMI shift +1.84" in card
    # With the benchmark's intervals, the card says how many misses lie beyond sampling noise.
    noisy = {**robust, "targets_missed_clearly": []}
    noisy_card = render_model_card(CONFIG, {"bmi-reddit": reddit}, repo_id="org/m", robustness=noisy)
    assert "Targets missed (1; 0 of them beyond sampling noise: the whole 95% interval" in noisy_card
    assert "beyond noise**" not in noisy_card
    clear = {**robust, "targets_missed_clearly": robust["targets_missed"]}
    clear_card = render_model_card(CONFIG, {"bmi-reddit": reddit}, repo_id="org/m", robustness=clear)
    assert "Targets missed (1; 1 of them" in clear_card
    assert "- bmi-reddit box_cut: mean BMI shift +1.84: **beyond noise**" in clear_card
    assert "| age-utkface | Asian | 8 | 50.0% | -10.0 | 90.0% | 7.0 |" in card
    assert "| age-utkface | 0-9 | 5 | 70.0% | +10.0 |" in card
    assert "![Mean estimate per true-BMI decile](bmi_calibration.svg)" in card
    assert "| 15.0-22.0 | 5 | 19.0 | 24.5 | +5.50 |" in card and "estimated 5.50 too high" in card
    assert "slope 0.55" in card and "held the true change for 79% of pairs" in card
    assert "| bmi-reddit test: BMI Pearson r | 0.666 | 0.720 |" in card
    assert "| bmi-reddit box_cut: bmi shift | +6.38 | +1.84 |" in card
    assert "reads differently, cut at the face's box: +1.8 BMI on average (robustness benchmark above)." in card
    assert "| robustness targets missed | 3 | 1 |" in card and "Framing no longer matters." in card
    # A benchmark that gained variants since the previous model: the misses are counted where both were measured.
    grown = {**robust, "variants": {"original": "", "box_cut": "", "noise": ""},
             "targets_missed": [*robust["targets_missed"], "bmi-reddit noise: mean BMI shift +2.33"]}
    older = {"targets_missed": ["bmi-reddit box_cut: mean BMI shift +6.38", "bmi-reddit box_cut: Pearson r 0.516"],
             "table": {"bmi-reddit": {"original": {}, "box_cut": {"bmi_shift": 6.38, "bmi_r": 0.516}}}}
    grown_card = render_model_card(CONFIG, {"bmi-reddit": reddit}, repo_id="org/m", robustness=grown,
                                   before_robustness=older)
    assert "| robustness targets missed (over the 1 variant both were measured on) | 2 | 1 |" in grown_card
    assert "Targets missed (2" in grown_card
    assert "The largest shares are mouth and jaw (40.0%) and eyes (30.0%)" in card
    assert "None" not in card and "nan" not in card.lower().replace("non-commercial", "")

    # A change interval that widens with the change is described as such, with its coverage on each half.
    widening = dataclasses.replace(CONFIG, bmi_change_halfwidth=6.0, bmi_change_halfwidth_slope=0.8)
    reddit["bmi_change"].update(interval_coverage_smaller_half=0.83, interval_coverage_larger_half=0.75)
    card = render_model_card(widening, {"bmi-reddit": reddit}, repo_id="org/m", robustness=robust)
    assert "(±6.0 BMI for no change, widening with the estimated change (±10.0 for a change of 10" in card
    assert "held the true change for 79% of pairs (83% of the smaller half of estimated changes, 75% of the larger)" in card

    # With evaluate's intervals of the shares (people resampled), the card gives them and the number of people.
    reddit["bmi_change"].update(people=7, right_sign_ci95=[0.712, 0.968], interval_coverage_ci95=[0.6449, 0.9])
    card = render_model_card(widening, {"bmi-reddit": reddit}, repo_id="org/m", robustness=robust)
    assert "pairs of photos of one poster (7 posters; " in card
    assert "(95% CI 71%-97%, resampling people) of pairs whose true change" in card
    assert "held the true change for 79% (95% CI 64%-90%, resampling people) of pairs (83% of the smaller" in card


def test_calibration_svg_is_a_picture_of_the_deciles():
    from training.learn.card_tables import calibration_svg

    svg = calibration_svg({"bmi_calibration": {"deciles": [{"true_mean": 19.0, "pred_mean": 24.0},
                                                           {"true_mean": 40.0, "pred_mean": 35.0}]}})
    assert svg.startswith("<svg") and svg.count("<circle") == 2 and "</svg>" in svg
    assert calibration_svg({}) is None


def test_the_contract_says_whether_a_flat_border_counts_as_outside():
    """The crop rule a model was made for is in its card: format 7 models fill a flat border like the outside."""
    assert "counts as outside the photo" in render_model_card(CONFIG, None, repo_id="org/m")
    old = dataclasses.replace(CONFIG, crop=dataclasses.replace(CONFIG.crop, flat_border_outside=False))
    card = render_model_card(old, None, repo_id="org/m")
    assert "normalisation mean colour" in card and "counts as outside the photo" not in card


def test_the_contract_says_whether_a_backdrop_counts_as_outside():
    """Format 8 models fill a backdrop without detail like the outside too; format 7 ones do not, and say so."""
    assert "backdrop without detail" in render_model_card(CONFIG, None, repo_id="org/m")
    old = dataclasses.replace(CONFIG, crop=dataclasses.replace(CONFIG.crop, backdrop_outside=False))
    card = render_model_card(old, None, repo_id="org/m")
    assert "counts as outside the photo" in card and "backdrop without detail" not in card


def test_an_ensembles_training_time_counts_each_networks_earlier_runs():
    """A member continued from a network split off a shipped ensemble (train --init) says what it continued: its
    minutes are the earlier run's (from the shipped record) plus its own, not its own alone."""
    split_member = {"folder": "runs/shipped/member0", "minutes": None, "continued_from": None,
                    "as_trained": {"folder": "runs/v5i", "seed": 5, "minutes": 93.3}}
    members = [{"folder": "runs/m0f", "seed": 12, "minutes": 56.9, "continued_from": split_member},
               {"folder": "runs/v8m", "seed": 7, "minutes": 107.2, "split_from": "facebmi/default_model member 1"}]
    config = dataclasses.replace(CONFIG, members=2, training={**CONFIG.training, "members": members})
    assert "(150, in runs of 93 + 57, and 107 minutes on 2 CPU cores)" in render_model_card(config, None, repo_id="o/m")
    plain = dataclasses.replace(config, training={**CONFIG.training, "members": [{"minutes": 93.3}, {"minutes": 107.2}]})
    assert "(93 and 107 minutes on 2 CPU cores)" in render_model_card(plain, None, repo_id="o/m")


def test_the_card_says_how_the_change_interval_was_calibrated_where_the_record_does():
    """A cross-fitted change interval (train.calibrate_interval) is said so, with its pairs, people and folds; a
    record without the folds (an older model) says nothing about it rather than guess."""
    calibration = {"n": 161, "change_pairs": 75, "change_people": 53, "change_folds": 5}
    crossfit = dataclasses.replace(CONFIG, training={**CONFIG.training, "interval_calibration": calibration})
    card = render_model_card(crossfit, None, repo_id="org/m")
    assert "over 75 validation pairs of 53 people" in card and "(5 folds by person)" in card
    older = dataclasses.replace(CONFIG, training={**CONFIG.training, "interval_calibration": {"n": 161}})
    assert "folds by person" not in render_model_card(older, None, repo_id="org/m")
