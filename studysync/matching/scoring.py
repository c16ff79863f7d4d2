"""The seed's compatibility score, computed for every candidate at once.

    total = 0.4·subject + 0.3·schedule + 0.2·learning_style + 0.1·performance

* subject: Jaccard of the two subject sets (0 when both are empty);
* schedule: shared (day, slot) pairs ÷ the union of both students' pairs,
  0 when either schedule is empty;
* learning_style: cosine of the learning-style embeddings, floored at 0 (a
  student with no text has a zero vector, so 0);
* performance: 1 − |Δlevel| ÷ 4 on the 1–5 scale, a missing level counting as 3.

A candidate is a match when total ≥ threshold (0.5). Weights and threshold are
settings, hence ``Weights``. The component functions below are shared by the
one-against-all ``score`` and the all-pairs ``pairwise_matrix`` so both
compute exactly the same formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .explain import explain
from .weights import Weights
from .matrix import CandidateMatrix, QueryFeatures, popcount
from .profile import MAX_LEVEL, MIN_LEVEL, ProfileData

__all__ = [
    "CandidateMatrix",
    "Match",
    "ProfileData",
    "Scores",
    "Weights",
    "explain",
    "pairwise_matrix",
    "score",
    "top_k",
]

# Float sums like 0.4·0.5 + 0.3·1 can land a hair under 0.5; don't drop them.
_THRESHOLD_SLACK = 1e-9


@dataclass
class Scores:
    """Per-candidate components, aligned with ``matrix.ids``."""

    subject: np.ndarray
    schedule: np.ndarray
    learning_style: np.ndarray
    performance: np.ndarray
    total: np.ndarray  # -inf where excluded
    shared_subjects: np.ndarray  # |query ∩ candidate| subjects, for group aggregation
    excluded: np.ndarray  # bool: never ranked (with `at_least`, also the rows that cannot reach it)


@dataclass
class Match:
    id: str
    total: float
    subject: float
    schedule: float
    learning_style: float
    performance: float
    explanation: str

    @property
    def match_percentage(self) -> int:
        return int(round(self.total * 100))

    def components(self) -> dict[str, float]:
        return {
            "subject": self.subject,
            "schedule": self.schedule,
            "learning_style": self.learning_style,
            "performance": self.performance,
        }


# --- the four components, as array functions ---------------------------------


def jaccard(shared, size_a, size_b) -> np.ndarray:
    """|A∩B| ÷ |A∪B| from the intersection and set sizes; 0 when the union is empty."""
    shared = np.asarray(shared, dtype=np.float64)
    union = np.asarray(size_a, dtype=np.float64) + np.asarray(size_b, dtype=np.float64) - shared
    return np.divide(shared, union, out=np.zeros(np.broadcast(shared, union).shape), where=union > 0)


def schedule_overlap(shared, size_a, size_b) -> np.ndarray:
    """Jaccard of (day, slot) pairs, explicitly 0 when either schedule is empty."""
    both = (np.asarray(size_a) > 0) & (np.asarray(size_b) > 0)
    return np.where(both, jaccard(shared, size_a, size_b), 0.0)


def style_similarity(dots) -> np.ndarray:
    """Cosine of unit (or zero) vectors, floored at 0: opposite styles are just 'not similar'.

    Clipped at 1 too: float32 rounding can put a unit vector's self-dot a hair above it."""
    return np.clip(np.asarray(dots, dtype=np.float64), 0.0, 1.0)


def performance_closeness(level_a, level_b) -> np.ndarray:
    span = MAX_LEVEL - MIN_LEVEL
    return 1.0 - np.abs(np.asarray(level_a, dtype=np.float64) - np.asarray(level_b, dtype=np.float64)) / span


# --- one query against every candidate ----------------------------------------


def score(
    query: ProfileData,
    matrix: CandidateMatrix,
    weights: Weights = Weights(),
    exclude_ids: Iterable[str] = (),
    at_least: float | None = None,
) -> Scores:
    """Score ``query`` against all candidates. The query's own id is always excluded.

    With ``at_least`` (a ranking's threshold), the learning-style cosine — one dot product with
    every row of the embedding matrix, most of the cost — is computed only for rows whose total
    could still reach it with a perfect style; the other rows get total -inf (and style 0), as
    if excluded. Every row at or above ``at_least`` gets exactly the total it would otherwise."""
    q = matrix.features(query)
    subject, shared_subjects, schedule, performance = cheap_components(q, matrix)
    excluded = ~matrix.alive
    for pid in (query.id, *exclude_ids):
        row = matrix.index.get(pid)
        if row is not None:
            excluded[row] = True
    if at_least is None:
        learning_style = style_at(q, matrix)
    else:
        reachable = ~excluded & could_reach(weights, at_least, subject, schedule, performance)
        rows = np.flatnonzero(reachable)
        learning_style = np.zeros(len(matrix))
        learning_style[rows] = style_at(q, matrix, rows)
        excluded = excluded | ~reachable
    total = weights.combine(subject, schedule, learning_style, performance)
    total[excluded] = -np.inf
    return Scores(subject, schedule, learning_style, performance, total, shared_subjects, excluded)


