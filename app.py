"""facebmi web app: a Gradio page (and the `/analyze`, `/analyze_pair` and `/explain` API) over facebmi. UI
wiring only.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override)
    python app.py --share    # also a temporary public gradio.live link
    FACEBMI_MODEL=ORG/NAME python app.py   # another model: a local folder or a Hub repo id
"""
from __future__ import annotations

import argparse
import atexit
import math
import os
import threading
from pathlib import Path

from facebmi.gpu import gpu_decorator  # first: on ZeroGPU `spaces` must load before torch

import gradio as gr
import pandas as pd
from PIL import Image

from facebmi.draw import annotate, pair_image
from facebmi.explain import explain_faces, region_shares
from facebmi.images import ImageError, load_image
from facebmi.live import LiveTracker, data_url, frame_bytes
from facebmi.loading import ModelLoadError
from facebmi.pair import PairError, predict_pair
from facebmi.photo_requests import screen_photo_requests, sentence, take_upload_paths, user_error
from facebmi.predictor import Predictor
from facebmi.report import (TABLE_HEADERS, analysis_json, framing_caution, interval_level, largest_face_index,
                            numbered_faces, result_from_dict, table_rows)
from facebmi.uploads import TempFolder, interrupt_on_sigterm, remove_at_exit_if_new, save_result_png
from facebmi.webguard import launch_options, limit_malloc_arenas

MAX_FACES = 30  # faces analysed per photo, largest first: a crowd shot stays quick and its labels readable
DISPLAY_MAX_SIDE = 1600  # the annotated image is shrunk to this; boxes in the JSON stay in original pixels
MAX_UPLOAD_BYTES = 50 * 2**20  # Gradio's limit on uploads, which we apply to photos sent as data: URLs too
DELETE_AFTER = 600  # seconds: the longest a temporary copy of a photo stays on the server (FACEBMI_DELETE_AFTER)
NO_FACE_HELP = ("No face found. What helps: one frontal, well-lit face, not too small in the frame "
                "(crop the photo around the person), no sunglasses or strong blur.")


def describe_page(predictor: Predictor, source: str | None, delete_after: float = DELETE_AFTER) -> str:
    level = interval_level(predictor.config)
    interval = (f"The range in brackets is a calibrated {level:.0%} interval: on held-out test photos the "
                f"true BMI fell inside it for about {level:.0%} of faces, so for roughly "
                f"{1 - level:.0%} it does not." if level else
                "This model carries no calibrated interval, so no range is shown: treat the number as rough.")
    card = (f"[model card](https://huggingface.co/{source})" if source and "/" in source
            and not Path(source).exists() else "model card (README.md beside the model's weights; the "
            "default model's is facebmi/default_model/README.md)")
    return f"""# facebmi: BMI and age bracket from a face photo
Upload, drop, paste or take a photo. Every face found gets a box labelled **#n BMI estimate (interval) ·
age bracket**; the table lists them all, and the chart shows the 8 age-bracket probabilities of the chosen
face (click a table row to switch).

**What the numbers are, and are not.** The BMI is a machine estimate from *appearance* alone, learnt from
photos with self-reported height and weight. It is not a measurement and it is **not medical advice**.
{interval} The WHO categories (underweight to obese) are defined for adults only and mean nothing for
children. The age bracket is the most probable of 8 groups, with its probability. Lighting, pose, make-up,
beards, glasses and camera distance all move the estimate; see the {card} for the data, accuracy per group
and known failure modes. Do not use it to judge anyone's health, and only on photos of people who agree.

**Privacy.** {privacy_sentence(delete_after)}
"""


def privacy_sentence(delete_after: float = DELETE_AFTER) -> str:
    """What happens to a photo, in the words the page and the README use; true of app.py's TempFolder."""
    return ("Your photo is analysed in the server's memory; it is not stored or shared. While you look at the "
            "result the server holds temporary files: the photo as sent and each annotated picture. Every one "
            f"is deleted at most {duration_words(delete_after)} after it was last used, and all of them when "
            "the app stops.")


def live_privacy_sentence() -> str:
    """What happens to the webcam stream; true of make_live_step's wiring (frames in and out as data: URLs)."""
    return ("The stream is processed frame by frame in the server's memory and never stored: no frame is "
            "written to disk or logged. While you stream, the server holds only each face's box and running "
            "estimates (numbers, no picture) and the last labelled frame it sent, and forgets them when you close "
            "the page.")


