"""The Live tab's face tracker (facebmi/live.py, facebmi/redetect.py) on synthetic webcam clips made from the
public-domain astronaut: real MTCNN, the real default model, nothing of ours mocked."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks.live import astronaut_clip
from facebmi.detect import box_iou
from facebmi.live import LiveSettings, LiveTracker, data_url, frame_bytes


@pytest.fixture(scope="module")
def clip() -> list[Image.Image]:
    return astronaut_clip(40)


@pytest.fixture(scope="module")
def no_face() -> Image.Image:
    """640x480 of the astronaut's suit and the flag below her face: texture, no face."""
    from skimage import data

    return Image.fromarray(data.astronaut()).crop((0, 330, 512, 512)).resize((640, 480))


@pytest.fixture(scope="module")
def second_face() -> Image.Image:
    """A smaller copy of the astronaut's head, to paste into a frame as a second person."""
    from skimage import data

    return Image.fromarray(data.astronaut()).crop((150, 20, 300, 220)).resize((120, 160))


def with_second_face(frame: Image.Image, head: Image.Image) -> Image.Image:
    frame = frame.copy()
    frame.paste(head, (500, 300))
    return frame


def test_a_face_moving_over_a_clip_keeps_one_track(predictor, clip):
    tracker = LiveTracker(predictor)
    results = [tracker.process(np.asarray(frame)) for frame in clip]
    assert all([t.track_id for t in r.tracks] == [1] and r.tracks[0].missed == 0 for r in results)
    assert all(r.problem is None and r.image.size == (640, 480) for r in results)
    # Cheaper than the photo path: most frames are a region search, and the network is skipped for most.
    assert sum(r.full_detection for r in results) <= 4
    assert sum(r.faces_read > 0 for r in results) < len(results) / 2


def test_the_smoothed_bmi_varies_less_than_each_frames_own_estimate(predictor, clip):
    tracker = LiveTracker(predictor)
    smoothed = np.array([tracker.process(frame).tracks[0].face.bmi for frame in clip])
    raw = np.array([predictor.predict(frame)[0].bmi for frame in clip])
    raw_jitter, smoothed_jitter = np.abs(np.diff(raw)).mean(), np.abs(np.diff(smoothed)).mean()
    assert raw_jitter > 0.1, "the clip should move the raw estimate at all"
    assert smoothed_jitter < 0.5 * raw_jitter, (smoothed_jitter, raw_jitter)
    assert abs(smoothed[10:].mean() - raw[10:].mean()) < 1.0, "smoothing should not move the estimate"


def test_bracket_probabilities_are_smoothed_and_still_sum_to_one(predictor, clip):
    tracker = LiveTracker(predictor)
    faces = [tracker.process(frame).tracks[0].face for frame in clip[:12]]
    for face in faces:
        assert abs(sum(face.age_probs.values()) - 1) < 1e-4
        assert face.age_bracket == max(face.age_probs, key=face.age_probs.get)


def test_a_second_face_appearing_starts_a_second_track(predictor, clip, second_face):
    settings = LiveSettings()
    tracker = LiveTracker(predictor, settings)
    for frame in clip[:5]:
        assert [t.track_id for t in tracker.process(frame).tracks] == [1]
    later = clip[5:5 + settings.full_detect_every]
    results = [tracker.process(with_second_face(frame, second_face)) for frame in later]
    last = results[-1]
    assert sorted(t.track_id for t in last.tracks) == [1, 2], "the new face was not found within one full search"
    first, second = sorted(last.tracks, key=lambda t: t.track_id)
    assert first.face.box[2] < 450 and second.face.box[0] > 480, "track 1 stays on the first face"
    assert any(r.full_detection for r in results)


def test_a_face_leaving_is_dropped_after_drop_after_frames_and_returns_as_a_new_track(predictor, clip, no_face):
    settings = LiveSettings()
    tracker = LiveTracker(predictor, settings)
    for frame in clip[:5]:
        tracker.process(frame)
    gone = [tracker.process(no_face) for _ in range(settings.drop_after)]
    # Drawn at its last place for show_missed frames (no blinking on one missed frame), then not.
    shown = settings.show_missed
    assert [len(r.tracks) for r in gone] == [1] * shown + [0] * (settings.drop_after - shown)
    assert gone[0].tracks[0].missed == 1
    assert tracker.track_count == 0
    back = tracker.process(clip[5])
    assert [t.track_id for t in back.tracks] == [2]


def test_the_track_lives_on_through_fewer_missed_frames(predictor, clip, no_face):
    settings = LiveSettings()
    tracker = LiveTracker(predictor, settings)
    for frame in clip[:5]:
        tracker.process(frame)
    for _ in range(settings.drop_after - 1):
        tracker.process(no_face)
    assert tracker.track_count == 1
    assert [t.track_id for t in tracker.process(clip[5]).tracks] == [1]


