"""How a read moves when all five landmarks of the astronaut move together by 0.25 px steps over +-2 px (x, y),
or scale about their centre: PYTHONPATH=. python landmark_shift.py MODEL_FOLDER"""
import io, numpy as np, sys
from PIL import Image, ImageOps
from skimage import data
from facebmi.predictor import Predictor
from facebmi.detect import Detection, main_face
p = Predictor.from_pretrained(sys.argv[1])
a = Image.fromarray(data.astronaut())
da = main_face(p.detector.detect(a))
offs = np.arange(-2, 2.01, 0.25)
dets = [Detection(da.box, da.score, da.landmarks + np.array([o, 0])) for o in offs]
xs = [r.bmi for r in p.predict_detections(a, dets)]
dets = [Detection(da.box, da.score, da.landmarks + np.array([0, o])) for o in offs]
ys = [r.bmi for r in p.predict_detections(a, dets)]
dets = [Detection(da.box, da.score, (da.landmarks - da.landmarks.mean(0)) * (1 + o / 40) + da.landmarks.mean(0)) for o in offs]
ss = [r.bmi for r in p.predict_detections(a, dets)]
print(sys.argv[1]); print("x", np.round(xs, 2)); print("y", np.round(ys, 2)); print("scale", np.round(ss, 2))
