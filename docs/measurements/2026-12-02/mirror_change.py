"""How much a photo and its mirror image (each saved as JPEG quality 92, as a user would) differ in BMI, per
careful-read setting (config.pair_read_mirror, pair_read_shift; Predictor.predict_careful, the app's pair read),
on validation photos: issue 9 asks that their before/after change stay within 1 BMI.
Usage: PYTHONPATH=. python mirror_change.py MODEL FOLDER [--n 80]"""
import argparse, dataclasses, io, json
import numpy as np, torch
from PIL import Image, ImageOps
from facebmi.detect import main_face
from facebmi.images import load_image
from facebmi.loading import load_model
from facebmi.predictor import Predictor
from training.sources import read_folder
from training.splits import split_of

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("folder")
parser.add_argument("--n", type=int, default=80)
args = parser.parse_args()
torch.set_num_threads(2)
SETTINGS = ((False, 0), (False, 1), (True, 0), (True, 1), (True, 2))
model = load_model(args.model)
predictors = {}
for mirror, shift in SETTINGS:
    model.config = dataclasses.replace(model.config, pair_read_mirror=mirror, pair_read_shift=shift)
    predictors[(mirror, shift)] = Predictor(model, device="cpu")


def jpeg(image):
    b = io.BytesIO(); image.save(b, "JPEG", quality=92); b.seek(0); return Image.open(b).convert("RGB")


def reads(image):
    face = main_face(predictors[SETTINGS[0]].detector.detect(image))
    if face is None:
        return None
    return {s: p.predict_careful(image, [face])[0].bmi for s, p in predictors.items()}


rows = [r for r in read_folder(args.folder) if split_of(r.group) == "validation"][:args.n]
gaps = {s: [] for s in SETTINGS}
for r in rows:
    image = load_image(r.path)
    a, b = reads(jpeg(image)), reads(jpeg(ImageOps.mirror(image)))
    if a is None or b is None:
        continue
    for s in SETTINGS:
        gaps[s].append(b[s] - a[s])
scale = model.config.bmi_change_scale
print(json.dumps({"model": args.model, "change_scale": scale, "photos": len(gaps[SETTINGS[0]]), "reads": {
    f"mirror={m} shift={s}": {"mean_abs_bmi_gap": round(float(np.mean(np.abs(g))), 3),
                              "p90_abs_bmi_gap": round(float(np.percentile(np.abs(g), 90)), 3),
                              "share_change_over_1_bmi": round(float(np.mean(np.abs(np.array(g)) * scale > 1)), 3)}
    for (m, s), g in gaps.items()}}, indent=1))
