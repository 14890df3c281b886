"""Weights and differences stated in sentences, for training.collect.titles (rules: training/collect/titles.py; terms,
chains, labels and goals: training/collect/title_weights.py)."""
from __future__ import annotations

import re
from typing import NamedTuple

from training.collect.title_rules import WEIGHT_RANGE_KG
from training.collect.title_weights import (
    SENTENCE_MIN_LB, _ESTIMATE_WORDS, _NOT_WEIGHTS_AFTER, _NUM, _TIME_AFTER, _UNIT, _Weight, _parse_term, _unit_name,
)

# --- weights in sentences --------------------------------------------------------------------------------
# Weights stated in words, outside any chain or SW/CW label. Three kinds:
# - 'start' and 'current': 'I started at 162 pounds, and am down to 143', 'My starting weight was 306, and got down
#   to 155', 'beginning weight 350 lbs, current weight 308', 'currently at 238lb'. Read only where the title has
#   neither a chain nor labels; where it has them, a start in words is context ('[204 > 189] Started at 264 2
#   years ago': before the photos), while a current weight in words must agree with the one read ('[250 > 210]
#   I'm now 198': which one is the photo's?).
# - 'photo': a weight said to be a photo's: 'This is me at 170 and 160', 'before pic is at ~190', 'I was 258 in
#   that pic', 'right picture is of me today @163lbs'. The photos' weights win: they must be weights of the
#   chain read, or else be two (the photos' pair, read instead), or the title is refused.
_SENTENCE_ESTIMATE = r"(?:(?:about|around|approx\.?|approximately|roughly|nearly|almost|over|under|like|maybe|~)\s*)"
_SENTENCE_NUMBER = (rf"(?P<term>{_SENTENCE_ESTIMATE}?\d{{2,3}}(?:\.\d+)?(?:\s*(?:{_UNIT})\.?)?)(?!\d|\.\d)"
                    rf"(?!\s*[-/]\s*\d)(?!{_TIME_AFTER})(?!\s*(?:{_UNIT})?\.?\s*(?:more|to\s+go|left|until|till|away"
                    r"|lost|down|gone|less|off|lighter|heavier|loss|total|gained|from|short|up|heavy|light)\b)")
_START_SENTENCE = re.compile(
    r"(?<![a-z])(?:(?:my\s+)?(?:starting|start|beginning|initial)\s+weight\s*(?:was|is|of|:|=)?"
    rf"|start(?:ed|ing)(?:\s+(?:out|off|my\s+journey|this\s+journey))?\s+at|before\s+(?=\d)"
    rf"|(?:(?<![a-z])i\s+|^)was\s+(?:at\s+)?)\s*{_SENTENCE_NUMBER}")  # 'Was 215 lbs on New Year's Day 2012'
_CURRENT_SENTENCE = re.compile(
    r"(?<![a-z])(?:current\s+weight\s*(?:is|of|was|:|=)?|c\.?w\.?\s+(?:is|was)|currently\s+(?:at\s+|weigh(?:ing)?\s+)?"
    r"|now\s+(?:at\s+|weigh(?:ing)?\s+)?|(?:i'?m|i\s+am)\s+(?:now\s+|currently\s+)?(?:at\s+|down\s+to\s+)?"
    r"|(?:got|am|now)\s+down\s+to|today\s+(?:i'?m\s+)?at"
    # a weight regained after the chain is a later current weight: '[200 > 150] back up to 160', 'regained to 165'
    r"|(?:went\s+|got\s+|am\s+)?back\s+up\s+to|regained\s+(?:back\s+)?to|(?:gained|bounced)\s+(?:it\s+|some\s+)?back"
    r"\s+(?:up\s+)?to)"
    rf"\s*@?\s*{_SENTENCE_NUMBER}")
_PHOTO_SENTENCE = re.compile(
    r"(?<![a-z])(?:(?:this|these|that)\s+(?:is|are|was|were)\s+(?:me\s+)?(?:at|@)|me\s+(?:at|@)"
    # ('pic 2 is 160', 'photo #1 at 200': a numbered photo is a photo too)
    r"|(?:pic(?:ture)?s?|photos?)\b(?:\s*#?\s*\d\b)?[^\d.,;:!?()]{0,25}?(?:\bat|@|\bis|\bwas|\bof\s+me\s+at)"
    r"|i\s+was(?=\s*\d{2,3}\s*(?:lbs?|pounds)?\s+in\s+(?:that|the|this|those|these)\s+(?:pic|photo)))"
    rf"\s*@?\s*{_SENTENCE_NUMBER}(?:\s*(?:and|&)\s*(?P<second>{_SENTENCE_NUMBER.replace('?P<term>', '')}))?")
