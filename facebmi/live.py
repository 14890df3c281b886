"""Webcam frames, one after another: faces tracked from frame to frame, their estimates smoothed so the numbers
hold still, at a fraction of the photo path's cost per frame.

Per frame, `LiveTracker.process`:

1. Each face being tracked is looked for again in a square around its last box: MTCNN's last two stages
   started from that box (redetect.py), ~4 ms instead of ~24 ms for detecting on the whole frame.
2. The whole frame is searched (the photo path's detector, unchanged) when nothing is tracked, every
   `full_detect_every` frames, and when a face was not found where it was: this is what finds new faces.
   Its detections go to the tracks they overlap most (box IoU); one that overlaps no track starts a new one.
3. A track not found for `drop_after` frames in a row is dropped; a face that comes back later is a new track.
4. The network reads a face again only when its box moved (IoU with the box of its last read below
   `still_iou`) or its last read is `refresh_every` frames old; the faces to read are cropped with
   align.crop_faces (the one crop) and go through the network in one batch.
5. A track's BMI, bracket probabilities and age are the mean of its first reads, then an exponential moving
   average (weight `smoothing` on each new read), so a label moves smoothly rather than flickering.

The tracker keeps no pixels: only boxes, landmarks and running estimates. It belongs to one viewer's stream
(one per session in the app); it is not shared between people.
"""
from __future__ import annotations

import base64
import binascii
import io
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .align import crop_faces
from .detect import Detection, box_iou
from .draw import annotate, shrink_to
from .images import ImageError, ImageInput, load_image
from .predictor import FaceResult, Predictor
from .redetect import candidate_boxes, refine_candidates
from .report import face_label

MIN_FRAME_SIDE = 32  # px: below this no face MTCNN can find fits (its smallest is 20 px after downscaling)
MAX_FRAME_PIXELS = 12_000_000  # a 4K webcam frame is 8.3 MP; anything larger is not a webcam frame


@dataclass(frozen=True)
class LiveSettings:
    """How the tracker trades speed for promptness; the defaults were measured with benchmarks/live.py."""

    full_detect_every: int = 15  # frames between whole-frame searches for new faces (1 s at 15 fps)
    region_margin: float = 0.5  # the region around a box: the box's longer side plus this much of it each side
    region_min_iou: float = 0.1  # a face found in the region continues the track if it overlaps its last box
    match_iou: float = 0.3  # a whole-frame detection continues a track whose box it overlaps at least this much
    drop_after: int = 5  # frames in a row a track may go unseen before it is dropped
    show_missed: int = 2  # an unseen track is still drawn (at its last box) for this many frames: no blinking
    still_iou: float = 0.85  # a face whose box overlaps the box of its last read this much has not moved
    refresh_every: int = 6  # frames after which a still face is read again all the same
    smoothing: float = 0.3  # weight of a new read in a track's moving average (1: no smoothing)
    max_faces: int = 5  # tracks per stream, largest faces first: each costs a region search per frame
    display_max_side: int = 960  # the drawn frame is shrunk to this (boxes scaled to match)


@dataclass
class TrackResult:
    track_id: int  # 1, 2, ... in order of appearance in this stream; the label's '#n'
    face: FaceResult  # the smoothed estimate; its box is where the face was found last (this frame if missed=0)
    reads: int  # network reads averaged into the estimate so far
    missed: int  # frames since the face was last found (0: found in this frame)
    raw_bmi: float | None  # this frame's own network read; None when the network did not read this face now


@dataclass
class LiveFrame:
    image: Image.Image | None  # the frame with a box and label per face; as it came when none is shown; None: unusable
    tracks: list[TrackResult]  # the faces drawn, oldest track first
    full_detection: bool = False  # the whole frame was searched for faces
    regions_searched: int = 0  # region searches around tracked faces
    faces_read: int = 0  # faces the network read (0: every estimate shown was fresh)
    problem: str | None = None  # why the frame could not be used (no frame, not a picture, too small)


@dataclass
class _Track:
    track_id: int
    detection: Detection
    missed: int = 0
    reads: int = 0
    bmi: float = 0.0
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    age: float = 0.0
    read_box: tuple = (0.0, 0.0, 0.0, 0.0)  # the box when the network last read this face
    read_frame: int = -(10 ** 9)
    raw_bmi: float | None = None  # set when read in the current frame

    def add_read(self, bmi: float, probs: np.ndarray, age: float, weight: float) -> None:
        """Fold one network read into the running estimate: a plain mean of the first 1/weight reads (so the
        first read alone does not dominate for long), an exponential moving average after that."""
        self.reads += 1
        w = max(weight, 1.0 / self.reads)
        self.bmi = (1 - w) * self.bmi + w * bmi
        self.probs = probs.copy() if self.reads == 1 else (1 - w) * self.probs + w * probs
        self.age = (1 - w) * self.age + w * age
        self.raw_bmi = bmi


