"""r/progresspics post title -> sex, age, height, start/current/goal weight and a BMI for each weight.

    parse_title("F/28/5'4\" [180lbs > 140lbs = 40lbs]").to_dict()

Titles follow a loose convention (`Sex/Age/Height [start > current = lost]`), written every possible way.
The parser is deliberately conservative: a wrong BMI is worse than none, so anything a careful human
reader would call ambiguous is refused with a named `reason` instead of guessed. It never raises on a string.

Rules (each one a reading a human would make, see training/title_labels.jsonl for 139 real cases and
training/title_labels_dev.jsonl for 320 more):
- Height: ft/in anywhere (5'4", 5’4”, 5ft4, 5 foot 4, 5"4 and 5;4 typos, 6', 6'-4", 6'½", 5'12" = 6 ft),
  otherwise cm / m / 64in or a bare `5 4` slash field near the start (not the fraction in `5 1/2 months`).
- Weights: the first chain of numbers joined by > < -> → - to (read left to right: start first, current
  last, whatever the arrow direction), or labelled SW/CW/GW (also `Before (206), Current (170)`, `Now: 180`);
  a later chain `200-190 in photos` names the photos' weights and wins. `in 6 months` after a number is
  time, not inches.
- Differences: a chain's `= N` (or a last link that is a difference: `180 to 140 - 40 lost`, `252 - 195 >
  50ish`; or `CW 207, -19lbs` after labels) must agree with start - current within 2.5 lb (an estimated
  `50ish` within 20%, a lower bound `100+` at least), else the title is refused (one of the numbers is a
  typo; we can't tell which).
- Units: per number (lbs/lb/Ibs/pounds, kg, stone+lb); a unitless number takes its chain's unit, and a chain
  with no unit at all is read as lbs when the height is in ft/in, as r/progresspics posters overwhelmingly
  write pounds. With a metric height and no unit we refuse unless only one reading is plausible.
- A weight marked as an estimate (270?, 200+, 200ish, 200-ish, 205~, ~200) is not recorded; `about 175-180` is a
  range (both estimates). A weight also given in the other unit (`174 (79kg)`, `SW: 85 kg/170lbs`) must agree
  with it within 1.5 kg or 2%, else the title is refused.
- Number chains that are ages, sizes, waists, BMIs or years are not weights; two sex/age fields (a couple's
  post) are refused, since we cannot tell whose face is whose.
- Plausibility: height 1.2-2.3 m, weight 30-350 kg, BMI 12-80, age 13-90, else refused with the value.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import NamedTuple

LB_KG = 0.45359237  # one pound in kilograms
STONE_LB = 14.0  # one stone in pounds
INCH_M = 0.0254  # one inch in metres
DIFF_TOLERANCE_LB = 2.5  # stated difference vs start - current: covers rounding of decimals and 1 kg steps
ESTIMATE_DIFF_SHARE = 0.2  # '= 50ish': an estimated difference agrees within 20% (plus the tolerance above)
PLUS_DIFF_MAX = 1.5  # '= 100+': a lower bound agrees with up to 1.5 times itself
ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE = 1.5, 0.02  # '174 (79kg)': one weight in two units, each rounded

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
    text = re.sub(r"(?<=\d)½", ".5", text).replace("½", "0.5")  # 5'3½ -> 5'3.5, 6'½" -> 6'0.5"
    text = re.sub(r"(?<=\d)\s*-\s*ish\b", "ish", text)  # 260-ish -> 260ish (an estimate, not a chain link)
    return text


def _mask(text: str, span: tuple[int, int]) -> str:
    """Blank a consumed span with '|' so later patterns can neither match it nor join across it."""
    return text[: span[0]] + "|" * (span[1] - span[0]) + text[span[1]:]


# --- height ----------------------------------------------------------------------------------------------

# 'in' after a number is inches only where nothing but punctuation or a body word follows ('40 - 32 in',
# '64in', '34-30 in waist'): not '290-200 in 9 months', '= 80 lbs in total', '200-190 in photos', '64 in June'.
_INCH = (r"(?:inch(?:es)?\b|in\b(?=\s*(?:$|[^\w\s~]|(?:waist|hips?|chest|arms?|thighs?|bust|belly|stomach|neck"
         r"|legs?|calf|calves|tall|off|lost|gone|down)\b)))")
_FEET = re.compile(
    r"(?<![\d.])([1-9])\s*(?:'|ft\.?|feet|foot|;|\"(?=\s*\d))"  # 5' 5ft 5 foot, and the 5"10 / 5;10 typos
    r"(?:-(?=\d)|\s*-\s*(?=\d{1,2}(?:\.\d+)?\s*\"))?"  # 6'-4 and 6' - 4": a dash before the inches
    rf"(?:\s*(\d{{1,2}}(?:\.\d+)?)(?![\d.])\s*(\"|{_INCH}|')?)?"  # optional inches (and their mark)
)
_CM = re.compile(r"(?<![\d.])(\d{3})(?:\.\d)?\s*cm\b")
_METRES = re.compile(r"(?<![\d.])([12]\.\d{1,2})\s*m(?:eters?|etres?)?\b")
_INCHES = re.compile(rf"(?<![\d.'])(\d{{2}})(?:\.\d)?\s*(?:\"|{_INCH})")
# '5 4' as a slash field; not '5 1/2 months' (a fraction: /2 or /4 not followed by another digit)
_SLASH_FEET_SPACE_INCHES = re.compile(r"(?:^|[/|(,])\s*([4-7])\s+(\d{1,2})(?!/[24](?!\d))\s*(?=[/|),]|$)")


def _find_feet(text: str):
    for m in _FEET.finditer(text):
        inches = float(m.group(2)) if m.group(2) else 0.0
        if inches < 12 or (inches == 12 and m.group(3)):  # 5'12" is 6 ft; a bare 5' 12 may be '12 weeks'
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
# The same weight in another unit, kept so that the two can be checked: '174 (79kg)'; and after a labelled
# weight also '85 kg/170lbs' (in a chain a slash may instead join a lb chain to a kg one: '260-180lbs/118-82kg').
_ALT = rf"(?:\s*\(\s*(?P<alt>{_NUM})\s*(?P<alt_unit>{_UNIT}|st\b)\s*\))?"
_SLASH_ALT = rf"(?:\s*/\s*(?P<alt2>{_NUM})\s*(?P<alt2_unit>{_UNIT}))?"
_TERM = (
    rf"(?:(?P<stone>\d{{1,2}}(?:\.\d+)?)\s*(?:st|stone)\b\s*(?:(?P<stone_lb>\d{{1,2}}(?:\.\d+)?)(?![\d.])\s*(?:lbs?|pounds?)?\b)?"
    rf"|(?P<pre>~|about\s|around\s|approx\.?\s*)?(?P<num>{_NUM})(?P<q1>\s*(?:\?|\+|ish\b)|~)?\s*(?P<unit>{_UNIT})?"
    rf"\.?\s*(?P<q2>\?|\+|ish\b)?){_ALT}"
)
_PLAIN_TERM = re.sub(r"\(\?P<\w+>", "(?:", _TERM)  # the same pattern without named groups, to repeat it
_PLAIN_LABEL_TERM = re.sub(r"\(\?P<\w+>", "(?:", _TERM + _SLASH_ALT)
_SEP = r"\s*(?:>|<|-|\bto\b|\bthen\b)\s*"
_TERM_RE = re.compile(rf"\s*{_TERM}\s*")
_LABEL_TERM_RE = re.compile(rf"\s*{_TERM}{_SLASH_ALT}\s*")
_SEP_RE = re.compile(_SEP)
_TIME_AFTER = rf"\s*(?:years?|yrs?|y/?o\b|months?|mos?\b|weeks?|wks?|days?|hours?|%|\"|'|cm|ft|{_INCH}|am\b|pm\b)"
_CHAIN = re.compile(
    rf"(?<![\d.'\"])(?P<body>(?:{_PLAIN_TERM}){_SEP}(?:{_PLAIN_TERM})(?:{_SEP}(?:{_PLAIN_TERM}))*)(?![\d.])(?!{_TIME_AFTER})"
    rf"(?:\s*=\s*[-+]?\s*(?P<diff>{_PLAIN_TERM}))?"  # '= 40', '= -40lbs', '= ~21', '= 100lbs+', '= 20lbs (9kg)'
)
_LABELLED = re.compile(
    rf"(?<![a-z])(?P<label>s\.?w\.?|c\.?w\.?|g\.?w\.?(?:\s+is\b)?|h\.?w\.?|l\.?w\.?|start(?:ing)?(?:\s*weight)?"
    rf"|current(?:\s*weight)?|goal(?:\s*weight)?|before\s*(?=[:(])|after\s*(?=[:(])|now\s*(?=:))\s*[:=\-]?\s*"
    rf"(?:\((?P<pterm>\s*{_PLAIN_TERM})\)"  # 'Before (206), Current (170)': a lone number in parentheses
    rf"|(?P<term>{_PLAIN_LABEL_TERM})(?![\d.])(?!{_TIME_AFTER}))"  # not 'goal 17 days early'
)
# A difference right after labelled weights: 'SW:223, CW:207, -19lbs', 'SW 176 > CW 155 = 21 pounds'
# (not what is left to lose: 'CW 200 - 30 to go').
_LABELLED_DIFF = re.compile(rf"\s*[,;]?\s*(?:=\s*[-+]?|[-+])\s*(?P<term>{_PLAIN_TERM})(?![\d.])(?!{_TIME_AFTER})"
                            r"(?!\s*(?:more|to\s+go|left|away|until|till)\b)")
# A last chain link that is the difference, not a weight: '180lbs to 140lbs - 40lbs lost'.
_DIFF_WORDS_AFTER = re.compile(r"\s*(?:lost|down|gone|gained|loss|lighter|heavier|total)\b")
# 'Forgot this sub existed! 200-190 in photos': a later chain that names the photos' weights.
_PHOTO_WORDS_AFTER = re.compile(r"\s*in\s+(?:the\s+|these\s+|my\s+)?(?:photos?|pics?|pictures?)\b")


@dataclass
class _Weight:
    value: float  # in `unit`
    unit: str | None  # 'lb', 'kg' or None (not written)
    estimate: bool  # 270?, 200+, 200ish, ~200
    prefixed: bool = False  # the estimate mark came before the number: ~200, about 200
    plus: bool = False  # 200+: a lower bound
    alt: float | None = None  # the same weight written in another unit, in `alt_unit`
    alt_unit: str | None = None


class _Chain(NamedTuple):
    weights: list[_Weight]  # start first, current last
    diff: _Weight | None  # the stated difference ('= 40'), if any
    span: tuple[int, int]
    goal: _Weight | None  # '250 > 200 > 150 GW'


def _unit_name(raw: str | None) -> str | None:
    if not raw:
        return None
    return "kg" if raw.startswith("k") else "lb"


def _term(match: re.Match) -> _Weight:
    if match.group("stone"):
        pounds = float(match.group("stone")) * STONE_LB + float(match.group("stone_lb") or 0)
        weight = _Weight(pounds, "lb", False)
    else:
        marks = [match.group(g) or "" for g in ("pre", "q1", "q2")]
        weight = _Weight(float(match.group("num")), _unit_name(match.group("unit")), any(marks),
                         prefixed=bool(match.group("pre")), plus=any("+" in mark for mark in marks))
    if match.group("alt"):
        alt_unit = match.group("alt_unit")
        weight.alt, weight.alt_unit = float(match.group("alt")), "kg" if alt_unit.startswith("k") else "lb"
        if alt_unit.startswith("st"):
            weight.alt *= STONE_LB
    elif match.groupdict().get("alt2") and weight.unit and weight.unit != _unit_name(match.group("alt2_unit")):
        weight.alt, weight.alt_unit = float(match.group("alt2")), _unit_name(match.group("alt2_unit"))
    return weight


def _parse_term(text: str) -> _Weight:
    return _term(_TERM_RE.fullmatch(text))


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
_NOT_WEIGHTS_AFTER = rf"(?:bmi|size|sizes|waist|{_INCH}|cm|bf|body\s*fat|dress|jeans|pants?)\b|%"


def _chains(text: str):
    """Every chain of >= 2 weights, in title order (see _find_chain)."""
    for m in _CHAIN.finditer(text):
        weights = _chain_weights(m.group("body"))
        if not weights:
            continue
        if all(w.unit is None and 1900 <= w.value <= 2100 and w.value.is_integer() for w in weights):
            continue  # '2012 - 2018': years, not weights
        before = text[max(0, m.start() - 12): m.start()]
        if re.search(rf"\b(?:{_NOT_WEIGHTS_BEFORE})[\s:]{{0,2}}$", before):
            continue  # 'ages 18 -> 31', 'BMI 34 - 22', 'size 18 > 8'
        end = m.start("diff") + len(m.group("diff").rstrip(" .")) if m.group("diff") else m.end()
        if re.match(rf"\s{{0,2}}(?:{_NOT_WEIGHTS_AFTER})", text[end: end + 12]):
            continue  # '34 - 22 BMI', '18 > 8 dress size'

        diff = _parse_term(m.group("diff")) if m.group("diff") else None
        tail = text[m.end("body"):]
        goal = None
        if len(weights) > 2 and re.match(r"\s*\(?\s*(?:gw|goal)\b", tail):
            goal = weights.pop()  # '250 > 200 > 150 GW': the last number is the goal, not a weight reached
        elif len(weights) > 2 and diff is None and (_DIFF_WORDS_AFTER.match(tail) or _too_light(weights)):
            diff = weights.pop()  # '180 to 140 - 40 lost', '252lbs - 195lbs > 50ish': the difference, not a weight
        seps = [sep.strip() for sep in _SEP_RE.findall(m.group("body"))]
        if len(weights) == 2 and seps[0] in ("-", "to") and (weights[0].prefixed or weights[1].estimate) \
                and 0 < weights[1].value - weights[0].value <= 0.1 * weights[0].value:
            for w in weights:  # 'about 175-180 lbs': a range around one weight, not a change between two
                w.estimate = True
        yield _Chain(weights, diff, m.span(), goal)


def _too_light(weights: list[_Weight]) -> bool:
    """A last number lighter than any body weight (< 30 kg) after heavier ones: a difference ('> 50ish')."""
    last = weights[-1]
    unit = last.unit or next((w.unit for w in weights if w.unit), "lb")
    kg = last.value * (LB_KG if unit == "lb" else 1.0)
    return kg < WEIGHT_RANGE_KG[0] and last.value < min(w.value for w in weights[:-1])


def _find_chain(text: str) -> _Chain | None:
    """The first chain of >= 2 weights, unless a later one says it gives the weights in the photos."""
    first = None
    for chain in _chains(text):
        if first is None:
            first = chain
        elif _PHOTO_WORDS_AFTER.match(text, chain.span[1]):
            return chain
    return first


def _find_labelled(text: str):
    found, spans = {}, []
    for m in _LABELLED.finditer(text):
        label = m.group("label")
        key = {"s": "start", "b": "start", "c": "current", "a": "current", "n": "current", "g": "goal", "h": None,
               "l": None}[label[0]]
        weight = _term(_LABEL_TERM_RE.fullmatch(m.group("term") or m.group("pterm")))
        if weight.unit is None and weight.value.is_integer() and 1900 <= weight.value <= 2100:
            continue  # 'before (2015)': a year
        if key and key not in found:
            found[key] = weight
            if key == "current":
                d = _LABELLED_DIFF.match(text, m.end())
                if d:
                    found["diff"] = _parse_term(d.group("term"))
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
_AGE_FIELD = re.compile(r"(?:^|[/|(,])\s*(\d{2})\s*(?=[/|),]|$|-\s)")  # 'F/5'7"/23 - From 266 to 218'


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
    weights_start = min([s[0] for s in label_spans] + ([chain.span[0]] if chain else []), default=len(text))
    header = text[:weights_start]
    if not header.strip(" |()/-:,."):  # '[200 > 150] F/28/5'4"': the stats come after the weights
        header = text
        for s in ([chain.span] if chain else []):
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
    if "start" in labelled or "current" in labelled:
        chain_weights = [labelled.get("start"), labelled.get("current")]
        start, current = chain_weights
        diff = labelled.get("diff") if None not in chain_weights else None
    elif chain:
        chain_weights, diff, goal = chain.weights, chain.diff, goal or chain.goal
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
        first, last = _kg(start, unit), _kg(current, unit)
        peak = max((_kg(w, unit) for w in chain_weights if w is not None and not w.estimate), default=first)
        # start - current, or from the peak of a chain ('140 < 200 > 150 = 50 lost' counts from 200)
        if not any(_agrees(diff, _kg(diff, unit), abs(a - b)) for a, b in ((first, last), (peak, last), (peak, first))):
            return refuse(f"weights disagree with stated difference ({_fmt(start.value)} - {_fmt(current.value)} "
                          f"vs {_fmt(diff.value)})")
    for w in present:  # '85 kg/170lbs': the two spellings of one weight must agree, else one is a typo
        if w.alt is None or w.alt_unit == (w.unit or unit):
            continue
        main_kg, alt_kg = _kg(w, unit), _kg(_Weight(w.alt, w.alt_unit, False), unit)
        if abs(main_kg - alt_kg) > max(ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE * main_kg):
            return refuse(f"weights disagree between units ({_fmt(w.value)} {w.unit or unit} vs "
                          f"{_fmt(w.alt)} {w.alt_unit})")

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


def _agrees(diff: _Weight, stated_kg: float, actual_kg: float) -> bool:
    """Does a stated difference agree with the weights? Exact: within 2.5 lb; '100+': at least that (and not
    wildly more); '50ish' / '~50': within 20%."""
    tolerance = DIFF_TOLERANCE_LB * LB_KG
    if not diff.estimate:
        return abs(stated_kg - actual_kg) <= tolerance
    if diff.plus:
        return stated_kg - tolerance <= actual_kg <= PLUS_DIFF_MAX * stated_kg + tolerance
    return abs(stated_kg - actual_kg) <= tolerance + ESTIMATE_DIFF_SHARE * stated_kg


def _only_plausible_unit(weights: list[_Weight], height_m: float) -> str | None:
    """The single unit ('lb' or 'kg') under which every weight and BMI is plausible, else None."""
    plausible = []
    for unit in ("lb", "kg"):
        kgs = [w.value * (LB_KG if unit == "lb" else 1.0) for w in weights]
        if all(WEIGHT_RANGE_KG[0] <= k <= WEIGHT_RANGE_KG[1] and BMI_RANGE[0] <= k / height_m**2 <= BMI_RANGE[1]
               for k in kgs):
            plausible.append(unit)
    return plausible[0] if len(plausible) == 1 else None