# A photo named by its place, then its weight: 'Pic on the left was taken in June (262) and pic on the right was taken
# today (229)', 'First pic May 2013 240, current pic last week 220', 'Before, 115 lbs. After (last week), 143 lbs'.
# The left, first or before photo is the start; the right, last or after one the current weight. The words between
# say when or where the photo was taken, not how its weight came about ('first pic was after going from 315',
# 'before pic at my highest weight of 174', 'in the before pic I had already lost 40').
_PHOTO_PLACE = r"(?:pic(?:ture)?|photo|image|frame|one)s?"
_PLACE_START = (rf"(?:first|before|old|older|left|starting|original)\s+{_PHOTO_PLACE}"
                rf"|{_PHOTO_PLACE}\s+on\s+(?:the\s+)?left|(?:on\s+)?(?:the\s+)?left(?:\s+side)?\s*[:=]"
                r"|before\s*[:=,(]")
_PLACE_CURRENT = (rf"(?:second|last|current|after|new|newer|right|recent|latest|today'?s)\s+{_PHOTO_PLACE}"
                  rf"|{_PHOTO_PLACE}\s+on\s+(?:the\s+)?right|(?:on\s+)?(?:the\s+)?right(?:\s+side)?\s*[:=]"
                  r"|after\s*[:=,(]")
_PLACE_GAP = (r"(?:(?!\b(?:from|after|before|since|lost|down|already|had|to|than|but|going|went|my\s+\w+est|\w+est)\b)"
              r"[^\d.;!?,]){0,30}?")
_PLACED_NUMBER = rf"{_PLACE_GAP}\(?\s*{_SENTENCE_NUMBER}"
_PHOTO_START_SENTENCE = re.compile(rf"(?<![a-z])(?:{_PLACE_START}){_PLACED_NUMBER}")
_PHOTO_CURRENT_SENTENCE = re.compile(rf"(?<![a-z])(?:{_PLACE_CURRENT}){_PLACED_NUMBER}")
# A weight, then words that say when: '220 at my heaviest 2 years ago to 175 now!', '110lbs before, 130lbs now'.
_NUMBER_FIRST = rf"(?<![\d.])(?P<term>\d{{2,3}}(?:\.\d+)?(?:\s*(?:{_UNIT}))?)(?!\d|\.\d)(?!\.)"
_START_AFTER_NUMBER = re.compile(
    rf"{_NUMBER_FIRST}\s+(?:at\s+(?:my\s+)?(?:heaviest|highest|biggest|worst)"
    r"|before(?!\s+(?:i|my|the|we|and|pics?|photos?)\b))\b")
# A weight, then the photo it is in: '160 in the second pic', '(190 in the first photo)': a photo's weight.
_PHOTO_AFTER_NUMBER = re.compile(
    rf"{_NUMBER_FIRST}\s+in\s+(?:the\s+|that\s+|this\s+|my\s+)?(?:(?:first|second|third|last|left|right|before"
    r"|after|other|old|older|new|newer|latest|current|\d(?:st|nd|rd|th)?)\s+)?(?:pic(?:ture)?|photo|image)\b"
    r"(?P<second>(?!))?")  # (no second weight: a group that never matches)
_CURRENT_AFTER_NUMBER = re.compile(rf"{_NUMBER_FIRST}\s+(?:now|today|currently)\b(?!\s*(?:more|to\s+go|left))")
# Not a statement of fact: 'once I'm at 180', 'want to be at 160', 'my goal is to be at 150', 'I don't have a photo
# at 290'.
_HOPE_BEFORE = re.compile(r"\b(?:once|when|until|till|til|hope|hoping|want|wanna|wish|goal|aim|aiming|get|by|if|will"
                          r"|before\s+(?:i|we)|don'?t|didn'?t|no|not|never|without)\b[^.!?]{0,20}$")
# ...nor a difference ('to lose 120lbs. Today I reached it'), and a word of doubt before it makes it an estimate.
_DIFF_BEFORE = re.compile(r"(?:\b(?:lose|lost|losing|drop(?:ped)?|gain(?:ed)?|minus)|[-=+])\s*$")
_DOUBT_BEFORE = re.compile(rf"(?:{_ESTIMATE_WORDS}|~)\s*$")
# 'before' and 'after' are labels when they start a phrase, not after a weight ('110lbs before, 130lbs now').
_AFTER_A_WEIGHT = re.compile(rf"\d\s*(?:{_UNIT})?,?\s*$")
_SENTENCE_PATTERNS = (("photo", _PHOTO_SENTENCE), ("photo start", _PHOTO_START_SENTENCE),
                      ("photo current", _PHOTO_CURRENT_SENTENCE), ("start", _START_SENTENCE),
                      ("current", _CURRENT_SENTENCE), ("start", _START_AFTER_NUMBER),
                      ("current", _CURRENT_AFTER_NUMBER), ("photo", _PHOTO_AFTER_NUMBER))


class _Sentence(NamedTuple):
    kind: str  # 'start', 'current', 'photo', 'photo start' or 'photo current'
    weights: list  # [_Weight] (two for a photo pair: 'me at 170 and 160')
    span: tuple[int, int]


