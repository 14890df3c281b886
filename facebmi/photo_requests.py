"""What the web app accepts as its photo, checked before Gradio processes a request.

Gradio validates an API payload before any function of ours runs, and answers a bad one with "upstream app
raised an exception"; it decodes a photo sent as a data: URL without the upload limit, into a file nobody
deletes; and a file object without its "meta" field skips its check that the file was uploaded at all, so
{"path": "/any/image/on/the/server.png"} was analysed and its picture sent back. Every message here is a
sentence for the person who sent the request.
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path

import gradio as gr
from gradio.exceptions import InvalidPathError
from pydantic import ValidationError

from .images import ImageError
from .uploads import save_data_url


def take_upload_paths(photo: gr.Image) -> gr.Image:
    """Hand our function the uploaded file's path without Gradio opening it first.

    gr.Image opens every upload with Pillow before our function runs, and answers anything Pillow dislikes
    with a generic error; images.load_image reads the file once and says what is wrong with it. (Wrapping the
    instance, not subclassing: a gr.Image subclass makes Gradio write an app.pyi stub beside this file.)
    """
    photo.preprocess = lambda payload: None if payload is None else payload.path
    return photo


def screen_photo_requests(demo: gr.Blocks, photos: list[gr.Image], max_bytes: int,
                          optional: tuple[gr.Image, ...] = ()) -> None:
    """Check every request's photo before Gradio does, so a bad one gets a sentence, not a generic error.

    Gradio validates an API payload before any function of ours runs: a wrong JSON type, a path or a URL gets
    "upstream app raised an exception"; a data: URL is decoded with no size limit into a file nobody deletes;
    a file object without its "meta" field skips the check that the file was uploaded at all. Wrapping the
    demo's preprocess_data (the one step every event's inputs pass) puts our checks first. `optional`: those
    of the photos a request may leave out (the pair tab's second photo).
    """
    gradio_preprocess_data = demo.preprocess_data
    uploads = Path(photos[0].GRADIO_CACHE).resolve()

    async def preprocess_data(block_fn, inputs, state, explicit_call=False):
        indices = [i for i, block in enumerate(block_fn.inputs) if any(block is p for p in photos)]
        if not indices:
            return await gradio_preprocess_data(block_fn, inputs, state, explicit_call)
        inputs = list(inputs)
        for index in indices:
            if len(inputs) <= index:
                if any(block_fn.inputs[index] is p for p in optional):
                    continue
                raise user_error("The request carries no photo: send one file, e.g. handle_file('photo.jpg').")
            inputs[index] = _photo_payload(inputs[index], uploads, max_bytes)
        try:
            return await gradio_preprocess_data(block_fn, inputs, state, explicit_call)
        except InvalidPathError:
            raise user_error(NOT_UPLOADED) from None
        except ValidationError:
            raise user_error(NOT_A_FILE) from None

    demo.preprocess_data = preprocess_data


NOT_A_FILE = ("The photo must be sent as a file object, as gradio_client's handle_file('photo.jpg') makes "
              "(or a base64 data: URL), not as {kind}.")
NOT_UPLOADED = ("The photo must be uploaded with the request (gradio_client's handle_file('photo.jpg') does "
                "it): the server does not open files already on its disk.")
NO_FETCHING = ("The server does not fetch photos from addresses (http://, file:// and the like): download the "
               "photo and send the file itself with handle_file('photo.jpg').")


def _photo_payload(value, uploads: Path, max_bytes: int):
    """The request's photo as Gradio's file object pointing into the upload folder, or a gr.Error saying why not."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise user_error(NOT_A_FILE.format(kind=_json_kind(value)))
    path, url = value.get("path"), value.get("url")
    data_url = next((v for v in (path, url) if isinstance(v, str) and v[:5].lower() == "data:"), None)
    if data_url is not None:
        try:
            path = str(save_data_url(data_url, uploads, max_bytes))
        except ImageError as err:
            raise user_error(sentence(str(err))) from None
        return {"path": path, "orig_name": "photo", "meta": {"_type": "gradio.FileData"}}
    if not isinstance(path, str) or not path:
        raise user_error(NOT_A_FILE.format(kind="a file object without a path"))
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", path):
        raise user_error(NO_FETCHING)
    if not Path(os.path.realpath(path)).is_relative_to(uploads):  # symlinks resolved: where it really is
        raise user_error(NOT_UPLOADED)
    return {**value, "meta": {"_type": "gradio.FileData"}}  # with meta, Gradio's own upload check runs too


def _json_kind(value) -> str:
    kinds = {bool: "true or false", int: "a number", float: "a number", str: "text", list: "a list"}
    return kinds.get(type(value), type(value).__name__)


def user_error(message: str) -> gr.Error:
    """A person's mistake, not the server's: no traceback in the log (a flood of bad requests would bury it);
    escaped, since Gradio shows an error's text as HTML."""
    return gr.Error(html.escape(message, quote=False), print_exception=False)


def sentence(text: str) -> str:
    """An ImageError's text ("the image is ...") as a sentence."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
