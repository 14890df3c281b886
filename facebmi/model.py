"""The network: a MobileNetV2 backbone shared by four small heads, saved as safetensors + config.json.

Heads: BMI (regression), age bracket (8 logits), age in years (regression, trained on exact ages), and a
128-d face embedding trained to mimic dlib's face descriptor (distillation; see training/learn/train.py).
With `config.members > 1` the model is an ensemble of independently trained networks whose outputs are
averaged (FaceAttributeEnsemble); both load through `FaceAttributeModel.from_folder`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, fields, replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models import mobilenet_v2

from .config import ModelConfig

WEIGHTS_NAME = "model.safetensors"


@dataclass
class ModelOutput:
    bmi: torch.Tensor  # (N,) BMI in kg/m^2
    bracket_logits: torch.Tensor  # (N, 8) in config.age_brackets order
    age_years: torch.Tensor  # (N,) years
    embedding: torch.Tensor  # (N, embedding_dim), unnormalised

    def rows(self, index) -> "ModelOutput":
        """The outputs of some faces only (a slice, a mask or positions)."""
        return ModelOutput(*(getattr(self, f.name)[index] for f in fields(ModelOutput)))


class FaceAttributeModel(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.backbone != "mobilenet_v2":
            raise ValueError(f"unknown backbone {config.backbone!r}; this facebmi builds 'mobilenet_v2'")
        self.config = config
        self.backbone = mobilenet_v2(weights=None).features
        self.dropout = nn.Dropout(config.dropout)
        self.bmi_head = nn.Linear(config.feature_dim, 1)
        self.bracket_head = nn.Linear(config.feature_dim, len(config.age_brackets))
        self.age_head = nn.Linear(config.feature_dim, 1)
        self.embedding_head = nn.Linear(config.feature_dim, config.embedding_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.backbone(x).mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> ModelOutput:
        return self.heads(self.features(x))

    def heads(self, f: torch.Tensor) -> ModelOutput:
        """The four heads' outputs from pooled features."""
        c = self.config
        return ModelOutput(
            bmi=self.bmi_head(f).squeeze(1) * c.bmi_scale + c.bmi_mean,
            bracket_logits=self.bracket_head(f),
            age_years=self.age_head(f).squeeze(1) * c.age_scale,
            embedding=self.embedding_head(f),
        )

    def load_imagenet_backbone(self, path: str | Path) -> None:
        """Start the backbone from torchvision's ImageNet MobileNetV2 checkpoint (training only)."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        backbone = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        self.backbone.load_state_dict(backbone)

    def save_pretrained(self, folder: str | Path) -> Path:
        return save_model(self, folder)

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | torch.device = "cpu") -> nn.Module:
        """The model in a folder: a FaceAttributeModel, or a FaceAttributeEnsemble if config.members > 1."""
        return load_model_folder(folder, device)


class FaceAttributeEnsemble(nn.Module):
    """Several FaceAttributeModels with the same preprocessing; outputs are averaged (probabilities for the
    brackets). Independent networks err differently on unfamiliar faces, so the average generalises better."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        member_config = replace(config, members=1, training={})
        self.members = nn.ModuleList(FaceAttributeModel(member_config) for _ in range(config.members))

    @classmethod
    def from_members(cls, models: list[FaceAttributeModel], config: ModelConfig) -> "FaceAttributeEnsemble":
        ensemble = cls(replace(config, members=len(models)))
        for target, source in zip(ensemble.members, models):
            target.load_state_dict(source.state_dict())
        return ensemble

    def forward(self, x: torch.Tensor) -> ModelOutput:
        outs = [m(x) for m in self.members]
        probs = torch.stack([o.bracket_logits.float().softmax(1) for o in outs]).mean(0)
        return ModelOutput(
            bmi=torch.stack([o.bmi for o in outs]).mean(0),
            bracket_logits=probs.clamp_min(1e-12).log(),  # softmax of these = the averaged probabilities
            age_years=torch.stack([o.age_years for o in outs]).mean(0),
            embedding=torch.stack([o.embedding for o in outs]).mean(0),
        )

    def save_pretrained(self, folder: str | Path) -> Path:
        return save_model(self, folder)


def infer_outputs(model: nn.Module, x: torch.Tensor, with_features: bool = False):
    """Inference outputs for normalised crops x: the model's own, or with config.flip_average the mean over
    x and its mirror image (bracket probabilities averaged). with_features (a single network): also its pooled
    features, averaged the same way, as (ModelOutput, features)."""
    views = [x, x.flip(3)] if model.config.flip_average else [x]
    # Both views in one forward pass (eval mode: each crop's outputs do not depend on the others in the batch):
    # about a quarter faster than two passes for one face on 2 CPU cores.
    batch = torch.cat(views) if len(views) > 1 else x
    # With features wanted, the backbone still runs once: the heads read the same pooled features.
    features = model.features(batch) if with_features else None
    joint = model.heads(features) if with_features else model(batch)
    outs = [joint.rows(slice(k * len(x), (k + 1) * len(x))) for k in range(len(views))]
    probs = torch.stack([o.bracket_logits.float().softmax(1) for o in outs]).mean(0)
    out = ModelOutput(
        bmi=torch.stack([o.bmi for o in outs]).mean(0),
        bracket_logits=probs.clamp_min(1e-12).log() if len(outs) > 1 else outs[0].bracket_logits,
        age_years=torch.stack([o.age_years for o in outs]).mean(0),
        embedding=torch.stack([o.embedding for o in outs]).mean(0),
    )
    if not with_features:
        return out
    return out, torch.stack([features[k * len(x):(k + 1) * len(x)] for k in range(len(views))]).mean(0)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An inference copy of `model` in eval mode with every BatchNorm folded into the convolution just before it
    (MobileNetV2's conv, BN, ReLU6 blocks): the same outputs to ~1e-6, in about 3/4 of the time for one face and
    half for a batch of 8 on CPU (benchmarks/latency.py). Not for training: the copy has no BatchNorm left."""
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for first, second in zip(names, names[1:]):
                conv, norm = module._modules[first], module._modules[second]
                if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                    module._modules[first] = fuse_conv_bn_eval(conv, norm)
                    module._modules[second] = nn.Identity()
    return folded


def save_model(model: nn.Module, folder: str | Path) -> Path:
    """model.safetensors (float tensors stored as float16: half the size, no measurable change in outputs)
    and config.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() else v).detach().contiguous().cpu()
             for k, v in model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
    model.config.save(folder)
    return folder


def load_model_folder(folder: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    folder = Path(folder)
    config = ModelConfig.load(folder)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"no {WEIGHTS_NAME} in {folder}")
    try:
        state = load_file(str(weights), device="cpu")
    except Exception as err:  # safetensors raises its own error types for truncated or garbled files
        raise ValueError(f"{weights} is corrupt or incomplete ({err}): download it again") from None
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model = FaceAttributeEnsemble(config) if config.members > 1 else FaceAttributeModel(config)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # a tensor of the wrong shape: weights and config.json disagree
        raise ValueError(f"{weights} does not match config.json ({str(err).splitlines()[-1].strip()})"
                         ) from None
    if missing or unexpected:
        raise ValueError(f"{weights} does not match config.json: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}")
    return model.to(device).eval()