def cheap_components(q: QueryFeatures, matrix: CandidateMatrix, rows: np.ndarray | None = None):
    """(subject, shared subject count, schedule, performance) of ``rows`` (all by default): the
    parts that cost a few operations per row, unlike the learning-style dot product."""
    if len(q.subject_cols):
        query_rows = matrix.subject_rows[q.subject_cols]
        shared_subjects = np.add.reduce(query_rows if rows is None else query_rows[:, rows], axis=0, dtype=np.int32)
    else:
        shared_subjects = np.zeros(len(matrix) if rows is None else len(rows), dtype=np.int32)
    subject_count, slot_bits, slot_count, levels = (
        (matrix.subject_count, matrix.slot_bits, matrix.slot_count, matrix.levels) if rows is None else
        (matrix.subject_count[rows], matrix.slot_bits[rows], matrix.slot_count[rows], matrix.levels[rows]))
    subject = jaccard(shared_subjects, q.subject_size, subject_count)
    shared_slots = popcount(slot_bits & q.slot_bits).sum(axis=1, dtype=np.int32)
    schedule = schedule_overlap(shared_slots, q.slot_size, slot_count)
    performance = performance_closeness(levels, q.level)
    return subject, shared_subjects, schedule, performance


def style_at(q: QueryFeatures, matrix: CandidateMatrix, rows: np.ndarray | None = None) -> np.ndarray:
    """Learning-style similarity of ``rows`` (all by default)."""
    # einsum, not `@`: BLAS would split this small product over threads, and on a
    # busy server (other workers, the model) waiting for them costs 10-30x.
    if rows is not None and 2 * len(rows) > len(matrix):  # copying most rows costs more than it saves
        return style_at(q, matrix)[rows]
    vectors = matrix.vectors if rows is None else matrix.vectors.take(rows, axis=0)
    return style_similarity(np.einsum("ij,j->i", vectors, q.vector))


def could_reach(weights: Weights, at_least: float, subject, schedule, performance) -> np.ndarray:
    """Where the total could be ``at_least`` (with the ranking's slack) for the best possible
    learning style: 1, or 0 under a negative weight. Rounding is monotonic, so this bound is
    never below the total computed with the real style."""
    best_style = 1.0 if weights.learning_style >= 0 else 0.0
    return weights.combine(subject, schedule, best_style, performance) >= at_least - _THRESHOLD_SLACK


def ranked_rows(total: np.ndarray, threshold: float, k: int) -> np.ndarray:
    """Rows with total ≥ threshold, best first, at most k (argpartition, then sort k)."""
    eligible = np.flatnonzero(total >= threshold - _THRESHOLD_SLACK)
    if k <= 0 or len(eligible) == 0:
        return eligible[:0]
    if len(eligible) > k:
        eligible = eligible[np.argpartition(-total[eligible], k - 1)[:k]]
    # Best first; equal totals by row so results are stable.
    return eligible[np.lexsort((eligible, -total[eligible]))]


def top_k(
    query: ProfileData,
    matrix: CandidateMatrix,
    weights: Weights = Weights(),
    k: int = 10,
    exclude_ids: Iterable[str] = (),
    scores: Scores | None = None,
) -> list[Match]:
    """The best ``k`` candidates above the threshold, each with its breakdown and explanation."""
    if scores is None:
        scores = score(query, matrix, weights, exclude_ids, at_least=weights.threshold)
    matches = []
    for row in ranked_rows(scores.total, weights.threshold, k):
        parts = {
            "subject": float(scores.subject[row]),
            "schedule": float(scores.schedule[row]),
            "learning_style": float(scores.learning_style[row]),
            "performance": float(scores.performance[row]),
        }
        matches.append(
            Match(
                id=matrix.ids[row],
                total=float(scores.total[row]),
                explanation=explain(query, matrix.profiles[row], parts, weights),
                **parts,
            )
        )
    return matches


# --- every pair, for group formation --------------------------------------------


def pairwise_matrix(
    profiles: list[ProfileData],
    weights: Weights = Weights(),
    matrix: CandidateMatrix | None = None,
) -> np.ndarray:
    """(n, n) symmetric compatibility totals of every pair of ``profiles``.

    The diagonal is each student's score with themself; group formation ignores it.
    """
    if matrix is None:
        matrix = CandidateMatrix.build(profiles, vector_dim(profiles))
    subjects = matrix.subject_rows.astype(np.float32)
    shared_subjects = np.rint(subjects.T @ subjects)
    subject = jaccard(shared_subjects, matrix.subject_count[:, None], matrix.subject_count[None, :])
    bits = matrix.slot_bits
    shared_slots = popcount(bits[:, None, :] & bits[None, :, :]).sum(axis=2, dtype=np.int32)
    schedule = schedule_overlap(shared_slots, matrix.slot_count[:, None], matrix.slot_count[None, :])
    learning_style = style_similarity(matrix.vectors @ matrix.vectors.T)
    performance = performance_closeness(matrix.levels[:, None], matrix.levels[None, :])
    return weights.combine(subject, schedule, learning_style, performance)


def vector_dim(profiles: list[ProfileData]) -> int:
    for p in profiles:
        if p.vector is not None:
            return int(np.asarray(p.vector).reshape(-1).shape[0])
    return 1
