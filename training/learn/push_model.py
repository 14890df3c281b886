"""Publish a trained model on the Hugging Face Hub: weights, config.json and a model card, in one commit.

    HF_TOKEN=... python -m training.learn.push_model --model runs/default --repo ORG/NAME \
        [--metrics metrics.json] [--dataset-repo ORG/DATA] [--public] [--license cc-by-nc-4.0]

The model is loaded before anything is sent, so a broken folder is never published. The repo is created
private unless --public (an existing repo keeps its visibility). Pushing an unchanged model makes no commit.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from facebmi.model import WEIGHTS_NAME, FaceAttributeModel
from training.hub import HubPushError, push_files

CARD_FIGURES = ("bmi_calibration.svg", "mean_occlusion_map.png")
from training.learn.model_card import DEFAULT_LICENSE, render_model_card


def push_model(model_dir: str | Path, repo_id: str, *, metrics: dict | None = None,
               dataset_repo: str | None = None, private: bool = True, license: str = DEFAULT_LICENSE,
               commit_message: str = "Upload facebmi model"):
    model_dir = Path(model_dir)
    try:
        config = FaceAttributeModel.from_folder(model_dir).config  # refuses a missing or corrupt model
    except (FileNotFoundError, ValueError) as err:
        raise HubPushError(f"not pushing {model_dir}: {err}") from None
    from huggingface_hub import constants

    robustness = model_dir / "robustness_test.json"  # training.learn.robustness's output, when saved beside the model
    card = render_model_card(config, metrics, repo_id=repo_id, dataset_repo=dataset_repo,
                             endpoint=constants.ENDPOINT, license=license,
                             robustness=json.loads(robustness.read_text()) if robustness.is_file() else None)
    files = {WEIGHTS_NAME: model_dir / WEIGHTS_NAME, "config.json": model_dir / "config.json",
             "README.md": card.encode()}
    for figure in CARD_FIGURES:  # pictures the card shows, made by training.learn.model_card beside the weights
        if (model_dir / figure).is_file():
            files[figure] = model_dir / figure
    return push_files(files, repo_id, repo_type="model", private=private, commit_message=commit_message)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="folder with model.safetensors + config.json")
    parser.add_argument("--repo", required=True, help="Hub repo id, ORG/NAME")
    parser.add_argument("--metrics", type=Path, help="JSON written by python -m training.learn.evaluate")
    parser.add_argument("--dataset-repo", help="the dataset repo the model card links to, ORG/DATA")
    parser.add_argument("--public", action="store_true", help="create the repo public (default: private)")
    parser.add_argument("--license", default=DEFAULT_LICENSE, help=f"Hub license id (default {DEFAULT_LICENSE})")
    parser.add_argument("--message", default="Upload facebmi model", help="commit message")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # not INFO: httpx would log every request
    logging.getLogger("training").setLevel(logging.INFO)
    if "/" not in args.repo:
        parser.error("--repo must be ORG/NAME")
    metrics = None
    if args.metrics:
        try:
            metrics = json.loads(args.metrics.read_text())
        except (OSError, json.JSONDecodeError) as err:
            parser.error(f"cannot read --metrics {args.metrics}: {err}")
    try:
        result = push_model(args.model, args.repo, metrics=metrics, dataset_repo=args.dataset_repo,
                            private=not args.public, license=args.license, commit_message=args.message)
    except HubPushError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(result.report_lines(asked_public=args.public)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
