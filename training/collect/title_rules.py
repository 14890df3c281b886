"""Text, height, sex and age rules of training.collect.titles (the weights are read in training.collect.title_weights).

The rules are described in training/collect/titles.py's docstring; this module holds the shared constants, the
normalisation of a title, and the readers of its height, sex and age.
"""
from __future__ import annotations

import re

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

# --- normalisation ----------------------------------------------------------------------------------------

_QUOTES = str.maketrans({
    "’": "'", "‘": "'", "′": "'", "´": "'", "`": "'",
    "”": '"', "“": '"', "″": '"', "„": '"',
    "→": ">", "⟶": ">", "➡": ">", "➔": ">", "⇒": ">", "⟹": ">", "»": ">", "➜": ">", "➞": ">",
    "➝": ">", "➙": ">", "⮕": ">", "⇨": ">", "⇾": ">", "⟾": ">", "↠": ">",
    "≥": ">", "≤": "<",  # '220 ≥ 170': an arrow
    "\\": "/",  # '390\\177kg': a slash typed the other way
    "±": "~", "≈": "~", "\ufe0f": "", "–": "-", "—": "-", "−": "-", "\u00a0": " ",
    "[": "(", "]": ")", "{": "(", "}": ")",
})


_MALE_WORDS = r"husband|hubby|boyfriend|dad|father|brother|son"
_FEMALE_WORDS = r"wife|girlfriend|mom|mum|mother|sister|daughter"


def _normalise(title: str) -> str:
    text = title[:MAX_TITLE_CHARS].translate(_QUOTES).lower()
    text = text.replace("''", '"')
    text = re.sub(r"(?:-+\s*|=+)?>+", ">", text)  # -> --> => ==> >> '- >' all mean '>'
    text = re.sub(r"(?<=\d\d)'(?=ish\b|s\b)", "", text)  # 185'ish, 230's: an estimate (6'ish is a height)
    text = _mask_dates(text)
    text = _DATED_PAIR.sub(r"\1 > \2", text)
    # Feet and inches typed with a comma, a decimal point or a dash in the stats field: 'M/17/6,6 [', 'M/27/5,8 340lbs',
    # 'F/25/5.4" [', 'M/24/6.0" 240lbs', 'F/23/5-6" [' (inches < 12, after a slash and before a slash, a bracket or
    # the weights; a bare '5.5' may be decimal feet, '(5.5" off my waist)' is no height, and 'F/5-6 months' no
    # height either, so those are left alone).
    text = re.sub(r"(?<=/)(\s*)([4-7]),(\d|1[01])\s*\"?(?=\s*(?:[/(|]|$)|\s+\d)", "\\1\\2'\\3\"", text)
    text = re.sub(r"(?<=/)(\s*)([4-6])\.(\d|1[01])\s*\"(?=\s*(?:[/(|]|$)|\s+\d)", "\\1\\2'\\3\"", text)
    text = re.sub(r"(?<=/)(\s*)([4-7])-(\d|1[01])(?:\s*\"|(?=\s*(?:[/(|]|$)))", "\\1\\2'\\3\"", text)
    text = re.sub(r"('\d{1,2}),(?=\d{2}\s*(?:y/?o|yrs?|years?)\b)", r"\1, ", text)  # 5'9,18 years old (5'5,75": 5.75)
    text = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", text)  # decimal comma: 225,97 -> 225.97
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands comma: 1,200 -> 1200
    text = re.sub(r"(?<![\d.])([4-7]'\d)(\d{3})(?!\d)", _unglue_height, text)  # 5'6150 lbs: 5'6 and 150
    text = re.sub(r"(?<=\d)½", ".5", text).replace("½", "0.5")  # 5'3½ -> 5'3.5, 6'½" -> 6'0.5"
    # '5'875"', '5'45"': the inches' decimal point left out before a quarter or a half (with the inch mark only; a
    # 2-digit '5'105"' may be 10.5 or a typo of 5'10", left alone and refused)
    text = re.sub(r"(?<![\d.])([4-7])'([1-9])(25|5|75)\"", r"\1'\2.\3\"", text)
    text = _HEIGHT_FRACTION.sub(_height_fraction, text)
    # 'My Husband/27/5'11': a relation word in the sex slot of the stats field (directly before '/age')
    text = re.sub(rf"(?<![a-z])(?:my\s+)?(?:{_MALE_WORDS})(?=\s*/\s*\d{{2}}(?![\d.]))", "m", text)
    text = re.sub(rf"(?<![a-z])(?:my\s+)?(?:{_FEMALE_WORDS})(?=\s*/\s*\d{{2}}(?![\d.]))", "f", text)
    text = re.sub(r"(?<=\d)\s*-\s*ish\b", "ish", text)  # 260-ish -> 260ish (an estimate, not a chain link)
    text = re.sub(r"(?<=\dish)-?(?=\s*(?:lbs?|pounds?|kgs?|kilos?|#))", " ", text)  # 210ish-lbs, 190ishlbs
    text = re.sub(r"(?<![\d.])([12])\s*m\s*(\d{2})(?![\d.])", r"\1.\2m", text)  # 1m68: metres, not a sex 'm'
    text = re.sub(r"\+\s*/?\s*-(?=\s*\d)", "~", text)  # '+/- 205', '+-205': about 205
    text = _TILDE_LINK.sub(_tilde_link, text)
    text = _links_in_words(text)
    # '24/M/6'1 325lbs > 26/M/6'1 216lbs': a stats field repeated inside a chain, for the photo after the arrow, is
    # moved after that photo's weight (the fields must be one person's, see training.collect.titles._one_person_older).
    text = re.sub(rf"(?<=>)\s*(\d{{2}}\s*/\s*[mf]\s*/\s*[4-7]'\d{{1,2}}\"?)\s*({_W}{_W_UNIT})(?![\d.])",
                  r" \2 (\1)", text)
    text = _ARITHMETIC.sub(_arithmetic, text)
    text = _units_implied(text)
    text = re.sub(r"(?<=[\da-z#])\s*\((ish|\?)\)", r"\1 ", text)  # 340(ish)lbs -> 340ish lbs; 150 lbs (?)
    # '250 approx. > 200', '250lbs (est) > 200', '250 or so > 200': an estimate mark after the number, like 'ish'
    text = re.sub(r"(?<=[\d#]|[a-z]\b)\s*\(?\s*(?:approx\.?|approximately|est\.?|estimated|or\s+so|give\s+or\s+take)"
                  r"\s*\)?(?=\s*(?:[>),;=]|-|to\b|$))", " ish", text)
    return text


