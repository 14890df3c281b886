"""The weights of a title for training.collect.titles: terms, chains, labels and goals (rules: training/collect/titles.py;
weights and differences stated in sentences: training/collect/title_sentences.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from training.collect.title_rules import (
    ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE, DIFF_TOLERANCE_LB, GOAL_MAX_CHANGE, LB_KG, RANGE_SHARE, STONE_LB,
    WEIGHT_RANGE_KG, _INCH,
)

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
        # '190s': somewhere in them; '200+' at least ('51 + 17' is a sum)
        rf"(?P<num>{_NUM})(?P<q1>\s*(?:\?|\+(?!\s*\d)|ish\b)|~|(?<=0)s\b)?"
        rf"\s*(?:{unit}){'' if slash == '!' else '?'}"
        rf"\s*(?P<q2>\?|\+(?!\s*\d)|ish\b)?){_ALT}"
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
         r"[^()\d]*(?:\d+(?:\.\d+)?\s*(?:years?|yrs?|months?|mos?|weeks?|wks?|days?|y/?o|years?\s+old)\b[^()\d]*)*\)"
         r"|\s*(?:in|on|at|by|since)?\s*¦+"  # a masked date
         r"|\s*@?\s*\d+(?:\.\d+)?\s*%\s*(?:bf|body\s*fat)?)")  # '200lbs 35%bf > 164lbs 8%bf': body fat
_NOTE_RE = re.compile(_NOTE)
_DOUBT_NOTE = re.compile(r"maybe|not\s+sure|unsure|guess|estimat|approx|roughly|i\s+think|probably|\?")
# Links of a chain: '>', '-', 'to' (also '235to165'), 'then', and spelled-out ones: 'down to', 'back to',
# ', then back up to' (so that '180 to 225 back to 200' ends at 200, not at 225).
_SEP = (rf"{_NOTE}?\s*(?:>|<|-|,?\s*(?:and\s+)?(?:then\s+)?(?:back\s+)?(?:(?:down|up)\s+)?(?<![a-z])to(?![a-z])"
        r"|\bthen\b)\s*")
_SEP_RE = re.compile(_SEP)
# (not 'Week 9', 'Day 21' after a weight: a count of days is an ordinal label there, not the weight's duration)
_TIME_AFTER = (rf"\s*(?:(?:years?|yrs?|y/?o\b|months?|mos?\b|weeks?|wks?|days?|hours?)(?!\s*\d)|%|\"|'|cm|ft|{_INCH}"
               r"|am\b|pm\b)")
_CHAIN = re.compile(
    # not inside a decimal, nor straight after a height mark; '...241->205...' is a chain between dots
    rf"(?<![\d'\"])(?<!\d\.)"
    rf"(?P<body>(?:{_CHAIN_PAIR_TERM}){_SEP}(?:{_CHAIN_PAIR_TERM})(?:{_SEP}(?:{_CHAIN_PAIR_TERM}))*"
    rf"|(?:{_CHAIN_TERM}){_SEP}(?:{_CHAIN_TERM})(?:{_SEP}(?:{_CHAIN_TERM}))*)"
    rf"(?!\d|\.\d)(?!{_TIME_AFTER})"
    # '= 40', '= -40lbs', '= ~21', '= 100lbs+', '= 20lbs (9kg)'; also after a note, a bracket or a word or two:
    # '175 @ 13%bf = 75', '[210 > 130] = 80 lbs', '138 > 133 After = 5 pounds lost' (checked like any other)
    rf"(?:(?:{_NOTE}|\s*\)|(?![^=]*\b(?:bmi|bf|goal|gw)\b)[^\d=<>()\n]{{1,12}}?)?"
    rf"\s*=\s*[-+]?\s*(?P<diff>{_CHAIN_TERM})(?!{_TIME_AFTER}))?"  # ('= 4 months' is no difference)
)
# Ordinary words used as labels when a colon or a parenthesis follows: 'Before (206)', 'Now: 180', 'Then: 250',
# 'Old picture: 175, New picture: 159'.
_WORD_LABELS = (r"before\s*(?=[:(])|after\s*(?=[:(])|now\s*(?=[:=]|-\s*\d)|then\s*(?=:)"
                r"|(?:old|new)\s+(?:pic(?:ture)?|photo)s?\s*(?=:)")
_LABELLED = re.compile(
    rf"(?<![a-z])(?P<label>s\.?w\.?|c\.?w\.?|g\.?w\.?(?:\s+is\b)?|h\.?w\.?|l\.?w\.?|b\.?w\.?"
    rf"|start(?:ing)?(?:\s*weight)?"
    rf"|beginning(?:\s*weight)?|current(?:\s*weight)?|goal(?:\s*weight)?|{_WORD_LABELS})"
    rf"\s*[:=\-]?\s*"
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
                            rf"(?!{_TIME_AFTER})(?!\s*(?:{_UNIT})?\.?\s*(?:more|to\s+go|left|away|until|till)\b)")
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
    stepwise: bool = False  # a stated difference followed by another: '= 50 lost, 12 gained' (one per step)


class _Chain(NamedTuple):
    weights: list[_Weight]  # start first, current last
    diffs: list  # (stated difference, the weights it is about): '= 40' for the whole chain, one per joined chain
    span: tuple[int, int]
    goal: _Weight | None  # '250 > 200 > 150 GW'
    problem: str | None = None  # why the chain cannot be trusted, if it cannot
    dashes: bool = False  # every link is a '-' (so two close numbers may be a range: '65-66kg')


def _kg(weight: _Weight, unit: str) -> float:
    return weight.value * LB_KG if (weight.unit or unit) == "lb" else weight.value


def _fmt(x: float) -> str:
    return f"{x:.4g}"


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
    elif match.groupdict().get("alt2"):
        weight.estimate = True  # '220 lbs / 170 lbs', 'CW 180lbs/175lbs': two weights in one unit, which is it?
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
_NOT_WEIGHTS_BEFORE = (r"ages?|aged|bmi|size|sizes|waist|pants?|pant\s*size|jeans|dress|shirt|bf|body\s*fat"
                       r"|blood\s+pressure|bp|bench|squat|deadlift|dl|ohp|press|calories|cals?|kcal")
# ... and units of what is not a body weight: '(70-150grams)', '1400-1600 cal', '5-10 miles'
_NOT_WEIGHTS_AFTER = (rf"(?:bmi|size|sizes|waist|{_INCH}|cm|bf|body\s*fat|dress|jeans|pants?|grams?|cals?|kcals?"
                      r"|calories|carbs|protein|mg|ml|oz|miles?|km|mph|bpm|reps|squat|bench|deadlift)\b|%")


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
# '250 @29%bf > 175 (whatever) = ~100': a difference not checked ('= 4 months' is a time)
_UNREAD_DIFF = re.compile(rf"[^\d=<>\n]{{0,15}}=\s*[-+~]?\s*\d+(?:\.\d+)?(?!\d|\.\d)(?!{_TIME_AFTER})")
# One of two alternatives without units ('around 220/230, down to 199'): both are guesses at one weight.
_ALTERNATIVE_BEFORE = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*/\s*$")
_ALTERNATIVE_AFTER = re.compile(r"\s*/\s*(\d{2,3}(?:\.\d+)?)(?![\d.])(?!\s*(?:[a-z#]))")


# A second stated difference after the first: '= 50 lbs lost, 12 gained', '= 72/60 lbs', '= 56lbs - 14', '= 51 + 17'.
_SECOND_DIFF = re.compile(rf"\s*(?:{_UNIT})?\.?\s*(?:[a-z()]+\s*){{0,3}}(?:,|/|-|\+|&|and|to)\s*\(?\s*\d")


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

    _unit_after_bracket(weights, text, m)
    seps = [sep.strip() for sep in _SEP_RE.findall(_blank_notes(m.group("body")))]
    if any(("down" in sep and b.value >= a.value) or ("up" in sep and b.value <= a.value)
           for sep, a, b in zip(seps, weights, weights[1:])):
        return None  # 'lost 100 down to 180': the words contradict the numbers, so one of them is not a weight
    _mark_ranges(weights, seps)
    _mark_alternatives(weights, text, m.start(), m.end("body"))
    diff = _parse_term(m.group("diff")) if m.group("diff") else None
    if diff and len(weights) > 2 and _SECOND_DIFF.match(text, m.end("diff")):
        diff.stepwise = True
    tail = text[m.end("body"):]
    goal = None
    if len(weights) > 2 and re.match(r"\s*\(?\s*(?:gw|goal)\b", tail):
        goal = weights.pop()  # '250 > 200 > 150 GW': the last number is the goal, not a weight reached
    elif len(weights) > 2 and diff is None and (_DIFF_WORDS_AFTER.match(tail) or _too_light(weights)
                                                or _is_the_difference(weights)):
        diff = weights.pop()  # '180 to 140 - 40 lost', '252lbs - 195lbs > 50ish', '277>205-72lbs': the difference
    if re.match(r"\s*[<>](?!\s*\|)", tail):  # (a masked span there is a label read already: '> 150 GW')
        weights[-1].estimate = True  # '200 > 150 > ?': the chain goes on to a weight not given; 150 is not current
    problem = None
    if diff and len(weights) == 2 and seps == ["-"] and not diff.estimate and _either_way(weights, diff) and \
            not _DIFF_WORDS_AFTER.match(text, m.end("diff")):
        problem = "weight chain unclear (start - current = loss, or start - loss = current?)"
    after = _GOES_ON_AFTER.match(text, m.end() if diff else m.end("body"))
    if (after and float(after.group(1)) >= 0.5 * min(w.value for w in weights)) or \
            _GOES_ON_BEFORE.search(text[max(0, m.start() - 24): m.start()]) or \
            (not diff and _UNREAD_DIFF.match(text, m.end("body"))):
        problem = "weight chain unclear"  # (a lighter number after an arrow, '= 25lbs -> 16lbs', is a difference)
    return _Chain(weights, [(diff, list(weights))] if diff else [], m.span(), goal, problem, set(seps) == {"-"})


# '[150 > 120] kg', '(220 > 180) (lbs)': a unit written once, after the bracket around a chain, is every number's
# (else '[150 > 120] kg' would be read in pounds, the default for a ft/in height).
_UNIT_AFTER_BRACKET = re.compile(rf"\s*\)\s*\(?\s*(?P<unit>{_UNIT})\.?\s*(?:\)|(?![\w(]))")


def _unit_after_bracket(weights: list[_Weight], text: str, m: re.Match) -> None:
    after = _UNIT_AFTER_BRACKET.match(text, m.end())
    if after and re.search(r"\(\s*$", text[:m.start()]) and all(w.unit is None for w in weights):
        for w in weights:
            w.unit = _unit_name(after.group("unit"))


def _is_the_difference(weights: list[_Weight]) -> bool:
    """'[277>205-72lbs]', '[301 lbs > 194 lbs -107 lbs]': a last number that is the change so far is no weight."""
    *rest, last = weights
    return last.value < min(w.value for w in rest) and \
        abs(abs(rest[0].value - rest[-1].value) - last.value) <= DIFF_TOLERANCE_LB * (1 if last.unit != "kg" else LB_KG)


def _either_way(weights: list[_Weight], diff: _Weight) -> bool:
    """'[253lbs - 119lbs = 134lbs]': start - current = loss (253 > 119), or start - loss = current (253 > 134)? Both
    hold when the second number is a body weight under half the first; the usual reading is not sure enough."""
    unit = diff.unit or weights[1].unit or weights[0].unit
    lightest = WEIGHT_RANGE_KG[0] / (1.0 if unit == "kg" else LB_KG)
    return lightest <= weights[1].value < 0.5 * weights[0].value and diff.value >= lightest and \
        abs(weights[0].value - weights[1].value - diff.value) <= DIFF_TOLERANCE_LB


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
        # '140-145lbs' alone: two round numbers 5 apart, low to high, read as often as a range as a gain of 5
        round_five = len(weights) == 2 and sep == "-" and b.value - a.value == 5 and a.value % 5 == 0
        if sep in ("-", "to") and close and (a.prefixed or b.estimate or (sep == "-" and arrows) or round_five):
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
        elif _converts(first.weights, chain.weights) is None and not _context_chain(first, chain, text):
            # 'Already posted 190 to 145. Here's from 130 to 143': two pairs, and which is the photos' is unknown
            first = first._replace(problem=first.problem or "weight chain unclear (two chains)")
    return first


def _looks_like_range(chain: _Chain) -> bool:
    """'my 180-176 plateau', 'around 65-66kg': two close numbers and no stated difference, next to labelled weights or
    another chain, are more likely a range than a before and after."""
    a, b = chain.weights[0].value, chain.weights[-1].value
    return len(chain.weights) == 2 and chain.dashes and not chain.diffs and abs(a - b) <= RANGE_SHARE * max(a, b)


SENTENCE_MIN_LB = 66  # a number in pounds (or without unit) below this is no body weight (30 kg): an age, a loss
_AMOUNTS_AFTER = re.compile(rf"\s*(?:{_UNIT})?\.?\s*(?:lost|gone|down|more|to\s+go|left|off|less)\b")
_NOT_WEIGHTS_NEAR_BEFORE = re.compile(
    r"\b(?:blood\s+pressure|bp|cholesterol|a1c|glucose|sugar|heart\s+rate)\b[^.;!?]{0,25}$")


def _context_chain(first: _Chain, later: _Chain, text: str) -> bool:
    """Is a later chain context for the first rather than a second before and after? A range ('maintaining at
    170-175'), numbers no one weighs ('1400-1600 calories'), guesses only, the way to the first's start ('went from
    170 > 200' before '[200 > 180]'), a part of the way ('[395 > 316] ... went from 390 > 350 in 5 mo'), a repeat,
    amounts ('after 20-40-60 pounds lost') or other measures ('blood pressure down from 170/120 to 104/62')."""
    known = [w for w in first.weights if not w.estimate]
    exact = [w for w in later.weights if not w.estimate]
    unit = _chain_unit(later.weights) if _chain_unit(later.weights) != "mixed" else None
    low, high = min(w.value for w in known or first.weights), max(w.value for w in known or first.weights)
    return (_looks_like_range(later) or not exact or _AMOUNTS_AFTER.match(text, later.span[1])
            or _NOT_WEIGHTS_NEAR_BEFORE.search(text[:later.span[0]])
            or any(w.value > WEIGHT_RANGE_KG[1] / LB_KG or w.value < (WEIGHT_RANGE_KG[0] if unit == "kg" else
                                                                     SENTENCE_MIN_LB) for w in later.weights)
            or _same_weight(later.weights[-1], first.weights[0], None)
            or _same_weight(later.weights[0], first.weights[0], None)
            or all(low - 1 <= w.value <= high + 1 for w in exact))  # a part of the way, or a repeat


def _converts(weights: list[_Weight], others: list[_Weight]) -> bool | None:
    """Is a chain in the other unit the same weights converted? None where it is no such chain. A chain's unit is
    the one its numbers carry ('116 > 91 kg': both kg); a chain with none is in the other chain's other unit
    ('[250 > 200] (115kg > 80kg)'), or, when neither has one, in whichever makes them the same weights ('[240 >
    198] lbs or [108.8 > 89.8] kgs')."""
    if len(weights) != len(others) or [w.value for w in weights] == [w.value for w in others]:
        return None
    unit, other_unit = _chain_unit(weights), _chain_unit(others)
    if "mixed" in (unit, other_unit) or other_unit is None and unit is not None or unit == other_unit is not None:
        return None
    if unit is None and (other_unit is None or any(w.unit is None for w in others)):
        # units partly or not written: a conversion where the numbers say so ('[260-180/118kg-81.6]'), else no claim
        pairs = [(u, "kg" if u == "lb" else "lb") for u in ("lb", "kg")]
        return True if any(_agree(weights, others, u, v) for u, v in pairs if other_unit in (None, v)) else None
    return _agree(weights, others, unit or ("lb" if other_unit == "kg" else "kg"), other_unit)


def _chain_unit(weights: list[_Weight]) -> str | None:
    units = {w.unit for w in weights if w.unit}
    return units.pop() if len(units) == 1 else ("mixed" if units else None)


def _agree(weights: list[_Weight], others: list[_Weight], unit: str, other_unit: str) -> bool:
    return all(abs(_kg(a, unit) - _kg(b, other_unit)) <= max(ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE * _kg(a, unit))
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
            _record_label(found, key, weight, text, m.end())
        spans.append(m.span())
    return found, spans


def _record_label(found: dict, key: str, weight: _Weight, text: str, end: int) -> None:
    """found[key] = weight; after a current weight, also a difference written next to it ('CW 200 = 50')."""
    found[key] = weight
    if key == "current":
        d = _LABELLED_DIFF.match(text, end)
        if d:
            found["diff"] = _parse_term(d.group("term"))


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
            _record_label(found, key, _parse_term(m.group("term")), text, m.end())
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


SAME_WEIGHT_ROUNDING = 0.6  # '140.4' is '140': one weight written twice in one unit, rounded differently


def _same_weight(a: _Weight, b: _Weight, unit: str | None) -> bool:
    """Are two written weights one (a unitless one in the other's unit, else in `unit`)? In one unit within a
    rounding; in two ('85 kg' and '187 lbs') within a conversion's rounding."""
    default = a.unit or b.unit or unit or "lb"
    if (a.unit or default) == (b.unit or default):
        return abs(a.value - b.value) <= SAME_WEIGHT_ROUNDING
    return abs(_kg(a, default) - _kg(b, default)) <= max(ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE * _kg(a, default))