class LiveTracker:
    """One stream's faces across frames. `process(frame)` -> LiveFrame. Not shared between streams; safe to call
    from several threads (calls run one at a time)."""

    def __init__(self, predictor: Predictor, settings: LiveSettings = LiveSettings()):
        self.predictor = predictor
        self.settings = settings
        self._tracks: list[_Track] = []
        self._frame = 0  # frames processed (usable ones)
        self._last_full = -(10 ** 9)
        self._next_id = 1
        self._lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        """Forget every face; frames processed from now on are refused (the viewer has gone)."""
        with self._lock:
            self.closed = True
            self._tracks = []

    @property
    def track_count(self) -> int:
        """Tracks alive now, including faces unseen for fewer than drop_after frames."""
        return len(self._tracks)

    def process(self, frame: ImageInput | None) -> LiveFrame:
        """One frame (an HxWx3 uint8 array, a PIL image or encoded image bytes) -> the frame drawn and the faces
        tracked. An unusable frame (None, not a picture, a wrong shape, too small) gets a LiveFrame saying why,
        with no tracks, and leaves the tracker as it was."""
        picture, problem = _read_frame(frame)
        if picture is None:
            return LiveFrame(image=None, tracks=[], problem=problem)
        if problem is not None:  # readable but too small to hold a face
            return LiveFrame(image=self._display(picture), tracks=[], problem=problem)
        with self._lock:
            if self.closed:
                return LiveFrame(image=None, tracks=[], problem="this stream has ended")
            return self._process(picture)

    def _process(self, picture: Image.Image) -> LiveFrame:
        s = self.settings
        self._frame += 1
        for track in self._tracks:
            track.raw_bmi = None
        found: dict[int, Detection] = {}  # track_id -> this frame's detection
        full = not self._tracks or self._frame - self._last_full >= s.full_detect_every
        regions = 0
        if not full:
            for track in self._tracks:
                regions += 1
                detection = self.find_near(picture, track.detection.box)
                if detection is not None:
                    found[track.track_id] = detection
            full = len(found) < len(self._tracks)  # a face was not where it was: look everywhere
        if full:
            self._last_full = self._frame
            self._match_full_frame(self.predictor.detector.detect(picture), found)
        self._drop_duplicates(found)

        for track in self._tracks:
            if track.track_id in found:
                track.detection, track.missed = found[track.track_id], 0
            else:
                track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed < s.drop_after]
        read = self._read_faces(picture)

        shown = [t for t in self._tracks if t.missed <= s.show_missed]
        results = [TrackResult(t.track_id, self.predictor.face_result(t.detection, t.bmi, t.probs, t.age, picture.size),
                               t.reads, t.missed, t.raw_bmi) for t in shown]
        if results:
            image = annotate(picture, [r.face for r in results], max_side=s.display_max_side,
                             texts=[face_label(r.face, r.track_id) for r in results])
        else:
            image = self._display(picture)
        return LiveFrame(image=image, tracks=results, full_detection=full, regions_searched=regions,
                         faces_read=read)

    def find_near(self, picture: Image.Image, box: tuple) -> Detection | None:
        """The face near `box` (x0, y0, x1, y1) in this RGB frame, or None; the tracks are not touched.

        MTCNN's R-net and O-net started from boxes around `box` (redetect.py), on a square around it shrunk by
        the photo path's own detection scale, so the landmarks come out as the full detector's would. The part
        of the square outside the frame is a plain fill, as in the detector's bordered pass, rather than
        stretched edge pixels."""
        s = self.settings
        x0, y0, x1, y1 = box
        side = max(2, round(max(x1 - x0, y1 - y0, 1.0) * (1 + 2 * s.region_margin)))
        left, top = round((x0 + x1 - side) / 2), round((y0 + y1 - side) / 2)
        inside = (max(0, left), max(0, top), min(picture.width, left + side), min(picture.height, top + side))
        if inside[2] <= inside[0] or inside[3] <= inside[1]:
            return None
        detect = self.predictor.config.detect
        if inside == (left, top, left + side, top + side):
            region = picture.crop(inside)
        else:
            region = Image.new("RGB", (side, side), detect.edge_pad_color)
            region.paste(picture.crop(inside), (inside[0] - left, inside[1] - top))
        scale = min(1.0, detect.max_side / max(picture.size))  # FaceDetector's own downscale of this frame
        small_side = max(1, round(side * scale))
        if small_side != side:
            region = region.resize((small_side, small_side), Image.BILINEAR, reducing_gap=2.0)
        scale = small_side / side
        near = [(x - left) * scale if i % 2 == 0 else (x - top) * scale for i, x in enumerate(box)]
        best, best_overlap = None, s.region_min_iou
        for det in refine_candidates(self.predictor.detector.mtcnn, region, candidate_boxes(tuple(near)),
                                     detect.min_score):
            moved = _in_frame(det, scale, left, top, picture.size)
            if moved is not None and (overlap := box_iou(moved.box, box)) >= best_overlap:
                best, best_overlap = moved, overlap
        return best

    def _match_full_frame(self, detections: list[Detection], found: dict[int, Detection]) -> None:
        """Whole-frame detections -> the tracks not found by their region search (greedy, largest overlap
        first); a detection that overlaps no track at all starts a new track, largest faces first, up to
        max_faces tracks."""
        s = self.settings
        taken = [d.box for d in found.values()]
        free = [d for d in detections if all(box_iou(d.box, b) < s.match_iou for b in taken)]
        pairs = sorted(((box_iou(d.box, t.detection.box), i, t.track_id) for i, d in enumerate(free)
                        for t in self._tracks if t.track_id not in found), reverse=True)
        used = set()
        for overlap, i, track_id in pairs:
            if overlap < s.match_iou:
                break
            if i not in used and track_id not in found:
                found[track_id] = free[i]
                used.add(i)
        new = sorted((d for i, d in enumerate(free) if i not in used and
                      all(box_iou(d.box, t.detection.box) < s.match_iou for t in self._tracks)),
                     key=lambda d: -d.area)
        for detection in new[:max(0, s.max_faces - len(self._tracks))]:
            track = _Track(self._next_id, detection)
            self._next_id += 1
            self._tracks.append(track)
            found[track.track_id] = detection

    def _drop_duplicates(self, found: dict[int, Detection]) -> None:
        """Two tracks that ended up on one face (two faces that met, one region search that jumped): the older
        track keeps it, the younger one goes unseen this frame."""
        ids = sorted(found)
        for i, older in enumerate(ids):
            for younger in ids[i + 1:]:
                if older in found and younger in found and \
                        box_iou(found[older].box, found[younger].box) >= self.settings.match_iou:
                    del found[younger]

    def _read_faces(self, picture: Image.Image) -> int:
        """Run the network, in one batch, on the faces found in this frame whose estimate is stale or who moved."""
        s = self.settings
        stale = [t for t in self._tracks if t.missed == 0 and (
            t.reads == 0 or self._frame - t.read_frame >= s.refresh_every
            or box_iou(t.detection.box, t.read_box) < s.still_iou)]
        if not stale:
            return 0
        crops = crop_faces(picture, [t.detection.landmarks for t in stale], self.predictor.config.crop)
        bmi, probs, age = self.predictor.infer_crops(crops)
        for i, track in enumerate(stale):
            track.add_read(float(bmi[i]), probs[i], float(age[i]), s.smoothing)
            track.read_box, track.read_frame = track.detection.box, self._frame
        return len(stale)

    def _display(self, picture: Image.Image) -> Image.Image:
        return shrink_to(picture, self.settings.display_max_side, Image.BILINEAR)[0]


