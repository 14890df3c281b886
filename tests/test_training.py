"""The training path on a tiny generated folder: prepare (detect, crop, teacher) -> train -> evaluate."""
import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from facebmi.config import ModelConfig
from facebmi.predictor import Predictor


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory, astronaut):
    """12 variants of the public-domain astronaut, labelled like the shared sets (6 'people', 2 photos each)."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "images").mkdir()
    rows = []
    rng = np.random.default_rng(0)
    for i in range(12):
        img = ImageEnhance.Brightness(astronaut).enhance(0.7 + 0.05 * i)
        if i % 2:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        img = img.resize((256, 256))
        img.save(folder / "images" / f"p{i}.jpg", quality=90)
        rows.append([f"images/p{i}.jpg", f"{rng.uniform(18, 40):.2f}", str(20 + 3 * i), "F" if i % 3 else "M",
                     str(i // 2)])
    with open(folder / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows([["file", "bmi", "age", "sex", "group_id"]] + rows)
    return folder


@pytest.fixture(scope="module")
def backbone_weights(tmp_path_factory):
    """A file shaped like torchvision's ImageNet MobileNetV2 checkpoint (randomly initialised): what training
    starts from, without ../shared/weights."""
    import torch
    import torchvision

    path = tmp_path_factory.mktemp("weights") / "mobilenet_v2.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.mobilenet_v2().state_dict(), path)
    return path


def test_prepare_train_evaluate(tiny_folder, tmp_path, backbone_weights):
    from training.learn.evaluate import evaluate
    from training.prepare import prepare
    from training.learn.train import train
    from training.learn.train_config import TrainConfig

    data = prepare([tiny_folder], tmp_path / "faces", workers=1, with_teacher=True)
    assert len(data) == 12 and all(r is None for r in data["skip_reason"])
    assert all(c.mode == "RGBA" and c.size == (168, 168) for c in data["context"])  # the view training re-frames
    assert all(len(t) == 128 for t in data["teacher_embedding"])
    # A rerun (an interrupted build resumed) reuses the finished shards: same rows, none twice.
    shard = next((tmp_path).glob("faces.shards-*/00000/dataset_info.json"))
    written = shard.stat().st_mtime_ns
    again = prepare([tiny_folder], tmp_path / "faces", workers=1, with_teacher=True)
    assert again["file"] == data["file"] and shard.stat().st_mtime_ns == written

    cfg = TrainConfig(faces=tmp_path / "faces", out=tmp_path / "model", steps=3, batch_size=8, warmup_steps=1,
                      eval_every=3, threads=1, n_twins=3, bracket_refit_views=1, imagenet_weights=backbone_weights)
    folder = train(cfg)
    config = ModelConfig.load(folder)
    assert 18 < config.bmi_mean < 40  # the training-set mean BMI
    assert config.training["train_config"]["steps"] == 3 and config.training["train_config"]["n_twins"] == 3
    assert "consistency" in config.training["history"][-1]["train_loss"]

    report = evaluate(Predictor.from_pretrained(str(folder), device="cpu"), tiny_folder, progress=False)
    json.dumps(report)  # printable as JSON
    assert report["n"] == 12 and report["faces_not_found"] == 0
    assert report["bmi"]["n"] == 12 and report["bmi"]["mae"] >= 0
    assert report["bmi"]["mean_predictor"]["value"] == pytest.approx(config.bmi_mean)
    assert 0 <= report["bracket"]["exact"] <= report["bracket"]["one_off"] <= 1
    assert set(report["per_sex"]) == {"F", "M"}
    assert report["per_sex"]["F"]["bmi"]["n"] + report["per_sex"]["M"]["bmi"]["n"] == 12
    # Ages 20-53: one group per decade, each scored on its own faces.
    assert list(report["per_age_decade"]) == ["20-29", "30-39", "40-49", "50-59"]
    assert sum(g["bracket"]["n"] for g in report["per_age_decade"].values()) == 12
    deciles = report["bmi_calibration"]["deciles"]
    assert sum(d["n"] for d in deciles) == 12 and all(d["true_low"] <= d["true_mean"] <= d["true_high"] for d in deciles)

    # Recalibrating only (a new pair read): the weights are kept to the bit, the setting is recorded.
    from safetensors.torch import load_file

    from training.learn.train import main as train_main

    train_main(["--calibrate-only", str(folder), "--out", str(tmp_path / "recalibrated"), "--faces",
                str(tmp_path / "faces"), "--pair-read-mirror", "false", "--pair-read-shift", "2", "--threads", "1"])
    again = ModelConfig.load(tmp_path / "recalibrated")
    assert again.pair_read_mirror is False and again.pair_read_shift == 2
    assert again.training["finalized_with"]["heads_refit"] is False
    before, after = load_file(folder / "model.safetensors"), load_file(tmp_path / "recalibrated" / "model.safetensors")
    assert before.keys() == after.keys() and all((before[k] == after[k]).all() for k in before)


def test_bmi_calibration_measures_the_pull_to_the_middle():
    from training.learn.evaluate import bmi_calibration

    true = np.linspace(15, 55, 200)
    pred = 30 + 0.5 * (true - 30)  # sees half of every difference from 30
    report = bmi_calibration(true, pred)
    assert report["slope_pred_on_true"] == pytest.approx(0.5)
    assert report["deciles"][0]["bias"] > 5 > 0 > -5 > report["deciles"][-1]["bias"]
    lean = true < 25
    assert report["lean_under_25"]["n"] == lean.sum()
    assert report["lean_under_25"]["bias"] == pytest.approx(float((pred - true)[lean].mean()))


def test_change_metrics_slope_and_sign():
    from training.learn.metrics import change_metrics

    true = np.array([-10.0, -5.0, -2.0, 3.0, 8.0, 0.5])
    report = change_metrics(true, 0.5 * true)
    assert report["slope"] == pytest.approx(0.5) and report["pearson_r"] == pytest.approx(1.0)
    assert report["right_sign"] == 1.0  # the 0.5 change is below min_change: not counted for the sign
    flipped = change_metrics(true, np.array([-9.0, 4.0, -1.0, 2.0, 7.0, -3.0]))
    assert flipped["right_sign"] == pytest.approx(4 / 5)


def test_the_interval_of_lost_correlation_compares_the_same_people():
    from training.learn.metrics import person_bootstrap_r_drop_ci

    rng = np.random.default_rng(2)
    person = np.repeat(np.arange(100), 2)  # two photos a person
    true = rng.normal(31, 7, 200)
    before = true + rng.normal(0, 5, 200)
    noisier = before + rng.normal(0, 5, 200)  # the same reads with more noise: r falls by ~0.13
    drop = np.corrcoef(true, before)[0, 1] - np.corrcoef(true, noisier)[0, 1]
    low, high = person_bootstrap_r_drop_ci(true, before, noisier, person)
    assert 0 < low < drop < high
    assert person_bootstrap_r_drop_ci(true, before, before, person) == (0.0, 0.0)
    # A constant shift leaves r where it was: no drop at all, on any resample.
    assert person_bootstrap_r_drop_ci(true, before, before + 3, person) == pytest.approx((0.0, 0.0), abs=1e-9)
    assert person_bootstrap_r_drop_ci(true, before, noisier, np.zeros(200)) is None


def test_share_intervals_resample_people_not_pairs():
    from training.learn.metrics import change_metrics, person_bootstrap_ci

    rng = np.random.default_rng(1)
    # 40 people with 3 pairs each; a person's pairs are all right or all wrong (they share their photos).
    person = np.repeat(np.arange(40), 3)
    right = np.repeat(rng.random(40) < 0.8, 3).astype(float)
    low, high = person_bootstrap_ci(right, person)
    assert low < right.mean() < high
    as_if_independent = person_bootstrap_ci(right, np.arange(len(right)))
    # Resampling people sees 40 draws, not 120: its interval is wider, by about sqrt(3).
    assert (high - low) > 1.4 * (as_if_independent[1] - as_if_independent[0])
    assert person_bootstrap_ci(right, np.zeros(len(right))) is None  # one person: no interval
    # Over many simulated test splits, the 95% interval holds the true share about 95% of the time.
    held = [(lambda lo_hi: lo_hi[0] <= 0.8 <= lo_hi[1])(
        person_bootstrap_ci(np.repeat(r.random(40) < 0.8, 3), person, draws=400))
        for r in map(np.random.default_rng, range(100, 300))]
    assert 0.88 <= np.mean(held) <= 0.99
    true = np.array([-10.0, -5.0, -2.0, 3.0, 8.0, 0.5])
    report = change_metrics(true, np.array([-9.0, 4.0, -1.0, 2.0, 7.0, -3.0]), person=np.array([0, 0, 1, 1, 2, 2]))
    assert report["right_sign_ci95"][0] < report["right_sign"] < report["right_sign_ci95"][1]


def test_bracket_head_choice_weighs_children_and_the_old():
    from training.learn.train import bracket_choice_score

    age = np.array([5.0] * 10 + [25.0] * 90)
    true = np.zeros(100, dtype=int)
    right_adults = np.r_[np.ones(10, int), np.zeros(90, int)]  # every adult right, every child wrong
    score, decades = bracket_choice_score(true, right_adults, age)
    assert decades == {"0-9": 0.0, "20-29": 1.0}
    assert score == pytest.approx(0.9 - (0.9 - 0.10 - 0.0))  # exact 0.9, children 80 points short of 0.9 - 0.1
    balanced = np.r_[np.zeros(8, int), np.ones(2, int), np.zeros(80, int), np.ones(10, int)]
    score_balanced, _ = bracket_choice_score(true, balanced, age)
    assert score_balanced == pytest.approx(0.88) and score_balanced > score  # 80% of children: within the slack


def test_evaluate_cli_prints_one_json_object(tiny_folder, tmp_path, capsys):
    from facebmi.model import FaceAttributeModel
    from training.learn.evaluate import main

    folder = FaceAttributeModel(ModelConfig()).save_pretrained(tmp_path / "m")
    main(["--model", str(folder), "--data", str(tiny_folder), "--split", "test"])
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "test" and report["n"] < 12


def test_prepare_cache_is_not_reused_for_other_labels_or_teacher(tiny_folder, tmp_path):
    """A resumed prepare reuses shards only for the same labels and teacher setting, never stale ones."""
    import shutil

    from training.prepare import prepare

    folder = tmp_path / "tiny"
    shutil.copytree(tiny_folder, folder)
    plain = prepare([folder], tmp_path / "faces", workers=1, with_teacher=False, limit=3)
    assert all(t is None for t in plain["teacher_embedding"])
    taught = prepare([folder], tmp_path / "faces", workers=1, with_teacher=True, limit=3)
    assert all(len(t) == 128 for t in taught["teacher_embedding"])

    lines = (folder / "labels.csv").read_text().splitlines()
    row = lines[1].split(",")
    row[1] = "55.50"  # a corrected BMI label
    (folder / "labels.csv").write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    relabelled = prepare([folder], tmp_path / "faces", workers=1, with_teacher=True, limit=3)
    assert relabelled["bmi"][0] == pytest.approx(55.5)


def test_consistency_loss_pulls_the_view_toward_its_plain_twin():
    import torch
    from facebmi.model import ModelOutput
    from training.learn.train import consistency_loss, twin_positions

    mc = ModelConfig()
    gen = torch.Generator().manual_seed(0)

    def outputs(requires_grad=False):
        values = (torch.randn(4, generator=gen) * 5 + 30, torch.randn(4, 8, generator=gen),
                  torch.randn(4, generator=gen) * 10 + 35, torch.randn(4, 128, generator=gen))
        return ModelOutput(*(v.requires_grad_(requires_grad) for v in values))

    plain = outputs(requires_grad=True)
    same = ModelOutput(*(v.detach().clone().requires_grad_(True) for v in (plain.bmi, plain.bracket_logits,
                                                                           plain.age_years, plain.embedding)))
    assert float(consistency_loss(same, plain, mc).detach()) == pytest.approx(0.0, abs=1e-6)
    view = outputs(requires_grad=True)
    loss = consistency_loss(view, plain, mc)
    assert float(loss.detach()) > 0.1
    loss.backward()
    assert view.bmi.grad.abs().sum() > 0 and view.bracket_logits.grad.abs().sum() > 0
    assert plain.bmi.grad is None and plain.bracket_logits.grad is None  # the plain view's answers are the target
    assert list(twin_positions(64, 16)[:3]) == [0, 4, 8] and len(twin_positions(64, 16)) == 16
    assert len(twin_positions(64, 0)) == 0


def test_training_reads_a_pair_face_as_the_app_does(tiny_folder, tmp_path):
    """The change is calibrated in training on faces read carefully from the cached views (the face's own and
    its mirror image's landmarks, shifted crops); the app reads them from the photo. Both must give the same
    number, or the interval holds for some other estimate."""
    import dataclasses

    from facebmi.loading import load_model
    from training.learn.train import infer, infer_careful, load_faces
    from training.prepare import prepare

    data = prepare([tiny_folder], tmp_path / "faces", workers=1, with_teacher=False)
    assert data["file"][:2] == ["images/p0.jpg", "images/p1.jpg"]
    faces = load_faces(tmp_path / "faces")
    assert (faces.mirror_row[:2] >= 0).all()  # every face with a BMI has its mirror image's view cached
    model = load_model(None).eval()  # the embedded model: a random network answers every face alike
    model.config = dataclasses.replace(model.config, pair_read_mirror=True, pair_read_shift=1)
    trained = infer_careful(model, faces, np.arange(2))["bmi"]
    predictor = Predictor(model, device="cpu")
    photos = [Image.open(tiny_folder / "images" / f"p{i}.jpg").convert("RGB") for i in range(2)]
    app = [max(predictor.predict(p, careful=True), key=lambda f: f.area).bmi for p in photos]
    once = infer(model, faces, np.arange(2))["bmi"]
    assert np.allclose(trained, app, atol=1e-3) and not np.allclose(trained, once, atol=1e-3)


def test_the_change_interval_is_calibrated_to_grow_with_the_error():
    """train._change_interval: where the errors grow with the change, the half-width does too, and the level is
    reached on the calibration pairs; where they do not, one width for all (format 1-5's interval)."""
    from facebmi.pair import change_halfwidth
    from training.learn.train import _change_interval

    rng = np.random.default_rng(0)
    change = rng.uniform(-25, 5, 1000)
    growing = change + rng.normal(0, 1, 1000) * np.sqrt(9 + 0.16 * change ** 2)
    halfwidth, slope = _change_interval(change, growing, 0.8)
    assert halfwidth == pytest.approx(1.2816 * 3, rel=0.25) and slope == pytest.approx(1.2816 * 0.4, rel=0.25)
    config = ModelConfig(bmi_change_halfwidth=halfwidth, bmi_change_halfwidth_slope=slope)
    inside = np.abs(growing - change) <= change_halfwidth(change, config)
    assert inside.mean() >= 0.8
    large = np.abs(change) > np.median(np.abs(change))
    assert abs(inside[large].mean() - inside[~large].mean()) < 0.1  # as often for large changes as small ones
    one_width = np.abs(growing - change) <= np.quantile(np.abs(growing - change), 0.8)
    assert one_width[~large].mean() - one_width[large].mean() > 0.2  # which one width for all would not be

    flat = change + rng.normal(0, 3, 1000)
    halfwidth, slope = _change_interval(change, flat, 0.8)
    assert halfwidth == pytest.approx(1.2816 * 3, rel=0.15) and slope < 0.1


def test_the_change_interval_cross_fitted_by_person_holds_its_level_on_new_people():
    """train._cross_fitted_scores: a few dozen pairs, several per person and a person's errors alike (as on
    bmi-reddit's validation pairs). Scale and error model fitted on the pairs whose quantile is taken cover less
    than 80% of new people's pairs; scored on other people's fit, the interval holds its level."""
    from facebmi.pair import bmi_change, change_halfwidth
    from training.learn.train import _change_interval, _cross_fitted_scores, _error_model, _spread_scale

    rng = np.random.default_rng(1)

    def people(n):  # (before, after, true, person): 1-3 pairs each, each person's error shared by their pairs
        person = np.repeat(np.arange(n), rng.integers(1, 4, n))
        true = rng.normal(-6, 5, len(person))
        # heavy-tailed: a few people's photos show little of their change
        shown = 0.6 * true + 1.5 * rng.standard_t(3, n)[person] + rng.normal(0, 1.5, len(person))
        before = rng.normal(32, 5, len(person))
        return before, before + shown, true, person

    config, inside = ModelConfig(), {"in-sample": [], "cross-fitted": []}
    for _ in range(300):
        before, after, true, person = people(30)
        scale = _spread_scale(before, after, true)
        fitted = dataclasses.replace(config, bmi_change_scale=scale)
        change = bmi_change(before, after, fitted)
        scores, folds = _cross_fitted_scores(before, after, true, person, config)
        assert folds == 5 and scores.shape == true.shape and np.isfinite(scores).all()
        new_before, new_after, new_true, _ = people(30)
        new_change = bmi_change(new_before, new_after, fitted)
        for name, given in (("in-sample", None), ("cross-fitted", scores)):
            halfwidth, slope = _change_interval(change, true, 0.8, given)
            width = change_halfwidth(new_change, dataclasses.replace(
                fitted, bmi_change_halfwidth=halfwidth, bmi_change_halfwidth_slope=slope))
            inside[name].append(np.mean(np.abs(new_change - new_true) <= width))
    in_sample, cross_fitted = np.mean(inside["in-sample"]), np.mean(inside["cross-fitted"])
    assert in_sample < 0.8 <= cross_fitted and cross_fitted - in_sample > 0.01
    with pytest.raises(ValueError, match="two people or more"):
        _cross_fitted_scores(before[:3], after[:3], true[:3], np.zeros(3), config)
    assert _error_model(change, change)[1] == 0.0  # no error: no growth with the change


def test_an_ensemble_splits_into_networks_that_average_back_to_it(tmp_path, capsys):
    """`ensemble --split`: the shipped ensemble's networks as model folders of their own (to continue training one
    with `train --init`); averaged, they answer as the ensemble does, under the same preprocessing contract."""
    import torch

    from facebmi.loading import DEFAULT_MODEL_DIR
    from facebmi.model import FaceAttributeModel, load_model_folder
    from training.learn.ensemble import main as ensemble_main, split_ensemble

    ensemble_main(["--split", str(DEFAULT_MODEL_DIR), "--out", str(tmp_path)])
    assert capsys.readouterr().out.split() == [str(tmp_path / "member0"), str(tmp_path / "member1")]
    shipped = load_model_folder(DEFAULT_MODEL_DIR)
    members = [FaceAttributeModel.from_folder(tmp_path / f"member{i}") for i in range(2)]
    assert all(type(m) is FaceAttributeModel and m.config.members == 1 for m in members)
    assert all(m.config.crop == shipped.config.crop and m.config.bmi_mean == shipped.config.bmi_mean for m in members)
    assert [m.config.training["as_trained"]["seed"] for m in members] == [
        r["seed"] for r in shipped.config.training["members"]]
    x = torch.randn(3, 3, shipped.config.crop.size, shipped.config.crop.size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        whole, parts = shipped(x), [m(x) for m in members]
    assert torch.allclose(torch.stack([p.bmi for p in parts]).mean(0), whole.bmi, atol=1e-4)
    assert torch.allclose(torch.stack([p.age_years for p in parts]).mean(0), whole.age_years, atol=1e-4)
    assert not torch.allclose(parts[0].bmi, parts[1].bmi, atol=0.1)  # two networks, not one copied
    with pytest.raises(ValueError, match="single network"):
        split_ensemble(tmp_path / "member0", tmp_path / "again")
    # An ensemble rebuilt from a split network keeps how that network was trained (its model card's figures).
    from training.learn.ensemble import member_record

    for i, member in enumerate(members):
        record = member_record(tmp_path / f"member{i}", member.config.training)
        as_shipped = {k: v for k, v in shipped.config.training["members"][i].items() if k != "split_from"}
        assert {k: record[k] for k in as_shipped} == as_shipped and record["validation"]["bmi"]["mae"] > 0
        assert record["split_from"].endswith(f" member {i}")


def test_training_precision_is_bf16_only_where_it_runs_natively():
    """On an AVX2-only CPU a bf16 convolution takes ~10x an fp32 one (TrainConfig.precision): "auto" must not
    pick it there, and a misspelt setting must fail before hours of training rather than be read as fp32."""
    import torch
    from training.learn.train import uses_bf16

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert uses_bf16("auto", cuda)
    assert uses_bf16("auto", cpu) == torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert uses_bf16("bf16", cpu) and not uses_bf16("fp32", cuda)
    with pytest.raises(ValueError, match="precision"):
        uses_bf16("float16", cpu)


def test_a_bracket_refit_can_be_made_to_replace_the_head_as_trained():
    """choose_bracket_head: the head as trained competes with the refits, and wins where it scores best; with
    bracket_refit_keep_trained off a refit replaces it (what holds an already refitted network to one balance)."""
    import torch

    from facebmi.labels import AGE_BRACKETS
    from facebmi.model import FaceAttributeModel
    from training.learn.train import FaceTable, choose_bracket_head, infer
    from training.learn.train_config import TrainConfig

    n, rng = 24, np.random.default_rng(0)
    context = torch.from_numpy(rng.integers(0, 256, (n, 4, 168, 168), dtype=np.uint8))
    context[:, 3] = 255  # all inside the photo
    faces = FaceTable(context=context, mirror_context=torch.zeros((0, 4, 168, 168), dtype=torch.uint8),
                      mirror_row=np.full(n, -1), teacher=torch.zeros(n, 128), has_teacher=torch.zeros(n, dtype=bool),
                      bmi=torch.full((n,), float("nan")), age=torch.zeros(n), bracket=torch.zeros(n, dtype=torch.long),
                      sex=np.array([""] * n), race=np.array(["white"] * n), group=np.array([str(i) for i in range(n)]),
                      source=np.array(["age-utkface"] * n), split=np.array(["train"] * 16 + ["validation"] * 8),
                      label_conflict=np.zeros(n, dtype=bool))
    torch.manual_seed(0)
    model = FaceAttributeModel(ModelConfig()).eval()
    # Labels the head as trained gets exactly right on validation (and at random on train, where refits learn).
    features = torch.tensor(infer(model, faces, np.arange(n), with_features=True)["features"])
    with torch.no_grad():
        own = model.bracket_head(features).argmax(1)
    faces.bracket[:] = torch.where(torch.arange(n) < 16, torch.from_numpy(rng.integers(0, 8, n)), own)
    faces.age[:] = torch.tensor([float(AGE_BRACKETS[b].split("-")[0].rstrip("+")) + 1 for b in faces.bracket])
    cfg = TrainConfig(bracket_refit_powers=(0.25,), bracket_refit_decays=(1e-3,), bracket_refit_views=0)
    trained = model.bracket_head.weight.detach().clone()
    assert choose_bracket_head(model, faces, cfg) is None and torch.equal(model.bracket_head.weight, trained)
    held = dataclasses.replace(cfg, bracket_refit_keep_trained=False)
    assert choose_bracket_head(model, faces, held).startswith("L-BFGS refit on frozen features, balance power 0.25")
    assert not torch.equal(model.bracket_head.weight, trained)


def test_the_command_line_sets_every_setting_the_bracket_refit_included():
    """`--bracket-refit-powers 0.25` holds the bracket head's refit to one balance (what a finalize of one network
    needs to match another's head); unset, a tuple setting keeps its default; a bad value fails before training."""
    from training.learn.train import parse_args
    from training.learn.train_config import TrainConfig

    cfg, args = parse_args(["--finalize", "runs/m1f", "--out", "runs/m1g", "--bracket-refit-powers", "0.25",
                            "--bracket-refit-decays", "1e-4", "1e-3", "--twin-framed", "0.5"])
    assert cfg.bracket_refit_powers == (0.25,) and cfg.bracket_refit_decays == (1e-4, 1e-3)
    assert cfg.twin_framed == 0.5 and str(args.finalize) == "runs/m1f" and str(cfg.out) == "runs/m1g"
    plain, _ = parse_args([])
    assert plain.bracket_refit_powers == TrainConfig().bracket_refit_powers and plain == TrainConfig()
    with pytest.raises(SystemExit):
        parse_args(["--bracket-refit-powers", "half"])
    # The augmentation's settings, each as --augment-NAME, gathered into the AugmentSpec the run saves.
    camera, _ = parse_args(["--augment-noise", "0.2", "--augment-blur", "0.1", "--augment-cut-inner", "0.3", "0.3",
                            "0.3", "0.4"])
    assert (camera.augment.noise, camera.augment.blur, camera.augment.cut_inner) == (0.2, 0.1, (0.3, 0.3, 0.3, 0.4))
    assert camera.augment.jpeg == TrainConfig().augment.jpeg and camera.steps == TrainConfig().steps


def test_an_ensembles_intervals_recalibrate_with_its_weights_and_records_kept(astronaut, tmp_path):
    """`ensemble --calibrate-only`: a saved ensemble's intervals are calibrated again on validation (a change in how
    calibration is done, or another level); its weights and training records stay as they are. Too few validation
    faces with a BMI to calibrate on: a clear error, not an uncalibrated model."""
    import torch
    from safetensors.torch import load_file

    from facebmi.model import FaceAttributeModel
    from training.learn.ensemble import build_ensemble, main as ensemble_main
    from training.prepare import prepare
    from training.splits import split_of

    folder = tmp_path / "people"
    (folder / "images").mkdir(parents=True)
    groups = [g for g in (f"v{i}" for i in range(400)) if split_of(f"people:{g}") == "validation"][:12]
    with open(folder / "labels.csv", "w", newline="") as f:
        rows = [["file", "bmi", "age", "sex", "group_id"]]
        for i in range(12):  # 4 people, 3 photos each: 12 same-person pairs to calibrate the change on
            name = f"images/p{i}.jpg"
            ImageEnhance.Brightness(astronaut).enhance(0.6 + 0.06 * i).resize((256, 256)).save(folder / name)
            rows.append([name, f"{20 + 1.5 * i:.1f}", "30", "F", groups[i // 3]])
        csv.writer(f).writerows(rows)
    faces = tmp_path / "faces"
    prepare([folder], faces, workers=1, with_teacher=False)
    members = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        members.append(FaceAttributeModel(ModelConfig(bmi_mean=30.0)).save_pretrained(tmp_path / f"m{seed}"))
    built = build_ensemble(members, faces, 0.8).save_pretrained(tmp_path / "ensemble")
    before = ModelConfig.load(built)
    assert before.bmi_interval_log_halfwidth > 0

    ensemble_main(["--calibrate-only", str(built), "--faces", str(faces), "--level", "0.5", "--out",
                   str(tmp_path / "recalibrated")])
    after = ModelConfig.load(tmp_path / "recalibrated")
    assert after.bmi_interval_level == 0.5 and 0 < after.bmi_interval_log_halfwidth < before.bmi_interval_log_halfwidth
    assert after.training["interval_calibration"]["n"] == 12
    remeasured = ("interval_calibration", "validation")
    assert {k: v for k, v in after.training.items() if k not in remeasured} == \
        {k: v for k, v in before.training.items() if k not in remeasured}
    weights, again = load_file(built / "model.safetensors"), load_file(tmp_path / "recalibrated" / "model.safetensors")
    assert weights.keys() == again.keys() and all(torch.equal(weights[k], again[k]) for k in weights)

    # An ensemble calibrated another way (its change scale and the validation record made with it): recalibrated,
    # the scale moves and the validation record is measured again with the new one, not kept.
    from facebmi.loading import DEFAULT_MODEL_DIR
    from training.learn.ensemble import split_ensemble
    from training.learn.train import load_faces, validate
    prepare([folder], tmp_path / "described", workers=1, with_teacher=True)  # descriptors: same-person pairs
    described = load_faces(tmp_path / "described")
    real = build_ensemble(split_ensemble(DEFAULT_MODEL_DIR, tmp_path / "split"), tmp_path / "described", 0.8)
    assert real.config.training["interval_calibration"]["change_pairs"] == 12
    other_scale = 1.0 if real.config.bmi_change_scale > 1.5 else 2.5
    real.config = dataclasses.replace(real.config, bmi_change_scale=other_scale)
    real.config.training["validation"] = stale = validate(real, described)
    ensemble_main(["--calibrate-only", str(real.save_pretrained(tmp_path / "older")), "--faces",
                   str(tmp_path / "described"), "--out", str(tmp_path / "rescaled")])
    rescaled = ModelConfig.load(tmp_path / "rescaled")
    assert rescaled.bmi_change_scale != other_scale
    assert rescaled.training["validation"] == json.loads(json.dumps(
        validate(FaceAttributeModel.from_folder(tmp_path / "rescaled"), described)))
    assert rescaled.training["validation"]["bmi_change"] != json.loads(json.dumps(stale))["bmi_change"]

    with pytest.raises(ValueError, match="single network"):
        ensemble_main(["--calibrate-only", str(members[0]), "--faces", str(faces), "--out", str(tmp_path / "x")])
    few = tmp_path / "few"
    (few / "images").mkdir(parents=True)
    (few / "labels.csv").write_text("file,bmi,age,sex,group_id\n" + "".join(
        f"images/p{i}.jpg,25,30,F,{groups[i]}\n" for i in range(3)))
    for i in range(3):
        (few / "images" / f"p{i}.jpg").write_bytes((folder / "images" / f"p{i}.jpg").read_bytes())
    prepare([few], tmp_path / "few_faces", workers=1, with_teacher=False)
    with pytest.raises(ValueError, match="validation faces with a BMI"):
        ensemble_main(["--calibrate-only", str(built), "--faces", str(tmp_path / "few_faces"), "--out",
                       str(tmp_path / "y")])


def test_a_paused_run_resumes_to_the_model_an_unbroken_run_makes(tiny_folder, tmp_path, backbone_weights):
    """A run paused (or stopped) part-way and resumed, even from another folder, ends with the model an unbroken run
    makes, to the bit: same batches, re-framings and dropout. A resume with other settings is refused."""
    import torch
    from safetensors.torch import load_file

    from training.learn.train import main as train_main, train
    from training.learn.train_config import TrainConfig
    from training.prepare import prepare

    prepare([tiny_folder], tmp_path / "faces", workers=1, with_teacher=True)
    settings = dict(faces=tmp_path / "faces", steps=5, batch_size=8, warmup_steps=1, eval_every=2, threads=1,
                    n_twins=3, twin_framed=0.5, bracket_refit_views=1, imagenet_weights=backbone_weights,
                    checkpoint_every=2)
    whole = train(TrainConfig(out=tmp_path / "whole", **settings))
    assert not (whole / "checkpoint.pt").exists()  # a finished run leaves nothing to resume

    paused_cfg = TrainConfig(out=tmp_path / "paused", **settings)
    checkpoint = train(paused_cfg, pause_at_step=3)
    assert checkpoint == tmp_path / "paused" / "checkpoint.pt" and not (tmp_path / "paused" / "config.json").exists()
    with pytest.raises(ValueError, match="lr"):
        train(dataclasses.replace(paused_cfg, lr=1e-4), resume=True)
    (tmp_path / "paused").rename(tmp_path / "moved")
    train_main(["--resume", str(tmp_path / "moved"), "--threads", "1"])

    resumed = tmp_path / "moved"
    assert not (resumed / "checkpoint.pt").exists()
    a, b = load_file(whole / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    one, two = ModelConfig.load(whole).training, ModelConfig.load(resumed).training
    assert [{k: v for k, v in r.items() if k != "minutes"} for r in one["history"]] == \
        [{k: v for k, v in r.items() if k != "minutes"} for r in two["history"]]
    assert [r["step"] for r in two["history"]] == [2, 4, 5]
    assert {k: v for k, v in one["train_config"].items() if k != "out"} == \
        {k: v for k, v in two["train_config"].items() if k != "out"}
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train_main(["--resume", str(resumed)])


def test_a_run_killed_part_way_resumes_from_its_last_checkpoint(tiny_folder, tmp_path, backbone_weights):
    """A run killed outright (the machine taken back) keeps a whole checkpoint from its last `checkpoint_every`
    step, and `--resume` goes on from there."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import torch

    from training.prepare import prepare

    prepare([tiny_folder], tmp_path / "faces", workers=1, with_teacher=True)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "training.learn.train", "--faces", str(tmp_path / "faces"), "--out", str(out),
               "--steps", "400", "--batch-size", "8", "--warmup-steps", "1", "--eval-every", "1000", "--threads", "1",
               "--n-twins", "3", "--imagenet-weights", str(backbone_weights), "--checkpoint-every", "2"]
    root = Path(__file__).resolve().parents[1]
    run = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (out / "checkpoint.pt").exists() and run.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # a few more steps, maybe in the middle of writing the next checkpoint
    finally:
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
    state = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert state["step"] >= 2 and state["step"] % 2 == 0 and not (out / "config.json").exists()

    subprocess.run([sys.executable, "-m", "training.learn.train", "--resume", str(out), "--threads", "1",
                    "--pause-at-step", str(state["step"] + 1)], cwd=root, check=True, capture_output=True)
    assert torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)["step"] == state["step"] + 1


def test_the_change_interval_of_one_persons_pairs_is_calibrated_in_sample_and_says_so(astronaut, tmp_path):
    """Validation pairs all of one person (a tiny set): no other people to cross-fit the change interval on, so it
    is fitted in-sample, recorded as 0 folds, rather than stopping the run."""
    import torch

    from facebmi.model import FaceAttributeModel
    from training.learn.train import calibrate_interval, load_faces
    from training.prepare import prepare
    from training.splits import split_of

    group = next(g for g in (f"v{i}" for i in range(400)) if split_of(f"people:{g}") == "validation")
    folder = tmp_path / "people"  # the source name the split hashes with
    (folder / "images").mkdir(parents=True)
    rows = "file,bmi,age,sex,group_id\n"
    for i in range(10):
        ImageEnhance.Brightness(astronaut).enhance(0.6 + 0.06 * i).resize((256, 256)).save(folder / f"images/p{i}.jpg")
        rows += f"images/p{i}.jpg,{22 + 1.5 * i:.1f},30,F,{group}\n"
    (folder / "labels.csv").write_text(rows)
    prepare([folder], tmp_path / "faces", workers=1, with_teacher=True)  # descriptors: one person's photos linked
    faces = load_faces(tmp_path / "faces")
    assert (faces.split == "validation").all() and len(faces.people(np.arange(10))) == 1
    torch.manual_seed(0)
    result = calibrate_interval(FaceAttributeModel(ModelConfig(bmi_mean=30.0)).eval(), faces, 0.8)
    assert result["change_pairs"] == 45 and result["change_people"] == 1 and result["change_folds"] == 0
    assert result["change_halfwidth"] > 0