# 5'4 1/2, 5'4-1/2", 5'4 and a half, 5'5 (and a half), 5'5" & 1/2, 5'7 and three quarters: the inches' fraction
# (else read as 5'4, and the BMI 1.5% off). Not '5'4 1/2 way there' or '5'4 and a half years in'.
_HEIGHT_FRACTION = re.compile(
    r"([4-7]\s*(?:'|ft\.?|feet|foot)\s*\d{1,2})(?!\d|\.\d)(?:\s*(?:\"|in(?:ch(?:es)?)?\b))?"
    r"(?:\s+|\s*-\s*|\s*(?=[(&]))(\(\s*)?(?:(?:and|&)\s*)?"
    r"(?:(1/2|a\s+half|one\s+half)|(1/4|a\s+quarter)|(3/4|three\s+quarters?))(?!\d)(\s*\))?"
    r"(?!\s*(?:way|years?|yrs?|months?|weeks?|days?|stones?|lbs?|pounds?|kgs?)\b)")


def _height_fraction(m: re.Match) -> str:
    if bool(m.group(2)) != bool(m.group(6)):
        return m.group()  # an unbalanced parenthesis: not the height's fraction
    return m.group(1) + (".25" if m.group(4) else ".75" if m.group(5) else ".5")


# Dates are no weights: '7/10/13', '1.1.2014', '12-24-14', '06/2012', 'April 1', 'Nov '13', 'June 2014'.
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"(?<![\d.'/])(?:\d{1,2}/\d{1,2}/(?:\d{2}|(?:19|20)\d{2})|\d{1,2}([.\-])\d{1,2}\1(?:\d{2}|(?:19|20)\d{2})"
    r"|\d{1,2}/(?:19|20)\d{2}|(?:19|20)\d{2}([/.\-])\d{1,2}\2\d{1,2})(?![\d.'/])"
    rf"|(?<![a-z]){_MONTHS}\s*(?:(?:\d{{1,2}}(?:st|nd|rd|th)?|'\d{{2}}|(?:19|20)\d{{2}})(?![\d.'])"
    r"(?!\s*(?:lbs?|kgs?|pounds)\b))+"
    rf"|(?<![\d.])\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}(?![a-z])"
)


