"""FaceResult lists -> the words and rows people and programs read: face labels, table rows, CSV, JSON.

The CLI and the app format results only through these helpers, so a number reads the same everywhere.
"""
from __future__ import annotations

from .labels import AGE_BRACKETS
from .predictor import FaceResult

# Brackets whose faces are children: WHO's adult BMI categories do not apply to them.
CHILD_BRACKETS = frozenset(AGE_BRACKETS[:3])  # 0-2, 4-6, 8-13

TABLE_HEADERS = ["face", "BMI", "interval", "WHO category (adults)", "age bracket", "bracket prob.",
                 "detection score"]

CSV_FIELDS = ["path", "status", "face", "x0", "y0", "x1", "y1", "score", "bmi", "bmi_low", "bmi_high",
              "who_category", "age_bracket", "age_bracket_prob", "age_years", "cut_close",
              *[f"p_{name}" for name in AGE_BRACKETS], "error"]

# Said when a face's photo ends close to it (FaceResult.cut_close). Figures belong to a model, so none here.
CUT_CLOSE_ADVICE = ("estimates move most when a photo is cut close to the face (see the robustness table in the "
                    "model card). A photo that shows the whole head, the neck and some space around them reads more "
                    "reliably.")


def interval_level(config) -> float | None:
    """The coverage a model's BMI intervals were calibrated for (0.8 = 80%), or None if it has no interval."""
    return config.bmi_interval_level if config.bmi_interval_log_halfwidth > 0 else None


def interval_text(result: FaceResult) -> str:
    """'24-31', or '' when the model carries no calibrated interval."""
    return _range_text(result.bmi_interval)


def _range_text(interval) -> str:
    """A (low, high) BMI interval as '24-31'; '' for None (no calibrated interval)."""
    if interval is None:
        return ""
    low, high = interval
    return f"{low:.0f}-{high:.0f}"


def face_label(result: FaceResult, number: int) -> str:
    """The short label drawn on the photo: '#1 BMI 27.3 (24-31) · 25-32'."""
    interval = interval_text(result)
    interval = f" ({interval})" if interval else ""
    return f"#{number} BMI {result.bmi:.1f}{interval} · {result.age_bracket}"


def who_text(result: FaceResult) -> str:
    if result.age_bracket in CHILD_BRACKETS:
        return f"{result.who_category} (adult scale; face looks under 14)"
    return result.who_category


def table_rows(results: list[FaceResult]) -> list[list]:
    """One row per face in TABLE_HEADERS order, numbered as on the drawn labels (from 1)."""
    return [[i + 1, round(r.bmi, 1), interval_text(r) or "not calibrated", who_text(r), r.age_bracket,
             f"{r.age_bracket_prob:.0%}", f"{r.score:.3f}"] for i, r in enumerate(results)]


def largest_face_index(results: list[FaceResult]) -> int | None:
    """The face a single-subject photo is about (largest box), as an index into results."""
    return max(range(len(results)), key=lambda i: results[i].area, default=None)


def numbered_faces(results: list[FaceResult]) -> list[dict]:
    """Each FaceResult.to_dict() plus its 'face' number, as on the drawn labels (from 1)."""
    return [{"face": i + 1, **r.to_dict()} for i, r in enumerate(results)]


def image_entry(path: str, results: list[FaceResult], size: tuple[int, int]) -> dict:
    """One photo's JSON object: its path, size and faces (each FaceResult.to_dict() plus its number)."""
    return {"path": path, "width": size[0], "height": size[1], "faces": numbered_faces(results)}


def error_entry(path: str, message: str) -> dict:
    return {"path": path, "error": message}


def csv_rows(entry: dict) -> list[dict]:
    """An image_entry or error_entry -> CSV rows (CSV_FIELDS): one per face, or one saying why there is none."""
    path = entry["path"]
    if "error" in entry:
        return [{"path": path, "status": "error", "error": entry["error"]}]
    if not entry["faces"]:
        return [{"path": path, "status": "no face"}]
    rows = []
    for face in entry["faces"]:
        interval = face["bmi_interval"] or (None, None)
        row = {"path": path, "status": "face", "face": face["face"],
               **dict(zip(("x0", "y0", "x1", "y1"), (round(v, 1) for v in face["box"]))),
               "score": round(face["score"], 4), "bmi": round(face["bmi"], 2),
               "bmi_low": None if interval[0] is None else round(interval[0], 2),
               "bmi_high": None if interval[1] is None else round(interval[1], 2),
               "who_category": face["who_category"], "age_bracket": face["age_bracket"],
               "age_bracket_prob": round(face["age_bracket_prob"], 4), "age_years": round(face["age_years"], 1),
               "cut_close": face["cut_close"]}
        row.update({f"p_{name}": round(p, 4) for name, p in face["age_probs"].items()})
        rows.append(row)
    return rows


def text_lines(entry: dict) -> list[str]:
    """An entry as human-readable lines for the terminal: a header per photo, one indented line per face."""
    path = entry["path"]
    if "error" in entry:
        return [f"{path}: error: {entry['error']}"]
    faces = entry["faces"]
    if not faces:
        return [f"{path}: no face found"]
    lines = [f"{path}: {len(faces)} face{'s' if len(faces) != 1 else ''}"]
    for face in faces:
        interval = _range_text(face["bmi_interval"])
        interval = f" ({interval})" if interval else ""
        x0, y0, x1, y1 = (round(v) for v in face["box"])
        lines.append(f"  #{face['face']:<2} BMI {face['bmi']:5.1f}{interval:<8}  {face['who_category']:<16} "
                     f"age {face['age_bracket']:>5} (p={face['age_bracket_prob']:.2f})  "
                     f"score {face['score']:.3f}  box {x0},{y0},{x1},{y1}"
                     + ("  (photo cut close)" if face["cut_close"] else ""))
    caution = framing_caution([f"face #{face['face']}" for face in faces if face["cut_close"]])
    if caution:
        lines.append(f"  note: {caution}")
    return lines


def framing_caution(names: list[str]) -> str | None:
    """What to say of the faces whose photo is cut close to them (FaceResult.cut_close), each called by its name in
    `names` ('face #1', 'the before face'), or None for none."""
    if not names:
        return None
    joined = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
    return (f"{joined[0].upper()}{joined[1:]} {'are' if len(names) > 1 else 'is'} near the edge of the photo: "
            f"{CUT_CLOSE_ADVICE}")


def result_from_dict(data: dict) -> FaceResult:
    """Inverse of FaceResult.to_dict() (extra keys such as 'face' ignored), e.g. to redraw from app JSON."""
    interval = data.get("bmi_interval")
    return FaceResult(
        box=tuple(data["box"]), score=data["score"], bmi=data["bmi"],
        bmi_interval=None if interval is None else tuple(interval), who_category=data["who_category"],
        age_bracket=data["age_bracket"], age_bracket_prob=data["age_bracket_prob"],
        age_probs=dict(data["age_probs"]), age_years=data["age_years"], landmarks=data["landmarks"],
        cut_close=data.get("cut_close", False))


def analysis_json(results: list[FaceResult], size: tuple[int, int], faces_found: int,
                  interval_level: float | None, message: str) -> dict:
    """The app's per-photo result: what the /analyze API returns beside the annotated image.

    faces_found counts every detected face; `faces` may hold fewer when the app capped them (largest kept).
    interval_level: the coverage the BMI intervals were calibrated for (None when uncalibrated).
    """
    return {"faces": numbered_faces(results),
            "faces_found": faces_found, "width": size[0], "height": size[1],
            "bmi_interval_level": interval_level, "message": message}
