import math

import pytest

from facebmi.labels import AGE_BRACKETS, age_to_bracket, bracket_index, who_category


@pytest.mark.parametrize("age,bracket", [
    (0, "0-2"), (2, "0-2"), (3, "4-6"), (6, "4-6"), (7, "8-13"), (13, "8-13"), (14, "15-20"), (22, "15-20"),
    (23, "25-32"), (34, "25-32"), (35, "38-43"), (45, "38-43"), (46, "48-53"), (56, "48-53"), (57, "60+"),
    (116, "60+"), (2.9, "0-2"), (22.9, "15-20"), (3.0, "4-6"),
])
def test_exact_ages_in_gaps_go_to_the_nearest_bracket_ties_older(age, bracket):
    assert age_to_bracket(age) == bracket


def test_every_whole_age_maps_as_the_brief_lists():
    # 3-6, 7-13, 14-22, 23-34, 35-45, 46-56, 57+ (and 0-2 for babies)
    spans = {"0-2": (0, 2), "4-6": (3, 6), "8-13": (7, 13), "15-20": (14, 22), "25-32": (23, 34),
             "38-43": (35, 45), "48-53": (46, 56), "60+": (57, 120)}
    for name, (low, high) in spans.items():
        assert {age_to_bracket(a) for a in range(low, high + 1)} == {name}


def test_bad_ages_and_bracket_names_are_refused_clearly():
    with pytest.raises(ValueError):
        age_to_bracket(-1)
    with pytest.raises(ValueError):
        age_to_bracket(math.nan)
    with pytest.raises(ValueError, match="unknown age bracket"):
        bracket_index("21-24")
    assert [bracket_index(b) for b in AGE_BRACKETS] == list(range(8))


@pytest.mark.parametrize("bmi,name", [(16, "underweight"), (18.5, "normal"), (24.9, "normal"), (25, "overweight"),
                                      (31, "obese class I"), (37, "obese class II"), (45, "obese class III")])
def test_who_categories(bmi, name):
    assert who_category(bmi) == name