# Two weights each labelled with its date or year: '10/27/13 - 297 > 11/30/14 - 217', 'May 2013=172 July 2013=156',
# '2011 (280lbs) to 2013 (210lbs)': a chain from the first to the second (dates masked already, years not).
_WEIGHT_TERM = r"~?\d{2,3}(?:\.\d+)?(?:\s*(?:ish|lbs?|kgs?|pounds|#)\b\.?)*"
_DATED_PAIR = re.compile(
    rf"(?:¦+\s*[-:=]?\s*|(?<![\d.])(?:19|20)\d{{2}}\s*\(\s*)({_WEIGHT_TERM})\s*\)?\s*(?:,|\.+|>|-|to|and)?"
    rf"\s*(?:¦+\s*[-:=]?\s*|(?<![\d.])(?:19|20)\d{{2}}\s*\(\s*)({_WEIGHT_TERM})(?!\d|\.\d)\s*(?:\)|(?=[\s,.;!=]|$))")


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


_W = r"\d{2,3}(?:\.\d+)?"  # a number the size of a body weight
_W_UNIT = r"(?:\s*(?:lbs?|kgs?|pounds|#)\.?)?"


def _links_in_words(text: str) -> str:
    """Links of a chain written in words: '446 vs 277' ('vs' between two weights is a before and after), and
    '205&190=15lbs', '205 and 190 = 15' ('&' or 'and' only with a stated difference after, which then checks the
    reading; 'me at 170 and 160' without one is no chain)."""
    text = re.sub(rf"(?<![\d.])({_W}{_W_UNIT}\s*)(?:vs\.?|versus)\s*(?=~?\s*{_W}(?![\d.]))", r"\1> ", text)
    return re.sub(rf"(?<![\d.])({_W}{_W_UNIT}\s*)(?:&|and)\s*(?={_W}(?![\d.]){_W_UNIT}\s*=)", r"\1> ", text)


# Arithmetic: '[203 - 36 = 167]' (start, minus the loss, is the current weight) and '[167 + 18 = 185]' (a gain).
# The middle number is a difference when the sum is right and it is no body weight (under 30 kg: '- 36', '+ 18');
# '[252-157=95]' and '[253 - 119 = 134]' are the usual 'start - current = loss' (the second one is refused as
# ambiguous by the chain reader). Rewritten as 'start > current = difference', which the chain checks again.
_ARITHMETIC = re.compile(
    rf"(?<![\d.])({_W})({_W_UNIT})\s*([-+])\s*(\d{{1,3}}(?:\.\d+)?)({_W_UNIT})\s*=\s*({_W})(?![\d.])")


def _arithmetic(m: re.Match) -> str:
    a, d, b = float(m.group(1)), float(m.group(4)), float(m.group(6))
    kg_unit = "k" in m.group(2) + m.group(5)
    if not (0 < d < 0.5 * a and WEIGHT_RANGE_KG[0] <= b and abs(a + (d if m.group(3) == "+" else -d) - b) < 0.6):
        return m.group()
    if m.group(3) == "-" and d >= WEIGHT_RANGE_KG[0] / (1.0 if kg_unit else LB_KG):
        return m.group()  # '253 - 119 = 134': 119 may be the current weight too; read as usual, start - current
    return f"{m.group(1)}{m.group(2)} > {m.group(6)}{m.group(5)} = {m.group(4)}{m.group(5)}"


