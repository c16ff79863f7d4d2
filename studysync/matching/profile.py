"""The plain-data profile the matcher scores, and how its free-form fields are compared.

Profiles arrive from web and mobile clients that spell things differently
("mathematics " vs "Mathematics", "Mon" vs "Monday", "Evening" vs
"Evening (5-9 PM)", a schedule value that is a string instead of a list), so
every comparison goes through the keys below, while the original spelling is
kept for explanations shown to the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SLOTS = ("Morning (8-12 PM)", "Afternoon (12-5 PM)", "Evening (5-9 PM)", "Night (9-12 AM)")

_PERIODS = ("morning", "afternoon", "evening", "night")
_DAY_RANK = {d.casefold(): i for i, d in enumerate(DAYS)}
_PERIOD_RANK = {p: i for i, p in enumerate(_PERIODS)}

DEFAULT_LEVEL = 3  # a missing performance level counts as the middle of 1-5
MIN_LEVEL, MAX_LEVEL = 1, 5


def _squash(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def subject_key(subject: str) -> str:
    """Case- and whitespace-insensitive identity of a subject."""
    return _squash(subject)


def day_key(day: str) -> str:
    """"Mon", "thurs", " MONDAY " → the full lower-case day; unknown names are kept as typed."""
    d = _squash(day)
    if len(d) >= 3:
        for full in _DAY_RANK:
            if full.startswith(d):
                return full
    return d


def slot_key(slot: str) -> str:
    """"Evening (5-9 PM)" and "evening" are the same slot; other labels compare as typed."""
    s = _squash(slot)
    first = s.split(" ", 1)[0].rstrip(",:;-") if s else ""
    return first if first in _PERIODS else s


def readable_slot(day: str, slot: str) -> str:
    """("Monday", "Evening (5-9 PM)") → "Monday evening"; ("mon", "evening") too."""
    label = " ".join(str(slot).split())
    period = label.split("(", 1)[0].strip() or label
    key = day_key(day)
    day_name = DAYS[_DAY_RANK[key]] if key in _DAY_RANK else " ".join(str(day).split())
    return f"{day_name} {period.casefold()}"


def slot_order(pair: tuple[str, str]) -> tuple:
    """Week order (Monday first, morning first) so "the first shared slot" is stable."""
    d, s = pair
    return (_DAY_RANK.get(d, len(DAYS)), d, _PERIOD_RANK.get(s, len(_PERIODS)), s)


def clamp_level(level: int | None) -> int:
    if level is None:
        return DEFAULT_LEVEL
    try:
        return min(MAX_LEVEL, max(MIN_LEVEL, int(level)))
    except (TypeError, ValueError):
        return DEFAULT_LEVEL


@dataclass
class ProfileData:
    """One student as the matcher sees them. ``vector`` is the learning-style embedding."""

    id: str
    subjects: list[str] = field(default_factory=list)
    schedule: dict[str, list[str]] = field(default_factory=dict)
    performance_level: int | None = None
    vector: np.ndarray | None = None
    name: str | None = None

    def subject_map(self) -> dict[str, str]:
        """key → first spelling seen, in the profile's own order."""
        out: dict[str, str] = {}
        for s in self.subjects or ():
            if s is not None and str(s).strip():
                out.setdefault(subject_key(s), " ".join(str(s).split()))
        return out

    def slot_map(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(day key, slot key) → (day, slot) as typed. A bare string value is one slot."""
        out: dict[tuple[str, str], tuple[str, str]] = {}
        for day, slots in (self.schedule or {}).items():
            if day is None or not str(day).strip():
                continue
            if isinstance(slots, str):
                slots = [slots]
            for slot in slots or ():
                if slot is not None and str(slot).strip():
                    out.setdefault((day_key(day), slot_key(slot)), (str(day).strip(), str(slot).strip()))
        return out
