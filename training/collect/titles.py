"""r/progresspics post title -> sex, age, height, start/current/goal weight and a BMI for each weight.

    parse_title("F/28/5'4\" [180lbs > 140lbs = 40lbs]").to_dict()

Titles follow a loose convention (`Sex/Age/Height [start > current = lost]`), written every possible way.
The parser is deliberately conservative: a wrong BMI is worse than none, so anything a careful human
reader would call ambiguous is refused with a named `reason` instead of guessed. It never raises on a string.

The rules live in four modules: training/collect/title_rules.py (constants, normalisation, height, sex and age),
training/collect/title_weights.py (weights: terms, chains, labels, goals), training/collect/title_sentences.py (weights
and differences stated in words) and this one (the parse and its checks).

Rules (each one a reading a human would make, see training/collect/title_labels.jsonl for 139 real cases and
training/collect/title_labels_dev.jsonl and training/collect/title_labels_blind1-6.jsonl for 1920 more; rounds 3 and 4
generalised them on unlabelled titles: refuse what is not positively understood near the numbers; the classes of
rounds 4, 5 and 6 are listed last):
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
Round 4 (classes of variation):
- Spellings: a height's fraction in any words (`5'5 (and a half)`, `5'3" & 1/2`, `and three quarters`); `5,8 340lbs`,
  `6.0" 240lbs`, `5-6" [` in the stats field; more arrows (`≥` too); `\\` for `/`; one weight in two units with
  one unit implied (`390/177kg`, `450lbs(204K)`, `73.9kg(162.9)`: written in only where they convert); links in
  words (`446 vs 277`; `205&190=15` only with a difference, which checks it); weights labelled by dates or years
  (`May 2013=172 July 2013=156`, `2011 (280lbs) to 2013 (210lbs)`); `185'ish`, `230's`; `Week 9` is no duration.
- Arithmetic: `[203 - 36 = 167]`, `[167 + 18 = 185]` (the middle number no body weight) read start > current;
  `[253 - 119 = 134]` (119 or 134 current?) is refused; a last link that is the change so far (`[277>205-72lbs]`)
  is the difference; one stated difference per step (`= 50 lost, 12 gained`, `= 72/60`) may be any step's.
- Labels: `BW` / `beginning weight` (start); `Now-180`. Labels and a separate chain must agree at both ends
  (`[250 > 210] Current Weight 203` is refused: which pair are the photos'?).
- Two unrelated chains (`Already posted 190 to 145. Here's from 130 to 143`) are refused, unless the later one is
  context: a range (`180-176 plateau`), the same weights converted (units partly written), amounts (`40-50 more`),
  other measures (`blood pressure 170/120 to 104/62`; `70-150grams`), the way to the first's start, or a part of it.
- Sentences (training/collect/title_sentences.py, `_sentences`): without a chain or labels, weights in words are read
  (`I started at 162 pounds, and am down to 143`, `110lbs before, 130lbs now`, `Pic on the left ... (262) and pic on
  the right ... (229)`, `Was 215 lbs`); with one, a start in words is context (`Started at 264 2 years ago`), but a
  current weight in words (`I'm now 167`, `CW is 188`) and the photos' weights (`I was 258 in that pic`) must agree
  with it, or the title is refused; two photo weights (`This is me at 170 and 160`) are the photos' pair and win.
  Not read: hopes (`once I'm at 180`), negations (`no photo at 290`), differences, ages; `about` makes an estimate.
- Age in words anywhere when the stats give none (`female, age 27`, `19 years old`; not `at 22 years old`); two
  stats fields of one person at two ages (`24/M/6'1 325lbs > 26/M/6'1 216lbs`) give the later age.
- A bare `F/33/175` after sex and age is cm also with lb weights when they leave no doubt (each has its unit, or a
  stated difference checks them, and none is 175); a lone weight may sit next to past ones (`heaviest at 148`).
Round 5 (classes of the blind4 misses):
- Differences in words (training/collect/title_sentences.py, `_words_diffs`): a plain total (`lost 45 lbs`, `30 lbs
  down`, `Gained 20lbs in 3 years`, `-40lbs`, `110 lbs later`; not an estimate, a hope, a part such as `in the last 6
  months`, `4 more`, `of fat`, `back`, nor inches or %) is the stated difference of weights that state none: it must
  agree (any step's, against the exact weights), else the title is refused; where a stated `= N` disagrees but such
  a total agrees, `= N` is the typo. Chains not read (`[213 > 188 = 25] ... 200-190 in photos`) hold no totals.
- Photos' weights also `160 in the second pic`, `pic 2 is 160`; a weight regained (`back up to 160`, `regained to
  165`) is a later current weight: both must agree with the chain read, else refused.
- `5'875"` is 5'8.75"; `F 50 pounds down` has no age 50 (a number with a unit is no age); `[150 > 120] kg`: a unit
  after the bracket is the chain's; `220 lbs / 170 lbs` (one unit both sides of a slash) is two guesses, no weight;
  a lone weight may stand before a sex/age field and the height (`155lbs (70kg) M/27/6'`).
Round 6 (classes of the blind5 misses):
- `4'll`, `5'l0`: letters like digits after the feet mark are a typo to guess (4'11? 4'1?), no height, not 4 ft 0;
  `Male/25/1.78` (two decimals alone in a slash field) is metres; of two heights that agree (`1.85m, 6'1"`), the one
  written first, as a reader takes it; `140-145lbs` alone (round, 5 apart, low to high) is a range as often as a gain.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import NamedTuple

from training.collect.title_rules import (  # noqa: F401 (LB_KG and the ranges are part of the public API)
    AGE_RANGE, ALT_TOLERANCE_KG, ALT_TOLERANCE_SHARE, BMI_RANGE, DIFF_TOLERANCE_LB, ESTIMATE_DIFF_SHARE,
    ESTIMATE_WEIGHT_SHARE, GOAL_BMI, GOAL_MAX_CHANGE, HEIGHT_RANGE_M, INCH_M, KG_READING_BMI, LB_GUESS_MIN_BMI, LB_KG,
    PLUS_DIFF_MAX, RANGE_SHARE, STONE_LB, WEIGHT_RANGE_KG,
    _age_in_words, _all_heights, _find_age, _find_feet, _find_other_height, _find_sex, _height_problem, _mask,
    _normalise,
    _sex_age_field, _sex_in_words, _STRICT_SEX_AGE, _TWO_PEOPLE,
)
from training.collect.title_weights import (
    _LABEL_DIFF_WORDS_AFTER, _PLAIN_TERM, _TIME_AFTER, _UNIT, _Weight, _chains, _find_chain, _find_goal_phrase,
    _find_labelled, _fmt, _kg, _looks_like_range, _parse_term, _same_weight,
)
from training.collect.title_sentences import _sentences, _words_diffs


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


# --- the parser ------------------------------------------------------------------------------------------

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
        # '[250 > 210] Current Weight 203', '[195 > 171] SW: 205': a chain whose ends are not the labelled weights.
        # Which pair are the photos'? Refused.
        problem = "labels disagree" if chain and not _looks_like_range(chain) and any(
            w is not None and c is not None and not w.estimate and not c.estimate and not _same_weight(w, c, None)
            for w, c in zip(weights, (chain.weights[0], chain.weights[-1]))) else None
        return (_Reading(weights, diffs, labelled.get("goal"), spans + ([chain.span] if chain else []), problem),
                soft_goal, text)
    if chain:
        goal = labelled.get("goal") or chain.goal
        return _Reading(chain.weights, chain.diffs, goal, spans + [chain.span], chain.problem), soft_goal, text
    return None, soft_goal, text


def _one_person_older(fields: list[str], norm: str) -> int | None:
    """'24/M/6'1 325lbs > 26/M/6'1 216lbs': two sex/age fields of one person at two ages (one sex, ages rising by up
    to 20 years, one height) give the age now, the last; any other pair is two people (None)."""
    sexes = {re.sub(r"[^a-z]", "", f)[0] for f in fields}
    ages = [int(re.sub(r"\D", "", f)) for f in fields]
    heights = [h for h, _, _ in _all_heights(norm)]
    if len(sexes) == 1 and all(0 < b - a <= 20 for a, b in zip(ages, ages[1:])) and \
            all(abs(h - heights[0]) <= 0.5 * INCH_M for h in heights):
        return ages[-1]
    return None


def _unread(text: str, reading: _Reading | None, norm: str) -> str:
    """The text without what was read already: the weights' spans and every height."""
    for span in (reading.spans if reading else []) + [span for _, span, _ in _all_heights(norm)]:
        text = _mask(text, span)
    return text