def duration_words(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    whole = math.ceil(seconds)  # rounded up: the page promises an upper bound
    return f"{whole} second{'s' if whole != 1 else ''}"


def read_photo(photo_path: str, delete_after: float = DELETE_AFTER) -> Image.Image:
    """The upload as an RGB picture, or a gr.Error for the person: unreadable, or already deleted."""
    try:
        with open(photo_path, "rb") as file:  # a file object: messages say "the upload", not a temp path
            return load_image(file)
    except FileNotFoundError:
        raise user_error(f"The photo is no longer on the server (temporary copies are deleted within "
                          f"{duration_words(delete_after)}): upload it again.") from None
    except ImageError as err:
        raise user_error(sentence(str(err))) from None


def make_analyze(predictor: Predictor, results_folder: str | Path, max_faces: int = MAX_FACES,
                 delete_after: float = DELETE_AFTER):
    """The `/analyze` endpoint's function: photo path -> (annotated PNG's path, per-face results as JSON)."""
    level = interval_level(predictor.config)

    @gpu_decorator(duration=20)  # borrows a GPU per call on ZeroGPU Spaces; unchanged everywhere else
    def find_faces(photo_path: str):
        """The GPU part: read the photo, detect every face, keep the max_faces largest, run the model."""
        picture = read_photo(photo_path, delete_after)
        detections = predictor.detector.detect(picture)
        kept = sorted(detections, key=lambda d: -d.area)[:max_faces]
        kept.sort(key=lambda d: -d.score)
        return picture, predictor.predict_detections(picture, kept), len(detections)

    def analyze(photo_path: str | None):
        """Photo -> (annotated image, per-face results as JSON). The public `/analyze` endpoint."""
        if photo_path is None:
            raise user_error("No photo given: upload, paste or take one first.")
        picture, results, found = find_faces(photo_path)
        if not results:
            message = NO_FACE_HELP
            gr.Warning(message)
        elif found > len(results):
            message = f"Found {found} faces; showing the {len(results)} largest."
            gr.Warning(message)
        else:
            message = f"Found {found} face{'s' if found != 1 else ''}."
        caution = framing_caution([f"face #{i + 1}" for i, r in enumerate(results) if r.cut_close])
        if caution:
            gr.Warning(caution)
            message = f"{message} {caution}"
        main = largest_face_index(results)
        image = annotate(picture, results, highlight=main if len(results) > 1 else None,
                         max_side=DISPLAY_MAX_SIDE)
        return save_result_png(image, results_folder), analysis_json(results, picture.size, found, level, message)

    return analyze


PAIR_INTRO = """Two photos of **the same person** (assumed, not checked), or one side-by-side progress picture
(left: before, right: after). With more than two faces in one picture, give the face numbers (as the Photo tab
numbers them). Each photo's own estimate is pulled toward the average, so their plain difference would show
only about half of a real change: the change shown is that difference scaled up to be right on average for
pairs of one person (and so less certain than either estimate). Its interval is calibrated on held-out pairs of
photos of one person, but on few of them (about 75), so take its stated share as approximate: the model card
says how often it held on other test pairs."""


def make_analyze_pair(predictor: Predictor, results_folder: str | Path, delete_after: float = DELETE_AFTER):
    """The `/analyze_pair` endpoint: (before, after or None, before face #, after face #) -> (the labelled pair's
    PNG path, JSON with both faces and change: {bmi_delta, bmi_delta_interval, level}, the change in words)."""

    @gpu_decorator(duration=30)
    def analyze_pair(before_path: str | None, after_path: str | None = None, before_face: float | None = None,
                     after_face: float | None = None):
        if before_path is None:
            raise user_error("No before photo given: upload two photos of one person, or one side-by-side "
                             "progress picture, first.")
        before = read_photo(before_path, delete_after)
        after = read_photo(after_path, delete_after) if after_path else None
        try:
            pair, first, second = predict_pair(predictor, before, after, _face_number(before_face),
                                               _face_number(after_face))
        except PairError as err:
            raise user_error(sentence(str(err))) from None
        words = f"{pair.change_text()}. Same person assumed."
        sides = (("before", pair.before), ("after", pair.after))
        caution = framing_caution([f"the {which} face" for which, face in sides if face.cut_close])
        if caution:
            words = f"{words} {caution}"
        result = {"before": numbered_faces(first)[first.index(pair.before)],
                  "after": numbered_faces(second)[second.index(pair.after)],
                  "change": pair.change_dict(), "message": words}
        image = pair_image(before, after, pair, max_side=DISPLAY_MAX_SIDE)
        return save_result_png(image, results_folder), result, f"**Change: {words}**"

    return analyze_pair


def make_explain(predictor: Predictor, results_folder: str | Path, delete_after: float = DELETE_AFTER):
    """The `/explain` endpoint: (photo, face # or None for the largest) -> (the aligned face with its occlusion
    map, JSON: the face, its BMI, and the share of the map in each part of the face)."""

    @gpu_decorator(duration=30)
    def explain(photo_path: str | None, face: float | None = None):
        if photo_path is None:
            raise user_error("No photo given: upload, paste or take one first.")
        picture = read_photo(photo_path, delete_after)
        results = predictor.predict(picture)
        if not results:
            raise user_error(NO_FACE_HELP)
        number = _face_number(face)
        if number is not None and not 1 <= number <= len(results):
            raise user_error(f"There is no face #{number} in this photo (it has {len(results)}).")
        index = number - 1 if number is not None else largest_face_index(results)
        [explanation] = explain_faces(predictor, picture, [results[index]])
        image = explanation.overlay().resize((336, 336), Image.BICUBIC)
        return save_result_png(image, results_folder), {
            "face": index + 1, "bmi": explanation.face.bmi,
            "largest_effect_bmi": float(abs(explanation.heat).max()),
            "regions": region_shares(explanation.heat),
            "method": "occlusion: BMI minus BMI with a 16 px patch hidden, averaged per pixel"}

    return explain


LIVE_INTRO = """Your webcam, live: every face gets a box and a label that follow it. A face keeps its number
while it stays in view (one that leaves and comes back is a new number), and its BMI and age bracket are averaged
over its last readings, so they settle rather than flicker; the first second of a face is the least sure. Click
the camera, allow it, then press Record. The same caution as for photos applies: estimates, not measurements."""


def make_live_step(predictor: Predictor):
    """The Live tab's stream function: (frame bytes, the session's tracker or None) -> (the labelled frame as a
    data: URL for the page, the tracker). Never raises: an unusable frame keeps the last picture on the page."""

    @gpu_decorator(duration=5)  # per frame on ZeroGPU; a no-op elsewhere
    def live_step(frame: bytes | None, tracker: LiveTracker | None):
        tracker = tracker or LiveTracker(predictor)
        result = tracker.process(frame)
        if tracker.closed:  # the page was closed (forget_live_session): show and keep nothing
            return None, tracker
        if result.image is None:
            return gr.skip(), tracker
        # Sent as it is (the event does not postprocess): Gradio would otherwise write every frame to a file.
        return {"path": None, "url": data_url(result.image), "meta": {"_type": "gradio.FileData"}}, tracker

    return live_step


FORGET_AGAIN_AFTER = 5.0  # s: long enough for a stream step already under way when the page closed to finish


def forget_live_session(demo: gr.Blocks, live_view: gr.Image, tracker: gr.State, session_hash: str | None,
                        again_after: float | None = FORGET_AGAIN_AFTER) -> None:
    """A page was closed: drop its last labelled frame and its faces now. Gradio itself keeps a session's last
    output values in memory until 10,000 newer sessions push them out, and its State for an hour.

    The stream may still run a step or two after the page closes, so the tracker is first closed but left in
    place (empty: later steps see it and store nothing), and removed with the frame again after again_after."""
    session = getattr(demo, "state_holder", None) and demo.state_holder.session_data.get(session_hash)
    if session is None:
        return
    held = session.state_data.get(tracker._id)
    if again_after and isinstance(held, LiveTracker):
        held.close()
    else:
        session.state_data.pop(tracker._id, None)
    session._update_value_in_config(live_view._id, None)
    if again_after:
        later = threading.Timer(again_after, forget_live_session, (demo, live_view, tracker, session_hash, None))
        later.daemon = True  # never holds up the app's exit
        later.start()


def _face_number(value) -> int | None:
    """A face number from the page or the API (None, '' or 0: not chosen)."""
    if value in (None, "") or value == 0:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise user_error(f"A face number must be a whole number such as 1 or 2, not {value!r}.") from None
    if not number.is_integer() or number < 1:
        raise user_error(f"A face number must be a whole number such as 1 or 2, not {value!r}.")
    return int(number)


def build_demo(predictor: Predictor, examples_dir: Path, source: str | None = None,
               max_faces: int = MAX_FACES, delete_after: float = DELETE_AFTER,
               max_upload_bytes: int = MAX_UPLOAD_BYTES) -> gr.Blocks:
    def analyze_or_clear(photo_path: str | None):
        if photo_path is None:  # the photo was cleared: clear the outputs too, no error
            return None, None
        return analyze(photo_path)

    def show_table(analysis: dict | None):
        if not analysis or not analysis["faces"]:
            return pd.DataFrame(columns=TABLE_HEADERS), None
        results = [result_from_dict(f) for f in analysis["faces"]]
        return (pd.DataFrame(table_rows(results), columns=TABLE_HEADERS),
                _bracket_chart(results, largest_face_index(results)))

    def select_face(photo_path: str | None, analysis: dict | None, evt: gr.SelectData):
        if not analysis or not analysis["faces"] or photo_path is None:
            return gr.skip(), gr.skip()
        number = evt.row_value[0] if evt.row_value else evt.index[0] + 1  # the 'face' column survives sorting
        results = [result_from_dict(f) for f in analysis["faces"]]
        index = min(max(int(number) - 1, 0), len(results) - 1)
        picture = read_photo(photo_path, delete_after)
        return (save_result_png(annotate(picture, results, highlight=index, max_side=DISPLAY_MAX_SIDE),
                                annotated.GRADIO_CACHE),
                _bracket_chart(results, index))

    # No delete_cache: Gradio's clean-up misses data: URLs and SIGTERM; main() sweeps a folder of its own.
    with gr.Blocks(title="facebmi: BMI and age bracket from a face photo", analytics_enabled=False) as demo:
        gr.Markdown(describe_page(predictor, source, delete_after))
        with gr.Tab("Photo"):
            with gr.Row(equal_height=True):
                with gr.Column():
                    photo = take_upload_paths(gr.Image(
                        label="Photo", type="filepath", image_mode=None,  # the raw upload: EXIF and 16-bit kept
                        sources=["upload", "webcam", "clipboard"], elem_id="photo"))
                    run = gr.Button("Analyze", variant="primary")
                annotated = gr.Image(label="Faces found", type="filepath", format="png", interactive=False,
                                     elem_id="annotated")
            table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, label="Faces (click a row to chart it)",
                                 elem_id="faces")
            with gr.Row():
                with gr.Column():
                    gr.Examples(examples=[[str(examples_dir / "astronaut.jpg")]], inputs=[photo],
                                label="Example: NASA astronaut portrait (public domain, from scikit-image)")
                    with gr.Accordion("Raw results (JSON, as the /analyze API returns them)", open=False):
                        analysis = gr.JSON(label="Results", elem_id="results")
                probs = gr.Label(label="Age bracket probabilities", num_top_classes=8, elem_id="probs")
            with gr.Accordion("Where the model looked (BMI)", open=False):
                gr.Markdown("Each part of the face is hidden in turn: **red** where hiding it lowers the BMI "
                            "estimate (that part raised it), **blue** where hiding it raises it. The face "
                            "number is the one on the photo; empty: the largest face.")
                with gr.Row():
                    explain_face = gr.Number(label="Face #", precision=0, minimum=0, elem_id="explain_face")
                    explain_run = gr.Button("Show where it looked")
                with gr.Row():
                    explain_image = gr.Image(label="Aligned face and its map", type="filepath", format="png",
                                             interactive=False, elem_id="explain_image")
                    explain_json = gr.JSON(label="Share of the map per part of the face", elem_id="explain")
            with gr.Tab("Before / after"):
                gr.Markdown(PAIR_INTRO)
                with gr.Row(equal_height=True):
                    before = take_upload_paths(gr.Image(
                        label="Before (or one side-by-side picture)", type="filepath", image_mode=None,
                        sources=["upload", "webcam", "clipboard"], elem_id="before"))
                    after = take_upload_paths(gr.Image(
                        label="After (leave empty for a side-by-side picture)", type="filepath", image_mode=None,
                        sources=["upload", "webcam", "clipboard"], elem_id="after"))
                with gr.Row():
                    before_face = gr.Number(label="Before face # (optional)", precision=0, minimum=0)
                    after_face = gr.Number(label="After face # (optional)", precision=0, minimum=0)
                    compare = gr.Button("Compare", variant="primary", elem_id="compare")
                change_text = gr.Markdown(elem_id="change")
                pair_annotated = gr.Image(label="Before and after", type="filepath", format="png",
                                          interactive=False, elem_id="pair_annotated")
                with gr.Accordion("Raw results (JSON, as the /analyze_pair API returns them)", open=False):
                    pair_json = gr.JSON(label="Pair", elem_id="pair_results")
            with gr.Tab("Live"):
                gr.Markdown(f"{LIVE_INTRO}\n\n**Privacy.** {live_privacy_sentence()}")
                with gr.Row(equal_height=True):
                    camera = gr.Image(label="Webcam", sources=["webcam"], streaming=True, elem_id="live_camera")
                    live_view = gr.Image(label="Faces, tracked", interactive=False, elem_id="live_view")
                tracker = gr.State(None)  # this session's LiveTracker: never shared between people

        # Results are written into Gradio's own upload folder, which it serves as they are (no copy, no hash).
        analyze = make_analyze(predictor, annotated.GRADIO_CACHE, max_faces, delete_after)
        run.click(analyze, [photo], [annotated, analysis], api_name="analyze").success(
            show_table, [analysis], [table, probs], api_visibility="private")
        photo.change(analyze_or_clear, [photo], [annotated, analysis], api_visibility="private").success(
            show_table, [analysis], [table, probs], api_visibility="private")
        table.select(select_face, [photo, analysis], [annotated, probs], api_visibility="private")
        explain = make_explain(predictor, annotated.GRADIO_CACHE, delete_after)
        explain_run.click(explain, [photo, explain_face], [explain_image, explain_json], api_name="explain")
        analyze_pair = make_analyze_pair(predictor, annotated.GRADIO_CACHE, delete_after)
        compare.click(analyze_pair, [before, after, before_face, after_face], [pair_annotated, pair_json, change_text],
                      api_name="analyze_pair")
        # The page sends each frame as a JPEG data: URL; decoded here in memory (Gradio would write a file for a path).
        camera.preprocess = lambda payload: None if payload is None else frame_bytes(payload.url)
        # stream_every=0.05: the page captures and sends a frame every 50 ms (20 a second); the server answers the
        # newest frame it has and skips any that came while it was busy, so what comes back follows the server's
        # speed. At 20 ms (measured on a busy machine) the page encoded 50 frames a second and fewer came back.
        # time_limit=60: a viewer's turn lasts a minute, then rejoins the queue (at once when nobody waits).
        # concurrency_limit=2: two streams at once; one kept the server 0.6 of a core busy at 20 frames a second
        # (benchmarks/live_browser.py, 2 CPU cores), so two leave room for the photo tabs; more would slow all.
        camera.stream(make_live_step(predictor), [camera, tracker], [live_view, tracker], stream_every=0.05,
                      time_limit=60, concurrency_limit=2, postprocess=False, show_progress="hidden",
                      api_visibility="private")

        def forget_live(request: gr.Request):
            forget_live_session(demo, live_view, tracker, request.session_hash)

        demo.unload(forget_live)
    screen_photo_requests(demo, [photo, before, after], max_upload_bytes, optional=(after,))
    return demo


