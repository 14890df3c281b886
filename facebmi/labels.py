"""Label vocabularies: the 8 Adience age brackets and the WHO adult BMI categories.

Everything that turns a number into a named class lives here, so training, evaluation and the app agree.
"""
from __future__ import annotations

# The 8 Adience groups, youngest first. The list order is the model's class order.
AGE_BRACKETS: tuple[str, ...] = ("0-2", "4-6", "8-13", "15-20", "25-32", "38-43", "48-53", "60+")

# Inclusive (low, high) years of each bracket; 60+ is open-ended.
_BRACKET_RANGES: tuple[tuple[int, float], ...] = (
    (0, 2), (4, 6), (8, 13), (15, 20), (25, 32), (38, 43), (48, 53), (60, float("inf")),
)


def age_to_bracket_index(age: float) -> int:
    """Index of the bracket for an exact age in years.

    An age inside a bracket maps to it; an age in a gap (3, 7, 14-24, 33-37, 44-47, 54-59) goes to the
    nearest bracket, a tie to the older one. Whole years: 3 -> 4-6, 14 -> 15-20, 22 -> 15-20,
    23 -> 25-32, 35 -> 38-43, 46 -> 48-53, 57 -> 60+. A fractional age counts its completed years.
    """
    if age != age or age < 0:  # NaN or negative
        raise ValueError(f"age must be a non-negative number, got {age!r}")
    age = float(int(age))  # completed years, as ages are stated: 22.9 years old is 22
    best, best_dist = 0, float("inf")
    for i, (low, high) in enumerate(_BRACKET_RANGES):
        dist = 0.0 if low <= age <= high else min(abs(age - low), abs(age - high))
        if dist <= best_dist:  # '<=' walks youngest to oldest, so a tie goes to the older bracket
            best, best_dist = i, dist
    return best


def age_to_bracket(age: float) -> str:
    return AGE_BRACKETS[age_to_bracket_index(age)]


def bracket_index(name: str) -> int:
    """Index of a bracket given by name ('25-32'); a clear error for anything else."""
    try:
        return AGE_BRACKETS.index(name.strip())
    except ValueError:
        raise ValueError(f"unknown age bracket {name!r}; expected one of {', '.join(AGE_BRACKETS)}") from None


# WHO adult BMI classes: (lower bound inclusive, name). Meaningless for children, which the app says.
WHO_CATEGORIES: tuple[tuple[float, str], ...] = (
    (0.0, "underweight"),
    (18.5, "normal"),
    (25.0, "overweight"),
    (30.0, "obese class I"),
    (35.0, "obese class II"),
    (40.0, "obese class III"),
)


def who_category(bmi: float) -> str:
    name = WHO_CATEGORIES[0][1]
    for low, label in WHO_CATEGORIES:
        if bmi >= low:
            name = label
    return name
