"""r/progresspics post title -> sex, age, height, start/current/goal weight and a BMI for each weight.

    parse_title("F/28/5'4\" [180lbs > 140lbs = 40lbs]").to_dict()

Titles follow a loose convention (`Sex/Age/Height [start > current = lost]`), written every possible way.
The parser is deliberately conservative: a wrong BMI is worse than none, so anything a careful human
reader would call ambiguous is refused with a named `reason` instead of guessed. It never raises on a string.

Rules (each one a reading a human would make, see training/title_labels.jsonl for 139 real cases):
- Height: ft/in anywhere (5'4", 5’4”, 5ft4, 5 foot 4, 5"4 and 5;4 typos, 6'), otherwise cm / m / 64in or a
  bare `5 4` slash field near the start.
- Weights: the first chain of numbers joined by > < -> → - to (read left to right: start first, current
  last, whatever the arrow direction), or labelled SW/CW/GW. A chain's `= N` difference must agree with
  start - current within 2.5 lb, else the title is refused (one of the numbers is a typo; we can't tell which).
- Units: per number (lbs/lb/Ibs/pounds, kg, stone+lb); a unitless number takes its chain's unit, and a chain
  with no unit at all is read as lbs when the height is in ft/in, as r/progresspics posters overwhelmingly
  write pounds. With a metric height and no unit we refuse unless only one reading is plausible.
- A weight marked as an estimate (270?, 200+, 200ish, ~200) is not recorded.
- Number chains that are ages, sizes, waists, BMIs or years are not weights; two sex/age fields (a couple's
  post) are refused, since we cannot tell whose face is whose.
- Plausibility: height 1.2-2.3 m, weight 30-350 kg, BMI 12-80, age 13-90, else refused with the value.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

LB_KG = 0.45359237  # one pound in kilograms
STONE_LB = 14.0  # one stone in pounds
INCH_M = 0.0254  # one inch in metres
DIFF_TOLERANCE_LB = 2.5  # stated difference vs start - current: covers rounding of decimals and 1 kg steps

# Plausibility ranges (the checks): outside these a title is refused with a named reason.
HEIGHT_RANGE_M = (1.2, 2.3)
WEIGHT_RANGE_KG = (30.0, 350.0)
BMI_RANGE = (12.0, 80.0)
AGE_RANGE = (13, 90)
# A unitless chain read as lbs that would put someone under this BMI is more likely kg: refuse as unclear.
LB_GUESS_MIN_BMI = 15.0
KG_READING_BMI = (18.5, 45.0)  # ...when reading the same numbers as kg gives ordinary BMIs

MAX_TITLE_CHARS = 2000  # longer input is cut: titles are at most 300 characters on Reddit


@dataclass
class TitleParse:
    ok: bool  # True when at least one BMI could be computed and every check passed
    reason: str | None = None  # why the title was refused (None when ok)
    sex: str | None = None  # 'F', 'M' or None
    age: int | None = None  # years, as written in the title
    height_m: float | None = None
    start_kg: float | None = None  # first weight of the chain (or SW); None if absent or an estimate
    current_kg: float | None = None  # last weight of the chain (or CW)
    goal_kg: float | None = None  # GW / goal, when given
    bmi_start: float | None = None
    bmi_current: float | None = None
    bmi_goal: float | None = None
    weights_kg: list[float] | None = None  # the whole chain, in title order (None entries for estimates)

    def to_dict(self) -> dict:
        return asdict(self)


# --- normalisation ----------------------------------------------------------------------------------------

_QUOTES = str.maketrans({
    "’": "'", "‘": "'", "′": "'", "´": "'", "`": "'",
    "”": '"', "“": '"', "″": '"', "„": '"',
    "→": ">", "⟶": ">", "➡": ">", "➔": ">", "⇒": ">", "⟹": ">", "»": ">", "\ufe0f": "", "–": "-", "—": "-", "−": "-", "\u00a0": " ",
    "[": "(", "]": ")", "{": "(", "}": ")",
})


def _normalise(title: str) -> str:
    text = title[:MAX_TITLE_CHARS].translate(_QUOTES).lower()
    text = text.replace("''", '"')
    text = re.sub(r"(?:-+|=)>", ">", text)  # -> --> => all mean '>'
    text = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", text)  # decimal comma: 225,97 -> 225.97
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands comma: 1,200 -> 1200
    return text


def _mask(text: str, span: tuple[int, int]) -> str:
    """Blank a consumed span with '|' so later patterns can neither match it nor join across it."""
    return text[: span[0]] + "|" * (span[1] - span[0]) + text[span[1]:]


# --- height ----------------------------------------------------------------------------------------------

_FEET = re.compile(
    r"(?<![\d.])([1-9])\s*(?:'|ft\.?|feet|foot|;|\"(?=\s*\d))"  # 5' 5ft 5 foot, and the 5"10 / 5;10 typos
    r"(?:\s*(\d{1,2}(?:\.\d+)?)(?![\d.])\s*(?:\"|in(?:ch(?:es)?)?\b|')?)?"  # optional inches
)
_CM = re.compile(r"(?<![\d.])(\d{3})(?:\.\d)?\s*cm\b")
_METRES = re.compile(r"(?<![\d.])([12]\.\d{1,2})\s*m(?:eters?|etres?)?\b")
_INCHES = re.compile(r"(?<![\d.'])(\d{2})(?:\.\d)?\s*(?:\"|in\b|inch(?:es)?\b)")
_SLASH_FEET_SPACE_INCHES = re.compile(r"(?:^|[/|(,])\s*([4-7])\s+(\d{1,2})\s*(?=[/|),]|$)")


def _find_feet(text: str):
    for m in _FEET.finditer(text):
        inches = float(m.group(2)) if m.group(2) else 0.0
        if inches < 12:
            return (int(m.group(1)) * 12 + inches) * INCH_M, m.span()
    return None, None


def _find_other_height(text: str):
    """cm, m, bare inches or a `5 4` slash field; (height_m, span, metric?) or Nones."""
    for pattern, scale, metric in ((_CM, 0.01, True), (_METRES, 1.0, True)):
        m = pattern.search(text)
        if m:
            return float(m.group(1)) * scale, m.span(), metric
    for m in _INCHES.finditer(text):
        if 48 <= int(m.group(1)) <= 90:  # 4 ft to 7.5 ft; smaller numbers with " are waists or typos
            return int(m.group(1)) * INCH_M, m.span(), False
    m = _SLASH_FEET_SPACE_INCHES.search(text)
    if m and int(m.group(2)) < 12:
        return (int(m.group(1)) * 12 + int(m.group(2))) * INCH_M, (m.start(1), m.end(2)), False
    return None, None, None


# --- weights ---------------------------------------------------------------------------------------------

_NUM = r"\d+(?:\.\d+)?"
_UNIT = r"(?:(?:lbs?|ibs?|bs|pounds?|kgs?|kilos?|kilograms?)\b|#)"  # '#' is an old pound sign
_ALT = rf"(?:\s*\(\s*{_NUM}\s*(?:{_UNIT}|st)\s*\))?"  # '174 (79kg)': the same weight in another unit
_TERM = (
    rf"(?:(?P<stone>\d{{1,2}}(?:\.\d+)?)\s*(?:st|stone)\b\s*(?:(?P<stone_lb>\d{{1,2}}(?:\.\d+)?)(?![\d.])\s*(?:lbs?|pounds?)?\b)?"
    rf"|(?P<pre>~|about\s|around\s|approx\.?\s*)?(?P<num>{_NUM})\s*(?P<q1>\?|\+|ish\b)?\s*(?P<unit>{_UNIT})?"
    rf"\.?\s*(?P<q2>\?|\+|ish\b)?){_ALT}"
)
_PLAIN_TERM = re.sub(r"\(\?P<\w+>", "(?:", _TERM)  # the same pattern without named groups, to repeat it
_SEP = r"\s*(?:>|<|-|\bto\b|\bthen\b)\s*"
_TERM_RE = re.compile(rf"\s*{_TERM}\s*")
_SEP_RE = re.compile(_SEP)
_TIME_AFTER = r"\s*(?:years?|yrs?|y/?o\b|months?|mos?\b|weeks?|wks?|days?|hours?|%|\"|'|cm|ft|in\b|am\b|pm\b)"
_CHAIN = re.compile(
    rf"(?<![\d.'\"])(?P<body>(?:{_PLAIN_TERM}){_SEP}(?:{_PLAIN_TERM})(?:{_SEP}(?:{_PLAIN_TERM}))*)(?![\d.])(?!{_TIME_AFTER})"
    rf"(?:\s*=\s*(?P<sign>[-+])?\s*(?P<diff>{_NUM})\s*(?P<diff_unit>{_UNIT})?)?"
)
_LABELLED = re.compile(
    rf"(?<![a-z])(?P<label>s\.?w\.?|c\.?w\.?|g\.?w\.?|h\.?w\.?|l\.?w\.?|start(?:ing)?(?:\s*weight)?|current(?:\s*weight)?"
    rf"|goal(?:\s*weight)?|before\s*(?=:)|after\s*(?=:))\s*[:=\-]?\s*(?P<term>{_PLAIN_TERM})(?![\d.])(?!{_TIME_AFTER})"  # not 'goal 17 days early'
)


@dataclass
class _Weight:
    value: float  # in `unit`
    unit: str | None  # 'lb', 'kg' or None (not written)
    estimate: bool  # 270?, 200+, 200ish, ~200


def _unit_name(raw: str | None) -> str | None:
    if not raw:
        return None
    return "kg" if raw.startswith("k") else "lb"


def _term(match: re.Match) -> _Weight:
    if match.group("stone"):
        pounds = float(match.group("stone")) * STONE_LB + float(match.group("stone_lb") or 0)
        return _Weight(pounds, "lb", False)
    estimate = bool(match.group("pre") or match.group("q1") or match.group("q2"))
    return _Weight(float(match.group("num")), _unit_name(match.group("unit")), estimate)


def _chain_weights(body: str) -> list[_Weight] | None:
    weights = []
    for piece in _SEP_RE.split(body):
        m = _TERM_RE.fullmatch(piece)
        if not m:
            return None
        weights.append(_term(m))
    return weights


# Words next to a chain of numbers that make them something other than body weights.
_NOT_WEIGHTS_BEFORE = r"ages?|aged|bmi|size|sizes|waist|pants?|jeans|dress|shirt|bf|body\s*fat"
_NOT_WEIGHTS_AFTER = r"(?:bmi|size|sizes|waist|inches|in|cm|bf|body\s*fat|dress|jeans|pants?)\b|%"


def _find_chain(text: str):
    """The first chain of >= 2 weights: (weights, stated difference or None, its unit, span, goal or None)."""
    for m in _CHAIN.finditer(text):
        weights = _chain_weights(m.group("body"))
        if not weights:
            continue
        if all(w.unit is None and 1900 <= w.value <= 2100 and w.value.is_integer() for w in weights):
            continue  # '2012 - 2018': years, not weights
        before = text[max(0, m.start() - 12): m.start()]
        if re.search(rf"\b(?:{_NOT_WEIGHTS_BEFORE})[\s:]{{0,2}}$", before):
            continue  # 'ages 18 -> 31', 'BMI 34 - 22', 'size 18 > 8'
        if re.match(rf"\s{{0,2}}(?:{_NOT_WEIGHTS_AFTER})", text[m.end(): m.end() + 12]):
            continue  # '34 - 22 BMI', '18 > 8 dress size'

        diff = float(m.group("diff")) if m.group("diff") else None
        goal = None
        if len(weights) > 2 and re.match(r"\s*\(?\s*(?:gw|goal)\b", text[m.end("body"):]):
            goal = weights.pop()  # '250 > 200 > 150 GW': the last number is the goal, not a weight reached
        return weights, diff, _unit_name(m.group("diff_unit")), m.span(), goal
    return None


def _find_labelled(text: str):
    found, spans = {}, []
    for m in _LABELLED.finditer(text):
        label = m.group("label")
        key = {"s": "start", "b": "start", "c": "current", "a": "current", "g": "goal", "h": None, "l": None}[label[0]]
        if key and key not in found:
            found[key] = _term(_TERM_RE.fullmatch(m.group("term")))
        spans.append(m.span())
    return found, spans


# --- sex and age -----------------------------------------------------------------------------------------

_SEX = re.compile(r"(?<![a-z'])(female|male|woman|man|f|m)(?![a-z'])")
_AGE_NEXT_TO_SEX = re.compile(
    r"(?<![a-z'])(?:female|male|woman|man|f|m)\s*[/,|\-]?\s*(\d{2})(?![\d.])"
    r"|(?<![\d.])(\d{2})\s*[/,|\-]?\s*(?:female|male|woman|man|f|m)(?![a-z'])"
)
_STRICT_SEX_AGE = re.compile(r"(?<![a-z'])([mf])\s*/\s*(\d{2})(?![\d.])|(?<![\d.])(\d{2})\s*/\s*([mf])(?![a-z'])")
_AGE_WORDS = re.compile(r"(?<![\d.])(\d{2})\s*(?:y/?o\b|yrs?\.?\s*old|years?\s*old|yo\b)")
_AGE_FIELD = re.compile(r"(?:^|[/|(,])\s*(\d{2})\s*(?=[/|),]|$)")


def _find_sex(header: str) -> tuple[str | None, str | None]:
    """(sex, refusal reason)."""
    values = {"F" if s in ("f", "female", "woman") else "M" for s in _SEX.findall(header)}
    if len(values) > 1:
        return None, "ambiguous sex (several people?)"
    return (values.pop() if values else None), None


def _find_age(header: str) -> tuple[int | None, str | None]:
    ages = {int(a or b) for a, b in _AGE_NEXT_TO_SEX.findall(header)} or {int(a) for a in _AGE_WORDS.findall(header)}
    if not ages:
        ages = {int(a) for a in _AGE_FIELD.findall(header)}
    if len(ages) > 1:
        return None, "ambiguous age"
    return (ages.pop() if ages else None), None


# --- the parser ------------------------------------------------------------------------------------------

def _kg(weight: _Weight, unit: str) -> float:
    return weight.value * LB_KG if (weight.unit or unit) == "lb" else weight.value


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def parse_title(title: str) -> TitleParse:
    if not isinstance(title, str) or not title.strip():
        return TitleParse(ok=False, reason="empty title")
    text = _normalise(title)

    height_m, span = _find_feet(text)
    metric_height = False
    if span:
        text = _mask(text, span)

    labelled, label_spans = _find_labelled(text)
    for s in label_spans:
        text = _mask(text, s)
    chain = _find_chain(text)
    weights_start = min([s[0] for s in label_spans] + ([chain[3][0]] if chain else []), default=len(text))
    header = text[:weights_start]
    if not header.strip(" |()/-:,."):  # '[200 > 150] F/28/5'4"': the stats come after the weights
        header = text
        for s in ([chain[3]] if chain else []):
            header = _mask(header, s)

    if height_m is None:
        height_m, span, metric_height = _find_other_height(header)
        if span:
            header = _mask(header, span)
    sex, sex_problem = _find_sex(header)
    age, age_problem = _find_age(header)
    result = TitleParse(ok=False, sex=sex, age=age, height_m=round(height_m, 4) if height_m else None)

    def refuse(reason: str) -> TitleParse:
        result.reason = reason
        return result

    if sex_problem or age_problem:
        return refuse(sex_problem or age_problem)
    if len({(a or d, b or c) for a, b, c, d in _STRICT_SEX_AGE.findall(_normalise(title))}) > 1:
        return refuse("several people (two sex/age fields)")
    if age is not None and not AGE_RANGE[0] <= age <= AGE_RANGE[1]:
        result.age = None
        return refuse(f"implausible age {age}")
    if height_m is None:
        return refuse("no height")
    if not HEIGHT_RANGE_M[0] <= height_m <= HEIGHT_RANGE_M[1]:
        result.height_m = None
        return refuse(f"implausible height {height_m:.2f} m")

    # Which weights: labelled SW/CW win over a chain; GW only ever comes from a label.
    goal = labelled.get("goal")
    diff = diff_unit = None
    if "start" in labelled or "current" in labelled:
        chain_weights = [labelled.get("start"), labelled.get("current")]
        start, current = chain_weights
    elif chain:
        chain_weights, diff, diff_unit, _, goal = chain[0], chain[1], chain[2], chain[3], goal or chain[4]
        start, current = chain_weights[0], chain_weights[-1]
    else:
        return refuse("no weights")
    present = [w for w in chain_weights + [goal] if w is not None]

    # Units: written per number; unitless numbers take the title's unit; none at all -> lbs for ft/in heights.
    written = {w.unit for w in present if w.unit}
    if len(written) == 1:
        unit = written.pop()
    elif written:
        unit = None  # mixed units: every unitless number is ambiguous
        if any(w.unit is None for w in present):
            return refuse("mixed weight units")
    elif metric_height:
        unit = _only_plausible_unit(present, height_m)
        if unit is None:
            return refuse("weight units unclear (metric height, no weight unit)")
    else:
        unit = "lb"  # r/progresspics convention: US posters, pounds, usually unwritten
        if min(_kg(w, unit) for w in present) / height_m**2 < LB_GUESS_MIN_BMI and \
                all(KG_READING_BMI[0] <= w.value / height_m**2 <= KG_READING_BMI[1] for w in present):
            return refuse("weight units unclear (as lbs the BMI would be very low)")

    exact = [w for w in (start, current) if w is not None and not w.estimate]
    if not exact:
        return refuse("approximate weights" if any(w is not None for w in (start, current)) else "no weights")
    if diff is not None and not start.estimate and not current.estimate:
        stated = diff * (LB_KG if (diff_unit or unit) == "lb" else 1.0)
        first, last = _kg(start, unit), _kg(current, unit)
        peak = max((_kg(w, unit) for w in chain_weights if w is not None and not w.estimate), default=first)
        # start - current, or from the peak of a chain ('140 < 200 > 150 = 50 lost' counts from 200)
        if all(abs(stated - abs(a - b)) > DIFF_TOLERANCE_LB * LB_KG for a, b in ((first, last), (peak, last),
                                                                                 (peak, first))):
            return refuse(f"weights disagree with stated difference ({_fmt(start.value)} - {_fmt(current.value)} "
                          f"vs {_fmt(diff)})")

    kgs = {}
    for name, w in (("start", start), ("current", current), ("goal", goal)):
        if w is None or w.estimate:
            continue
        kg = _kg(w, unit)
        if not WEIGHT_RANGE_KG[0] <= kg <= WEIGHT_RANGE_KG[1]:
            return refuse(f"implausible weight {kg:.1f} kg ({name})")
        bmi = kg / height_m**2
        if not BMI_RANGE[0] <= bmi <= BMI_RANGE[1]:
            return refuse(f"implausible BMI {bmi:.1f} ({name})")
        kgs[name] = kg

    result.ok = True
    result.weights_kg = [None if w is None or w.estimate else round(_kg(w, unit), 3) for w in chain_weights]
    for name, kg in kgs.items():
        setattr(result, f"{name}_kg", round(kg, 3))
        setattr(result, f"bmi_{name}", round(kg / height_m**2, 2))
    return result


def _only_plausible_unit(weights: list[_Weight], height_m: float) -> str | None:
    """The single unit ('lb' or 'kg') under which every weight and BMI is plausible, else None."""
    plausible = []
    for unit in ("lb", "kg"):
        kgs = [w.value * (LB_KG if unit == "lb" else 1.0) for w in weights]
        if all(WEIGHT_RANGE_KG[0] <= k <= WEIGHT_RANGE_KG[1] and BMI_RANGE[0] <= k / height_m**2 <= BMI_RANGE[1]
               for k in kgs):
            plausible.append(unit)
    return plausible[0] if len(plausible) == 1 else None
