"""r/progresspics post title -> sex, age, height, start/current/goal weight and a BMI for each weight.

    parse_title("F/28/5'4\" [180lbs > 140lbs = 40lbs]").to_dict()

Titles follow a loose convention (`Sex/Age/Height [start > current = lost]`), written every possible way.
The parser is deliberately conservative: a wrong BMI is worse than none, so anything a careful human
reader would call ambiguous is refused with a named `reason` instead of guessed. It never raises on a string.

Rules (each one a reading a human would make, see training/title_labels.jsonl for 139 real cases and
training/title_labels_dev.jsonl, training/title_labels_blind1.jsonl, training/title_labels_blind2.jsonl for 960
more; round 3 generalised them on unlabelled titles: refuse what is not positively understood near the numbers):
- Height: ft/in anywhere (5'4", 5’4”, 5ft4, 5 foot 4, 5"4 and 5;4 typos, 6', 6'-4", 6'½", 5'12" = 6 ft, 5'6.
  at the end of a sentence), `6,6` and `5.4"` in the stats field; otherwise cm / m / 64in, a bare `5 4` slash
  field near the start (not the fraction in `5 1/2 months`), or a bare `F/29/170` when every weight is in kg.
  Digits right after a feet mark that are no inches (`5'123`, `5'.9"`, `5'?`, `6" 250`) are refused, not 5 ft 0;
  `5'6150 lbs` is 5'6 and 150 (61 is no inches), `5'4 1/2` and `5'4 and a half` are 64.5 in, `1m68` is 1.68 m.
  A height marked as approximate (`~5'8"`, `about 6ft`, `5'8ish`, `6'ish`, `5'6?"`) is refused, and so is a title
  with a second height that disagrees (two ft/in heights that differ, or ft/in and cm more than 3 cm apart:
  `5'9 ... 182cm`, a couple's `5'5 ... 5'7`, a growth `5'8" -> 6'3"`); `5'11" (180cm)` is one height.
- Weights: the first chain of numbers joined by > < -> → - to (also `235to165`, `down to`, `back to`, `then`;
  read left to right: start first, current last, whatever the arrow direction; `down to` a higher number is no
  chain), or labelled SW/CW/GW (also after the numbers, `250 SW > 199 CW`; `Before (206), Current (170)`,
  `Now: 180`, `Then: 250`, `Old picture: 175`); a later chain `200-190 in photos` names the photos' weights and
  wins. `in 6 months` after a number is time, not inches. A labelled number followed by `later`, `lost`, `down`
  is a difference, and a word label before a chain (`Then and now: 250 > 200`) names the whole chain. Without a
  chain or labels, a lone weight with its unit next to the height (`F/24/5ft/160lbs`) is the current weight,
  unless another weight-sized number or a word of the past (`ago`, `heaviest`) makes it unclear.
- Chains read through what they positively understand and refuse the rest ("weight chain unclear"): a note in
  words between links (`150 -> 175 (bulk) -> 165`, `205lbs (April) - 185lbs`, a date, `200lbs 35%bf > 164lbs`;
  a note of doubt makes the weight before it an estimate, a note of which photo is which is not read past); a
  tilde as the only link (`250~160lbs`; between close numbers, `197~200`, a range); `126. -136` ends a sentence.
  A chain that goes on past what was read (`190>160(>175)`, `180>143=37 lbs>153lbs`, `160 at heaviest > 150 >
  144`) is refused. A later chain that starts where the first ends continues it (`280-181 ... from 181-189`: 189
  is current; each stated difference is checked against its own part); one introduced by `Pic is`, `Pictures
  show` names the photos' weights and wins; one in the other unit must be the same weights converted. `107kg/
  235lbs > 86kg/190lbs` is one chain (each link in two units, checked); `135kg > 117kg / 298lbs > 258lbs` two.
  Dates (`7/10/13`, `1.1.2014`, `June 2014`) and chains of numbers no one could weigh (`16=>21`) are no weights.
- Labels: a labelled weight followed by a close higher number or an alternative (`GW: 140-150`, `GW:160/165`,
  `CW 180 or 185`) is an estimate; a start label followed by a chain names the chain (`SW: 172 to 160`); two
  labels for one weight that disagree (`CW-220 Now-180`) are refused ("labels disagree"; two goals: no goal);
  `Total lost: 81` after CW is a stated difference.
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
- A weight marked as an estimate (270?, 200+, +200, 200ish, 200-ish, 340(ish), 250 approx, 205~, ~200, +/- 200,
  190s, about / over / almost / roughly / near / like 200, `around 220/230`) is not recorded; `about 175-180`,
  `450-460? > 330` and `235-240 > 185` are ranges (both ends estimates). A weight also given in the other unit
  (`174 (79kg)`, `SW: 85 kg/170lbs`, `202lb (14.4stone)`) must agree with it within 1.5 kg or 2%, else the title
  is refused.
- Number chains that are ages, sizes, waists, BMIs or years are not weights; two sex/age fields (a couple's
  post; counted, so twins' two `F/22` count twice) are refused, since we cannot tell whose face is whose, and so
  are `my sister and I`, `me and my wife` (two people in the photos). `My Husband/27` is M/27; a sex/age field
  after the weights is used when there is none before them; `6'4 guy`, `25 year old female` give the sex, and
  `M / 16=>21` the age now (21).
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
    "→": ">", "⟶": ">", "➡": ">", "➔": ">", "⇒": ">", "⟹": ">", "»": ">",
    "±": "~", "≈": "~", "\ufe0f": "", "–": "-", "—": "-", "−": "-", "\u00a0": " ",
    "[": "(", "]": ")", "{": "(", "}": ")",
})


_MALE_WORDS = r"husband|hubby|boyfriend|dad|father|brother|son"
_FEMALE_WORDS = r"wife|girlfriend|mom|mum|mother|sister|daughter"


def _normalise(title: str) -> str:
    text = title[:MAX_TITLE_CHARS].translate(_QUOTES).lower()
    text = text.replace("''", '"')
    text = re.sub(r"(?:-+\s*|=+)?>+", ">", text)  # -> --> => ==> >> '- >' all mean '>'
    text = _mask_dates(text)
    # Feet and inches typed with a comma or a decimal point in the stats field: 'M/17/6,6 [' and 'F/25/5.4" ['
    # (inches < 12, between a slash and a slash or bracket; a bare '5.5' may be decimal feet and '(5.5" off my
    # waist)' is no height, so both are left alone).
    text = re.sub(r"(?<=/)(\s*)([4-7]),(\d|1[01])\s*\"?(?=\s*(?:[/(|]|$))", "\\1\\2'\\3\"", text)
    text = re.sub(r"(?<=/)(\s*)([4-6])\.(\d|1[01])\s*\"(?=\s*(?:[/(|]|$))", "\\1\\2'\\3\"", text)
    text = re.sub(r"('\d{1,2}),(?=\d{2}\s*(?:y/?o|yrs?|years?)\b)", r"\1, ", text)  # 5'9,18 years old (5'5,75": 5.75)
    text = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", text)  # decimal comma: 225,97 -> 225.97
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands comma: 1,200 -> 1200
    text = re.sub(r"(?<![\d.])([4-7]'\d)(\d{3})(?!\d)", _unglue_height, text)  # 5'6150 lbs: 5'6 and 150
    text = re.sub(r"(?<=\d)½", ".5", text).replace("½", "0.5")  # 5'3½ -> 5'3.5, 6'½" -> 6'0.5"
    # 5'4 1/2, 5'4-1/2", 5'4 and a half: the inches' fraction (else read as 5'4, and the BMI 1.5% off)
    text = re.sub(r"([4-7]\s*(?:'|ft\.?|feet|foot)\s*\d{1,2})(?:\s+|\s*-\s*)"
                  r"(?:(1/2)|(1/4)|(3/4)|(and\s+a\s+half))(?!\d)",
                  lambda m: m.group(1) + (".25" if m.group(3) else ".75" if m.group(4) else ".5"), text)
    # 'My Husband/27/5'11': a relation word in the sex slot of the stats field (directly before '/age')
    text = re.sub(rf"(?<![a-z])(?:my\s+)?(?:{_MALE_WORDS})(?=\s*/\s*\d{{2}}(?![\d.]))", "m", text)
    text = re.sub(rf"(?<![a-z])(?:my\s+)?(?:{_FEMALE_WORDS})(?=\s*/\s*\d{{2}}(?![\d.]))", "f", text)
    text = re.sub(r"(?<=\d)\s*-\s*ish\b", "ish", text)  # 260-ish -> 260ish (an estimate, not a chain link)
    text = re.sub(r"(?<=\dish)-?(?=\s*(?:lbs?|pounds?|kgs?|kilos?|#))", " ", text)  # 210ish-lbs, 190ishlbs
    text = re.sub(r"(?<![\d.])([12])\s*m\s*(\d{2})(?![\d.])", r"\1.\2m", text)  # 1m68: metres, not a sex 'm'
    text = re.sub(r"\+\s*/?\s*-(?=\s*\d)", "~", text)  # '+/- 205', '+-205': about 205
    text = _TILDE_LINK.sub(_tilde_link, text)
    text = re.sub(r"(?<=[\da-z#])\s*\((ish|\?)\)", r"\1 ", text)  # 340(ish)lbs -> 340ish lbs; 150 lbs (?)
    # '250 approx. > 200', '250lbs (est) > 200', '250 or so > 200': an estimate mark after the number, like 'ish'
    text = re.sub(r"(?<=[\d#]|[a-z]\b)\s*\(?\s*(?:approx\.?|approximately|est\.?|estimated|or\s+so|give\s+or\s+take)"
                  r"\s*\)?(?=\s*(?:[>),;=]|-|to\b|$))", " ish", text)
    return text


# Dates are no weights: '7/10/13', '1.1.2014', '12-24-14', '06/2012', 'April 1', 'Nov '13', 'June 2014'.
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"(?<![\d.'/])(?:\d{1,2}/\d{1,2}/(?:\d{2}|(?:19|20)\d{2})|\d{1,2}([.\-])\d{1,2}\1(?:\d{2}|(?:19|20)\d{2})"
    r"|\d{1,2}/(?:19|20)\d{2}|(?:19|20)\d{2}([/.\-])\d{1,2}\2\d{1,2})(?![\d.'/])"
    rf"|(?<![a-z]){_MONTHS}\s*(?:(?:\d{{1,2}}(?:st|nd|rd|th)?|'\d{{2}}|(?:19|20)\d{{2}})(?![\d.'])"
    r"(?!\s*(?:lbs?|kgs?|pounds)\b))+"
    rf"|(?<![\d.])\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}(?![a-z])"
)


def _mask_dates(text: str) -> str:
    return _DATE.sub(lambda m: "¦" * len(m.group()), text)  # '¦': a date, which a chain may read past (_NOTE)


# '250~160lbs', '230lbs ~165lbs': a tilde between two numbers and nothing else. Between two distant numbers it
# is the link of a chain (a later '~' estimate would be written '> ~165'); between close ones, '197~200', a range.
_TILDE_LINK = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)(\s*(?:lbs?|kgs?|pounds)?\s*)~\s*(\d{2,3}(?:\.\d+)?)(?![\d.])")


def _tilde_link(m: re.Match) -> str:
    a, b = float(m.group(1)), float(m.group(3))
    if min(a, b) < WEIGHT_RANGE_KG[0] or not 0.4 <= b / a <= 2.5:
        return m.group()  # 'F/25 ~250', '164lbs ~10 months': not two weights of one person
    if abs(b - a) <= RANGE_SHARE * a:
        return f"{m.group(1)}ish{m.group(2)}-{m.group(3)}ish "
    return f"{m.group(1)}{m.group(2)}> {m.group(3)}"


def _unglue_height(m: re.Match) -> str:
    """'5'6150' is 5'6 and 150 (61 is no inches); '5'1150' could be 5'11 and 50 lbs as well: left alone (refused)."""
    inches, weight = m.group(1)[-1] + m.group(2)[0], int(m.group(2))
    if int(inches) >= 12 and 100 <= weight < 500:
        return f"{m.group(1)} {m.group(2)}"
    return m.group()


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


def _feet_height(m: re.Match, text: str) -> float | None:
    """The height (m) of one _FEET match, or None where it is no height we can read."""
    if not m.group("inches") and (m.group("typo") or re.match(r"\.?\d|\?", text[m.end():])):
        return None  # '5'123', '5'.9"', '5'?', '6" 250': no inches we can read after the mark; not 5 ft 0
    inches = float(m.group("inches")) if m.group("inches") else 0.0
    if inches < 12 or (inches == 12 and m.group("mark")):  # 5'12" is 6 ft; a bare 5' 12 may be '12 weeks'
        return (int(m.group("feet")) * 12 + inches) * INCH_M
    return None


def _find_feet(text: str):
    for m in _FEET.finditer(text):
        height = _feet_height(m, text)
        if height is not None:
            return height, m.span()
    return None, None


# A height written with a doubt: '~5'8"', 'about 6ft', '5'8ish', '6'ish', '5'6?"'. BMIs move by 3% an inch.
_APPROX_BEFORE_HEIGHT = re.compile(r"(?:~|(?<![a-z])(?:about|around|approx\.?|approximately|roughly|almost|nearly"
                                   r"|maybe|probably|like|just\s+(?:under|over)|under|over))\s*$")
_APPROX_AFTER_HEIGHT = re.compile(r"\s*(?:ish\b|\?)")
HEIGHT_AGREE_M = 0.03  # ft/in and cm for one person: conversions are rounded, an inch at most


def _all_heights(text: str) -> list[tuple[float, tuple[int, int], bool]]:
    """Every plausible height written in ft/in, cm or m: (height_m, span, imperial?)."""
    found = [(_feet_height(m, text), m.span(), True) for m in _FEET.finditer(text)]
    for pattern, scale in ((_CM, 0.01), (_METRES, 1.0)):
        found += [(float(m.group(1)) * scale, m.span(), False) for m in pattern.finditer(text)]
    return [h for h in found if h[0] is not None and HEIGHT_RANGE_M[0] <= h[0] <= HEIGHT_RANGE_M[1]]


def _height_problem(text: str, height_m: float, span: tuple[int, int]) -> str | None:
    """Why the height read cannot be trusted: marked as approximate, or another height in the title that
    disagrees ('5'9 ... 182cm', a couple's '5'5 ... 5'7', a growth '5'8" -> 6'3"'). Two ft/in heights must be
    the same; ft/in and cm within HEIGHT_AGREE_M (a conversion)."""
    if _APPROX_BEFORE_HEIGHT.search(text[max(0, span[0] - 20): span[0]]) or _APPROX_AFTER_HEIGHT.match(text, span[1]):
        return "approximate height"
    imperial = bool(_FEET.fullmatch(text[span[0]: span[1]]))
    for other, other_span, other_imperial in _all_heights(text):
        if other_span == span:
            continue
        tolerance = 0.5 * INCH_M if imperial and other_imperial else HEIGHT_AGREE_M
        if abs(other - height_m) > tolerance:
            return "height ambiguous"
    return None


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
_ESTIMATE_WORDS = (r"about|around|approx\.?|approximately|roughly|nearly|near|almost|over|under|more\s+than"
                   r"|less\s+than|at\s+least|close\s+to|maybe|probably|est\.?|estimated|circa|like"
                   r"|\+(?=\s*\d)")  # '+200 lbs': a lower bound written before the number
_LOWER_BOUND = re.compile(r"over|more|at\s+least|\+(?!\s*[/-])")
# The same weight in another unit, kept so that the two can be checked: '174 (79kg)', '85 kg/170lbs'. A slash
# only between two numbers that both carry (different) units; in a chain only when every link has one: in
# '135kg > 117kg / 298lbs > 258lbs' it joins a kg chain to a lb one.
_ALT = rf"(?:\s*\(\s*(?P<alt>{_NUM})\s*(?P<alt_unit>{_UNIT}|st(?:ones?)?\b)\s*\))?"
_SLASH_ALT = rf"\s*/\s*(?P<alt2>{_NUM})\s*(?P<alt2_unit>{_UNIT})"


def _term_pattern(slash: str) -> str:
    """One weight as written, with a slash alternative ('85 kg/170lbs') never (''), optional ('?') or required ('!')."""
    slash_alt = "" if not slash else f"(?:{_SLASH_ALT}){'?' if slash == '?' else ''}"
    unit = f"(?P<unit>{_UNIT})\\.?{slash_alt}"  # a dot after a unit ('lbs.'), but '126. -136' ends a sentence
    return (
        rf"(?:(?P<stone>\d{{1,2}}(?:\.\d+)?)\s*(?:st|stones?)(?![a-z])"  # also 13st5
        rf"\s*(?:(?P<stone_lb>\d{{1,2}}(?:\.\d+)?)(?![\d.])\s*(?:lbs?|pounds?)?\b)?"
        rf"|(?P<pre>~\s*|(?<![a-z])(?:{_ESTIMATE_WORDS})\s*~?)?"
        rf"(?P<num>{_NUM})(?P<q1>\s*(?:\?|\+|ish\b)|~|(?<=0)s\b)?"  # '190s': somewhere in them
        rf"\s*(?:{unit}){'' if slash == '!' else '?'}"
        rf"\s*(?P<q2>\?|\+|ish\b)?){_ALT}"
    )


def _plain(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)  # the same pattern without named groups, to repeat it


_TERM = _term_pattern("?")
_PLAIN_TERM = _plain(_TERM)
_CHAIN_TERM = _plain(_term_pattern(""))
_CHAIN_PAIR_TERM = _plain(_term_pattern("!"))  # '107kg/235lbs': every link of the chain in both units
_TERM_RE = re.compile(rf"\s*{_TERM}\s*")
# A note in words between two links of a chain, read past: '150 -> 175 (bulk) -> 165', '205lbs (April) - 185lbs',
# '317lbs (highest weight about 3.5 years ago) to 234lbs', '160 lbs in July 2013 to 141 lbs' (a masked date). Its
# only numbers are durations; it is no label, goal, difference or measurement, and says nothing of which photo is
# which ('168lb(right) - 182lb(left)': the chain runs right to left).
_NOTE = (r"(?:\s*\((?![^()]*\b(?:[scgh]w|goal|lost|loss|down|gained|bmi|size|waist|left|right|top|bottom|before"
         r"|after|first|second|last|then|now|current|today)\b)(?=[^()]*[a-z¦])"
         r"[^()\d]*(?:\d+(?:\.\d+)?\s*(?:years?|yrs?|months?|mos?|weeks?|wks?|days?)\b[^()\d]*)*\)"
         r"|\s*(?:in|on|at|by|since)?\s*¦+"  # a masked date
         r"|\s*@?\s*\d+(?:\.\d+)?\s*%\s*(?:bf|body\s*fat)?)")  # '200lbs 35%bf > 164lbs 8%bf': body fat
_NOTE_RE = re.compile(_NOTE)
_DOUBT_NOTE = re.compile(r"maybe|not\s+sure|unsure|guess|estimat|approx|roughly|i\s+think|probably|\?")
# Links of a chain: '>', '-', 'to' (also '235to165'), 'then', and spelled-out ones: 'down to', 'back to',
# ', then back up to' (so that '180 to 225 back to 200' ends at 200, not at 225).
_SEP = (rf"{_NOTE}?\s*(?:>|<|-|,?\s*(?:and\s+)?(?:then\s+)?(?:back\s+)?(?:(?:down|up)\s+)?(?<![a-z])to(?![a-z])"
        r"|\bthen\b)\s*")
_SEP_RE = re.compile(_SEP)
_TIME_AFTER = rf"\s*(?:years?|yrs?|y/?o\b|months?|mos?\b|weeks?|wks?|days?|hours?|%|\"|'|cm|ft|{_INCH}|am\b|pm\b)"
_CHAIN = re.compile(
    # not inside a decimal, nor straight after a height mark; '...241->205...' is a chain between dots
    rf"(?<![\d'\"])(?<!\d\.)"
    rf"(?P<body>(?:{_CHAIN_PAIR_TERM}){_SEP}(?:{_CHAIN_PAIR_TERM})(?:{_SEP}(?:{_CHAIN_PAIR_TERM}))*"
    rf"|(?:{_CHAIN_TERM}){_SEP}(?:{_CHAIN_TERM})(?:{_SEP}(?:{_CHAIN_TERM}))*)"
    rf"(?!\d|\.\d)(?!{_TIME_AFTER})"
    # '= 40', '= -40lbs', '= ~21', '= 100lbs+', '= 20lbs (9kg)'; also after a note, a bracket or a word or two:
    # '175 @ 13%bf = 75', '[210 > 130] = 80 lbs', '138 > 133 After = 5 pounds lost' (checked like any other)
    rf"(?:(?:{_NOTE}|\s*\)|(?![^=]*\b(?:bmi|bf|goal|gw)\b)[^\d=<>()\n]{{1,12}}?)?"
    rf"\s*=\s*[-+]?\s*(?P<diff>{_CHAIN_TERM}))?"
)
# Ordinary words used as labels when a colon or a parenthesis follows: 'Before (206)', 'Now: 180', 'Then: 250',
# 'Old picture: 175, New picture: 159'.
_WORD_LABELS = (r"before\s*(?=[:(])|after\s*(?=[:(])|now\s*(?=:)|then\s*(?=:)"
                r"|(?:old|new)\s+(?:pic(?:ture)?|photo)s?\s*(?=:)")
_LABELLED = re.compile(
    rf"(?<![a-z])(?P<label>s\.?w\.?|c\.?w\.?|g\.?w\.?(?:\s+is\b)?|h\.?w\.?|l\.?w\.?|start(?:ing)?(?:\s*weight)?"
    rf"|current(?:\s*weight)?|goal(?:\s*weight)?|{_WORD_LABELS})\s*[:=\-]?\s*"
    rf"(?:\((?P<pterm>\s*{_PLAIN_TERM})\)"  # 'Before (206), Current (170)': a lone number in parentheses
    rf"|(?P<term>{_PLAIN_TERM})(?!\d|\.\d)(?!{_TIME_AFTER}))"  # not 'goal 17 days early'
)
# After a word label, a chain: the label names the whole chain, not its first number ('Then and now: 250 > 200').
_CHAIN_AFTER = re.compile(rf"{_SEP}\d")
# A difference right after labelled weights: 'SW:223, CW:207, -19lbs', 'SW 176 > CW 155 = 21 pounds'
# (not what is left to lose: 'CW 200 - 30 to go').
# Also a labelled difference: 'SW: 357; CW: 275 Total lost: 81lbs'.
_DIFF_LABEL = r"(?:total(?:\s+weight)?(?:\s+(?:lost|loss))?|(?:weight\s+)?(?:lost|loss)|down)\s*[:=]\s*[-+]?"
_LABELLED_DIFF = re.compile(rf"\s*[,;.]?\s*(?:=\s*[-+]?|[-+]|{_DIFF_LABEL})\s*(?P<term>{_PLAIN_TERM})(?![\d.])"
                            rf"(?!{_TIME_AFTER})(?!\s*(?:more|to\s+go|left|away|until|till)\b)")
# Labels written after the numbers: '250 SW > 199 CW' (see _find_labels_after_numbers).
_LABEL_AFTER = re.compile(rf"(?<![\d.])(?P<term>{_PLAIN_TERM})\s*\(?\s*(?P<label>[scg]\.?w)\.?(?![a-z])\s*\)?")
# After a labelled number, words that make it an amount lost, not a weight: 'now: 85 pounds later'
# (but 'CW: 180 down from 220' is a weight).
_LABEL_DIFF_WORDS_AFTER = re.compile(r"\s*(?:lost|gone|later|less|lighter|heavier|loss|down|total)\b"
                                     r"(?!\s*(?:from\b|to\b|by\b|\d))"  # 'CW 168 down 30': 168 is a weight
                                     r"(?!(?:\s+(?:weight|lost|loss))*\s*[:=])")  # 'CW: 275 Total lost: 81': too
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
_PHOTO_WORDS_BEFORE = re.compile(r"\b(?:photos?|pics?|pictures?)\s+(?:shown\s+)?(?:is|are|show|shows|progress)?"
                                 r"\s*(?:from\s+)?[:(]?\s*$")


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
    diffs: list  # (stated difference, the weights it is about): '= 40' for the whole chain, one per joined chain
    span: tuple[int, int]
    goal: _Weight | None  # '250 > 200 > 150 GW'
    problem: str | None = None  # why the chain cannot be trusted, if it cannot


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


def _blank_notes(body: str) -> str:
    """A chain without its notes (which may hold 'to' or '-', no links); a note of doubt ('160lbs (maybe, not sure)
    > 127') makes the weight before it an estimate."""
    return _NOTE_RE.sub(lambda m: " ish" + " " * (len(m.group()) - 4) if _DOUBT_NOTE.search(m.group())
                        else " " * len(m.group()), body)


def _chain_weights(body: str) -> list[_Weight] | None:
    weights = []
    for piece in _SEP_RE.split(_blank_notes(body)):
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
        chain = _read_chain(m, text)
        if chain:
            yield chain


# A chain cut short by something not understood: '190>160(>175)', '180>143=37 lbs>153lbs', '160 at heaviest >
# 150 > 144'. Another arrow and number right after it (or a number and an arrow right before it) mean the
# chain goes on through words or marks we cannot read; which weight is the current one is then unknown.
_GOES_ON_AFTER = re.compile(r"[^\d<>\n]{0,12}?[<>]\s*[~(]?\s*(\d+(?:\.\d+)?)")
_GOES_ON_BEFORE = re.compile(r"\d[^\d<>|¦]{0,20}[<>]\s*$")
_UNREAD_DIFF = re.compile(r"[^\d=<>\n]{0,15}=\s*[-+~]?\s*\d")  # '250 @29%bf > 175 (whatever) = ~100': not checked
# One of two alternatives without units ('around 220/230, down to 199'): both are guesses at one weight.
_ALTERNATIVE_BEFORE = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*/\s*$")
_ALTERNATIVE_AFTER = re.compile(r"\s*/\s*(\d{2,3}(?:\.\d+)?)(?![\d.])(?!\s*(?:[a-z#]))")


def _read_chain(m: re.Match, text: str) -> _Chain | None:
    """The chain of a _CHAIN match, or None where its numbers are no body weights."""
    weights = _chain_weights(m.group("body"))
    if not weights or all(w.value < WEIGHT_RANGE_KG[0] for w in weights):
        return None  # '16=>21' (ages), '6.12014 -> 1.12015' (a date typed badly): nobody weighs that little
    if all(w.unit is None and 1900 <= w.value <= 2100 and w.value.is_integer() for w in weights):
        return None  # '2012 - 2018': years, not weights
    before = text[max(0, m.start() - 12): m.start()]
    if re.search(rf"\b(?:{_NOT_WEIGHTS_BEFORE})[\s:]{{0,2}}$", before):
        return None  # 'ages 18 -> 31', 'BMI 34 - 22', 'size 18 > 8'
    end = m.start("diff") + len(m.group("diff").rstrip(" .")) if m.group("diff") else m.end()
    if re.match(rf"\s{{0,2}}(?:{_NOT_WEIGHTS_AFTER})", text[end: end + 12]):
        return None  # '34 - 22 BMI', '18 > 8 dress size'

    seps = [sep.strip() for sep in _SEP_RE.findall(_blank_notes(m.group("body")))]
    if any(("down" in sep and b.value >= a.value) or ("up" in sep and b.value <= a.value)
           for sep, a, b in zip(seps, weights, weights[1:])):
        return None  # 'lost 100 down to 180': the words contradict the numbers, so one of them is not a weight
    _mark_ranges(weights, seps)
    _mark_alternatives(weights, text, m.start(), m.end("body"))
    diff = _parse_term(m.group("diff")) if m.group("diff") else None
    tail = text[m.end("body"):]
    goal = None
    if len(weights) > 2 and re.match(r"\s*\(?\s*(?:gw|goal)\b", tail):
        goal = weights.pop()  # '250 > 200 > 150 GW': the last number is the goal, not a weight reached
    elif len(weights) > 2 and diff is None and (_DIFF_WORDS_AFTER.match(tail) or _too_light(weights)):
        diff = weights.pop()  # '180 to 140 - 40 lost', '252lbs - 195lbs > 50ish': the difference, not a weight
    if re.match(r"\s*[<>](?!\s*\|)", tail):  # (a masked span there is a label read already: '> 150 GW')
        weights[-1].estimate = True  # '200 > 150 > ?': the chain goes on to a weight not given; 150 is not current
    problem = None
    after = _GOES_ON_AFTER.match(text, m.end() if diff else m.end("body"))
    if (after and float(after.group(1)) >= 0.5 * min(w.value for w in weights)) or \
            _GOES_ON_BEFORE.search(text[max(0, m.start() - 24): m.start()]) or \
            (not diff and _UNREAD_DIFF.match(text, m.end("body"))):
        problem = "weight chain unclear"  # (a lighter number after an arrow, '= 25lbs -> 16lbs', is a difference)
    return _Chain(weights, [(diff, list(weights))] if diff else [], m.span(), goal, problem)


def _mark_alternatives(weights: list[_Weight], text: str, start: int, end: int) -> None:
    """'around 220/230, down to 199': a unitless number with a close one across a slash is one of two guesses."""
    for m, weight in ((_ALTERNATIVE_BEFORE.search(text[max(0, start - 10): start]), weights[0]),
                      (_ALTERNATIVE_AFTER.match(text, end), weights[-1])):
        if m and weight.unit is None and abs(float(m.group(1)) - weight.value) <= 0.2 * weight.value:
            weight.estimate = True


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
    """The first chain of >= 2 weights, unless a later one says it gives the weights in the photos ('200-190 in
    photos', 'Pic is 193-181'). A later chain that starts where the first ends continues it ('280lb - 181lb.
    Started bulking and went from 181lb - 189lb': the current weight is 189)."""
    first = None
    for chain in _chains(text):
        if first is None:
            first = chain
        elif _PHOTO_WORDS_AFTER.match(text, chain.span[1]) or _PHOTO_WORDS_BEFORE.search(text[:chain.span[0]]):
            return chain
        elif _continues(first.weights[-1], chain.weights[0]) and first.goal is None:
            first = _Chain(first.weights + chain.weights[1:], first.diffs + chain.diffs,
                           (first.span[0], chain.span[1]), chain.goal, first.problem or chain.problem)
        elif _converts(first.weights, chain.weights) is False:  # '[227 > 169] (182cm from 103kg to 77kg)' is fine
            first = first._replace(problem="weights disagree between units")
    return first


def _converts(weights: list[_Weight], others: list[_Weight]) -> bool | None:
    """Is a chain in the other unit the same weights converted? None where it is no such chain."""
    units, other_units = {w.unit for w in weights}, {w.unit for w in others}
    if len(weights) != len(others) or len(units) != 1 or len(other_units) != 1 or units == other_units \
            or other_units == {None} or [w.value for w in weights] == [w.value for w in others]:
        return None
    if units == {None}:  # '[250 > 200] (115kg > 80kg)': the first chain is in the other unit, pounds
        weights = [_Weight(w.value, "lb" if other_units == {"kg"} else "kg", w.estimate) for w in weights]
    return all(abs(_kg(a, "lb") - _kg(b, "lb")) <= max(ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE * _kg(a, "lb"))
               for a, b in zip(weights, others) if not (a.estimate or b.estimate))


def _continues(last: _Weight, first: _Weight) -> bool:
    return last.value == first.value and last.unit == first.unit and not (last.estimate or first.estimate)


def _find_labelled(text: str):
    """Labelled weights {'start'|'current'|'goal'|'diff': _Weight} and the spans they used."""
    found, spans = _find_labels_after_numbers(text)
    if found:
        return found, spans
    for m in _LABELLED.finditer(text):
        label = m.group("label")
        key = {"s": "start", "b": "start", "t": "start", "o": "start", "c": "current", "a": "current",
               "n": "current", "g": "goal", "h": None, "l": None}[label[0]]
        weight = _term(_TERM_RE.fullmatch(m.group("term") or m.group("pterm")))
        if weight.unit is None and weight.value.is_integer() and 1900 <= weight.value <= 2100:
            continue  # 'before (2015)': a year
        if _LABEL_DIFF_WORDS_AFTER.match(text, m.end()):
            continue  # 'then and now: 85 pounds later', 'current: 40 lbs down': a difference, not a weight
        if label.split()[0] in ("before", "after", "now", "then", "old", "new") and _CHAIN_AFTER.match(text, m.end()):
            continue  # 'then and now: 250 > 200': the chain is read as one
        if _range_after(weight, text, m.end()):
            weight.estimate = True  # 'GW: 140-150', 'GW:160/165', 'CW: 180 or 185': a range or two guesses
        elif key == "start" and _CHAIN_AFTER.match(text, m.end()):
            continue  # 'SW: 172lbs to 160lbs', 'Start Weight 186lbs > 138lbs': the label names the whole chain
        if key in found and abs(_kg(found[key], "lb") - _kg(weight, "lb")) > ALT_TOLERANCE_KG:
            found["conflict"] = key  # 'CW-220 Now-180': two current weights, so which one is it?
        if key and key not in found:
            found[key] = weight
            if key == "current":
                d = _LABELLED_DIFF.match(text, m.end())
                if d:
                    found["diff"] = _parse_term(d.group("term"))
        spans.append(m.span())
    return found, spans


_RANGE_AFTER = re.compile(r"\s*(-|to|or|/|~)\s*~?(\d+(?:\.\d+)?)(?![\d.])")


def _range_after(weight: _Weight, text: str, pos: int) -> bool:
    """Is the labelled weight the first of a range or of two alternatives ('140-150', '160/165', '150 or 140')?"""
    m = _RANGE_AFTER.match(text, pos)
    if not m:
        return False
    other = float(m.group(2))  # a range goes up ('140-150'; '172 to 160' is a change), alternatives either way
    return 0 < other - weight.value <= RANGE_SHARE * weight.value or \
        (m.group(1) in ("or", "/", "~") and abs(other - weight.value) <= GOAL_MAX_CHANGE * weight.value)


def _find_labels_after_numbers(text: str):
    """'250 SW > 199 CW = 51', '180sw 150cw': labels written after their numbers. Only when every SW/CW/GW
    follows a number, and the first or the last is not followed by one (in 'SW 250 CW 200' the CW is 200's
    label, not 250's; in '180 SW 150 CW' the trailing CW shows the style)."""
    matches = list(_LABEL_AFTER.finditer(text))
    if not matches or len(matches) != len(re.findall(r"(?<![a-z])[scg]\.?w\.?(?![a-z])", text)):
        return {}, []

    def followed_by_number(m: re.Match) -> bool:  # or by its own value slot: 'GW=GETBIGGER', 'GW -140'
        return bool(re.match(r"\s*(?:[:=]|[:=\-]?\s*\d)", text[m.end():]))
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
# 'My sister and I, seven years apart', 'me and my prom date': two people in the photos, one set of stats.
_RELATIONS = (r"husband|hubby|wife|boyfriend|girlfriend|fianc[eé]e?|partner|so|sister|brother|mom|mum|mother|dad"
              r"|father|son|daughter|twin|(?:best\s+)?friend|roommate|cousin|date")
_TWO_PEOPLE = re.compile(rf"\bme\s+and\s+my\s+(?:\w+\s+)?(?:{_RELATIONS})s?\b"
                         rf"|\bmy\s+(?:{_RELATIONS})\s+and\s+(?:i|me)\b")
_STRICT_SEX_AGE = re.compile(r"(?<![a-z'])(?:[mf]|male|female)\s*/\s*\d{2}(?![\d.])"
                             r"|(?<![\d.])\d{2}\s*/\s*(?:[mf]|male|female)(?![a-z'])")
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


# Sex in words where no stats field gives it: 'I am 6'4 guy', '25 year old female', '... 140-145lbs Female'.
_SEX_NOUN = re.compile(r"(?:\||\b\d{2}\s*(?:y/?o|yrs?|years?)(?:\s*old)?)\s*(?:tall\s+)?"
                       r"(guy|dude|man|male|boy|girl|gal|lady|woman|female)\b")
_SEX_WORD = re.compile(r"(?<![a-z])(female|male)(?![a-z])")


def _sex_in_words(text: str) -> str | None:
    words = {w for w in _SEX_NOUN.findall(text)} or set(_SEX_WORD.findall(text))
    values = {"F" if w in ("girl", "gal", "lady", "woman", "female") else "M" for w in words}
    return values.pop() if len(values) == 1 else None


def _find_sex(header: str) -> tuple[str | None, str | None]:
    """(sex, refusal reason)."""
    values = {"F" if s in ("f", "female", "woman") else "M" for s in _SEX.findall(header)}
    if len(values) > 1:
        return None, "ambiguous sex (several people?)"
    return (values.pop() if values else None), None


# 'M / 16=>21 /', 'M/22-24/': the age then and now in one field; the photos end now.
_AGE_THEN_NOW = re.compile(r"(?<![\d.])(\d{2})\s*(?:-|>|to)\s*(\d{2})(?![\d.])")


def _age_now(m: re.Match) -> str:
    then, now = int(m.group(1)), int(m.group(2))
    return m.group(2) if 0 < now - then <= 20 and AGE_RANGE[0] <= then else m.group()


def _find_age(header: str) -> tuple[int | None, str | None]:
    header = _AGE_THEN_NOW.sub(_age_now, header)
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
    diffs: list  # (stated difference, the weights it is about)
    goal: _Weight | None  # GW from a label or a chain ('> 150 GW')
    spans: list  # where in the text the weights were read
    problem: str | None = None  # why these weights cannot be trusted, if they cannot


def _read_weights(text: str) -> tuple[_Reading | None, _Weight | None, str]:
    """(weights, goal in words, text with the labels and goal phrases masked). Labelled SW/CW win over a chain."""
    labelled, spans = _find_labelled(text)
    for s in spans:
        text = _mask(text, s)
    soft_goal, goal_spans = _find_goal_phrase(text)
    for s in goal_spans:
        text = _mask(text, s)
    chain = _find_chain(text)
    conflict = labelled.pop("conflict", None)
    if conflict == "goal":
        labelled.pop("goal")  # two goals: none is recorded, the title is kept
    elif conflict:
        return _Reading([None, None], [], None, spans, "labels disagree"), soft_goal, text
    if "start" in labelled or "current" in labelled:
        weights = [labelled.get("start"), labelled.get("current")]
        diffs = [(labelled["diff"], weights)] if "diff" in labelled and None not in weights else []
        return _Reading(weights, diffs, labelled.get("goal"), spans + ([chain.span] if chain else [])), soft_goal, text
    if chain:
        goal = labelled.get("goal") or chain.goal
        return _Reading(chain.weights, chain.diffs, goal, spans + [chain.span], chain.problem), soft_goal, text
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
        # ('- 30' is a loss, but '168lb(right) - 182lb(left)' a chain we could not read: as heavy, it is a weight)
        loss = _loss_before(rest, other.start()) and (
            float(other.group()) < 0.5 * weight.value or not re.search(r"[-=]\s*$", rest[:other.start()]))
        if (has_unit or float(other.group()) >= LONE_OTHER_MIN) and not loss \
                and not _LABEL_DIFF_WORDS_AFTER.match(rest, other.end() + (has_unit.end() if has_unit else 0)):
            return None
    return _Reading([None, weight], [], None, [span])


# A bare 3-digit number in the stats field, 'F/29/170 [95kg > 76kg]': centimetres, when every weight is in kg.
_SLOT_CM = re.compile(r"(?:^|(?<=[/|(,]))\s*(1[4-9]\d|20\d)\s*(?=[/|),(]|$)")


def parse_title(title: str) -> TitleParse:
    if not isinstance(title, str) or not title.strip():
        return TitleParse(ok=False, reason="empty title")
    text = norm = _normalise(title)

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
            height_m, height_span, metric_height = int(m.group(1)) / 100, m.span(1), True
            header = _mask(header, height_span)
    if reading is None and height_span:
        reading = _find_lone_weight(text, height_span)
    for _, span, _ in _all_heights(norm):  # '1.70m', '5'5 F': the 'm' of metres, or a second height, is no stat
        header = _mask(header, (min(span[0], len(header)), min(span[1], len(header))))

    sex, sex_problem = _find_sex(header)
    age, age_problem = _find_age(header)
    if sex is None and age is None and reading:
        rest = text  # '3 years from 329 > 180. F/25/5'10"': a sex/age field after the weights
        for s in reading.spans:
            rest = _mask(rest, s)
        sex, age = _sex_age_field(rest[weights_start:])
    if sex is None and not sex_problem:
        sex = _sex_in_words(text)
    result = TitleParse(ok=False, sex=sex, age=age, height_m=round(height_m, 4) if height_m else None)

    def refuse(reason: str) -> TitleParse:
        result.reason = reason
        return result

    if sex_problem or age_problem:
        return refuse(sex_problem or age_problem)
    if len(_STRICT_SEX_AGE.findall(norm)) > 1:  # counted, not deduplicated: twins are both 'F/22'
        return refuse("several people (two sex/age fields)")
    if age is not None and not AGE_RANGE[0] <= age <= AGE_RANGE[1]:
        result.age = None
        return refuse(f"implausible age {age}")
    if height_m is None:
        return refuse("no height")
    if not HEIGHT_RANGE_M[0] <= height_m <= HEIGHT_RANGE_M[1]:
        result.height_m = None
        return refuse(f"implausible height {height_m:.2f} m")
    height_problem = _height_problem(norm, height_m, height_span)
    if height_problem:
        result.height_m = None
        return refuse(height_problem)
    if _TWO_PEOPLE.search(norm):
        return refuse("several people (in the photos)")
    if reading is None:
        return refuse("no weights")
    return _weigh(result, reading, soft_goal, height_m, metric_height)


def _weigh(result: TitleParse, reading: _Reading, soft_goal: _Weight | None, height_m: float,
           metric_height: bool) -> TitleParse:
    """Units, cross-checks and plausibility of the weights read; fills in result (or its refusal reason)."""
    def refuse(reason: str) -> TitleParse:
        result.reason = reason
        return result

    if reading.problem:
        return refuse(reading.problem)
    chain_weights, goal = reading.weights, reading.goal
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
    for diff, segment in reading.diffs:  # each stated difference against the weights it is about
        first, last = segment[0], segment[-1]
        if first is not None and last is not None and not _diff_agrees(
                diff, first, last, [w for w in segment if w is not None], unit):
            return refuse(f"weights disagree with stated difference ({_fmt(first.value)} - {_fmt(last.value)} "
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