def test_region_search_finds_the_face_that_moved(predictor, clip):
    tracker = LiveTracker(predictor)
    first = tracker.process(clip[0]).tracks[0].face
    moved = Image.new("RGB", clip[0].size)
    moved.paste(clip[0], (24, 12))  # the whole picture 24 px right and 12 px down
    result = tracker.process(moved)
    assert not result.full_detection and result.regions_searched == 1, "found without a full-frame search"
    (track,) = result.tracks
    assert track.track_id == 1 and track.missed == 0
    dx = (track.face.box[0] + track.face.box[2] - first.box[0] - first.box[2]) / 2
    dy = (track.face.box[1] + track.face.box[3] - first.box[1] - first.box[3]) / 2
    assert abs(dx - 24) < 8 and abs(dy - 12) < 8, (first.box, track.face.box)
    # Where the full detector puts the landmarks on that frame, within a few hundredths of the eye distance.
    (full,) = predictor.detector.detect(moved)
    eyes = np.linalg.norm(full.landmarks[0] - full.landmarks[1])
    assert np.abs(np.array(track.face.landmarks) - full.landmarks).max() < 0.1 * eyes
    assert box_iou(track.face.box, full.box) > 0.8


def test_a_still_face_is_read_again_only_after_refresh_every_frames(predictor, clip):
    settings = LiveSettings()
    tracker = LiveTracker(predictor, settings)
    reads = [tracker.process(clip[0]).faces_read for _ in range(settings.refresh_every + 1)]
    assert reads == [1] + [0] * (settings.refresh_every - 1) + [1]


def test_a_frame_with_no_face_is_returned_unannotated_with_no_tracks(predictor, no_face):
    result = LiveTracker(predictor).process(np.asarray(no_face))
    assert result.tracks == [] and result.problem is None and result.full_detection
    assert np.array_equal(np.asarray(result.image), np.asarray(no_face))


def test_a_labelled_frame_has_an_amber_box_on_the_face(predictor, clip):
    result = LiveTracker(predictor).process(clip[0])
    drawn = np.asarray(result.image).astype(int)
    x0, y0, x1, y1 = (round(v) for v in result.tracks[0].face.box)
    amber = (drawn[..., 0] > 200) & (drawn[..., 1] > 150) & (drawn[..., 1] < 230) & (drawn[..., 2] < 80)
    assert amber[y0 + 4:y1 - 4, max(0, x0 - 4):x0 + 5].any(axis=1).mean() > 0.9, "no box on the face's left edge"
    assert not np.array_equal(drawn[:y0], np.asarray(clip[0])[:y0]), "no label above the face"


@pytest.mark.parametrize("frame,words", [
    (None, "no frame"),
    ("/etc/hostname", "not a string"),
    (b"not an image at all", "not a usable frame"),
    (np.zeros(10, dtype=np.uint8), "not a usable frame"),
    (np.zeros((480, 640, 5), dtype=np.uint8), "not a usable frame"),
    (np.zeros((0, 0, 3), dtype=np.uint8), "not a usable frame"),
    (np.array([[object()]]), "not a usable frame"),
    (np.zeros((8, 8, 3), dtype=np.uint8), "too small"),
    (np.zeros((20, 640, 3), dtype=np.uint8), "too small"),
])
def test_bad_frames_get_a_clear_result_and_leave_the_tracks_alone(predictor, clip, frame, words):
    tracker = LiveTracker(predictor)
    tracker.process(clip[0])
    result = tracker.process(frame)
    assert result.tracks == [] and words in result.problem, result.problem
    assert (result.image is None) == (words != "too small")
    assert tracker.track_count == 1
    assert [t.track_id for t in tracker.process(clip[1]).tracks] == [1]


def test_odd_but_usable_frames_work(predictor, clip):
    """Grayscale, RGBA, float and PIL frames: made RGB as the photo path does."""
    tracker = LiveTracker(predictor)
    rgb = np.asarray(clip[0])
    for frame in (rgb, rgb.mean(axis=2).astype(np.uint8), np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]),
                  rgb.astype(np.float32) / 255, clip[1]):
        result = tracker.process(frame)
        assert result.problem is None and result.image.mode == "RGB" and len(result.tracks) == 1


def test_frames_arrive_and_leave_as_data_urls(predictor, clip):
    url = data_url(clip[0])
    assert url.startswith("data:image/jpeg;base64,")
    result = LiveTracker(predictor).process(frame_bytes(url))
    assert len(result.tracks) == 1 and result.image.size == (640, 480)
    for not_a_frame in (None, "/etc/hostname", "file:///etc/hostname", "data:text/plain;base64,aGk=",
                        "data:image/jpeg,raw", "data:image/jpeg;base64,%%%"):
        assert frame_bytes(not_a_frame) is None


def test_large_frames_are_drawn_at_display_max_side(predictor, clip):
    settings = LiveSettings(display_max_side=320)
    result = LiveTracker(predictor, settings).process(clip[0])
    assert result.image.size == (320, 240) and len(result.tracks) == 1


def test_the_apps_stream_step_sends_a_data_url_and_keeps_its_tracker(predictor, clip):
    import gradio as gr

    from conftest import load_app_module

    step = load_app_module().make_live_step(predictor)
    sent, tracker = step(frame_bytes(data_url(clip[0])), None)
    assert sent["path"] is None and sent["url"].startswith("data:image/jpeg;base64,")
    assert isinstance(tracker, LiveTracker) and tracker.track_count == 1
    again, same = step(frame_bytes(data_url(clip[1])), tracker)
    assert same is tracker and again["url"] != sent["url"]
    skipped, same = step(None, tracker)
    assert isinstance(skipped, type(gr.skip())) and same is tracker
