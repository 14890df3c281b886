"""Train the default model on the cached crops: MobileNetV2 from ImageNet, one multi-task run.

    python -m training.prepare            # once: detect, crop and describe every face (cached)
    python -m training.learn.train --out runs/default [--steps 4000]

Losses: distillation of dlib's face descriptor (all faces), BMI (Reddit), BMI change between two photos of
one person (Reddit before/after pairs), age bracket (UTKFace, Adience) and age in years (UTKFace). Every face is
re-framed, recoloured and compressed at random from its cached wider view (training/learn/augment.py), and faces are
drawn balanced over age and population (training/learn/sampling.py). Validation picks the BMI head (trained vs
ridge) and calibrates the interval; the test split is never read here.
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from facebmi.align import to_model_input
from facebmi.careful import read_contexts
from facebmi.config import CONFIG_FORMAT_VERSION, ModelConfig
from facebmi.labels import AGE_BRACKETS
from facebmi.model import FaceAttributeModel, ModelOutput, infer_outputs
from facebmi.pair import bmi_change
from training.learn.augment import AugmentSpec, reframe_crops
from training.learn.checkpoint import (checkpoint_path, config_record, load_checkpoint, plain_json, save_checkpoint,
                                      saved_config)
from training.learn.metrics import age_decade, bmi_metrics, bracket_metrics, change_metrics
from training.learn.sampling import all_pairs, balance_weights, draw_pairs, same_person_groups
from training.learn.train_config import TrainConfig

log = logging.getLogger("facebmi.train")


@dataclasses.dataclass
class FaceTable:
    """Every usable cached face, as tensors (row i of each field is face i)."""

    context: torch.Tensor  # uint8 (N, 4, C, C): the wider view of prepare.CONTEXT (RGB, inside-the-photo)
    # The same view from the landmarks found on the photo's mirror image (prepare.py: faces with a BMI), for the
    # careful read (facebmi/careful.py): row mirror_row[i] of mirror_context is face i's; -1 where it has none.
    mirror_context: torch.Tensor  # uint8 (M, 4, C, C)
    mirror_row: np.ndarray  # int (N,)
    teacher: torch.Tensor  # (N, 128), zeros where has_teacher is False
    has_teacher: torch.Tensor  # bool (N,)
    bmi: torch.Tensor  # (N,), NaN where unknown
    age: torch.Tensor  # (N,), NaN where unknown
    bracket: torch.Tensor  # long (N,), -1 where unknown
    sex: np.ndarray  # 'F' / 'M' / ''
    race: np.ndarray  # UTKFace's race name, '' elsewhere
    group: np.ndarray  # person stand-in (split key)
    source: np.ndarray
    split: np.ndarray
    label_conflict: np.ndarray

    def where(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)

    def people(self, candidates: np.ndarray) -> list[np.ndarray]:
        """Same-person groups among candidates: group_id split by dlib descriptor (sampling.same_person_groups)."""
        descriptors = np.where(self.has_teacher.numpy()[:, None], self.teacher.numpy(), np.nan)
        return same_person_groups(self.group, self.bmi.numpy(), candidates, descriptors=descriptors)


def load_faces(path: Path) -> FaceTable:
    from datasets import load_from_disk

    data = load_from_disk(str(path)).filter(lambda r: r["skip_reason"] is None)
    raw = data.cast_column("context", data.features["context"].__class__(decode=False))
    context = np.stack([np.asarray(Image.open(io.BytesIO(r["bytes"])).convert("RGBA")) for r in raw["context"]])
    if "mirror_context" not in data.features:
        raise ValueError(f"{path} was prepared before faces had a mirror_context: prepare it again "
                         "(python -m training.prepare)")
    raw_mirror = data.cast_column("mirror_context", data.features["mirror_context"].__class__(decode=False))
    mirror = [np.asarray(Image.open(io.BytesIO(r["bytes"])).convert("RGBA")) for r in raw_mirror["mirror_context"]
              if r is not None]
    has_mirror = np.array([r is not None for r in raw_mirror["mirror_context"]])
    mirror_row = np.where(has_mirror, np.cumsum(has_mirror) - 1, -1)
    teacher = [t if t is not None else [0.0] * 128 for t in data["teacher_embedding"]]
    nan = float("nan")
    return FaceTable(
        context=torch.from_numpy(context).permute(0, 3, 1, 2).contiguous(),
        mirror_context=(torch.from_numpy(np.stack(mirror)).permute(0, 3, 1, 2).contiguous() if mirror
                        else torch.zeros((0, 4) + context.shape[1:3], dtype=torch.uint8)),
        mirror_row=mirror_row,
        teacher=torch.tensor(teacher, dtype=torch.float32),
        has_teacher=torch.tensor([t is not None for t in data["teacher_embedding"]]),
        bmi=torch.tensor([nan if v is None else v for v in data["bmi"]], dtype=torch.float32),
        age=torch.tensor([nan if v is None else v for v in data["age"]], dtype=torch.float32),
        bracket=torch.tensor([-1 if b is None else AGE_BRACKETS.index(b) for b in data["bracket"]]),
        sex=np.array(data["sex"]), race=np.array([r or "" for r in data["race"]]),
        group=np.array(data["group_id"]), source=np.array(data["source"]), split=np.array(data["split"]),
        label_conflict=np.array(data["label_conflict"]),
    )


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def twin_positions(batch_size: int, n_twins: int) -> np.ndarray:
    """Which places of a batch get a plain twin: spread evenly, so pairs, BMI faces and age faces all do."""
    return np.unique(np.linspace(0, batch_size - 1, n_twins).round().astype(int)) if n_twins else np.zeros(0, int)


def consistency_loss(view: ModelOutput, plain: ModelOutput, mc) -> torch.Tensor:
    """How far re-framed views' answers are from their plain crops' (held fixed): BMI and age on the heads'
    standardised scales, bracket probabilities by KL divergence."""
    bmi = F.smooth_l1_loss(view.bmi.float() / mc.bmi_scale, plain.bmi.float().detach() / mc.bmi_scale, beta=0.2)
    age = F.smooth_l1_loss(view.age_years.float() / mc.age_scale, plain.age_years.float().detach() / mc.age_scale,
                           beta=0.1)
    bracket = F.kl_div(view.bracket_logits.float().log_softmax(1), plain.bracket_logits.float().detach().log_softmax(1),
                       log_target=True, reduction="batchmean")
    return bmi + age + bracket


def uses_bf16(precision: str, device: torch.device) -> bool:
    """Whether training steps autocast to bfloat16 (TrainConfig.precision): "auto" only where bf16 runs natively."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
    if precision == "auto":
        return device.type == "cuda" or (device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return precision == "bf16"


def twin_views(context: torch.Tensor, spec, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """The twins' re-framed views (uint8 crops) of cached wider views: re-framed, rotated and recoloured, not shrunk
    to 20 px or compressed to JPEG 10 (asking for the same answer from a face whose detail is gone only teaches the
    network to ignore detail), but with the light and camera effects where the spec has them on (white balance,
    exposure, a blur of at most 2 px, noise: the face's shape is all still there) unless cfg.twin_camera is off;
    a share cfg.twin_framed of them framed tightly on all four sides, the photo ending there (no canvas)."""
    keep_detail = dataclasses.replace(cfg.augment, low_res=0.0, jpeg=0.0)
    if not cfg.twin_camera:
        keep_detail = dataclasses.replace(keep_detail, white_balance=0.0, exposure=0.0, blur=0.0, noise=0.0)
    views = reframe_crops(context, spec, keep_detail, gen)
    if cfg.twin_framed > 0:
        tight = dataclasses.replace(keep_detail, reframe=1.0, frame_share=1.0, canvas=0.0)
        framed = reframe_crops(context, spec, tight, gen)
        pick = torch.rand(len(context), generator=gen) < cfg.twin_framed
        views[pick] = framed[pick]
    return views


def batch_losses(model: FaceAttributeModel, faces: FaceTable, idx: np.ndarray, cfg: TrainConfig,
                 gen: torch.Generator, n_pairs: int = 0) -> dict[str, torch.Tensor]:
    """The losses of one batch; its first 2 * n_pairs faces are same-person pairs (0 and 1, 2 and 3, ...), and
    the faces at twin_positions also go through as plain crops for the consistency loss."""
    mc = model.config
    twins = twin_positions(len(idx), cfg.n_twins)
    views = reframe_crops(faces.context[idx], mc.crop, cfg.augment, gen)
    if len(twins):
        views[twins] = twin_views(faces.context[idx[twins]], mc.crop, cfg, gen)
        views = torch.cat([views, reframe_crops(faces.context[idx[twins]], mc.crop, None)])
    device = next(model.parameters()).device  # the cached faces stay in CPU memory; each batch moves
    x = to_model_input(views, mc.crop).to(device).contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=uses_bf16(cfg.precision, device)):
        both = model(x)
    out = both.rows(slice(0, len(idx)))
    losses = {}
    if len(twins):
        losses["consistency"] = consistency_loss(out.rows(twins), both.rows(slice(len(idx), None)), mc)
    t = faces.has_teacher[idx].to(device)
    if t.any():
        cos = F.cosine_similarity(out.embedding[t].float(), faces.teacher[idx].to(device)[t], dim=1)
        losses["distill"] = (1 - cos).mean()
    bmi = faces.bmi[idx].to(device)
    m = ~torch.isnan(bmi)
    if m.any():  # Huber on the head's standardised scale: robust to the flagged label errors
        losses["bmi"] = F.smooth_l1_loss((out.bmi[m].float() - mc.bmi_mean) / mc.bmi_scale,
                                         (bmi[m] - mc.bmi_mean) / mc.bmi_scale, beta=0.5)
    if n_pairs:  # the change between two photos of one person, whatever each one's level
        pred, true = out.bmi[:2 * n_pairs].float().view(-1, 2), bmi[:2 * n_pairs].view(-1, 2)
        losses["pair"] = F.smooth_l1_loss((pred[:, 1] - pred[:, 0]) / mc.bmi_scale,
                                          (true[:, 1] - true[:, 0]) / mc.bmi_scale, beta=0.2)
    br = faces.bracket[idx].to(device)
    m = br >= 0
    if m.any():
        losses["bracket"] = F.cross_entropy(out.bracket_logits[m].float(), br[m], label_smoothing=cfg.label_smoothing)
    age = faces.age[idx].to(device)
    m = ~torch.isnan(age)
    if m.any():
        losses["age"] = F.smooth_l1_loss(out.age_years[m].float() / mc.age_scale, age[m] / mc.age_scale, beta=0.1)
    return losses


@torch.inference_mode()
def infer(model, faces: FaceTable, idx: np.ndarray, batch: int = 256, with_features: bool = False,
          aug=None, gen: torch.Generator | None = None) -> dict[str, np.ndarray]:
    """Eval-mode outputs (and pooled features, for a single network) for the given faces; aug=None: the plain
    crops the app would make, else views re-framed at random with that AugmentSpec."""
    model.eval()
    keys = ("bmi", "probs", "age", "embedding") + (("features",) if with_features else ())
    parts = {k: [] for k in keys}
    for i in range(0, len(idx), batch):
        crops = reframe_crops(faces.context[idx[i:i + batch]], model.config.crop, aug, gen)  # None: crop_faces' crop
        x = to_model_input(crops, model.config.crop).to(next(model.parameters()).device).contiguous(
            memory_format=torch.channels_last)
        out = infer_outputs(model, x, with_features)  # as the app computes them (flip averaging included)
        if with_features:
            out, features = out
        values = (out.bmi, out.bracket_logits.softmax(1), out.age_years, out.embedding)
        if with_features:
            values += (features,)
        for k, v in zip(keys, values):
            parts[k].append(v.float().cpu().numpy())
    model.train()
    return {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in parts.items()}


def infer_careful(model, faces: FaceTable, idx: np.ndarray, batch: int = 16) -> dict[str, np.ndarray]:
    """BMI, bracket probabilities and age of the given faces read as the before/after path reads them
    (facebmi/careful.py, Predictor.predict_careful): from the cached views of the face's own and, with
    config.pair_read_mirror, its mirror image's landmarks. A format 1-4 config: infer's plain read."""
    c = model.config
    if not (c.pair_read_mirror or c.pair_read_shift):
        return {k: v for k, v in infer(model, faces, idx).items() if k in ("bmi", "probs", "age")}
    model.eval()
    device = next(model.parameters()).device
    parts = []
    for start in range(0, len(idx), batch):
        chunk = idx[start:start + batch]
        rows = [faces.mirror_row[i] if c.pair_read_mirror else -1 for i in chunk]
        contexts = torch.cat([faces.context[chunk]] + ([faces.mirror_context[[r for r in rows if r >= 0]]]
                                                       if any(r >= 0 for r in rows) else []))
        owner = np.concatenate([np.arange(len(chunk)), [k for k, r in enumerate(rows) if r >= 0]]).astype(int)
        parts.append(read_contexts(model, contexts, owner, len(chunk), c, device))
    model.train()
    return {k: np.concatenate([p[j] for p in parts]) if parts else np.zeros((0,))
            for j, k in enumerate(("bmi", "probs", "age"))}


def validate(model, faces: FaceTable, split: str = "validation") -> dict:
    report = {}
    reddit = faces.where((faces.split == split) & ~np.isnan(faces.bmi.numpy()))
    if len(reddit):
        out = infer(model, faces, reddit)
        bmi = faces.bmi.numpy()
        report["bmi"] = bmi_metrics(bmi[reddit], out["bmi"])
        pairs = all_pairs(faces.people(reddit), bmi)
        if len(pairs):  # each face read as the pair path reads it (the careful read)
            pred = np.full(len(bmi), np.nan)
            pred[reddit] = infer_careful(model, faces, reddit)["bmi"]
            report["bmi_change"] = change_metrics(bmi[pairs[:, 1]] - bmi[pairs[:, 0]],
                                                  bmi_change(pred[pairs[:, 0]], pred[pairs[:, 1]], model.config))
    utk = faces.where((faces.split == split) & (faces.source == "age-utkface") & ~faces.label_conflict)
    if len(utk):
        out = infer(model, faces, utk)
        report["utk_bracket"] = bracket_metrics(faces.bracket.numpy()[utk], out["probs"])
        report["utk_age_mae"] = float(np.abs(out["age"] - faces.age.numpy()[utk]).mean())
        t = faces.has_teacher.numpy()[utk]
        e, tt = out["embedding"][t], faces.teacher.numpy()[utk][t]
        report["distill_cos"] = float((np.sum(e * tt, 1) / (np.linalg.norm(e, axis=1) * np.linalg.norm(tt, axis=1))).mean())
    return report


def fit_ridge_head(model: FaceAttributeModel, faces: FaceTable, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form ridge from pooled features to the BMI head's standardised target (training split), fitted on
    the plain crops and on cfg.ridge_views re-framed views of each, so the head holds for other framings."""
    mc = model.config
    idx = faces.where((faces.split == "train") & ~np.isnan(faces.bmi.numpy()))
    gen = torch.Generator().manual_seed(cfg.seed)
    views = [infer(model, faces, idx, with_features=True, aug=aug, gen=gen)["features"]
             for aug in [None] + [cfg.augment] * cfg.ridge_views]
    x = np.concatenate(views).astype(np.float64)
    y = np.tile((faces.bmi.numpy()[idx] - mc.bmi_mean) / mc.bmi_scale, len(views))
    mu = x.mean(0)
    xc = x - mu
    w = np.linalg.solve(xc.T @ xc + cfg.ridge_alpha * len(views) * np.eye(x.shape[1]), xc.T @ (y - y.mean()))
    b = y.mean() - mu @ w
    return torch.tensor(w, dtype=torch.float32).view(1, -1), torch.tensor([b], dtype=torch.float32)


def choose_bmi_head(model: FaceAttributeModel, faces: FaceTable, cfg: TrainConfig) -> bool:
    """Swap in a ridge BMI head if it beats the trained one on validation MAE; True if swapped."""
    before = validate(model, faces).get("bmi", {})
    if "mae" not in before:
        return False  # no validation faces with BMI (a smoke run): keep the trained head
    trained = (model.bmi_head.weight.detach().clone(), model.bmi_head.bias.detach().clone())
    weight, bias = fit_ridge_head(model, faces, cfg)
    with torch.no_grad():
        model.bmi_head.weight.copy_(weight)
        model.bmi_head.bias.copy_(bias)
    after = validate(model, faces)["bmi"]
    log.info("BMI head on validation: trained %s, ridge %s", before, after)
    if after["mae"] < before["mae"]:
        return True
    with torch.no_grad():
        model.bmi_head.weight.copy_(trained[0])
        model.bmi_head.bias.copy_(trained[1])
    return False


# Age decades whose bracket accuracy may not fall more than DECADE_SLACK under the overall (children, over-60s).
GUARDED_DECADES = ("0-9", "10-19", "60-69", "70+")
DECADE_SLACK = 0.10


def bracket_choice_score(true: np.ndarray, pred: np.ndarray, age: np.ndarray) -> tuple[float, dict]:
    """What a bracket head is chosen by: exact accuracy, less how far the worst guarded decade falls more than
    DECADE_SLACK under it (the two age targets in one number); and the per-decade exact accuracies."""
    exact = float((pred == true).mean())
    decades = np.array([age_decade(a) for a in age])
    per_decade = {d: float((pred == true)[decades == d].mean()) for d in sorted(set(decades.tolist()))}
    shortfall = max([0.0] + [exact - DECADE_SLACK - e for d, e in per_decade.items() if d in GUARDED_DECADES])
    return exact - shortfall, per_decade


def choose_bracket_head(model: FaceAttributeModel, faces: FaceTable, cfg: TrainConfig) -> str | None:
    """Refit the bracket head by full-batch L-BFGS on frozen eval-mode features (no dropout, no augmentation),
    for each balance power (faces weighted by count**-power of their source/bracket/race cell) and weight decay
    in the config; keep the head that scores best on validation UTKFace by bracket_choice_score, the trained
    head included unless cfg.bracket_refit_keep_trained is off. SGD with augmentation leaves the head a little off
    the optimum for clean inputs, and the balance that is best for the backbone is not always best for the head.
    This costs a few minutes."""
    train_idx = faces.where((faces.split == "train") & (faces.bracket.numpy() >= 0))
    val_idx = faces.where((faces.split == "validation") & (faces.source == "age-utkface") & ~faces.label_conflict)
    if not len(train_idx) or not len(val_idx):
        return None
    # Fitted on the plain crops and cfg.bracket_refit_views re-framed views of each (as the ridge BMI head), so
    # the refitted head does not undo the invariance the backbone was trained for.
    gen = torch.Generator().manual_seed(cfg.seed)
    views = [None] + [cfg.augment] * cfg.bracket_refit_views
    x = torch.tensor(np.concatenate([infer(model, faces, train_idx, with_features=True, aug=aug, gen=gen)["features"]
                                     for aug in views]))
    y = faces.bracket[train_idx].repeat(len(views))
    x_val = torch.tensor(infer(model, faces, val_idx, with_features=True)["features"])
    y_val, age_val = faces.bracket.numpy()[val_idx], faces.age.numpy()[val_idx]

    def score(head: torch.nn.Linear) -> tuple[float, dict]:
        with torch.no_grad():
            return bracket_choice_score(y_val, head(x_val).argmax(1).numpy(), age_val)

    def head_from(weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Linear:
        head = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            head.weight.copy_(weight)
            head.bias.copy_(bias)
        return head

    # Heads are fitted and scored on the CPU, on the features infer returned; the chosen one is copied back.
    trained = (model.bracket_head.weight.detach().cpu().clone(), model.bracket_head.bias.detach().cpu().clone())
    best_name, (best_score, decades) = None, score(head_from(*trained))
    log.info("bracket head as trained: validation score %.4f, per decade %s", best_score, decades)
    if not cfg.bracket_refit_keep_trained:
        best_score = -math.inf  # a refit replaces it whatever it scores
    best_state = trained
    for power in cfg.bracket_refit_powers:
        # Per-face loss weights of mean 1: the batches' balance at power = cfg.balance_power, none at 0.
        w = torch.tensor(balance_weights(faces.source[train_idx], faces.bracket.numpy()[train_idx],
                                         faces.race[train_idx], power) * len(train_idx), dtype=torch.float32)
        w = w.repeat(len(views))
        for decay in cfg.bracket_refit_decays:
            head = head_from(*trained)
            opt = torch.optim.LBFGS(head.parameters(), max_iter=200, line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                loss = (F.cross_entropy(head(x), y, reduction="none") * w).mean() + decay * head.weight.pow(2).sum()
                loss.backward()
                return loss

            opt.step(closure)
            value, decades = score(head)
            log.info("bracket head refit, balance power %g, decay %g: validation score %.4f, per decade %s",
                     power, decay, value, decades)
            if value > best_score:
                best_name, best_score = f"L-BFGS refit on frozen features, balance power {power:g}, weight decay " \
                                        f"{decay:g}", value
                best_state = (head.weight.detach().clone(), head.bias.detach().clone())
    with torch.no_grad():
        model.bracket_head.weight.copy_(best_state[0])
        model.bracket_head.bias.copy_(best_state[1])
    return best_name


def calibrate_interval(model, faces: FaceTable, level: float) -> dict:
    """From the validation faces: split-conformal half-widths (finite-sample corrected) on log BMI for one face,
    and, over every same-person pair, the change scale (config.bmi_change_scale: the one that gives the estimated
    changes the spread of the true ones, kept within 1-3) and the change interval's half-width in BMI units, its
    conformal scores cross-fitted by person (_cross_fitted_scores)."""
    idx = faces.where((faces.split == "validation") & ~np.isnan(faces.bmi.numpy()))
    if len(idx) < 10:
        raise ValueError(f"calibrating the interval needs 10 validation faces with a BMI or more, not {len(idx)}")
    pred = infer(model, faces, idx)["bmi"]
    bmi = faces.bmi.numpy()
    result = {"log_halfwidth": _conformal(np.abs(np.log(bmi[idx]) - np.log(np.clip(pred, 1.0, None))), level),
              "n": int(len(idx))}
    groups = faces.people(idx)
    pairs = all_pairs(groups, bmi)
    if len(pairs) >= 10:
        full = np.full(len(bmi), np.nan)
        full[idx] = infer_careful(model, faces, idx)["bmi"]  # read as the pair path reads them
        person = np.full(len(bmi), -1)
        for number, members in enumerate(groups):
            person[members] = number
        before, after, true = full[pairs[:, 0]], full[pairs[:, 1]], bmi[pairs[:, 1]] - bmi[pairs[:, 0]]
        scale = _spread_scale(before, after, true)
        change = bmi_change(before, after, dataclasses.replace(model.config, bmi_change_scale=scale))
        # Pairs of one person only (a tiny validation set): no one else to fit on, so in-sample (0 folds, recorded).
        scores, folds = (_cross_fitted_scores(before, after, true, person[pairs[:, 0]], model.config)
                         if len(np.unique(person[pairs[:, 0]])) >= 2 else (None, 0))
        halfwidth, slope = _change_interval(change, true, level, scores)
        result.update(change_scale=round(scale, 4), change_halfwidth=halfwidth, change_halfwidth_slope=slope,
                      change_pairs=int(len(pairs)), change_people=int(len(np.unique(person[pairs[:, 0]]))),
                      change_folds=folds)
    return result


def _spread_scale(before: np.ndarray, after: np.ndarray, true: np.ndarray) -> float:
    """config.bmi_change_scale by spread matching: the scaled differences have the spread of the true changes. It
    sits between the least-squares scale (~1.05 here: still shows about 0.65 of a change) and the one that makes the
    change right on average for a given true change (~1.6: test slope 1.2, and twice the noise of a mirror image)."""
    difference = after - before
    if not difference.any():  # the estimates do not move (an untrained network): nothing to match, no scaling
        return 1.0
    return float(np.clip(np.sqrt(true @ true / (difference @ difference)), 1.0, 3.0))


def _error_model(change: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """The squared error of the change modelled as a + b * change^2 (least squares, a > 0, b >= 0). Where the error
    does not grow with the change (b would be negative), b = 0: one width for every change, as in format 1-5."""
    error2 = (change - true) ** 2
    a, b = np.linalg.lstsq(np.stack([np.ones_like(change), change ** 2], 1), error2, rcond=None)[0]
    if b < 0 or a <= 0:
        return float(error2.mean()), 0.0
    return float(a), float(b)


def _change_interval(change: np.ndarray, true: np.ndarray, level: float,
                     scores: np.ndarray | None = None) -> tuple[float, float]:
    """Normalised split-conformal interval for the change (pair.change_halfwidth): the error model (a, b) fitted on
    the pairs, the conformal quantile q of the normalised errors |change - true| / sqrt(a + b * change^2) ->
    (q * sqrt(a), q * sqrt(b)). scores: those normalised errors computed elsewhere (_cross_fitted_scores); by
    default on the same pairs, which covers less than `level` on new people."""
    a, b = _error_model(change, true)
    q = _conformal(_normalised_errors(change, true, a, b) if scores is None else scores, level)
    return round(q * math.sqrt(a), 4), round(q * math.sqrt(b), 4)


def _cross_fitted_scores(before: np.ndarray, after: np.ndarray, true: np.ndarray, person: np.ndarray,
                         config: ModelConfig, folds: int = 5) -> tuple[np.ndarray, int]:
    """Each pair's normalised error with the scale and the error model fitted on other people's pairs (people in
    `folds` folds, at random with a fixed seed), and the number of folds used. Fitted on the very pairs whose
    quantile is then taken, scale and error model are tuned to them and the interval covers less than its level
    on new people: on v11's 75 validation pairs (53 people), leave-one-person-out coverage of the 80% interval was
    78.7% fitted in-sample and 82.7% cross-fitted (docs/measurements/2026-12-07e)."""
    people = np.unique(person)
    if len(people) < 2:
        raise ValueError(f"cross-fitting the change interval needs pairs of two people or more, not {len(people)}")
    folds = min(folds, len(people))
    fold_of = dict(zip(people[np.random.default_rng(0).permutation(len(people))], np.arange(len(people)) % folds))
    fold = np.array([fold_of[p] for p in person])
    scores = np.empty(len(true))
    for k in range(folds):
        held = fold == k
        scale = _spread_scale(before[~held], after[~held], true[~held])
        fitted = dataclasses.replace(config, bmi_change_scale=scale)
        a, b = _error_model(bmi_change(before[~held], after[~held], fitted), true[~held])
        scores[held] = _normalised_errors(bmi_change(before[held], after[held], fitted), true[held], a, b)
    return scores, folds


def _normalised_errors(change: np.ndarray, true: np.ndarray, a: float, b: float) -> np.ndarray:
    """|change - true| in units of the error model's spread for that change (_error_model)."""
    return np.abs(change - true) / np.sqrt(a + b * change ** 2)


def _conformal(scores: np.ndarray, level: float) -> float:
    scores = np.sort(scores)
    k = min(len(scores) - 1, math.ceil((len(scores) + 1) * level) - 1)
    return float(scores[k])


def train(cfg: TrainConfig, resume: bool = False, pause_at_step: int | None = None,
          pause_after_minutes: float | None = None) -> Path:
    """Train, finalize and save the model to cfg.out; returns that folder. resume: go on from the checkpoint in
    cfg.out (training/learn/checkpoint.py). The run pauses, writing its checkpoint and returning that file's path
    instead, after step `pause_at_step` or once this sitting has run `pause_after_minutes`."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    faces = load_faces(cfg.faces)
    train_idx = faces.where(faces.split == "train")
    bmi_idx = faces.where((faces.split == "train") & ~np.isnan(faces.bmi.numpy()))
    bmi_mean = float(np.nanmean(faces.bmi.numpy()[bmi_idx]))
    log.info("faces: %d train (%d with BMI), mean BMI %.2f", len(train_idx), len(bmi_idx), bmi_mean)

    model = FaceAttributeModel(ModelConfig(bmi_mean=round(bmi_mean, 3)))
    saved = load_checkpoint(cfg.out, cfg) if resume else None
    if saved:
        model.load_state_dict(saved["model"])
        model.config = dataclasses.replace(model.config, training=saved["training_record"])
        log.info("resuming %s after step %d", cfg.out, saved["step"])
    elif cfg.init:
        start = FaceAttributeModel.from_folder(cfg.init)
        if start.config.members != 1 or start.config.bmi_mean != model.config.bmi_mean:
            raise ValueError(f"--init {cfg.init}: a single network trained on the same faces is needed")
        model.load_state_dict(start.state_dict())
        earlier, as_trained = start.config.training.get("train_config", {}), start.config.training.get("as_trained")
        model.config = dataclasses.replace(model.config, training={"continued_from": {
            "folder": cfg.init, "steps": earlier.get("steps"), "seed": earlier.get("seed"),
            "minutes": start.config.training.get("minutes"),
            "continued_from": start.config.training.get("continued_from"),  # the whole chain of runs
            # a network split from an ensemble (ensemble --split): the record it was shipped with
            **({"as_trained": as_trained} if as_trained else {})}})
        log.info("continuing from %s", cfg.init)
    else:
        model.load_imagenet_backbone(cfg.imagenet_weights)
    model = model.to(cfg.device, memory_format=torch.channels_last).train()
    backbone = list(model.backbone.parameters())
    heads = [p for n, p in model.named_parameters() if not n.startswith("backbone.")]
    opt = torch.optim.AdamW([{"params": backbone, "lr_factor": cfg.backbone_lr_factor},
                             {"params": heads, "lr_factor": 1.0}], lr=cfg.lr, weight_decay=cfg.weight_decay)
    weights = {"distill": cfg.w_distill, "bmi": cfg.w_bmi, "pair": cfg.w_pair, "bracket": cfg.w_bracket,
               "age": cfg.w_age, "consistency": cfg.w_consistency}
    n_bmi = round(cfg.batch_size * cfg.bmi_batch_share)
    groups = faces.people(bmi_idx)
    n_pairs = min(n_bmi // 4, n_bmi // 2 if groups else 0)  # half the BMI faces come as pairs
    balanced = balance_weights(faces.source[train_idx], faces.bracket.numpy()[train_idx], faces.race[train_idx],
                               cfg.balance_power)
    log.info("%d same-person groups for the pair loss; %d pairs a batch", len(groups), n_pairs)
    log.info("training steps in %s", "bf16" if uses_bf16(cfg.precision, torch.device(cfg.device)) else "fp32")
    history, running, first_step, started = [], {}, 0, time.time()
    if saved:
        opt.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["torch_rng"])
        gen.set_state(saved["generator"])
        rng.bit_generator.state = saved["numpy_rng"]
        history, running, first_step = saved["history"], saved["running"], saved["step"]
        started -= saved["minutes"] * 60  # the record's minutes count every sitting
    sitting = time.time()
    for step in range(first_step, cfg.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg) * group["lr_factor"]
        idx = np.concatenate([draw_pairs(groups, n_pairs, rng).reshape(-1) if n_pairs else np.zeros(0, np.int64),
                              rng.choice(bmi_idx, n_bmi - 2 * n_pairs),
                              rng.choice(train_idx, cfg.batch_size - n_bmi, p=balanced)])
        losses = batch_losses(model, faces, idx, cfg, gen, n_pairs)
        total = sum(weights[k] * v for k, v in losses.items())
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        for k, v in losses.items():
            value = float(v.detach())
            running[k] = 0.98 * running.get(k, value) + 0.02 * value
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            report = validate(model, faces)
            report.update(step=step + 1, minutes=round((time.time() - started) / 60, 1),
                          train_loss={k: round(v, 4) for k, v in running.items()})
            history.append(report)
            log.info("%s", report)
        done = step + 1
        pause = done < cfg.steps and (done == pause_at_step or (
            pause_after_minutes is not None and time.time() - sitting >= pause_after_minutes * 60))
        if pause or (cfg.checkpoint_every and done % cfg.checkpoint_every == 0 and done < cfg.steps):
            path = save_checkpoint(cfg.out, cfg, done, model, opt, gen, rng, history, running,
                                   (time.time() - started) / 60)
            if pause:
                log.info("paused after step %d of %d: python -m training.learn.train --resume %s", done, cfg.steps,
                         cfg.out)
                return path

    finalize(model, faces, cfg, started=started, history=history)
    folder = model.save_pretrained(cfg.out)
    checkpoint_path(cfg.out).unlink(missing_ok=True)  # the run is whole: nothing left to resume
    return folder


def finalize(model: FaceAttributeModel, faces: FaceTable, cfg: TrainConfig, started: float | None = None,
             history: list | None = None, refit_heads: bool = True) -> None:
    """Post-training steps chosen on validation: refit heads on frozen features, calibrate the interval,
    and record what was done in the config. Also runnable on a saved model (`--finalize FOLDER`), or only the
    calibration with the heads kept (`--calibrate-only FOLDER`: a new pair read or interval_level)."""
    started = started or time.time()
    use_ridge = refit_heads and choose_bmi_head(model, faces, cfg)
    bracket_refit = choose_bracket_head(model, faces, cfg) if refit_heads else None
    interval = None
    model.config = dataclasses.replace(model.config, pair_read_mirror=cfg.pair_read_mirror,
                                       pair_read_shift=cfg.pair_read_shift)  # before the change is calibrated
    if (faces.split[~np.isnan(faces.bmi.numpy())] == "validation").sum() >= 10:
        interval = calibrate_interval(model, faces, cfg.interval_level)
    earlier = model.config.training
    summary = {
        # A finalize-only run keeps the training run's settings and adds the post-training ones it used.
        "train_config": config_record(cfg) if history is not None else earlier.get("train_config"),
        "finalized_with": None if history is not None else plain_json(
            {k: getattr(cfg, k) for k in ("ridge_alpha", "ridge_views", "bracket_refit_powers",
                                          "bracket_refit_decays", "bracket_refit_views", "interval_level", "pair_read_mirror",
                                          "pair_read_shift", "seed")} | {"heads_refit": refit_heads}),
        "data": {s: int((faces.source == s).sum()) for s in np.unique(faces.source)},
        "split": "by person/group id hash (training/splits.py): 70% train, 15% validation, 15% test",
        "bmi_head": "ridge on pooled features" if use_ridge else
        ("trained" if history is not None else earlier.get("bmi_head", "trained")),
        # A finalize-only run that keeps the head it found keeps that head's description (it may be a refit).
        "bracket_head": bracket_refit or ("trained" if history is not None else earlier.get("bracket_head", "trained")),
        "continued_from": earlier.get("continued_from"),
        "history": history if history is not None else earlier.get("history"),
        "interval_calibration": interval,
        "minutes": round((time.time() - started) / 60, 1) if history is not None else earlier.get("minutes"),
    }
    # Written in this code's config format (a finalize-only run may start from an older one: its fields keep
    # their values, and bmi_change_scale is new in format 3).
    model.config = dataclasses.replace(model.config, format_version=CONFIG_FORMAT_VERSION,
                                       bmi_interval_level=cfg.interval_level,
                                       bmi_interval_log_halfwidth=round(interval["log_halfwidth"], 5) if interval else 0.0,
                                       bmi_change_halfwidth=interval.get("change_halfwidth", 0.0) if interval else 0.0,
                                       bmi_change_halfwidth_slope=interval.get("change_halfwidth_slope", 0.0) if interval else 0.0,
                                       bmi_change_scale=interval.get("change_scale", 1.0) if interval else 1.0,
                                       training=summary)
    summary["validation"] = validate(model, faces)  # with the final heads, interval and change scale
    log.info("BMI head: %s; bracket head: %s; interval %s; validation %s", "ridge" if use_ridge else "trained",
             bracket_refit or "trained", interval, summary["validation"])
    model.eval().to(memory_format=torch.contiguous_format)


def _yes_no(text: str) -> bool:
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def parse_args(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    """The command line as a TrainConfig (one flag per setting: --bracket-refit-powers 0.25 sets a tuple) and the
    rest of the arguments (--finalize, --calibrate-only)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig()
    settings = [(f.name, getattr(defaults, f.name)) for f in dataclasses.fields(TrainConfig) if f.name != "augment"]
    # The augmentation's settings as --augment-NAME (e.g. --augment-noise 0.2), gathered back into an AugmentSpec.
    settings += [("augment_" + f.name, getattr(defaults.augment, f.name)) for f in dataclasses.fields(AugmentSpec)]
    for name, default in settings:
        if isinstance(default, tuple):  # e.g. --bracket-refit-powers 0.25 0.5
            parser.add_argument("--" + name.replace("_", "-"), type=type(default[0]), nargs="+", default=default)
            continue
        kind = _yes_no if isinstance(default, bool) else type(default)  # bool("False") is True
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default)
    saved = parser.add_mutually_exclusive_group()
    saved.add_argument("--finalize", type=Path, metavar="MODEL",
                       help="only redo the post-training steps on a saved model folder, written to --out")
    saved.add_argument("--calibrate-only", type=Path, metavar="MODEL",
                       help="only recalibrate the intervals (heads kept) of a saved model folder, written to --out")
    saved.add_argument("--resume", type=Path, metavar="FOLDER",
                       help="go on with the paused or interrupted run whose checkpoint is in FOLDER, with the settings "
                            "it was started with (only --threads and --device may change)")
    parser.add_argument("--pause-at-step", type=int, metavar="N",
                        help="stop after step N, writing a checkpoint to resume from (--resume)")
    parser.add_argument("--pause-after-minutes", type=float, metavar="M",
                        help="stop after M minutes of steps in this sitting, writing a checkpoint to resume from")
    args = parser.parse_args(argv)
    run_only = ("finalize", "calibrate_only", "resume", "pause_at_step", "pause_after_minutes")
    if args.resume:
        return saved_config(args.resume, threads=args.threads, device=args.device), args
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items() if k not in run_only}
    augment = AugmentSpec(**{k.removeprefix("augment_"): values.pop(k)
                             for k in list(values) if k.startswith("augment_")})
    return TrainConfig(**values, augment=augment), args


def main(argv=None):
    cfg, args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    finalize_only = args.finalize or args.calibrate_only
    if finalize_only:
        torch.set_num_threads(cfg.threads)
        model = FaceAttributeModel.from_folder(finalize_only).to(cfg.device)
        finalize(model, load_faces(cfg.faces), cfg, refit_heads=args.calibrate_only is None)
        print(model.save_pretrained(cfg.out))
    else:
        print(train(cfg, resume=args.resume is not None, pause_at_step=args.pause_at_step,
                    pause_after_minutes=args.pause_after_minutes))


if __name__ == "__main__":
    main()
