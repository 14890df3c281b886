"""Live tab speed on CPU: per-frame server time of the face tracker (facebmi/live.py) on a 640x480 clip with one
face, how often it searched the whole frame and ran the network, against the photo path on the same frames.

    python -m benchmarks.live [--frames 100] [--threads 2] [--repeats 3] [--model PATH_OR_REPO]

The clip is made from scikit-image's public-domain astronaut: her face moves and zooms a little from frame to
frame (`astronaut_clip`, also used by tests/test_live.py and benchmarks/live_browser.py). "with codec" adds what
the app does around the tracker for each frame: decode the JPEG the page sends, encode the JPEG it sends back.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import math
import time

import numpy as np
import torch
from PIL import Image

from facebmi.draw import annotate
from facebmi.live import LiveTracker, data_url, frame_bytes
from facebmi.predictor import Predictor

# Where the astronaut's face is in scikit-image's 512x512 picture (the detector's box), and its centre.
FACE_CENTRE = (224.0, 118.0)


def astronaut_clip(frames: int = 100, size: tuple[int, int] = (640, 480), zoom: float = 1.7,
                   sway_px: float = 20.0) -> list[Image.Image]:
    """`frames` RGB frames of the astronaut, her face ~150 px wide, drifting sideways by up to sway_px source
    pixels (~2 face widths a second at 15 fps at most 5 px a frame), up and down by half that, and zooming by
    +-6%: the slow, small movements of a person in front of a webcam. Every view stays inside the photo."""
    from skimage import data

    source = Image.fromarray(data.astronaut())
    width, height = size
    clip = []
    for t in range(frames):
        z = zoom + 0.1 * math.sin(2 * math.pi * t / 50)
        cx = FACE_CENTRE[0] + sway_px * math.sin(2 * math.pi * t / 40)
        cy = FACE_CENTRE[1] + 47 + sway_px / 2 * math.sin(2 * math.pi * t / 60)
        # Output pixel (u, v) shows source pixel (cx + (u - W/2) / z, cy + (v - H/2) / z).
        matrix = (1 / z, 0, cx - width / 2 / z, 0, 1 / z, cy - height / 2 / z)
        clip.append(source.transform(size, Image.AFFINE, matrix, Image.BILINEAR))
    return clip


def write_y4m(frames: list[Image.Image], path, fps: int = 30) -> None:
    """The frames as an uncompressed YUV4MPEG2 video (4:2:0, full-range BT.601 as JPEG uses), the format Chromium's
    fake camera plays (--use-file-for-fake-video-capture); it loops the file."""
    width, height = frames[0].size
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".encode())
        for frame in frames:
            y, cb, cr = frame.convert("YCbCr").split()
            out.write(b"FRAME\n" + y.tobytes())
            for chroma in (cb, cr):
                out.write(chroma.resize((width // 2, height // 2), Image.BOX).tobytes())


def jpeg_data_url(image: Image.Image) -> str:
    """A frame as the page sends it: canvas.toDataURL('image/jpeg') (quality 0.92 in Chromium)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def percentiles_ms(samples: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(samples, 50)) * 1000, 1),
            "p95": round(float(np.percentile(samples, 95)) * 1000, 1)}


def run_tracker(predictor: Predictor, clip: list[Image.Image], frames) -> tuple[list[float], list]:
    """Per-frame seconds and LiveFrames of one fresh tracker over the clip; `frames` makes each input."""
    tracker = LiveTracker(predictor)
    times, results = [], []
    for i in range(len(clip)):
        frame = frames(i)
        t = time.perf_counter()
        results.append(tracker.process(frame))
        times.append(time.perf_counter() - t)
    return times, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="passes over the clip, each with a fresh tracker")
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    predictor = Predictor.from_pretrained(args.model, device="cpu")
    clip = astronaut_clip(args.frames)
    arrays = [np.asarray(frame) for frame in clip]  # what gr.Image(type="numpy") would hand over
    urls = [jpeg_data_url(frame) for frame in clip]
    LiveTracker(predictor).process(arrays[0])  # warm-up: first calls pay for lazy initialisation

    tracker_s, codec_s, results = [], [], []
    for _ in range(args.repeats):
        times, frames = run_tracker(predictor, clip, lambda i: arrays[i])
        tracker_s += times
        results += frames
        tracker = LiveTracker(predictor)
        for url in urls:  # the app's whole per-frame work: data: URL in, tracker, data: URL out
            t = time.perf_counter()
            data_url(tracker.process(frame_bytes(url)).image)
            codec_s.append(time.perf_counter() - t)

    # Re-finding a known face (facebmi/redetect.py) against the full detector, frame by frame: time and where the
    # landmarks land, in eye distances from the full detector's on the same frame.
    near_s, full_s, landmark_err = [], [], []
    tracker = LiveTracker(predictor)
    previous = predictor.detector.detect(clip[0])[0]
    for frame in clip[1:]:
        t = time.perf_counter()
        near = tracker.find_near(frame, previous.box)
        near_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        full = predictor.detector.detect(frame)
        full_s.append(time.perf_counter() - t)
        if near is not None and full:
            eyes = np.linalg.norm(full[0].landmarks[0] - full[0].landmarks[1])
            landmark_err.append(float(np.abs(near.landmarks - full[0].landmarks).max() / eyes))
            previous = full[0]

    photo_s = []
    for frame in clip[:max(10, args.frames // args.repeats)]:
        t = time.perf_counter()
        annotate(frame, predictor.predict(frame))
        photo_s.append(time.perf_counter() - t)

    one_face = sum(len(r.tracks) == 1 for r in results)
    report = {
        "threads": args.threads, "frames": len(results), "frame_size": list(clip[0].size),
        "tracker_ms": percentiles_ms(tracker_s),
        "tracker_with_codec_ms": percentiles_ms(codec_s),
        "photo_path_ms": percentiles_ms(photo_s),
        "find_near_ms": percentiles_ms(near_s), "full_frame_detect_ms": percentiles_ms(full_s),
        "find_near_found": f"{len(landmark_err)}/{len(near_s)}",
        "find_near_landmark_error_eye_distances": {"mean": round(float(np.mean(landmark_err)), 3),
                                                   "max": round(float(np.max(landmark_err)), 3)},
        "share_full_detection": round(sum(r.full_detection for r in results) / len(results), 3),
        "share_network_ran": round(sum(r.faces_read > 0 for r in results) / len(results), 3),
        "share_frames_with_one_face_drawn": round(one_face / len(results), 3),
        "track_ids_seen": sorted({t.track_id for r in results for t in r.tracks}),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