def _with_sentences(reading: _Reading | None, sentences: list) -> _Reading | None:
    """The weights read, checked against (or, without any, read from) the weights stated in sentences."""
    by_kind = {kind: [s.weights[0] for s in sentences if s.kind == kind]
               for kind in ("start", "current", "photo start", "photo current")}
    photos = [s for s in sentences if s.kind == "photo"]
    spans = [s.span for s in sentences]
    if reading is None:
        if photos and not (len(photos) == 1 and len(photos[0].weights) == 2):
            return None  # 'This is me at 170': a photo's weight with nothing to tell which
        if photos:  # 'This is me at 170 and 160': the photos' pair
            return _Reading(photos[0].weights, [], None, spans)
        starts = by_kind["photo start"] or by_kind["start"]
        currents = by_kind["photo current"] or by_kind["current"]
        if not (starts or currents) or len(starts) > 1 or len(currents) > 1:
            return None  # none, or which of two is it?
        return _Reading([starts[0] if starts else None, currents[0] if currents else None], [], None, spans)
    known = [w for w in reading.weights if w is not None]
    unit = next((w.unit for w in known if w.unit), None)
    strays = [w for s in photos for w in s.weights if not any(_same_weight(w, k, unit) for k in known)]
    start, current = reading.weights[0], reading.weights[-1]
    strays += [w for w in by_kind["photo start"] if start is not None and not _same_weight(w, start, unit)]
    strays += [w for w in by_kind["photo current"] if current is not None and not _same_weight(w, current, unit)]
    if strays:
        pairs = [s for s in photos if len(s.weights) == 2]
        if len(photos) == 1 and pairs and len(strays) <= 2:  # '172 to 160. (This is me at 170 and 160)'
            return _Reading(pairs[0].weights, [], reading.goal, reading.spans + [pairs[0].span], reading.problem)
        return reading._replace(problem=reading.problem or "weights unclear (the photos' weights differ)")
    if current is not None and any(not w.estimate and not _same_weight(w, current, unit) for w in by_kind["current"]):
        return reading._replace(problem=reading.problem or "weights unclear (another current weight)")
    return reading