def _in_frame(det: Detection, scale: float, left: int, top: int, size: tuple[int, int]) -> Detection | None:
    """A detection in a (shrunk) region's pixels -> the same face in the frame's pixels, its box clipped to the
    frame; None for a face found on the fill outside the frame."""
    x0, y0, x1, y1 = (v / scale for v in det.box)
    box = (max(0.0, x0 + left), max(0.0, y0 + top), min(float(size[0]), x1 + left), min(float(size[1]), y1 + top))
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return Detection(box, det.score, det.landmarks / scale + (left, top))


def _read_frame(frame) -> tuple[Image.Image | None, str | None]:
    """(RGB picture, None) for a usable frame; (picture, why) for one too small to hold a face; (None, why)
    for no picture at all. Strings are refused: a path is not a webcam frame."""
    if frame is None:
        return None, "no frame: the camera sent nothing"
    if isinstance(frame, str):
        return None, "a frame must be image data (an array, a PIL image or bytes), not a string"
    try:
        picture = load_image(frame, max_pixels=MAX_FRAME_PIXELS)
    except (ImageError, TypeError, ValueError, OSError) as err:  # also an array Pillow cannot make an image of
        return None, f"not a usable frame: {err}"
    if min(picture.size) < MIN_FRAME_SIDE:
        return picture, (f"the frame is {picture.width}x{picture.height} pixels: too small to find a face "
                         f"(at least {MIN_FRAME_SIDE} a side)")
    return picture, None


def frame_bytes(data_url: str | None) -> bytes | None:
    """The encoded picture inside a 'data:image/...;base64,...' URL, the form in which the page sends each webcam
    frame; None for anything else (a path, another scheme, broken base64): process() then says there is no frame."""
    if not isinstance(data_url, str) or not data_url.startswith("data:image/"):
        return None
    header, _, payload = data_url.partition(",")
    if not header.endswith(";base64"):
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def data_url(image: Image.Image, quality: int = 80) -> str:
    """A JPEG 'data:' URL of the image: sent to the page as it is, so no frame is ever written to a file."""
    buffer = io.BytesIO()
    # Full-resolution colour (4:4:4): JPEG's usual half-resolution colour blurs the 2 px box into its dark
    # outline, and the amber is gone. Costs ~20% more bytes and under a millisecond.
    image.save(buffer, format="JPEG", quality=quality, subsampling=0)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

