"""One readable sentence saying why two students (or a student and a group) match.

The seed printed percentages ("Similar subjects (85%)"); a student acts on
specifics, so this names the shared subjects and the first free time both
have, strongest reason first.
"""

from __future__ import annotations

from collections.abc import Mapping

from .profile import ProfileData, readable_slot, slot_order
from .weights import Weights

SIMILAR_STYLE = 0.5  # MiniLM cosines above this read as "the same kind of learner"
MAX_SUBJECTS_NAMED = 3
MAX_PARTS = 3


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _subject_phrase(query: ProfileData, candidate: ProfileData) -> str | None:
    theirs = candidate.subject_map()
    shared = [label for key, label in query.subject_map().items() if key in theirs]
    if not shared:
        return None
    named = shared[:MAX_SUBJECTS_NAMED]
    extra = len(shared) - len(named)
    if extra:
        return f"shares {', '.join(named)} and {extra} more subject{'s' if extra > 1 else ''}"
    return f"shares {_join(named)}"


def _schedule_phrase(query: ProfileData, candidate: ProfileData, members: bool) -> str | None:
    theirs = candidate.slot_map()
    mine = query.slot_map()
    shared = sorted((k for k in mine if k in theirs), key=slot_order)
    if not shared:
        return None
    first = readable_slot(*mine[shared[0]])
    who = "members free" if members else "both free"
    extra = len(shared) - 1
    return f"{who} {first}" + (f" and {extra} other time{'s' if extra > 1 else ''}" if extra else "")


def _performance_phrase(query: ProfileData, candidate: ProfileData) -> str | None:
    if query.performance_level is None or candidate.performance_level is None:
        return None  # "same level" would be a guess
    gap = abs(int(query.performance_level) - int(candidate.performance_level))
    return {0: "same performance level", 1: "similar performance level"}.get(gap)


def explain(
    query: ProfileData,
    candidate: ProfileData,
    components: Mapping[str, float],
    weights: Weights | None = None,
    *,
    members: bool = False,
) -> str:
    """E.g. "Shares Mathematics and Physics; both free Monday evening; similar learning style".

    ``members=True`` words it for a group ("members free …"); ``candidate`` is
    then the group's aggregate profile.
    """
    if weights is None:
        weights = Weights()
    style = "similar learning styles" if members else "similar learning style"
    candidates = [
        (weights.subject * components.get("subject", 0.0), _subject_phrase(query, candidate)),
        (weights.schedule * components.get("schedule", 0.0), _schedule_phrase(query, candidate, members)),
        (
            weights.learning_style * components.get("learning_style", 0.0),
            style if components.get("learning_style", 0.0) >= SIMILAR_STYLE else None,
        ),
        (weights.performance * components.get("performance", 0.0), _performance_phrase(query, candidate)),
    ]
    # Strongest contribution first; sorted() is stable so ties keep the seed's order.
    parts = [text for _, text in sorted(candidates, key=lambda c: -c[0]) if text][:MAX_PARTS]
    if not parts:
        return "Some overlap in study habits"
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:]