# A lone weight in the stats field, next to the height: 'F/24/5ft/160lbs', 'M/20/5'10 160lb - 10 months',
# 'F/26/65kg(143 lbs)/174cm'. It must carry its unit, be no amount lost ('150 lbs lost') and have no word of the
# past near it ('150 lbs 2 years ago', 'at my heaviest').
_LONE_AFTER_HEIGHT = re.compile(rf"[\s/,:|\-]*(?P<term>{_PLAIN_TERM})(?!\d|\.\d)(?!{_TIME_AFTER})")
# ...or before the stats field: '155lbs (70kg) M/27/6'' (a sex/age field between the weight and the height).
_LONE_BEFORE_HEIGHT = re.compile(rf"(?<![\d.])(?P<term>{_PLAIN_TERM})[\s/,:\-]*"
                                 r"(?:(?:[mf]|male|female)\s*[/,]?\s*\d{2}|\d{2}\s*[/,]?\s*(?:[mf]|male|female))?"
                                 r"(?<![a-z])[\s/,:\-]*$")
_NOT_LONE_CURRENT_AFTER = re.compile(
    r"\s*[^\w\s]?\s*(?:lost|gone|off|less|lighter|heavier|gained|loss|later|total|more|left|to\s+go|away"
    r"|down\s+from|up\s+from)\b")
