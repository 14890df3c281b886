"""r/progresspics post title -> sex, age, height, start/current/goal weight and a BMI for each weight.

    parse_title("F/28/5'4\" [180lbs > 140lbs = 40lbs]").to_dict()

Titles follow a loose convention (`Sex/Age/Height [start > current = lost]`), written every possible way.
The parser is deliberately conservative: a wrong BMI is worse than none, so anything a careful human
reader would call ambiguous is refused with a named `reason` instead of guessed. It never raises on a string.

Rules (each one a reading a human would make, see training/title_labels.jsonl for 139 real cases and
training/title_labels_dev.jsonl, training/title_labels_blind1.jsonl for 640 more):
- Height: ft/in anywhere (5'4", 5’4”, 5ft4, 5 foot 4, 5"4 and 5;4 typos, 6', 6'-4", 6'½", 5'12" = 6 ft, 5'6.
  at the end of a sentence), `6,6` and `5.4"` in the stats field; otherwise cm / m / 64in, a bare `5 4` slash
  field near the start (not the fraction in `5 1/2 months`), or a bare `F/29/170` when every weight is in kg.
  Digits right after a feet mark that are no inches (`5'123`, `5'.9"`, `5'?`, `6" 250`) are refused, not 5 ft 0.
- Weights: the first chain of numbers joined by > < -> → - to (also `235to165`, `down to`, `back to`, `then`;
  read left to right: start first, current last, whatever the arrow direction; `down to` a higher number is no
  chain), or labelled SW/CW/GW (also after the numbers, `250 SW > 199 CW`; `Before (206), Current (170)`,
  `Now: 180`, `Then: 250`, `Old picture: 175`); a later chain `200-190 in photos` names the photos' weights and
  wins. `in 6 months` after a number is time, not inches. A labelled number followed by `later`, `lost`, `down`
  is a difference, and a word label before a chain (`Then and now: 250 > 200`) names the whole chain. Without a
  chain or labels, a lone weight with its unit next to the height (`F/24/5ft/160lbs`) is the current weight,
  unless another weight-sized number or a word of the past (`ago`, `heaviest`) makes it unclear.
- Goal: GW / goal labels, `> 150 GW` at the end of a chain, and goals in words (`aiming for 190lbs`, `goal weight
  of 175`, `Goal is 60kg`, `working my way to 135`); a goal in words that is a range, one of two, an amount
  to lose or implausible as a goal (BMI outside 16-35, over 40% from the current weight) is dropped.
- Differences: a chain's `= N` (or a last link that is a difference: `180 to 140 - 40 lost`, `252 - 195 >
  50ish`; or `CW 207, -19lbs` after labels) must agree with start - current within 2.5 lb (an estimated
  `50ish` within 20%, a lower bound `100+` at least), else the title is refused (one of the numbers is a
  typo; we can't tell which). This holds for estimated weights too, with their margin: `283 > ~160 = 135`
  is refused, although ~160 itself would not be recorded.
- Units: per number (lbs/lb/Ibs/pounds, kg, stone+lb); a unitless number takes its chain's unit, and a chain
  with no unit at all is read as lbs when the height is in ft/in, as r/progresspics posters overwhelmingly
  write pounds. With a metric height and no unit we refuse unless only one reading is plausible.
- A weight marked as an estimate (270?, 200+, 200ish, 200-ish, 340(ish), 250 approx, 205~, ~200, about / over /
  almost / roughly 200) is not recorded; `about 175-180`, `450-460? > 330` and `235-240 > 185` are ranges
  (both ends estimates). A weight also given in the other unit (`174 (79kg)`, `SW: 85 kg/170lbs`, `202lb
  (14.4stone)`) must agree with it within 1.5 kg or 2%, else the title is refused.
- Number chains that are ages, sizes, waists, BMIs or years are not weights; two sex/age fields (a couple's
  post) are refused, since we cannot tell whose face is whose. `My Husband/27` is M/27; a sex/age field after
  the weights is used when there is none before them.
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
ESTIMATE_WEIGHT_SHARE = 0.05  # '~160' is taken to be 152-168 when checked against a stated difference
PLUS_DIFF_MAX = 1.5  # '= 100+': a lower bound agrees with up to 1.5 times itself
RANGE_SHARE = 0.1  # '175-180': two close numbers (the second up to 10% higher) may be a range, one estimate
ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE = 1.5, 0.02  # '174 (79kg)': one weight in two units, each rounded

# Plausibility ranges (the checks): outside these a title is refused with a named reason.
HEIGHT_RANGE_M = (1.2, 2.3)
WEIGHT_RANGE_KG = (30.0, 350.0)
BMI_RANGE = (12.0, 80.0)
AGE_RANGE = (13, 90)
# A unitless chain read as lbs that would put someone under this BMI is more likely kg: refuse as unclear.
LB_GUESS_MIN_BMI = 15.0
KG_READING_BMI = (18.5, 45.0)  # ...when reading the same numbers as kg gives ordinary BMIs
# A goal written in words ('aiming for 190') with a BMI outside GOAL_BMI, or more than GOAL_MAX_CHANGE away from
# the current weight, is no goal weight ('aiming for 100 lbs' may be the loss): it is dropped, the title kept.
GOAL_BMI = (16.0, 35.0)
GOAL_MAX_CHANGE = 0.4

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


_MALE_WORDS = r"husband|hubby|boyfriend|dad|father|brother|son"
_FEMALE_WORDS = r"wife|girlfriend|mom|mum|mother|sister|daughter"


def _normalise(title: str) -> str:
    text = title[:MAX_TITLE_CHARS].translate(_QUOTES).lower()
    text = text.replace("''", '"')
    text = re.sub(r"(?:-+|=)?>+", ">", text)  # -> --> => >> all mean '>'
    # Feet and inches typed with a comma or a decimal point in the stats field: 'M/17/6,6 [' and 'F/25/5.4" ['
    # (inches < 12, between a slash and a slash or bracket; a bare '5.5' may be decimal feet and '(5.5" off my
    # waist)' is no height, so both are left alone).
    text = re.sub(r"(?<=/)(\s*)([4-7]),(\d|1[01])(?=\s*(?:[/(|]|$))", "\\1\\2'\\3\"", text)
    text = re.sub(r"(?<=/)(\s*)([4-6])\.(\d|1[01])\s*\"(?=\s*(?:[/(|]|$))", "\\1\\2'\\3\"", text)
    text = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", text)  # decimal comma: 225,97 -> 225.97
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands comma: 1,200 -> 1200
    text = re.sub(r"(?<=\d)½", ".5", text).replace("½", "0.5")  # 5'3½ -> 5'3.5, 6'½" -> 6'0.5"
    # 'My Husband/27/5'11': a relation word in the sex slot of the stats field (directly before '/age')
    text = re.sub(rf"(?<![a-z])(?:my\s+)?(?:{_MALE_WORDS})(?=\s*/\s*\d{{2}}(?![\d.]))", "m", text)
    text = re.sub(rf"(?<![a-z])(?:my\s+)?(?:{_FEMALE_WORDS})(?=\s*/\s*\d{{2}}(?![\d.]))", "f", text)
    text = re.sub(r"(?<=\d)\s*-\s*ish\b", "ish", text)  # 260-ish -> 260ish (an estimate, not a chain link)
    text = re.sub(r"(?<=[\da-z#])\s*\((ish|\?)\)", r"\1 ", text)  # 340(ish)lbs -> 340ish lbs; 150 lbs (?)
    # '250 approx. > 200', '250lbs (est) > 200', '250 or so > 200': an estimate mark after the number, like 'ish'
    text = re.sub(r"(?<=[\d#]|[a-z]\b)\s*\(?\s*(?:approx\.?|approximately|est\.?|estimated|or\s+so|give\s+or\s+take)"
                  r"\s*\)?(?=\s*(?:[>),;=]|-|to\b|$))", " ish", text)
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
    r"(?<![\d.])(?P<feet>[1-9])\s*(?:'|ft\.?|feet|foot|(?P<typo>;|\"(?=\s*\d)))"  # 5' 5ft 5 foot; 5"10 / 5;10 typos
    r"(?:-(?=\d)|\s*-\s*(?=\d{1,2}(?:\.\d+)?\s*\"))?"  # 6'-4 and 6' - 4": a dash before the inches
    rf"(?:\s*(?P<inches>\d{{1,2}}(?:\.\d+)?)(?!\d|\.\d)\s*(?P<mark>\"|{_INCH}|')?)?"  # inches; 5'6. ends a sentence
)
_CM = re.compile(r"(?<![\d.])(\d{3})(?:\.\d)?\s*cm\b")
_METRES = re.compile(r"(?<![\d.])([12]\.\d{1,2})\s*m(?:eters?|etres?)?\b")
_INCHES = re.compile(rf"(?<![\d.'])(\d{{2}})(?:\.\d)?\s*(?:\"|{_INCH})")
# '5 4' as a slash field; not '5 1/2 months' (a fraction: /2 or /4 not followed by another digit)
_SLASH_FEET_SPACE_INCHES = re.compile(r"(?:^|[/|(,])\s*([4-7])\s+(\d{1,2})(?!/[24](?!\d))\s*(?=[/|),]|$)")


def _find_feet(text: str):
    for m in _FEET.finditer(text):
        if not m.group("inches") and (m.group("typo") or re.match(r"\.?\d|\?", text[m.end():])):
            continue  # '5'123', '5'.9"', '5'?', '6" 250': no inches we can read after the mark; not 5 ft 0
        inches = float(m.group("inches")) if m.group("inches") else 0.0
        if inches < 12 or (inches == 12 and m.group("mark")):  # 5'12" is 6 ft; a bare 5' 12 may be '12 weeks'
            return (int(m.group("feet")) * 12 + inches) * INCH_M, m.span()
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
# Words that make the number after them an estimate ('about 200') or a lower bound ('over 245': see _LOWER_BOUND).
_ESTIMATE_WORDS = (r"about|around|approx\.?|approximately|roughly|nearly|almost|over|under|more\s+than"
                   r"|less\s+than|at\s+least|close\s+to|maybe|probably|est\.?|estimated|circa")
_LOWER_BOUND = re.compile(r"over|more|at\s+least")
# The same weight in another unit, kept so that the two can be checked: '174 (79kg)'; and after a labelled
# weight also '85 kg/170lbs' (in a chain a slash may instead join a lb chain to a kg one: '260-180lbs/118-82kg').
_ALT = rf"(?:\s*\(\s*(?P<alt>{_NUM})\s*(?P<alt_unit>{_UNIT}|st(?:ones?)?\b)\s*\))?"
_SLASH_ALT = rf"(?:\s*/\s*(?P<alt2>{_NUM})\s*(?P<alt2_unit>{_UNIT}))?"
_TERM = (
    rf"(?:(?P<stone>\d{{1,2}}(?:\.\d+)?)\s*(?:st|stones?)\b"
    rf"\s*(?:(?P<stone_lb>\d{{1,2}}(?:\.\d+)?)(?![\d.])\s*(?:lbs?|pounds?)?\b)?"
    rf"|(?P<pre>~|(?<![a-z])(?:{_ESTIMATE_WORDS})\s*~?)?"
    rf"(?P<num>{_NUM})(?P<q1>\s*(?:\?|\+|ish\b)|~)?\s*(?P<unit>{_UNIT})?"
    rf"\.?\s*(?P<q2>\?|\+|ish\b)?){_ALT}"
)
_PLAIN_TERM = re.sub(r"\(\?P<\w+>", "(?:", _TERM)  # the same pattern without named groups, to repeat it
_PLAIN_LABEL_TERM = re.sub(r"\(\?P<\w+>", "(?:", _TERM + _SLASH_ALT)
# Links of a chain: '>', '-', 'to' (also '235to165'), 'then', and spelled-out ones: 'down to', 'back to',
# ', then back up to' (so that '180 to 225 back to 200' ends at 200, not at 225).
_SEP = (r"\s*(?:>|<|-|,?\s*(?:and\s+)?(?:then\s+)?(?:back\s+)?(?:(?:down|up)\s+)?(?<![a-z])to(?![a-z])"
        r"|\bthen\b)\s*")
_TERM_RE = re.compile(rf"\s*{_TERM}\s*")
_LABEL_TERM_RE = re.compile(rf"\s*{_TERM}{_SLASH_ALT}\s*")
_SEP_RE = re.compile(_SEP)
_TIME_AFTER = rf"\s*(?:years?|yrs?|y/?o\b|months?|mos?\b|weeks?|wks?|days?|hours?|%|\"|'|cm|ft|{_INCH}|am\b|pm\b)"
_CHAIN = re.compile(
    # not inside a decimal, nor straight after a height mark; '...241->205...' is a chain between dots
    rf"(?<![\d'\"])(?<!\d\.)(?P<body>(?:{_PLAIN_TERM}){_SEP}(?:{_PLAIN_TERM})(?:{_SEP}(?:{_PLAIN_TERM}))*)"
    rf"(?!\d|\.\d)(?!{_TIME_AFTER})"
    rf"(?:\s*=\s*[-+]?\s*(?P<diff>{_PLAIN_TERM}))?"  # '= 40', '= -40lbs', '= ~21', '= 100lbs+', '= 20lbs (9kg)'
)
# Ordinary words used as labels when a colon or a parenthesis follows: 'Before (206)', 'Now: 180', 'Then: 250',
# 'Old picture: 175, New picture: 159'.
_WORD_LABELS = (r"before\s*(?=[:(])|after\s*(?=[:(])|now\s*(?=:)|then\s*(?=:)"
                r"|(?:old|new)\s+(?:pic(?:ture)?|photo)s?\s*(?=:)")
_LABELLED = re.compile(
    rf"(?<![a-z])(?P<label>s\.?w\.?|c\.?w\.?|g\.?w\.?(?:\s+is\b)?|h\.?w\.?|l\.?w\.?|start(?:ing)?(?:\s*weight)?"
    rf"|current(?:\s*weight)?|goal(?:\s*weight)?|{_WORD_LABELS})\s*[:=\-]?\s*"
    rf"(?:\((?P<pterm>\s*{_PLAIN_TERM})\)"  # 'Before (206), Current (170)': a lone number in parentheses
    rf"|(?P<term>{_PLAIN_LABEL_TERM})(?!\d|\.\d)(?!{_TIME_AFTER}))"  # not 'goal 17 days early'
)
# After a word label, a chain: the label names the whole chain, not its first number ('Then and now: 250 > 200').
_CHAIN_AFTER = re.compile(rf"{_SEP}\d")
# A difference right after labelled weights: 'SW:223, CW:207, -19lbs', 'SW 176 > CW 155 = 21 pounds'
# (not what is left to lose: 'CW 200 - 30 to go').
_LABELLED_DIFF = re.compile(rf"\s*[,;]?\s*(?:=\s*[-+]?|[-+])\s*(?P<term>{_PLAIN_TERM})(?![\d.])(?!{_TIME_AFTER})"
                            r"(?!\s*(?:more|to\s+go|left|away|until|till)\b)")
# Labels written after the numbers: '250 SW > 199 CW' (see _find_labels_after_numbers).
_LABEL_AFTER = re.compile(rf"(?<![\d.])(?P<term>{_PLAIN_TERM})\s*\(?\s*(?P<label>[scg]\.?w)\.?(?![a-z])\s*\)?")
# After a labelled number, words that make it an amount lost, not a weight: 'now: 85 pounds later'
# (but 'CW: 180 down from 220' is a weight).
_LABEL_DIFF_WORDS_AFTER = re.compile(r"\s*(?:lost|gone|later|less|lighter|heavier|loss|down|total)\b"
                                     r"(?!\s*(?:from\b|to\b|by\b|\d))")  # 'CW 168 down 30': 168 is a weight
# A goal in words. A goal BMI outside GOAL_BMI is not a goal weight ('goal of 100' may be the pounds to lose):
# such a goal is dropped, not the title refused.
_GOAL_PHRASE = re.compile(
    rf"(?<![a-z])(?:goal(?:\s*weight)?\s+(?:is|of|was)|aiming\s+for|working\s+(?:my\s+way\s+)?(?:down\s+)?to(?:wards?)?"
    rf"|(?:hoping|trying|want(?:ing)?|planning)\s+to\s+(?:get\s+(?:down\s+)?to|reach|hit|be\s+at))\s*[:=]?\s*"
    rf"(?P<term>{_PLAIN_TERM})(?!\d|\.\d)(?!{_TIME_AFTER})"
)
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
                         prefixed=bool(match.group("pre")),
                         plus=any("+" in mark for mark in marks) or bool(_LOWER_BOUND.match(marks[0])))
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

        seps = [sep.strip() for sep in _SEP_RE.findall(m.group("body"))]
        if any(("down" in sep and b.value >= a.value) or ("up" in sep and b.value <= a.value)
               for sep, a, b in zip(seps, weights, weights[1:])):
            continue  # 'lost 100 down to 180': the words contradict the numbers, so one of them is not a weight
        _mark_ranges(weights, seps)
        diff = _parse_term(m.group("diff")) if m.group("diff") else None
        tail = text[m.end("body"):]
        goal = None
        if len(weights) > 2 and re.match(r"\s*\(?\s*(?:gw|goal)\b", tail):
            goal = weights.pop()  # '250 > 200 > 150 GW': the last number is the goal, not a weight reached
        elif len(weights) > 2 and diff is None and (_DIFF_WORDS_AFTER.match(tail) or _too_light(weights)):
            diff = weights.pop()  # '180 to 140 - 40 lost', '252lbs - 195lbs > 50ish': the difference, not a weight
        if re.match(r"\s*[<>](?!\s*\|)", tail):  # (a masked span there is a label read already: '> 150 GW')
            weights[-1].estimate = True  # '200 > 150 > ?': the chain goes on to a weight not given; 150 is not current
        yield _Chain(weights, diff, m.span(), goal)


def _mark_ranges(weights: list[_Weight], seps: list[str]) -> None:
    """Mark both ends of a range as estimates: two numbers joined by '-' or 'to', the second up to 10% higher,
    where either carries an estimate mark ('about 175-180', '450-460? > 330') or the range is one link of an
    arrow chain ('235-240 > 185': a chain would use the same link throughout). A range is a guess at one
    weight, not a change between two."""
    arrows = any(sep not in ("-", "to") for sep in seps)
    for sep, a, b in zip(seps, weights, weights[1:]):
        close = 0 < b.value - a.value <= RANGE_SHARE * a.value and (a.unit is None or b.unit in (None, a.unit))
        if sep in ("-", "to") and close and (a.prefixed or b.estimate or (sep == "-" and arrows)):
            a.estimate = b.estimate = True


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
    """Labelled weights {'start'|'current'|'goal'|'diff': _Weight} and the spans they used."""
    found, spans = _find_labels_after_numbers(text)
    if found:
        return found, spans
    for m in _LABELLED.finditer(text):
        label = m.group("label")
        key = {"s": "start", "b": "start", "t": "start", "o": "start", "c": "current", "a": "current",
               "n": "current", "g": "goal", "h": None, "l": None}[label[0]]
        weight = _term(_LABEL_TERM_RE.fullmatch(m.group("term") or m.group("pterm")))
        if weight.unit is None and weight.value.is_integer() and 1900 <= weight.value <= 2100:
            continue  # 'before (2015)': a year
        if _LABEL_DIFF_WORDS_AFTER.match(text, m.end()):
            continue  # 'then and now: 85 pounds later', 'current: 40 lbs down': a difference, not a weight
        if label.split()[0] in ("before", "after", "now", "then", "old", "new") and _CHAIN_AFTER.match(text, m.end()):
            continue  # 'then and now: 250 > 200': the chain is read as one
        if key and key not in found:
            found[key] = weight
            if key == "current":
                d = _LABELLED_DIFF.match(text, m.end())
                if d:
                    found["diff"] = _parse_term(d.group("term"))
        spans.append(m.span())
    return found, spans


def _find_labels_after_numbers(text: str):
    """'250 SW > 199 CW = 51', '180sw 150cw': labels written after their numbers. Only when every SW/CW/GW
    follows a number, and the first or the last is not followed by one (in 'SW 250 CW 200' the CW is 200's
    label, not 250's; in '180 SW 150 CW' the trailing CW shows the style)."""
    matches = list(_LABEL_AFTER.finditer(text))
    if not matches or len(matches) != len(re.findall(r"(?<![a-z])[scg]\.?w\.?(?![a-z])", text)):
        return {}, []

    def followed_by_number(m: re.Match) -> bool:
        return bool(re.match(r"\s*[:=]?\s*\d", text[m.end():]))
    if followed_by_number(matches[0]) and followed_by_number(matches[-1]):
        return {}, []
    found, spans = {}, []
    for m in matches:
        key = {"s": "start", "c": "current", "g": "goal"}[m.group("label")[0]]
        if key not in found:
            found[key] = _parse_term(m.group("term"))
            if key == "current":
                d = _LABELLED_DIFF.match(text, m.end())
                if d:
                    found["diff"] = _parse_term(d.group("term"))
        spans.append(m.span())
    return found, spans


def _find_goal_phrase(text: str):
    """(goal, spans) from words: 'aiming for 190lbs', 'goal weight of 175', 'goal is 60kg', 'working my way to
    135', 'hoping to get to 82kg'. Not an amount to lose ('goal of 50 lbs lost', 'aiming for 20 more'); no goal
    when it is a range ('aiming for 160-165') or two goals are named ('was aiming for 170, now for 160')."""
    goals, spans = [], []
    for m in _GOAL_PHRASE.finditer(text):
        if _LABEL_DIFF_WORDS_AFTER.match(text, m.end()) or re.match(r"\s*(?:more|to\s+go|left|off)\b", text[m.end():]):
            continue
        goal = _parse_term(m.group("term"))
        if re.match(r"\s*(?:-|to|or)\s*\d", text[m.end():]):
            goal.estimate = True
        goals.append(goal)
        spans.append(m.span())
    if len({(g.value, g.unit, g.estimate) for g in goals}) != 1:
        return None, spans
    return goals[0], spans


# --- sex and age -----------------------------------------------------------------------------------------

_SEX = re.compile(r"(?<![a-z'])(female|male|woman|man|f|m)(?![a-z'])")
_AGE_NEXT_TO_SEX = re.compile(
    r"(?<![a-z'])(?:female|male|woman|man|f|m)\s*[/,|\-]?\s*(\d{2})(?![\d.])"
    r"|(?<![\d.])(\d{2})\s*[/,|\-]?\s*(?:female|male|woman|man|f|m)(?![a-z'])"
)
_STRICT_SEX_AGE = re.compile(r"(?<![a-z'])([mf])\s*/\s*(\d{2})(?![\d.])|(?<![\d.])(\d{2})\s*/\s*([mf])(?![a-z'])")
_AGE_WORDS = re.compile(r"(?<![\d.])(\d{2})\s*(?:y/?o\b|yrs?\.?\s*old|years?\s*old|yo\b)")
_AGE_FIELD = re.compile(r"(?:^|[/|(,])\s*(\d{2})\s*(?=[/|),]|$|-\s)")  # 'F/5'7"/23 - From 266 to 218'


# A sex/age field, for titles whose stats come after the weights ('3 years from 329 > 180. F/25/5'10"').
_SEX_AGE_FIELD = re.compile(r"(?<![a-z'])(female|male|f|m)\s*[/,|]?\s*(\d{2})(?![\d.])"
                            r"|(?<![\d.])(\d{2})\s*[/,|]?\s*(female|male|f|m)(?![a-z'])")


def _sex_age_field(text: str) -> tuple[str | None, int | None]:
    """The one sex/age field in text, else (None, None)."""
    fields = {(a or d, int(b or c)) for a, b, c, d in _SEX_AGE_FIELD.findall(text)}
    if len(fields) != 1:
        return None, None
    sex, age = fields.pop()
    return ("F" if sex.startswith("f") else "M"), age


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


class _Reading(NamedTuple):
    weights: list  # the chain (start first, current last); [start, current] for labels, None where absent
    diff: _Weight | None  # the stated difference
    goal: _Weight | None  # GW from a label or a chain ('> 150 GW')
    spans: list  # where in the text the weights were read


def _read_weights(text: str) -> tuple[_Reading | None, _Weight | None, str]:
    """(weights, goal in words, text with the labels and goal phrases masked). Labelled SW/CW win over a chain."""
    labelled, spans = _find_labelled(text)
    for s in spans:
        text = _mask(text, s)
    soft_goal, goal_spans = _find_goal_phrase(text)
    for s in goal_spans:
        text = _mask(text, s)
    chain = _find_chain(text)
    if "start" in labelled or "current" in labelled:
        weights = [labelled.get("start"), labelled.get("current")]
        diff = labelled.get("diff") if None not in weights else None
        return _Reading(weights, diff, labelled.get("goal"), spans + ([chain.span] if chain else [])), soft_goal, text
    if chain:
        goal = labelled.get("goal") or chain.goal
        return _Reading(chain.weights, chain.diff, goal, spans + [chain.span]), soft_goal, text
    return None, soft_goal, text


# A lone weight in the stats field, next to the height: 'F/24/5ft/160lbs', 'M/20/5'10 160lb - 10 months',
# 'F/26/65kg(143 lbs)/174cm'. It must carry its unit, be no amount lost ('150 lbs lost') and have no word of the
# past near it ('150 lbs 2 years ago', 'at my heaviest').
_LONE_AFTER_HEIGHT = re.compile(rf"[\s/,:|\-]*(?P<term>{_PLAIN_TERM})(?!\d|\.\d)(?!{_TIME_AFTER})")
_LONE_BEFORE_HEIGHT = re.compile(rf"(?<![\d.])(?P<term>{_PLAIN_TERM})[\s/,:\-]*$")
_NOT_LONE_CURRENT_AFTER = re.compile(
    r"\s*[^\w\s]?\s*(?:lost|gone|off|less|lighter|heavier|gained|loss|later|total|more|left|to\s+go|away"
    r"|down\s+from|up\s+from)\b")
_PAST_WORDS = re.compile(
    r"\b(?:ago|heaviest|highest|start(?:ed|ing)?|before|was|used\s+to|then|goal|left\s+(?:pic|photo|side))\b")
_PAST_WINDOW = 40  # characters after a lone weight searched for _PAST_WORDS
LONE_OTHER_MIN = 80  # another unitless number from 80 up next to a lone weight may be a second weight
_OTHER_NUMBER = re.compile(rf"(?<![\d.])\d{{2,3}}(?:\.\d+)?(?!\d|\.\d)(?!{_TIME_AFTER})")  # not '10 months', '2014'
_LOSS_BEFORE = re.compile(r"(?:lost|down|dropped|minus|gained|lose|losing|-|=)\s*$")


def _loss_before(text: str, pos: int) -> bool:
    return bool(_LOSS_BEFORE.search(text[max(0, pos - 12): pos]))


def _find_lone_weight(text: str, height_span: tuple[int, int]) -> _Reading | None:
    """The current weight when the title gives one weight only, in the stats field (see _LONE_AFTER_HEIGHT)."""
    spans = []
    m = _LONE_AFTER_HEIGHT.match(text, height_span[1])
    if m:
        spans.append(m.span("term"))
    m = _LONE_BEFORE_HEIGHT.search(text[: height_span[0]])
    if m:
        spans.append(m.span("term"))
    spans = [s for s in spans if _parse_term(text[s[0]: s[1]]).unit]  # '5'10 160lb', '65kg/174cm': with a unit
    if len(spans) != 1:
        return None
    span = spans[0]
    weight = _parse_term(text[span[0]: span[1]])
    if weight.estimate or _NOT_LONE_CURRENT_AFTER.match(text, span[1]) or _loss_before(text, span[0]) \
            or _PAST_WORDS.search(text, span[1], span[1] + _PAST_WINDOW):
        return None
    # Any other weight-sized number must be an amount lost ('168 lbs, down 30 lbs'), else which one is current?
    rest = _mask(_mask(text, span), height_span)
    for other in _OTHER_NUMBER.finditer(rest):
        has_unit = re.match(rf"\s*(?:{_UNIT})", rest[other.end():])
        if (has_unit or float(other.group()) >= LONE_OTHER_MIN) and not _loss_before(rest, other.start()) \
                and not _LABEL_DIFF_WORDS_AFTER.match(rest, other.end() + (has_unit.end() if has_unit else 0)):
            return None
    return _Reading([None, weight], None, None, [span])


# A bare 3-digit number in the stats field, 'F/29/170 [95kg > 76kg]': centimetres, when every weight is in kg.
_SLOT_CM = re.compile(r"(?:^|(?<=[/|(,]))\s*(1[4-9]\d|20\d)\s*(?=[/|),(]|$)")


def parse_title(title: str) -> TitleParse:
    if not isinstance(title, str) or not title.strip():
        return TitleParse(ok=False, reason="empty title")
    text = _normalise(title)

    height_m, height_span = _find_feet(text)
    metric_height = False
    if height_span:
        text = _mask(text, height_span)
    reading, soft_goal, text = _read_weights(text)

    weights_start = min((s[0] for s in reading.spans), default=len(text)) if reading else len(text)
    header = text[:weights_start]
    if not header.strip(" |()/-:,."):  # '[200 > 150] F/28/5'4"': the stats come after the weights
        header = text
        for s in reading.spans if reading else []:
            header = _mask(header, s)
    if height_m is None:
        height_m, height_span, metric_height = _find_other_height(header)
        if height_span:
            header = _mask(header, height_span)
    if height_m is None and reading:
        m = _SLOT_CM.search(header)
        if m and all(w.unit == "kg" for w in reading.weights + [reading.goal] if w is not None):
            height_m, metric_height = int(m.group(1)) / 100, True
            header = _mask(header, m.span(1))
    if reading is None and height_span:
        reading = _find_lone_weight(text, height_span)

    sex, sex_problem = _find_sex(header)
    age, age_problem = _find_age(header)
    if sex is None and age is None and reading:
        rest = text  # '3 years from 329 > 180. F/25/5'10"': a sex/age field after the weights
        for s in reading.spans:
            rest = _mask(rest, s)
        sex, age = _sex_age_field(rest[weights_start:])
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
    if reading is None:
        return refuse("no weights")
    return _weigh(result, reading, soft_goal, height_m, metric_height)


def _weigh(result: TitleParse, reading: _Reading, soft_goal: _Weight | None, height_m: float,
           metric_height: bool) -> TitleParse:
    """Units, cross-checks and plausibility of the weights read; fills in result (or its refusal reason)."""
    def refuse(reason: str) -> TitleParse:
        result.reason = reason
        return result

    chain_weights, diff, goal = reading.weights, reading.diff, reading.goal
    start, current = chain_weights[0], chain_weights[-1]
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
    if diff is not None and start is not None and current is not None and not _diff_agrees(
            diff, start, current, [w for w in chain_weights if w is not None], unit):
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
    if "goal" not in kgs and soft_goal is not None and not soft_goal.estimate and (soft_goal.unit or unit):
        kg, now = _kg(soft_goal, unit), kgs.get("current", kgs.get("start"))
        # else not a goal weight ('aiming for 100 lbs' may be the loss): dropped, the title kept
        if GOAL_BMI[0] <= kg / height_m**2 <= GOAL_BMI[1] and (now is None or abs(kg - now) <= GOAL_MAX_CHANGE * now):
            kgs["goal"] = kg

    result.ok = True
    result.weights_kg = [None if w is None or w.estimate else round(_kg(w, unit), 3) for w in chain_weights]
    for name, kg in kgs.items():
        setattr(result, f"{name}_kg", round(kg, 3))
        setattr(result, f"bmi_{name}", round(kg / height_m**2, 2))
    return result


def _diff_agrees(diff: _Weight, start: _Weight, current: _Weight, chain: list[_Weight], unit: str) -> bool:
    """Does a stated difference agree with the weights? Start - current, or from the peak of a chain ('140 <
    200 > 150 = 50 lost' counts from 200). A weight marked as an estimate is checked too, with its margin
    ('283 > ~160 = 135': ~160 cannot be 148, so one of the numbers is wrong, and which is unknown)."""
    stated = _diff_bounds(diff, _kg(diff, unit))
    if start.estimate or current.estimate:
        (s_lo, s_hi), (c_lo, c_hi) = _weight_bounds(start, unit), _weight_bounds(current, unit)
        # |start - current| over every value the two could have: overlapping the stated difference is enough
        low = max(s_lo - c_hi, c_lo - s_hi, 0.0)
        return low <= stated[1] and max(s_hi - c_lo, c_hi - s_lo) >= stated[0]
    first, last = _kg(start, unit), _kg(current, unit)
    peak = max((_kg(w, unit) for w in chain if not w.estimate), default=first)
    return any(stated[0] <= abs(a - b) <= stated[1] for a, b in ((first, last), (peak, last), (peak, first)))


def _diff_bounds(diff: _Weight, stated_kg: float) -> tuple[float, float]:
    """The differences a stated one allows. Exact: within 2.5 lb; '100+': at least that (and not wildly more);
    '50ish' / '~50': within 20%."""
    tolerance = DIFF_TOLERANCE_LB * LB_KG
    if not diff.estimate:
        return stated_kg - tolerance, stated_kg + tolerance
    if diff.plus:
        return stated_kg - tolerance, PLUS_DIFF_MAX * stated_kg + tolerance
    margin = tolerance + ESTIMATE_DIFF_SHARE * stated_kg
    return stated_kg - margin, stated_kg + margin


def _weight_bounds(weight: _Weight, unit: str) -> tuple[float, float]:
    """The weights (kg) a written one allows: exact as written; '200+' / 'over 200' at least that; '~200',
    '200ish', '200?' within 5%."""
    kg = _kg(weight, unit)
    if not weight.estimate:
        return kg, kg
    if weight.plus:
        return kg, float("inf")
    return kg * (1 - ESTIMATE_WEIGHT_SHARE), kg * (1 + ESTIMATE_WEIGHT_SHARE)


def _only_plausible_unit(weights: list[_Weight], height_m: float) -> str | None:
    """The single unit ('lb' or 'kg') under which every weight and BMI is plausible, else None."""
    plausible = []
    for unit in ("lb", "kg"):
        kgs = [w.value * (LB_KG if unit == "lb" else 1.0) for w in weights]
        if all(WEIGHT_RANGE_KG[0] <= k <= WEIGHT_RANGE_KG[1] and BMI_RANGE[0] <= k / height_m**2 <= BMI_RANGE[1]
               for k in kgs):
            plausible.append(unit)
    return plausible[0] if len(plausible) == 1 else None
