"""facebmi web app: a Gradio page (and the `/analyze` API) over facebmi.Predictor. UI wiring only.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override)
    python app.py --share    # also a temporary public gradio.live link
    FACEBMI_MODEL=ORG/NAME python app.py   # another model: a local folder or a Hub repo id
"""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
from pathlib import Path

from facebmi.gpu import gpu_decorator  # first: on ZeroGPU `spaces` must load before torch

import gradio as gr
import pandas as pd
from PIL import Image

from facebmi.draw import annotate
from facebmi.images import ImageError, load_image
from facebmi.loading import ModelLoadError
from facebmi.predictor import Predictor
from facebmi.report import (TABLE_HEADERS, analysis_json, interval_level, largest_face_index, result_from_dict,
                            table_rows)

MAX_FACES = 30  # faces analysed per photo, largest first: a crowd shot stays quick and its labels readable
DISPLAY_MAX_SIDE = 1600  # the annotated image is shrunk to this; boxes in the JSON stay in original pixels
CACHE_CLEANUP = (300, 600)  # every 5 min delete uploads and outputs older than 10 min (and all at exit)
NO_FACE_HELP = ("No face found. What helps: one frontal, well-lit face, not too small in the frame "
                "(crop the photo around the person), no sunglasses or strong blur.")


def with_clear_upload_errors(photo: gr.Image) -> gr.Image:
    """Make the image input answer an unreadable upload with a clear message instead of a generic error.

    gr.Image opens every upload with Pillow before our function runs; a non-image fails there. (Wrapping the
    instance, not subclassing: a gr.Image subclass makes Gradio write an app.pyi stub beside this file.)
    """
    gradio_preprocess = photo.preprocess

    def preprocess(payload):
        try:
            return gradio_preprocess(payload)
        except Image.DecompressionBombError:
            raise gr.Error("The image has too many pixels to open safely: resize it and try again.") from None
        except (OSError, ValueError, SyntaxError):  # Pillow's "cannot identify image file" is an OSError
            raise gr.Error("That file is not an image we can read. Use a JPEG, PNG, WebP, GIF, BMP or "
                           "TIFF photo.") from None

    photo.preprocess = preprocess
    return photo


def describe_page(predictor: Predictor, source: str | None) -> str:
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

**Privacy.** Photos are analysed in memory; nothing is saved or shared, and the server's temporary copies
are deleted within {CACHE_CLEANUP[1] // 60} minutes.
"""


def build_demo(predictor: Predictor, examples_dir: Path, source: str | None = None,
               max_faces: int = MAX_FACES) -> gr.Blocks:
    level = interval_level(predictor.config)

    @gpu_decorator(duration=20)  # borrows a GPU per call on ZeroGPU Spaces; unchanged everywhere else
    def find_faces(photo_path: str):
        """The GPU part: read the photo, detect every face, keep the max_faces largest, run the model."""
        try:
            with open(photo_path, "rb") as file:  # a file object: messages say "the upload", not a temp path
                picture = load_image(file)
        except ImageError as err:
            raise gr.Error(_sentence(str(err))) from None
        detections = predictor.detector.detect(picture)
        kept = sorted(detections, key=lambda d: -d.area)[:max_faces]
        kept.sort(key=lambda d: -d.score)
        return picture, predictor.predict_detections(picture, kept), len(detections)

    def analyze(photo_path: str | None):
        """Photo -> (annotated image, per-face results as JSON). The public `/analyze` endpoint."""
        if photo_path is None:
            raise gr.Error("No photo given: upload, paste or take one first.")
        picture, results, found = find_faces(photo_path)
        if not results:
            message = NO_FACE_HELP
            gr.Warning(message)
        elif found > len(results):
            message = f"Found {found} faces; showing the {len(results)} largest."
            gr.Warning(message)
        else:
            message = f"Found {found} face{'s' if found != 1 else ''}."
        main = largest_face_index(results)
        image = annotate(picture, results, highlight=main if len(results) > 1 else None,
                         max_side=DISPLAY_MAX_SIDE)
        return image, analysis_json(results, picture.size, found, level, message)

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
        picture = load_image(photo_path)
        return (annotate(picture, results, highlight=index, max_side=DISPLAY_MAX_SIDE),
                _bracket_chart(results, index))

    with gr.Blocks(title="facebmi: BMI and age bracket from a face photo", delete_cache=CACHE_CLEANUP,
                   analytics_enabled=False) as demo:
        gr.Markdown(describe_page(predictor, source))
        with gr.Row(equal_height=True):
            with gr.Column():
                photo = with_clear_upload_errors(gr.Image(
                    label="Photo", type="filepath", image_mode=None,  # the raw upload: EXIF and 16-bit kept
                    sources=["upload", "webcam", "clipboard"], elem_id="photo"))
                run = gr.Button("Analyze", variant="primary")
            annotated = gr.Image(label="Faces found", type="pil", format="png", interactive=False,
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

        run.click(analyze, [photo], [annotated, analysis], api_name="analyze").success(
            show_table, [analysis], [table, probs], api_visibility="private")
        photo.change(analyze_or_clear, [photo], [annotated, analysis], api_visibility="private").success(
            show_table, [analysis], [table, probs], api_visibility="private")
        table.select(select_face, [photo, analysis], [annotated, probs], api_visibility="private")
    return demo


def _bracket_chart(results, index: int) -> gr.Label:
    face = results[index]
    return gr.Label(value=face.age_probs, label=f"Age bracket probabilities, face #{index + 1}")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


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
    source = os.environ.get("FACEBMI_MODEL") or None
    try:
        predictor = Predictor.from_pretrained(source)  # CUDA when present; loaded once for every request
    except ModelLoadError as err:
        raise SystemExit(f"facebmi app: {err}") from None
    examples = write_examples(Path(tempfile.mkdtemp(prefix="facebmi-examples-")))
    atexit.register(shutil.rmtree, examples, ignore_errors=True)
    demo = build_demo(predictor, examples, source)
    # A few requests at once: each already uses every core, more would only queue inside torch.
    demo.queue(default_concurrency_limit=int(os.environ.get("FACEBMI_CONCURRENCY", "2")), max_size=64)
    demo.launch(share=args.share, max_file_size="50mb", footer_links=["api"])  # host/port: GRADIO_SERVER_*


if __name__ == "__main__":
    main()