_PAST_WORDS = re.compile(
    r"\b(?:ago|heaviest|highest|start(?:ed|ing)?|before|was|used\s+to|then|goal|left\s+(?:pic|photo|side))\b")
_PAST_WINDOW = 40  # characters after a lone weight searched for _PAST_WORDS
# ...but a word of the past with its own number says when that other weight was, not this one: 'F/19/5'1/118lbs,
# heaviest at 148', 'started at 200' (118 and 150 are current: the past weights are neither photo's nor current).
_PAST_WEIGHT = re.compile(rf"\b(?:heaviest|highest|start(?:ed|ing)?(?:\s+weight)?|was)\s+(?:weight\s+)?(?:was\s+|at\s+"
                          rf"|of\s+)?(?:around\s+|about\s+|~\s*)?\d{{2,3}}(?:\.\d+)?(?!\d|\.\d)\s*(?:{_UNIT})?")
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
    text = _PAST_WEIGHT.sub(lambda p: "|" * len(p.group()), text)  # 'heaviest at 148': another time's weight
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


# A bare 3-digit number in the stats field, 'F/29/170 [95kg > 76kg]': centimetres, when every weight is in kg. Also,
# right after sex and age, 'F/33/175 [308>164 = 144 lost]', 'M/18/186 [308lbs/140kg > 255lbs/115kg]', when the
# weights leave no doubt that it is none of them: every one carries its unit, or a stated difference checks
# them, and none is that number ('F/29/170 [200 > 150]' may be a weight of 170 lbs: refused).
_SLOT_CM = re.compile(r"(?:^|(?<=[/|(,]))\s*(1[4-9]\d|20\d)\s*(?=[/|),(]|$)")
_STATS_SLOT_CM = re.compile(r"(?:(?<![a-z])(?:[mf]|male|female)\s*/\s*\d{2}|(?<![\d.])\d{2}\s*/\s*(?:[mf]|male|female))"
                            r"\s*/\s*(1[4-9]\d|20\d)\s*(?=[/(]|$)")


def _slot_cm(header: str, reading: _Reading) -> re.Match | None:
    weights = [w for w in reading.weights + [reading.goal] if w is not None]
    if all(w.unit == "kg" for w in weights):
        return _SLOT_CM.search(header)
    m = _STATS_SLOT_CM.search(header)
    if m and not reading.problem and (all(w.unit for w in weights) or reading.diffs) and \
            not any(abs(w.value - int(m.group(1))) <= 1 for w in weights):
        return m
    return None


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
        m = _slot_cm(header, reading)
        if m:
            height_m, height_span, metric_height = int(m.group(1)) / 100, m.span(1), True
            header = _mask(header, height_span)
    heights = _all_heights(norm)  # every height written, read once
    if height_span:  # '1.85m, 6'1"': the height written first, as a reader takes it (a second one that
        # disagrees by more than a conversion's rounding makes _height_problem refuse the title below)
        first = min(heights, key=lambda h: h[1][0], default=None)
        if first and first[1][0] < height_span[0]:
            height_m = first[0]
    reading = _with_sentences(reading, _sentences(_unread(text, reading, norm)))
    if reading is None and height_span:
        reading = _find_lone_weight(text, height_span)
    for _, span, _ in heights:  # '1.70m', '5'5 F': the 'm' of metres, or a second height, is no stat
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
    if age is None and not age_problem:
        age = _age_in_words(_unread(text, reading, norm))
    result = TitleParse(ok=False, sex=sex, age=age, height_m=round(height_m, 4) if height_m else None)

    def refuse(reason: str) -> TitleParse:
        result.reason = reason
        return result

    if sex_problem or age_problem:
        return refuse(sex_problem or age_problem)
    fields = _STRICT_SEX_AGE.findall(norm)
    if len(fields) > 1:  # counted, not deduplicated: twins are both 'F/22'
        older = _one_person_older(fields, norm)
        if older is None:
            return refuse("several people (two sex/age fields)")
        age = result.age = older
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
    unread = _unread(text, reading, norm)
    for chain in _chains(unread):  # '[213 > 188 = -25] ... 200-190 in photos': a chain not read is no total in words
        unread = _mask(unread, chain.span)
    return _weigh(result, reading, soft_goal, height_m, metric_height, _words_diffs(unread))