def _sentences(text: str) -> list[_Sentence]:
    """Every weight stated in words (see above), in title order."""
    found = []
    for kind, pattern in _SENTENCE_PATTERNS:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 25): m.start("term")]
            if _HOPE_BEFORE.search(before) or _DIFF_BEFORE.search(text[:m.start("term")]) or any(
                    s.span[0] <= m.start() < s.span[1] for s in found):
                continue
            if re.match(r"before|after", text[m.start():]) and _AFTER_A_WEIGHT.search(text[:m.start()]):
                continue  # '110lbs before': the label of the weight before it, read by _START_AFTER_NUMBER
            terms = [m.group("term")] + ([m.group("second")] if kind == "photo" and m.group("second") else [])
            weights = [_parse_term(t) for t in terms]
            if any(w.value < (WEIGHT_RANGE_KG[0] if w.unit == "kg" else SENTENCE_MIN_LB) for w in weights):
                continue  # 'I'm 22', 'this is me at 19': an age; 'before pic I had lost 40 pounds': a loss
            if _DOUBT_BEFORE.search(text[:m.start("term")]):
                weights[0].estimate = True  # 'am at about 175 lbs today'
            found.append(_Sentence(kind, weights, m.span()))
    return sorted(found, key=lambda s: s.span)


# --- differences in words --------------------------------------------------------------------------------
# A change of weight stated in words, outside any chain: 'lost 45 lbs', '30 lbs down', 'Gained 20lbs in 3 years',
# '-40lbs', '2 years and 110 lbs later'. Where the title states no difference with its weights ('= 40'), such a total
# is one, and must agree with them: '(121lbs-144lbs) Gained 20lbs' (23 or 20?) and '[295-149-170+] I lost 130lbs'
# are refused, since one of the numbers is wrong and which is unknown. Where the stated '= N' disagrees, a total in
# words that agrees with the weights shows the typo: '[254 > 143 = 101] ... 110 lbs later' (see titles._weigh).
# Only a plain total counts: not an estimate ('lost about 20', 'nearly 40 down', '50+ lbs lost'), a hope ('so close
# to being down 40', 'want to have lost 50'), a part ('32 lbs down in the last 6 months', 'lost 4 more', 'down 85#
# fat', 'gained 10 back', 'lost 35 since my last post') or another measure ('lost 10 inches', 'down 7%').
_WORDS_DIFF = re.compile(
    rf"(?<![a-z])(?:lost|dropped|shed|gained|down|minus)\s+(?:a\s+total\s+of\s+)?(?P<a>{_NUM})\s*(?P<ua>{_UNIT})?"
    rf"|(?<![\d.])(?P<b>{_NUM})\s*(?P<ub>{_UNIT})?\.?\s*(?:total\s+)?"
    r"(?:lost|down|gone|gained|lighter|heavier|later|off)\b(?!\s*(?:to|from)\b)"
    rf"|(?:^|(?<=[\s(\[,;:]))-\s*(?P<c>{_NUM})\s*(?P<uc>{_UNIT})")  # a minus sign, not a dash between numbers
_NOT_A_TOTAL_AFTER = re.compile(
    rf"(?:\+|ish\b|\?|\s*(?:{_UNIT})?\.?\s*(?:more|to\s+go|left|of\s+(?:body\s+)?(?:fat|muscle|water)|fat|muscle|water"
    r"|since|in\s+the\s+(?:last|past|first)|(?:this|last|past)\s+(?:week|month|year)|again|back)\b"
    rf"|\s*(?:{_NOT_WEIGHTS_AFTER})|{_TIME_AFTER})")
_NOT_A_TOTAL_BEFORE = re.compile(
    rf"(?:\b(?:once|when|until|till|hope|hoping|want|wanna|wish|goal|aim|aiming|will|would|if|close\s+to|almost"
    rf"|nearly|being|be|boyfriend|girlfriend|husband|wife|he|she|they)\b[^.!?]{{0,20}}|(?:{_ESTIMATE_WORDS}|~)\s*)$")


def _words_diffs(text: str) -> list[_Weight]:
    """Every plain total change stated in words (see above), in title order."""
    found = []
    for m in _WORDS_DIFF.finditer(text):
        key = next(k for k in "abc" if m.group(k))
        end = m.end(key) if key != "b" else m.end()
        if m.group(key) and (_NOT_A_TOTAL_AFTER.match(text, m.end(key)) or _NOT_A_TOTAL_AFTER.match(text, end)):
            continue
        if _NOT_A_TOTAL_BEFORE.search(text[max(0, m.start() - 25): m.start()]) or \
                _NOT_A_TOTAL_BEFORE.search(text[max(0, m.start(key) - 25): m.start(key)]):
            continue
        value = float(m.group(key))
        if value <= 0:
            continue
        found.append(_Weight(value, _unit_name(m.group(f"u{key}")), False))
    return found
