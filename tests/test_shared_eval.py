"""The shipped model on real held-out faces (our test split of ../shared/datasets), through the full app path.
Loose floors, well under the figures in the model card: they catch a broken crop, label order or checkpoint,
not a change of a point."""
import pytest

from training.learn.evaluate import evaluate


@pytest.mark.shared
def test_bmi_on_reddit_test_faces_beats_the_mean_predictor(predictor, shared_datasets):
    report = evaluate(predictor, shared_datasets / "bmi-reddit", split="test", progress=False)
    assert report["n"] > 100 and report["faces_not_found"] <= 0.02 * report["n"]
    bmi = report["bmi"]
    assert bmi["pearson_r"] > 0.55
    assert bmi["mae"] < 0.85 * bmi["mean_predictor"]["mae"]
    assert 0.65 <= bmi["interval_coverage"] <= 0.92  # an 80% interval, measured on unseen faces


@pytest.mark.shared
def test_brackets_on_adience_test_faces(predictor, shared_datasets):
    report = evaluate(predictor, shared_datasets / "age-adience-subset", split="test", progress=False)
    assert report["n"] > 100
    assert report["bracket"]["exact"] > 0.5 and report["bracket"]["one_off"] > 0.85