# One weight in two units where one of them is implied: '390/177kg > 299/135kg' (390 lb is 177 kg), '450lbs(204K)'
# ('K' for kg, in parentheses only: '5k' is a run), '73.9kg(162.9) > 68.1kg(149.9)'. The unit is written in only
# where the two numbers are the same weight converted; then the usual check of two units applies.
def _units_implied(text: str) -> str:
    text = re.sub(rf"(?<=\()\s*(~?\s*{_W})\s*k\s*(?=\))", r"\1kg", text)

    def converts(a: float, b: float) -> bool:  # a lb is b kg
        return abs(a * LB_KG - b) <= max(ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE * b)

    def slash(m: re.Match) -> str:  # 'NUM/NUMkg' or 'NUM/NUMlbs' as a link of a chain
        a, b, unit = float(m.group(2)), float(m.group(3)), m.group(4)
        in_chain = m.group(1) or re.match(r"\s*(?:[<>=-]|to\b)", text[m.end():])
        if in_chain and (converts(a, b) if unit.startswith("k") else converts(b, a)):
            return f"{m.group(1) or ''}{m.group(2)}{'lbs' if unit.startswith('k') else 'kg'}/{m.group(3)}{unit}"
        return m.group()
    text = re.sub(rf"((?:[<>=-]|\bto\b)\s*)?(?<![\d./])({_W})\s*/\s*({_W})\s*(kgs?|lbs?)\b", slash, text)

    def paren(m: re.Match) -> str:  # '73.9kg(162.9)': the number in parentheses, in the other unit
        a, unit, b = float(m.group(1)), m.group(2), float(m.group(3))
        if converts(b, a) if unit.startswith("k") else converts(a, b):
            return f"{m.group(0)[:-1]}{'lbs' if unit.startswith('k') else 'kg'})"
        return m.group()
    return re.sub(rf"(?<![\d.])({_W})\s*(kgs?|lbs?)\s*\(\s*({_W})\s*\)", paren, text)


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
# '1.78' alone in a slash field of the stats ('Male/25/1.78 [98kg > 83kg]'): metres without the 'm'. Two decimals
# only: '1.5' there is as likely a duration.
_SLASH_METRES = re.compile(r"(?:^|[/|(,])\s*([12]\.\d{2})\s*(?=[/|(),]|$)")
# '5 4' as a slash field; not '5 1/2 months' (a fraction: /2 or /4 not followed by another digit)
_SLASH_FEET_SPACE_INCHES = re.compile(r"(?:^|[/|(,])\s*([4-7])\s+(\d{1,2})(?!/[24](?!\d))\s*(?=[/|),]|$)")


def _feet_height(m: re.Match, text: str) -> float | None:
    """The height (m) of one _FEET match, or None where it is no height we can read."""
    if not m.group("inches") and (m.group("typo") or re.match(r"\.?\d|\?|[lio]{1,2}(?![a-z])", text[m.end():],
                                                                    re.IGNORECASE)):
        # '5'123', '5'.9"', '5'?', '6" 250': no inches we can read after the mark; not 5 ft 0. Nor "4'll" or
        # "5'l0": letters that look like digits, a typo we would have to guess (4'11? 4'1?), so no height.
        return None
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
    for pattern, scale, metric in ((_CM, 0.01, True), (_METRES, 1.0, True), (_SLASH_METRES, 1.0, True)):
        m = pattern.search(text)
        if m:
            return float(m.group(1)) * scale, m.span(1), metric
    for m in _INCHES.finditer(text):
        if 48 <= int(m.group(1)) <= 90:  # 4 ft to 7.5 ft; smaller numbers with " are waists or typos
            return int(m.group(1)) * INCH_M, m.span(), False
    m = _SLASH_FEET_SPACE_INCHES.search(text)
    if m and int(m.group(2)) < 12:
        return (int(m.group(1)) * 12 + int(m.group(2))) * INCH_M, (m.start(1), m.end(2)), False
    return None, None, None


# --- sex and age -----------------------------------------------------------------------------------------

