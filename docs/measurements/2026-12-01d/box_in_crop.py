"""Where the detector's box (and the robustness benchmark's cuts) fall in crop coordinates (half-widths about
the crop centre), on validation photos of each source."""
import sys, numpy as np, torch
torch.set_num_threads(1)
from PIL import Image
from facebmi.detect import FaceDetector
from facebmi.align import similarity_transform, template_points
from facebmi.config import CropSpec
from facebmi.images import load_image
from training.sources import read_folder
from training.splits import split_of
spec = CropSpec()
det = FaceDetector()
for folder in sys.argv[1:]:
    rows = [r for r in read_folder(folder) if split_of(r.group) == "validation"][:25]
    out = []
    for r in rows:
        img = load_image(str(r.path) if hasattr(r, "path") else r.file)
        d = det.detect(img)
        if not d: continue
        d = max(d, key=lambda x: x.area)
        to_crop = similarity_transform(np.asarray(d.landmarks).reshape(5, 2), template_points(spec.size, spec.face_fraction))
        x0, y0, x1, y1 = d.box
        w, h = x1 - x0, y1 - y0
        def c(px, py):
            q = to_crop @ np.array([px, py, 1.0]); return q / spec.size * 2 - 1
        box = [c(x0, (y0+y1)/2)[0], c((x0+x1)/2, y0)[1], c(x1, (y0+y1)/2)[0], c((x0+x1)/2, y1)[1]]
        tight = [c(x0 + .05*w, (y0+y1)/2)[0], c((x0+x1)/2, y0 + .15*h)[1], c(x1 - .05*w, (y0+y1)/2)[0], c((x0+x1)/2, y1 - .10*h)[1]]
        out.append(box + tight)
    a = np.array(out)
    print(folder, len(a), "box L T R B", np.round(np.median(a[:, :4], 0), 2), "tight", np.round(np.median(a[:, 4:], 0), 2),
          "tight 10/90%", np.round(np.percentile(a[:, 4:], 10, 0), 2), np.round(np.percentile(a[:, 4:], 90, 0), 2))
