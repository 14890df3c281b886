"""training.collect.titles: real title spellings, refusals with named reasons, the CLI, and the targets on our labels."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from training.collect.eval_titles import evaluate, read_labels
from training.collect.parse_titles import main as parse_titles_main
from training.collect.titles import LB_KG, parse_title

ROOT = Path(__file__).resolve().parents[1]
IN = 0.0254


def lb(x: float) -> float:
    return x * LB_KG


# (title, sex, age, height in inches, start, current, goal) with weights in kg; None = not in the title.
PARSED = [
    ("F/28/5'4\" [180lbs > 140lbs = 40lbs]", "F", 28, 64, lb(180), lb(140), None),
    ("F / 29 / 5’3” (204 > 189 = 15) still have 25lbs to go. Started at 264", "F", 29, 63, lb(204), lb(189), None),
    ("23/f/5'10\" [120 < 155]", "F", 23, 70, lb(120), lb(155), None),  # '<' is read left to right
    ("M/31/6’5/286.601lbs>197.9751=90.3895", "M", 31, 77, lb(286.601), lb(197.9751), None),
    ("(f/5\"0/21) [150 > 120]", "F", 21, 60, lb(150), lb(120), None),
    ("28F 5'4\" 200 → 150", "F", 28, 64, lb(200), lb(150), None),
    ("F/28/5ft4 [200 > 150]", "F", 28, 64, lb(200), lb(150), None),
    ("F/28/5 ft 4 in 200lbs -> 150lbs", "F", 28, 64, lb(200), lb(150), None),
    ("F/28/5 4/200>150", "F", 28, 64, lb(200), lb(150), None),
    ("F/28/64in/200 to 150", "F", 28, 64, lb(200), lb(150), None),
    ("M/30/180cm [100kg > 80kg]", "M", 30, 180 / 2.54, 100, 80, None),
    ("M/30/1,80m [100kg > 80kg]", "M", 30, 180 / 2.54, 100, 80, None),
    ("M/30/170cm [80 > 70]", "M", 30, 170 / 2.54, 80, 70, None),  # as lbs BMI 11: only kg is plausible
    ("F/26/163 cm [14st 2lb > 11st 6lb]", "F", 26, 163 / 2.54, lb(14 * 14 + 2), lb(11 * 14 + 6), None),
    ("M/24/5\"11 [225,97lbs > 209,5lbs = 16.44lbs]", "M", 24, 71, lb(225.97), lb(209.5), None),
    ("M/22/5;10\"[229 > 176 = 53] (One year today)", "M", 22, 70, lb(229), lb(176), None),
    ("M/15/5’ 7” (135 lbs-137 lbs) photos 5 months apart", "M", 15, 67, lb(135), lb(137), None),
    ("M/55/6' [321 > 266 = 55lbs] (43 days)", "M", 55, 72, lb(321), lb(266), None),
    ("F/30/5’1” [174 (79kg)- 162 (73.6kg)= 12 (5.4kg)] 50 (22.7 kg) more to go!", "F", 30, 61, lb(174), lb(162), None),
    ("M/27/6'2 [267lbs > 167lbs > 220lbs > 298lbs > 230lbs = 37lbs]", "M", 27, 74, lb(267), lb(230), None),
    ("M/35/6'0\" [230 < 270 > 222 = gain of 40 then loss of 48 lbs]", "M", 35, 72, lb(230), lb(222), None),
    ("M/23/5'8\"[92kg > 75kg = 18kg](24 months)", "M", 23, 68, 92, 75, None),
    ("F/35/5'6\" SW 250 CW 200 GW 150", "F", 35, 66, lb(250), lb(200), lb(150)),
    ("F/35/5'6\" sw:250lbs / cw:200lbs / gw:150lbs", "F", 35, 66, lb(250), lb(200), lb(150)),
    ("M/30/6'2\" [300 > 250 > 200 GW]", "M", 30, 74, lb(300), lb(250), lb(200)),
    ("[200 > 150] F/28/5'4\"", "F", 28, 64, lb(200), lb(150), None),
    ("F, 5'4, 28 y/o, 200lbs > 150lbs", "F", 28, 64, lb(200), lb(150), None),
    ("M/25/6’ [210lbs >175lbs = 35lbs] achieved my New Years goal 17 days early!", "M", 25, 72, lb(210), lb(175), None),
    ("M/22/5'10\" [200+ lbs > 165 lbs = 35 lbs]", "M", 22, 70, None, lb(165), None),  # '200+' is an estimate
    ("M/49/5'11\"(360 lbs.>260 lbs.=100 Lbs.)", "M", 49, 71, lb(360), lb(260), None),
    ("F/28/5'4\" [200 > 150] (2 years) 2015 - 2017, size 18 - 10", "F", 28, 64, lb(200), lb(150), None),
    ("F/30/5'2 (S.W. 200, C.W. 150)", "F", 30, 62, lb(200), lb(150), None),
    ("M/27/6'0\" [Before: 280lbs, After: 190lbs]", "M", 27, 72, lb(280), lb(190), None),
    ("M/25/6'2\" 300lbs ➡️ 200lbs", "M", 25, 74, lb(300), lb(200), None),
    ("F/28/5'4\" (1 - 2 years) waist 40 - 32, size 18 > 8 [200# > 150#]", "F", 28, 64, lb(200), lb(150), None),
    ("F/28/5'4\" [140 < 200 > 150 = 50 lost]", "F", 28, 64, lb(140), lb(150), None),  # 50 from the peak
    # Rules added on the development labels (training/collect/title_labels_dev.jsonl); synthetic titles in their style.
    ("M/30/6'-4\" [290 > 200]", "M", 30, 76, lb(290), lb(200), None),  # 6'-4" is 6 ft 4, not 6 ft 0
    ("M/30/6' - 4\" [290 > 200]", "M", 30, 76, lb(290), lb(200), None),
    ("M/30/6' - 4 months [290 > 200]", "M", 30, 72, lb(290), lb(200), None),  # no inch mark: not 6 ft 4
    ("M/28/6'½\" [264lbs > 185lbs]", "M", 28, 72.5, lb(264), lb(185), None),
    ("M/28/5'11½\" [264 > 185]", "M", 28, 71.5, lb(264), lb(185), None),
    ("F/22/5'12\" [306 > 236 = 70]", "F", 22, 72, lb(306), lb(236), None),  # 5'12" = 6 ft
    ("M/40/5'11\" [400+ > 257] (1 year)", "M", 40, 71, None, lb(257), None),  # estimate start: current only
    ("M/40/5'11\" [400+ > 257 = 143] in 14 months", "M", 40, 71, None, lb(257), None),
    ("F/28/5'6\" [252lbs - 195lbs > 50ish] (7 months)", "F", 28, 66, lb(252), lb(195), None),  # '> 50ish' is the loss
    ("M/35/6'1\" [~246+ to 190] in 8 months", "M", 35, 73, None, lb(190), None),
    ("M/30/6'0 290-200 in 9 months", "M", 30, 72, lb(290), lb(200), None),  # 'in 9 months' is time, not inches
    ("M/30/6'0 [290-200=90lbs in 9 months]", "M", 30, 72, lb(290), lb(200), None),
    ("M/33/5'10\" [285 lbs > 205 lbs = 80 lbs in 6 months]", "M", 33, 70, lb(285), lb(205), None),
    ("M/18/6'4/308 to 220 in almost a year", "M", 18, 76, lb(308), lb(220), None),
    ("F/37/5'2\" - 180lbs to 140lbs - 40lbs lost, GW is 125lbs", "F", 37, 62, lb(180), lb(140), lb(125)),
    ("F/21/5'6\" [310>260-ish=50lbs] (5 months)", "F", 21, 66, lb(310), None, None),  # 260-ish is an estimate
    ("M/16/5'7 [205~>195 = 10] (1 month)", "M", 16, 67, None, lb(195), None),  # so is 205~
    ("M/30/6'0 [300 > 250 = 50ish lbs]", "M", 30, 72, lb(300), lb(250), None),  # an estimated difference agrees
    ("M/30/6'0 [300 > 190 = 100lbs+]", "M", 30, 72, lb(300), lb(190), None),  # ...and a lower bound
    ("F/19/5'6\" Before (206), Current (170) face progress", "F", 19, 66, lb(206), lb(170), None),
    ("M/27/5'7\" [213 > 188 = 25] (6 months) 200-190 in photos.", "M", 27, 67, lb(200), lb(190), None),
    ("F/5'7\"/23 - From 266 to 218 (48 pounds lost)", "F", 23, 67, lb(266), lb(218), None),
    ("F/35/5'6\" SW 250 CW 200 - 30 to go", "F", 35, 66, lb(250), lb(200), None),  # what is left, not lost
    ("F/20/5'2 [SW 176 > CW 155 = 21 pounds so far!]", "F", 20, 62, lb(176), lb(155), None),
    ("M/26/6'3\" [-44lbs (-20kg)] Now: 180lbs (82kg)", "M", 26, 75, None, lb(180), None),  # a labelled current alone
    ("M/23/6'2\" [209lbs (95kg) > 187lbs (85kg) = 22lbs (10kg)]", "M", 23, 74, lb(209), lb(187), None),
    # Round 2 (misses on the dev and blind1 labels); synthetic titles in their style, one or more per rule.
    ("F/30/5'5. 240-200=40lbs. More in comments", "F", 30, 65, lb(240), lb(200), None),  # 5'5. is 5 ft 5
    ("M/20/5\"9...230->190...4months", "M", 20, 69, lb(230), lb(190), None),  # a chain between dots
    ("M/19/6,1 [300lbs > 250lbs = 50lbs]", "M", 19, 73, lb(300), lb(250), None),  # 6,1 in the stats field
    ("F/22/5.3\" [200lbs > 150lbs]", "F", 22, 63, lb(200), lb(150), None),  # 5.3" is 5 ft 3
    ("F/31/5'6 (210to170 = 40lbs)", "F", 31, 66, lb(210), lb(170), None),
    ("M/27/6'0 [215lbs down to 190lbs] (4 months)", "M", 27, 72, lb(215), lb(190), None),
    ("M/26/5'9\" went from 170 to 210 back to 185 this year", "M", 26, 69, lb(170), lb(185), None),  # current last
    ("M/30/6'0 [Over 300 > 250 = 50+ lbs]", "M", 30, 72, None, lb(250), None),  # 'over 300': a lower bound
    ("M/30/6'0 [310-320? > 250 = 60-70]", "M", 30, 72, None, lb(250), None),  # '310-320?': an estimate range
    ("F/30/5'4 [190-195 > 150]", "F", 30, 64, None, lb(150), None),  # a range as one link of an arrow chain
    ("F/26/5'6\" [230(ish) lbs > 180 lbs = 50]", "F", 26, 66, None, lb(180), None),
    ("F/26/5'6\" [230lbs (est.) > 180lbs]", "F", 26, 66, None, lb(180), None),
    ("M/30/6'0 [250 or so > 200]", "M", 30, 72, None, lb(200), None),
    ("F/23/5'4 [200 > 150 > ?] (no scale lately)", "F", 23, 64, lb(200), None, None),  # 150 is not the current
    ("F/23/5'4 [200 >> 150]", "F", 23, 64, lb(200), lb(150), None),
    ("F/28/5'6' [230 SW > 180 CW = 50] (1 year)", "F", 28, 66, lb(230), lb(180), None),  # labels after numbers
    ("F/25/5'5 180 SW 150 CW", "F", 25, 65, lb(180), lb(150), None),  # not 'SW 150' with an empty CW
    ("F/24/5'5\" [220 lbs > 170 lbs = 50lbs] Then and now: 50 pounds later", "F", 24, 65, lb(220), lb(170), None),
    ("F/24/5'5\" Then and now: 220 > 170", "F", 24, 65, lb(220), lb(170), None),  # the label names the chain
    ("F/25/5'5\" Then: 220, Now: 170", "F", 25, 65, lb(220), lb(170), None),
    ("F/30/5'4 Old picture: ~180 lbs, New picture: 150 lbs", "F", 30, 64, None, lb(150), None),
    ("M/28/6'0\" [240 > 210 = 30] Aiming for 195lbs next.", "M", 28, 72, lb(240), lb(210), lb(195)),
    ("F/25/5'5 [200>170=30lbs] Halfway to my goal weight of 145!", "F", 25, 65, lb(200), lb(170), lb(145)),
    ("F/25/165cm, 80kg-70kg since May. Goal is 62kg.", "F", 25, 165 / 2.54, 80, 70, 62),
    ("F/25/5'5 [200 > 170] I was aiming for 150, now aiming for 140-145", "F", 25, 65, lb(200), lb(170), None),
    ("F/25/5'5 [200 > 170] Aiming for 100 lbs in total", "F", 25, 65, lb(200), lb(170), None),  # a loss, not a goal
    ("F/25/5'5 [200 > 170] Aiming for 100 lbs", "F", 25, 65, lb(200), lb(170), None),  # 41% below 170: not a goal
    ("My Wife/31/5'4 [210 > 160] So proud of her", "F", 31, 64, lb(210), lb(160), None),  # relation in the sex slot
    ("Two years from 250->190. M/31/6'1\" Still going", "M", 31, 73, lb(250), lb(190), None),  # stats after weights
    ("F/31/165 [80kg > 65kg = 15kg]", "F", 31, 165 / 2.54, 80, 65, None),  # bare 165 with kg weights: cm
    ("F/28/5'4\" 150 lbs", "F", 28, 64, None, lb(150), None),  # a lone weight next to the height: current
    ("Leg day. F/26/5'5/150lbs", "F", 26, 65, None, lb(150), None),
    ("M - 6'1\" 200 lbs, down 40 lbs!", "M", None, 73, None, lb(200), None),  # 'down 40' is the loss
    ("F/26/60kg(132 lbs)/170 cm, 2 months in", "F", 26, 170 / 2.54, None, 60, None),  # before a metric height
    ("M/25/6'2\" [202lb (14.4stone) > 188 (13.4stone) = 14lb]", "M", 25, 74, lb(202), lb(188), None),
    # Round 3: classes of misreadings found on the blind2 misses and the unlabelled pool; synthetic titles.
    ("M/25/5'9\" [240lbs ~180lbs = 60lbs]", "M", 25, 69, lb(240), lb(180), None),  # '~' as the only link
    ("F/25/5'4 230~170lbs", "F", 25, 64, lb(230), lb(170), None),
    ("F/25/5'4 [198~202 > 160]", "F", 25, 64, None, lb(160), None),  # close numbers across '~': a range
    ("M/30/6'0\" [2.1.2015 -> 3.1.2016] 250->210->220", "M", 30, 72, lb(250), lb(220), None),  # dates are no weights
    ("M/34/5'10\" 215 (1/1/2013) -> 180 (6/22/2013)", "M", 34, 70, lb(215), lb(180), None),
    ("F/20/5'4 went from 180 lbs in March 2014 to 150 lbs", "F", 20, 64, lb(180), lb(150), None),
    ("F/28/5'5\" from near 280 to 240 to 210", "F", 28, 65, None, lb(210), None),  # 'near': an estimate
    ("F/25/5'5 [+230 > 180]", "F", 25, 65, None, lb(180), None),  # '+230': at least 230
    ("F/25/5'5 down from +/- 230 pounds to 180", "F", 25, 65, None, lb(180), None),
    ("F/25/5'5 [190ishlbs > 150lbs]", "F", 25, 65, None, lb(150), None),
    ("F/30/5,4\" [220 > 150]", "F", 30, 64, lb(220), lb(150), None),  # 5,4" in the stats field
    ("F/25/1m65 [80kg > 60kg]", "F", 25, 165 / 2.54, 80, 60, None),  # 1m65 is a height, its 'm' no sex
    ("M/15/5'7160 lbs, first day", "M", 15, 67, None, lb(160), None),  # 5'7 and 160 typed together
    ("F/25/5'4 1/2 [200 > 150]", "F", 25, 64.5, lb(200), lb(150), None),  # the half inch counts
    ("F/25/5'4 and a half [200 > 150]", "F", 25, 64.5, lb(200), lb(150), None),
    ("F, 5'9,19 years old, 206-179", "F", 19, 69, lb(206), lb(179), None),  # 5'9,19: no 5'9.19
    ("M/30/6'0 14st3 > 12st1", "M", 30, 72, lb(14 * 14 + 3), lb(12 * 14 + 1), None),
    ("M / 17=>20 / 6'0\" [250 > 200]", "M", 20, 72, lb(250), lb(200), None),  # the age then and now
    ("I'm a 6'0 guy, went from 250 to 200", "M", None, 72, lb(250), lb(200), None),
    ("21yo 5'6\" 150-140lbs female", "F", 21, 66, lb(150), lb(140), None),
    ("M/22/6'0 160 -> 190 (bulk) -> 175 (cut)", "M", 22, 72, lb(160), lb(175), None),  # a note inside a chain
    ("F/25/5'5 210lbs (June) - 180lbs (now)", "F", 25, 65, lb(210), lb(180), None),
    ("F/25/5'5 [200lbs (not sure) > 150lbs]", "F", 25, 65, None, lb(150), None),  # a note of doubt: an estimate
    ("M/28/5'9 [210lbs 30%bf > 180lbs 15%bf = 30lbs]", "M", 28, 69, lb(210), lb(180), None),
    ("F/40/5'6 [180 > 170 After = 10 lbs]", "F", 40, 66, lb(180), lb(170), None),  # a difference after a word
    ("M/25/6'0 [110kg/243lbs > 90kg/198lbs]", "M", 25, 72, 110, 90, None),  # one weight in two units per link
    ("M/25/6'0 [110kg > 90kg / 243lbs > 198lbs]", "M", 25, 72, 110, 90, None),  # a kg chain, then a lb one
    ("M/20/6'0 went from 250 - 190. Then bulked from 190 - 205", "M", 20, 72, lb(250), lb(205), None),  # goes on
    ("M/20/6'0 [250 > 200 = 50] then [200 > 180 = 20]", "M", 20, 72, lb(250), lb(180), None),
    ("F/25/5'5 [220 > 160] Pics show 210 to 170", "F", 25, 65, lb(210), lb(170), None),  # the photos' weights
    ("F/25/5'6 (SW: 190lbs to 165lbs)", "F", 25, 66, lb(190), lb(165), None),  # a start label naming a chain
    ("F/30/5'5 SW: 200 CW: 170 GW: 140-150", "F", 30, 65, lb(200), lb(170), None),  # a goal range: no goal
    ("F/30/5'5 SW: 200 CW: 170 GW:150/155", "F", 30, 65, lb(200), lb(170), None),
    ("M 5'10\" 30yo SW: 300; CW: 250 Total lost: 50lbs", "M", 30, 70, lb(300), lb(250), None),
    ("M/25/6'0 around 230/240, down to 200", "M", 25, 72, None, lb(200), None),  # one of two guesses
    ("M/30/5'9 250 lbs ==> 200", "M", 30, 69, lb(250), lb(200), None),
    # Round 4: classes of variation (synthetic titles in the style of the blind3 misses and the unlabelled pool).
    ("M/26/5'7 (and a half) [ 150< 170 = 20 ]", "M", 26, 67.5, lb(150), lb(170), None),  # the inches' fraction
    ("F/30/5'3\" & 1/2 [190 > 160]", "F", 30, 63.5, lb(190), lb(160), None),
    ("F/30/5'3 and three quarters [190 > 160]", "F", 30, 63.75, lb(190), lb(160), None),
    ("F/31/5'4\" [330\\150kg > 264\\120kg = 66lbs]", "F", 31, 64, lb(330), lb(264), None),  # '\\' for '/', lb implied
    ("M/32/6'2 [420lbs(191K) > 300lbs(136K)]", "M", 32, 74, lb(420), lb(300), None),  # 'K' in parentheses: kg
    ("F/24/5'6 [80,0kg(176,4) > 70,0kg(154,3)]", "F", 24, 66, 80, 70, None),  # the other unit implied
    ("F/30/5'9\" - 330 vs 250 - a year apart", "F", 30, 69, lb(330), lb(250), None),  # 'vs': before and after
    ("M/25/6'1[230 ≥ 190 = 40 lost]", "M", 25, 73, lb(230), lb(190), None),
    ("M/20/5'11\" [210&195=15lbs]", "M", 20, 71, lb(210), lb(195), None),  # '&' with a difference that checks it
    ("F/23/5'8 [210 - 30 = 180][180 + 12 = 192]", "F", 23, 68, lb(210), lb(192), None),  # arithmetic: 30 is no weight
    ("M/24/6'0 [300 > 240-60lbs]", "M", 24, 72, lb(300), lb(240), None),  # a last number that is the change so far
    ("M/21/6'0 [240 > 190 > 205 = 50 lost, 15 gained]", "M", 21, 72, lb(240), lb(205), None),  # one per step
    ("M/22/6'0 [150 pounds > 180 pounds = 5 months]", "M", 22, 72, lb(150), lb(180), None),  # '= 5 months': a time
    ("F/27/5'6\" bw 240lbs - cw 180lbs - gw 150lbs", "F", 27, 66, lb(240), lb(180), lb(150)),  # bw: beginning weight
    ("M/28/6'0 beginning weight 300 lbs, current weight 250 lbs", "M", 28, 72, lb(300), lb(250), None),
    ("F/25/5'5 [220 > 180 = 40] my 170-175 plateau lasted weeks", "F", 25, 65, lb(220), lb(180), None),  # a range
    ("M/25/6'0 [110kg to 90kg=20kg lost] (242>198 lbs=44lbs)", "M", 25, 72, 110, 90, None),  # the same, converted
    ("F/24/5'5 I started at 180 pounds, and am down to 150 now", "F", 24, 65, lb(180), lb(150), None),  # sentences
    ("F/26/5'4 My starting weight was 210, and got down to 170 pounds", "F", 26, 64, lb(210), lb(170), None),
    ("M/29/6'0 Pic on the left was taken in May (250) and pic on the right today (210)", "M", 29, 72, lb(250),
     lb(210), None),  # photos named by their place
    ("5'7/F - 190 to 175. (This is me at 185 and 175). A small change", "F", None, 67, lb(185), lb(175), None),
    ("F/27/5'4 (204 > 189) Started at 230 three years ago", "F", 27, 64, lb(204), lb(189), None),  # context: earlier
    ("From 250lbs ->190lbs, 5'10, female, age 31.", "F", 31, 70, lb(250), lb(190), None),  # age in words, anywhere
    ("[NSFW] 230-180lbs, 5'6\", 29yrs old, female.", "F", 29, 66, lb(230), lb(180), None),
    ("F/31/172 [290>160 = 130 lost]", "F", 31, 172 / 2.54, lb(290), lb(160), None),  # the difference checks them
    ("M/20/183 [280lbs/127kg > 220lbs/100kg]", "M", 20, 183 / 2.54, lb(280), lb(220), None),  # units on every one
    ("F/20/5'3/125lbs June-December, heaviest at 160, lost 35 lbs since", "F", 20, 63, None, lb(125), None),
    ("M/26/5,9 300lbs to 230", "M", 26, 69, lb(300), lb(230), None),  # typed stats fields
    ("M/24/6.1\" 250lbs>200", "M", 24, 73, lb(250), lb(200), None),
    ("F/25/5-4\" [190 > 150 = 40lbs]", "F", 25, 64, lb(190), lb(150), None),
    ("M/30/5'8\" May 2015=190 Sept 2015=170", "M", 30, 68, lb(190), lb(170), None),  # weights by their dates
    ("M/5'11\" 2012 (260lbs) to 2014 (200lbs)", "M", None, 71, lb(260), lb(200), None),
    ("M/30/6'0\" [1/2/15 - 280 > 3/4/16 - 230 = 50lbs]", "M", 30, 72, lb(280), lb(230), None),
    ("22/M/6'0 300lbs > 24/M/6'0 220lbs. Two years on", "M", 24, 72, lb(300), lb(220), None),  # one person, older
    ("M/50/5'8\"[195'ish>160 = 35lbs]", "M", 50, 68, None, lb(160), None),  # 195'ish: an estimate
    ("M/25/6'0 230 -> 205 Week 6 of a 12 week plan", "M", 25, 72, lb(230), lb(205), None),  # 'Week 6': no duration
    # Round 5: classes of the blind4 misses; synthetic titles in their style.
    ("M/24/6'0 [260 > 220] 40 lbs down in a year", "M", 24, 72, lb(260), lb(220), None),  # a total in words agrees
    ("M/24/6'0 (150lbs-175lbs) Gained 25lbs of muscle", "M", 24, 72, lb(150), lb(175), None),  # a part: not checked
    ("F/25/5'5 [200 > 160] lost about 45 pounds", "F", 25, 65, lb(200), lb(160), None),  # an estimate: not checked
    ("F/25/5'5 [200 > 160] 32 lbs down in the last 6 months", "F", 25, 65, lb(200), lb(160), None),
    ("F/22/5'5 [230 > 150 = 08] 80 lbs later!", "F", 22, 65, lb(230), lb(150), None),  # the words show the typo
    ("F 40 pounds down so far (5'4, 190-150", "F", None, 64, lb(190), lb(150), None),  # 'F 40 pounds': no age 40
    ("M/30/5'975\" [220 > 200 = 20]", "M", 30, 69.75, lb(220), lb(200), None),  # 5'975": the decimal point left out
    ("M/25/6'0 [100 > 85] kg", "M", 25, 72, 100, 85, None),  # a unit after the bracket is every number's
    ("Still the same. 180lbs (82kg) F/30/5'9", "F", 30, 69, None, lb(180), None),  # a lone weight before the stats
    # Rules added on the fifth blind part (title_labels_blind5.jsonl), before the sixth was measured.
    ("Male/31/1.82 [105kg > 88kg]", "M", 31, 182 / 2.54, 105, 88, None),  # metres without the 'm' in a slash field
    ("M/27/1.80m, 5'11\" [220 > 190]", "M", 27, 180 / 2.54, lb(220), lb(190), None),  # two heights: the first
    ("M/27/5'11\" (1.80m) [220 > 190]", "M", 27, 71, lb(220), lb(190), None),
]


@pytest.mark.parametrize("title,sex,age,height_in,start,current,goal", PARSED)
def test_parses_real_spellings(title, sex, age, height_in, start, current, goal):
    got = parse_title(title)
    assert got.ok, got.reason
    assert (got.sex, got.age) == (sex, age)
    assert got.height_m == pytest.approx(height_in * IN, abs=1e-3)
    for name, want in (("start", start), ("current", current), ("goal", goal)):
        kg, bmi = getattr(got, f"{name}_kg"), getattr(got, f"bmi_{name}")
        if want is None:
            assert kg is None and bmi is None
        else:
            assert kg == pytest.approx(want, abs=0.01)
            assert bmi == pytest.approx(want / (height_in * IN) ** 2, abs=0.01)


REFUSED = [
    ("", "empty title"),
    ("My progress so far! So happy", "no height"),
    ("F/28 [200 > 150]", "no height"),
    ("F/28/5'4\" lost 50 lbs!", "no weights"),
    ("F/28/5'4\" 150 lbs to go", "no weights"),
    ("F/30/5’10” [300 > 169 = 31lbs] (3 months)", "weights disagree with stated difference"),
    ("M/24/6'1\" [290lbs > 150lbs =40lbs] (3 months)", "weights disagree with stated difference"),
    ("F/49/5'4\" [300lbs+>200ish = 100lbs+ weight loss]", "approximate weights"),
    ("M/28/5'2'' [653lbs>304lbs=349lbs] (9 months)", "implausible BMI"),
    ("F/28/9'4\" [200 > 150]", "implausible height 2.84 m"),
    ("F/28/5'4\" [2000 > 1500]", "implausible weight"),
    ("F/12/5'4\" [200 > 150]", "implausible age 12"),
    ("M/F 28/30 5'4 [200 > 150]", "ambiguous sex"),
    ("M/28/5'10 [92 > 75]", "weight units unclear"),  # as lbs a 5'10 man at BMI 13; as kg ordinary
    ("F/30/150cm [90 > 80]", "weight units unclear"),  # metric height, unitless: both readings plausible
    ("F/28/5'4\" [200 > 150lbs > 70kg]", "mixed weight units"),
    ("M/28/6'0 [250 > 200] and my wife F/27/5'4 [180 > 140]", "several people"),
    # Rules added on the development labels: refuse rather than guess.
    ("6 1/2 months of hard work! M24 [283>235]", "no height"),  # '6 1/2' is a fraction, not 6 ft 1
    ("F/30/5'4 old pic: about 175-180 lbs", "approximate weights"),  # a range, not a change
    ("F/19/166cm [SW: 85 kg/170lbs CW: 60kg/120lbs]", "weights disagree between units"),  # 85 kg is 187 lb
    ("F/30/5'4\" [200 (80kg) > 150 (68kg)]", "weights disagree between units"),
    ("F/21/5'7 (SW:223, CW:207, -19lbs/6 weeks)", "weights disagree with stated difference"),
    ("F/28/5'6\" [252 - 195 > 20ish]", "weights disagree with stated difference"),
    ("M/30/6'0 [300 > 200 = 40+]", "weights disagree with stated difference"),
    ("F/37/5'2\" 180lbs to 140lbs - 30lbs lost", "weights disagree with stated difference"),
    ("F/28/5'4\" lost 40 - 32 in!", "no weights"),  # inches: 'in' followed by punctuation
    # Round 2: refuse rather than guess.
    ("F/30/5'6 [280 > ~150 = 100]", "weights disagree with stated difference"),  # ~150 cannot be 180
    ("M/30/5'9 [~250 > 200 = 20]", "weights disagree with stated difference"),  # ~250 cannot be 220
    ("M/28/6'0 lost 100 lbs down to 180", "no weights"),  # 'down to' a higher number: 100 is no weight
    ("F/28/5'? [200 > 150]", "no height"),  # not 5 ft 0
    ("F/31/4'll [150 > 120 = 30]", "no height"),  # letters like digits after the mark: 4'11? 4'1? not 4 ft 0
    ("M/24/5'l0 [220 > 180]", "no height"),
    ("F/25/1.5/[200 > 180]", "no height"),
    ("F/23/5'6 [140-145lbs]", "approximate weights"),  # round numbers 5 apart, low to high: a range as often  # one decimal in a slash field: a duration as likely as metres
    ("F/28/5'.9\" [200 > 150]", "no height"),
    ("F/28/6\" 200 > 150", "no height"),  # 6" alone: 6 ft, or a cut-off 5'6"?
    ("F/29/170 [200 > 150]", "no height"),  # a bare 170 is cm only with kg weights
    ("F/28/5'4\" 150 lbs 2 years ago", "no weights"),  # a lone weight from the past
    ("F/28/5'4\" 150 lbs, 180 in the left pic", "no weights"),  # two weights: which is current?
    ("F/28/5'4\" 150 lbs lost!", "no weights"),
    # Round 3: refuse rather than guess.
    ("M/21/~5'10\" [250 > 200]", "approximate height"),
    ("M/30/6'ish [250 > 200]", "approximate height"),
    ("F/25/5'5? [200 > 150]", "approximate height"),
    ("M/25/5'9 [230 > 180] (180cm, 104kg > 82kg)", "height ambiguous"),  # 5'9 is 175 cm
    ("M/16/5'6\" > 6'0\" [130 > 170]", "height ambiguous"),  # grew: which height goes with which photo?
    ("F/22/5'5 [170 > 140] F/22/5'7 [180 > 150]", "several people"),  # twins: the same 'F/22' twice
    ("F/25/5'4 [200 > 150] my sister and I", "several people"),
    ("F/25/5'4 180>150(>160)", "weight chain unclear"),  # the chain goes on past what we read
    ("F/25/5'4 [190 at heaviest > 170 > 160]", "weight chain unclear"),
    ("M/30/6'0 [250 > 200 = 50 lbs > 210lbs]", "weight chain unclear"),
    ("M/30/6'0 SW 250 CW 200 Now: 190", "labels disagree"),
    ("M/25/6'0 [110kg/200lbs > 90kg/198lbs]", "weights disagree between units"),
    ("M/25/5'10 [250 > 200] (115kg > 80kg)", "weights disagree between units"),  # 200 lb is 91 kg
    ("F/25/5'6 [200 > 150 = 50] then [150 > 140 = 20]", "weights disagree with stated difference"),
    ("M/25/6'0 [250 @30%bf > 200 @15%bf = 80]", "weights disagree with stated difference"),
    ("M/18/5'1150 lbs today", "no height"),  # 5'1 and 150, or 5'11 and 50?
    ("M/30/6'0 168lb(right) - 182lb(left)", "no weights"),  # a note of which photo is which: not read past
    # Round 4: refuse rather than guess.
    ("F/26/5'3 [240lbs - 110lbs = 130lbs]", "weight chain unclear"),  # 110 current, or 130 current? both sum
    ("M/26/6'0 [240 > 210] Current Weight 200", "labels disagree"),  # which pair are the photos'?
    ("M/20/6'0 [200lb > 180lb = 20lb] SW:215, GW:170", "labels disagree"),
    ("Posted 200 to 160 last time. Now from 140 to 150. 20M 5'6", "weight chain unclear"),  # two pairs
    ("F/22/5'6 [230 > 200 = 30] (5 months) I was 215 in that pic", "weights unclear"),  # the photos' weight differs
    ("M/24/5'9 [220lbs > 200lbs = 20lbs] right now I'm at 190", "weights unclear"),  # another current weight
    ("M/24/5'9 [220 > 200] Last time I was down to 205. I'm now 185 pounds", "weights unclear"),
    ("F/23/5'4 started at 170 now 140 and my sister's progress too", "several people"),
    # Round 5: refuse rather than guess.
    ("Male/22/6'0 (140lbs-170lbs) Gained 25lbs in 2 years", "weights disagree with stated difference"),  # 30 or 25?
    ("F/25/5'5 [210 > 170] 2 years later, 30 lbs down", "weights disagree with stated difference"),
    ("F/29/5'6\" [280-148-170+] I lost 115lbs by 2015", "weights disagree with stated difference"),  # 132 exact
    ("F/25/5'5 220 lbs / 170 lbs", "no weights"),  # two weights in one unit across a slash: which is current?
    ("F/25/5'5 CW: 180lbs/175lbs", "approximate weights"),
    ("F/25/5'5 [200 > 150] 165 in the second pic", "weights unclear"),  # a photo's weight not in the chain
    ("F/25/5'5 [200 > 150] pic 2 is 160", "weights unclear"),
    ("F/25/5'5 [200 > 150] went back up to 165 since", "weights unclear"),  # a later current weight
]


@pytest.mark.parametrize("title,reason", REFUSED)
def test_refuses_with_a_named_reason(title, reason):
    got = parse_title(title)
    assert not got.ok
    assert got.reason.startswith(reason)
    assert got.bmi_start is got.bmi_current is got.bmi_goal is None
    assert got.start_kg is got.current_kg is None


@pytest.mark.parametrize("value", [None, 42, b"F/28/5'4 200>150", "\x00" * 50, "9" * 5000, ">" * 5000,
                                   "5'4 " + "200 > " * 500 + "150", "🙂" * 100, "=" * 300])
def test_never_raises_on_odd_input(value):
    assert parse_title(value).ok in (True, False)


def test_never_raises_on_random_strings():
    rng = random.Random(3)
    pieces = ["5'4\"", "F/", "M/", "28", ">", "<", "->", "=", "lbs", "kg", "st", "sw", "gw", "(", ")", "[", "]",
              " ", "200", "1.7", "cm", "to", "-", "?", "+", "ish", "/", '5"', ";", ",", "’", "”", "→", "ft"]
    for _ in range(2000):
        got = parse_title("".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))))
        if got.ok:  # anything returned passed every plausibility check
            assert 1.2 <= got.height_m <= 2.3
            assert all(12 <= b <= 80 for b in (got.bmi_start, got.bmi_current, got.bmi_goal) if b is not None)
        else:
            assert got.reason


def test_labels_meet_the_targets():
    """Our hand labels of the 139 real titles (committed text): >= 95% fully right, no BMI where we refuse."""
    labels = read_labels()
    assert len(labels) == 139 and sum(not label["parseable"] for label in labels) >= 10
    report = evaluate(labels)
    assert report.fully_right / report.parseable >= 0.95, report.misses
    assert report.wrong_bmi_where_refuse == 0
    assert report.refused_right == report.refusable
    assert report.wrong_bmi_where_parseable == 0


@pytest.mark.parametrize("name", ["title_labels_dev.jsonl", "title_labels_blind1.jsonl", "title_labels_blind2.jsonl",
                                  "title_labels_blind3.jsonl", "title_labels_blind4.jsonl",
                                  "title_labels_blind5.jsonl", "title_labels_blind6.jsonl"])
def test_dev_labels_meet_the_issue_targets(name):
    """The 320 development labels, and the 320 of each of the six blind parts (the first five development data
    since rounds 2 to 6; blind6 measured the last round blind and now guards it): (a) >= 98% of titles with a height and exact start and current weights fully right; (b) wrong BMIs
    <= 0.5% of BMIs returned."""
    labels = read_labels(ROOT / "training" / "collect" / name)
    assert len(labels) == 320
    report = evaluate(labels)
    assert report.exact_pairs >= 200 and report.exact_pairs_right / report.exact_pairs >= 0.98, report.misses
    assert report.wrong_bmis / report.bmis_returned <= 0.005, report.misses


def test_eval_titles_reports_each_file_and_the_yield_without_titles(tmp_path):
    labels = ROOT / "training" / "collect" / "title_labels.jsonl"
    done = subprocess.run([sys.executable, "-m", "training.collect.eval_titles", str(labels), str(labels)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("== ") == 2 and done.stdout.count("(a) height + exact start and current") == 2
    assert "(b) wrong BMIs / BMIs returned: 0/" in done.stdout and "(c) refusals by parser reason" in done.stdout
    csv_file = tmp_path / "titles.csv"
    csv_file.write_text('title,source\n"F/28/5\'4"" [200 > 150]",x\n'
                        '"secret words, no numbers",y\n"F/28 [200 > 150]",z\n')
    done = subprocess.run([sys.executable, "-m", "training.collect.eval_titles", "--yield", str(csv_file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "titles: 3" in done.stdout and "parsed (ok): 1 = 33.3%" in done.stdout
    assert re.search(r"2 +66.7% +no height", done.stdout)
    assert "secret" not in done.stdout and "200 > 150" not in done.stdout  # aggregates only


def test_eval_titles_cli_prints_the_figures():
    done = subprocess.run([sys.executable, "-m", "training.collect.eval_titles"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "parseable titles fully right: " in done.stdout
    assert "wrong BMIs returned where the label says refuse: 0" in done.stdout
    assert "bmi_current" in done.stdout and "precision" in done.stdout


def test_cli_reads_lines_from_stdin_and_writes_json_lines():
    done = subprocess.run([sys.executable, "-m", "training.collect.parse_titles"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, input="F/28/5'4\" [200 > 150]\n\nno numbers here\n")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["title"] for r in rows] == ["F/28/5'4\" [200 > 150]", "no numbers here"]
    assert rows[0]["ok"] and rows[0]["bmi_current"] == pytest.approx(25.75, abs=0.01)
    assert rows[1] == {**rows[1], "ok": False, "reason": "no height", "bmi_start": None}


def test_cli_reads_csv_with_a_title_column_and_scrape_jsonl(tmp_path, capsys):
    csv_file = tmp_path / "titles.csv"
    csv_file.write_text('source,title\nx,"M/30/6\'0 [250 > 200, lol]"\ny,"F/28/5\'4"" [180 > 140]"\n')
    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text(json.dumps({"id": "abc", "title": "F/40/5'5\" [220 > 170]"}) + "\n" + '{"id": "cut", "ti')
    assert parse_titles_main([str(csv_file), str(jsonl)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["title"] for r in rows] == ["M/30/6'0 [250 > 200, lol]", "F/28/5'4\" [180 > 140]",
                                          "F/40/5'5\" [220 > 170]"]
    assert rows[2]["post_id"] == "abc" and all(r["ok"] for r in rows)
    assert rows[1]["start_kg"] == pytest.approx(lb(180), abs=0.01)


def test_cli_missing_file_is_a_message_not_a_traceback(tmp_path, capsys):
    assert parse_titles_main([str(tmp_path / "nope.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
