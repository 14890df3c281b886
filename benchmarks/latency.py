"""End-to-end latency on CPU: a 640x480 photo with 1 and with 4 faces, split into detection and model time,
plus batch throughput, compared with facenet-pytorch's MTCNN alone on the full-size photo (the speed bar).

    python -m benchmarks.latency [--repeats 50] [--threads 2] [--model PATH_OR_REPO]

The photos are built from scikit-image's public-domain astronaut, so the numbers are reproducible anywhere.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from facenet_pytorch import MTCNN
from PIL import Image

from facebmi.align import crop_faces
from facebmi.predictor import Predictor


def test_photos() -> dict[str, Image.Image]:
    """Real-photo texture (the astronaut, her suit, the flag) rather than flat fills: MTCNN's cost depends on
    how many candidate windows the background produces, so a plain canvas would flatter every number."""
    from skimage import data

    face = Image.fromarray(data.astronaut())
    one = face.resize((640, 640), Image.BICUBIC).crop((0, 0, 640, 480))
    four = Image.new("RGB", (640, 480))
    cell = face.resize((320, 320), Image.BICUBIC).crop((0, 0, 320, 240))
    for i in range(4):
        four.paste(cell, ((i % 2) * 320, (i // 2) * 240))
    return {"1 face 640x480": one, "4 faces 640x480": four}


def percentile_ms(samples: list[float], q: float) -> float:
    return round(float(np.percentile(samples, q)) * 1000, 1)


def time_interleaved(fns: dict, repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each function, the functions taking turns (one call each per round): a virtual
    machine's speed drifts by 10-30% over seconds, and taking turns lets every function see the same drift,
    so their ratios hold even when the absolute times move."""
    for fn in fns.values():
        fn()  # warm-up: first calls pay for lazy initialisation
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    predictor = Predictor.from_pretrained(args.model, device="cpu")
    # The bar: facenet-pytorch's MTCNN as it ships (our detector runs the same stages faster, mtcnn_stages.py;
    # timing predictor.detector.mtcnn.detect would time our faster networks, not the bar).
    stock_mtcnn = MTCNN(keep_all=True, select_largest=False, device="cpu")
    report = {"threads": args.threads, "repeats": args.repeats, "detect_max_side": predictor.config.detect.max_side}
    for name, photo in test_photos().items():
        detections = predictor.detector.detect(photo)
        crops = crop_faces(photo, [d.landmarks for d in detections], predictor.config.crop)
        times = time_interleaved({
            "total": lambda: predictor.predict(photo),
            "detect": lambda: predictor.detector.detect(photo),
            "crop": lambda: crop_faces(photo, [d.landmarks for d in detections], predictor.config.crop),
            "model": lambda: predictor.infer_crops(crops),
            "bar": lambda: stock_mtcnn.detect(photo),
        }, args.repeats)
        report[name] = {
            "faces_found": len(detections),
            "end_to_end_ms": {"p50": percentile_ms(times["total"], 50), "p95": percentile_ms(times["total"], 95)},
            "detect_ms_p50": percentile_ms(times["detect"], 50), "crop_ms_p50": percentile_ms(times["crop"], 50),
            "model_ms_p50": percentile_ms(times["model"], 50),
            "bar_mtcnn_alone_full_size_ms_p50": percentile_ms(times["bar"], 50),
            "ratio_to_bar_p50": round(float(np.median(times["total"]) / np.median(times["bar"])), 2),
        }
    # Batch mode (the CLI): images per second over a list of photos, load + detect + crop + model.
    photos = list(test_photos().values()) * 10
    t = time.perf_counter()
    for photo in photos:
        predictor.predict(photo)  # predict runs load_image itself
    report["batch_images_per_second"] = round(len(photos) / (time.perf_counter() - t), 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