_SEX = re.compile(r"(?<![a-z'])(female|male|woman|man|f|m)(?![a-z'])")
# (not a number with a unit: 'F 50 pounds down' is a loss, not a 50-year-old)
_NOT_AN_AGE_AFTER = r"(?!\s*(?:lbs?|ibs?|pounds?|kgs?|kilos?|kilograms?|stones?|cm|inch(?:es)?|%|#|'|\")(?![a-z]))"
_AGE_NEXT_TO_SEX = re.compile(
    rf"(?<![a-z'])(?:female|male|woman|man|f|m)\s*[/,|\-]?\s*(\d{{2}})(?![\d.]){_NOT_AN_AGE_AFTER}"
    r"|(?<![\d.])(\d{2})\s*[/,|\-]?\s*(?:female|male|woman|man|f|m)(?![a-z'])"
)
# 'My sister and I, seven years apart', 'me and my prom date': two people in the photos, one set of stats.
_RELATIONS = (r"husband|hubby|wife|boyfriend|girlfriend|fianc[eé]e?|partner|so|sister|brother|mom|mum|mother|dad"
              r"|father|son|daughter|twin|(?:best\s+)?friend|roommate|cousin|date")
_TWO_PEOPLE = re.compile(rf"\bme\s+and\s+my\s+(?:\w+\s+)?(?:{_RELATIONS})s?\b"
                         rf"|\band\s+my\s+(?:{_RELATIONS})'?s\s+(?:progress|transformation|weight\s+loss)\b"
                         rf"|\bmy\s+(?:{_RELATIONS})\s+and\s+(?:i|me)\b")
_STRICT_SEX_AGE = re.compile(r"(?<![a-z'])(?:[mf]|male|female)\s*/\s*\d{2}(?![\d.])"
                             r"|(?<![\d.])\d{2}\s*/\s*(?:[mf]|male|female)(?![a-z'])")
# '27 years old', '27yo', '27 y.o.', 'age 27', 'aged: 27' (findall gives (number before, number after))
_AGE_WORDS = re.compile(r"(?<![\d.])(\d{2})\s*(?:y/?o\b|y\.o\.?|yrs?\.?\s*old|years?\s*old|yo\b)"
                        r"|(?<![a-z])aged?\s*[:=]?\s*(\d{2})(?!\d|\.\d)")
# ...but not an age in the past or a photo's: 'I was at 22 years old', 'when I was 18 yo', 'first pic is age 39', nor
# one end of a range: 'ages 12-14', '18 years old to 20'.
_PAST_AGE_BEFORE = re.compile(r"(?:\b(?:at|when|since|was|were|from|until|till|by|then|pics?|photos?|pictures?|first"
                              r"|last|left|right|before|after)\b[^.,;!?]{0,8}|(?:-|\bto)\s*)$")
_AGE_RANGE_AFTER = re.compile(r"\s*(?:-|to\b)\s*\d")
_AGE_FIELD = re.compile(r"(?:^|[/|(,])\s*(\d{2})\s*(?=[/|),]|$|-\s)")  # 'F/5'7"/23 - From 266 to 218'


# A sex/age field, for titles whose stats come after the weights ('3 years from 329 > 180. F/25/5'10"').
_SEX_AGE_FIELD = re.compile(rf"(?<![a-z'])(female|male|f|m)\s*[/,|]?\s*(\d{{2}})(?![\d.]){_NOT_AN_AGE_AFTER}"
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
    ages = {int(a or b) for a, b in _AGE_NEXT_TO_SEX.findall(header)} or _ages_in_words(header)[0]
    if not ages:
        ages = {int(a) for a in _AGE_FIELD.findall(header)}
    if len(ages) > 1:
        return None, "ambiguous age"
    return (ages.pop() if ages else None), None


def _ages_in_words(text: str) -> tuple[set, set]:
    """(ages in words that are the poster's now, every age in words)."""
    now = {int(m.group(1) or m.group(2)) for m in _AGE_WORDS.finditer(text)
           if not _PAST_AGE_BEFORE.search(text[max(0, m.start() - 20): m.start()])
           and not _AGE_RANGE_AFTER.match(text, m.end())}
    return now, {int(a or b) for a, b in _AGE_WORDS.findall(text)}


def _age_in_words(text: str) -> int | None:
    """An age in words anywhere ('From 300lbs ->200lbs, 5'11, female, age 27', '206-176, 19 years old'), for titles
    whose stats field gives none; one only, and no age in the past ('I was 22 years old then')."""
    now, every = _ages_in_words(text)
    return now.pop() if len(now) == 1 and len(every) == 1 else None