def _bracket_chart(results, index: int) -> gr.Label:
    face = results[index]
    return gr.Label(value=face.age_probs, label=f"Age bracket probabilities, face #{index + 1}")


def write_examples(folder: Path) -> Path:
    """The example photos, generated (never copied from a dataset): scikit-image's public-domain astronaut."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg", quality=92)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    args = parser.parse_args()
    interrupt_on_sigterm()  # first: a TERM even during start-up ends in the clean-up below
    limit_malloc_arenas()  # before the server's threads exist: keeps memory flat under many users
    delete_after = _seconds(os.environ.get("FACEBMI_DELETE_AFTER", str(DELETE_AFTER)), "FACEBMI_DELETE_AFTER")
    parent = os.environ.get("GRADIO_TEMP_DIR") or None
    temp = TempFolder(delete_after, parent=parent)
    atexit.register(temp.close)
    if parent:
        remove_at_exit_if_new(Path(parent) / "vibe_edit_history")
    # Everything Gradio writes (uploads, results, its copy of the example) goes into our folder. Set before
    # any component is built: each reads it then.
    os.environ["GRADIO_TEMP_DIR"] = str(temp.path / "gradio")
    source = os.environ.get("FACEBMI_MODEL") or None
    try:
        predictor = Predictor.from_pretrained(source)  # CUDA when present; loaded once for every request
    except ModelLoadError as err:
        raise SystemExit(f"facebmi app: {err}") from None
    demo = build_demo(predictor, write_examples(temp.path / "examples"), source, delete_after=delete_after)
    temp.protect_present_files()  # the example photo and Gradio's copy of it: kept until exit
    temp.start()
    # A few requests at once: each already uses every core, more would only queue inside torch.
    demo.queue(default_concurrency_limit=int(os.environ.get("FACEBMI_CONCURRENCY", "2")), max_size=64)
    # host and port: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
    demo.launch(share=args.share, footer_links=["api"], **launch_options(MAX_UPLOAD_BYTES))


def _seconds(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise SystemExit(f"facebmi app: {name} must be a number of seconds above 0, not {text!r}")
    return value


if __name__ == "__main__":
    main()