def _weigh(result: TitleParse, reading: _Reading, soft_goal: _Weight | None, height_m: float,
           metric_height: bool, words_diffs: list[_Weight]) -> TitleParse:
    """Units, cross-checks and plausibility of the weights read; fills in result (or its refusal reason).
    words_diffs: the total changes stated in words (title_sentences._words_diffs), checked like a stated difference."""
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
        known = [w for w in segment if w is not None]
        if first is not None and last is not None and not _diff_agrees(diff, first, last, known, unit) and \
                not any(_diff_agrees(w, first, last, known, unit) for w in words_diffs):
            # ('[254 > 143 = 101] 110 lbs later': the weights and a total in words agree; 101 is the typo)
            return refuse(f"weights disagree with stated difference ({_fmt(first.value)} - {_fmt(last.value)} "
                          f"vs {_fmt(diff.value)})")
    if not reading.diffs and start is not None and current is not None and words_diffs:
        # 'Gained 20lbs' after '121-144': a total in words is the stated difference; one must agree (any step's
        # where the chain has several)
        # where the chain has several); against its exact weights where it has two ('[295-149-170+] lost 130': 146)
        steps = [w for w in chain_weights if w is not None]
        exact_steps = [w for w in steps if not w.estimate]
        if len(exact_steps) >= 2:
            steps = exact_steps
        if not any(_diff_agrees(replace(w, stepwise=len(steps) > 2), steps[0], steps[-1], steps, unit)
                   for w in words_diffs):
            return refuse(f"weights disagree with stated difference ({_fmt(start.value)} - {_fmt(current.value)} "
                          f"vs {_fmt(words_diffs[0].value)} in words)")
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
    200 > 150 = 50 lost' counts from 200), or, where one difference is stated per step, between any two weights.
    A weight marked as an estimate is checked too, with its margin ('283 > ~160 = 135': ~160 cannot be 148, so one
    of the numbers is wrong, and which is unknown)."""
    stated = _diff_bounds(diff, _kg(diff, unit))
    if start.estimate or current.estimate:
        (s_lo, s_hi), (c_lo, c_hi) = _weight_bounds(start, unit), _weight_bounds(current, unit)
        # |start - current| over every value the two could have: overlapping the stated difference is enough
        low = max(s_lo - c_hi, c_lo - s_hi, 0.0)
        return low <= stated[1] and max(s_hi - c_lo, c_hi - s_lo) >= stated[0]
    first, last = _kg(start, unit), _kg(current, unit)
    exact = [_kg(w, unit) for w in chain if not w.estimate]
    peak = max(exact, default=first)
    pairs = [(first, last), (peak, last), (peak, first)]
    if diff.stepwise:  # '[225 > 173 > 185 = 50 lost, 12 gained]', '[202 > 130 > 142 = 72/60]': a step's change
        pairs += [(a, b) for i, a in enumerate(exact) for b in exact[i + 1:]]
    return any(stated[0] <= abs(a - b) <= stated[1] for a, b in pairs)


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
