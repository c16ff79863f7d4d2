"""Scoring study groups for a student, from the same per-candidate scores.

A group is as compatible as its people: its score for a student is the MEAN
of the student's score with each member, where each member's subject set is
taken with the group's own subject added (a Calculus group is about Calculus
even if a member's profile forgot to list it). Means rather than minimums, so
one unusual member doesn't hide an otherwise good group.

The aggregation is vectorised: ``GroupIndex`` flattens every (group, member)
pair once, and a query's per-member components are summed per group with
``np.bincount`` — no Python loop over groups per request. The query's own
membership is left out of its groups' means. A group with no scoreable member
is scored on its subject alone (other components 0), so it stays below the
threshold unless weights say otherwise.

``with_changes`` redoes the pairs of a few groups (a join, a leave, a member's
new profile) against a newer matrix and keeps every other pair as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .explain import explain
from .matrix import CandidateMatrix
from .profile import ProfileData, subject_key
from .scoring import Match, Scores, Weights, cheap_components, could_reach, jaccard, ranked_rows, style_at


_NONE = np.zeros(0, dtype=np.intp)


@dataclass
class GroupData:
    id: str
    subject: str | None
    member_ids: list[str] = field(default_factory=list)
    name: str | None = None


@dataclass
class GroupIndex:
    """Flattened (group, member row) pairs of groups whose members are in ``matrix``."""

    groups: list[GroupData]
    ids: list[str]
    index: dict[str, int]
    subject_keys: list[str | None]
    pair_group: np.ndarray  # (pairs,) group position
    pair_row: np.ndarray  # (pairs,) member row in the CandidateMatrix
    pair_adds_subject: np.ndarray  # (pairs,) the group subject is not already the member's
    alive: np.ndarray = field(default=None)  # (groups,) bool: false for a removed group, never ranked

    def __post_init__(self) -> None:
        if self.alive is None:
            self.alive = np.ones(len(self.ids), dtype=bool)

    @classmethod
    def build(cls, groups: list[GroupData], matrix: CandidateMatrix) -> GroupIndex:
        groups = list(groups)
        keys = [_key(g) for g in groups]
        pg, pr, adds = _pairs(range(len(groups)), groups, keys, matrix)
        ids = [g.id for g in groups]
        return cls(
            groups=groups,
            ids=ids,
            index={gid: i for i, gid in enumerate(ids)},
            subject_keys=keys,
            pair_group=pg,
            pair_row=pr,
            pair_adds_subject=adds,
        )

    @property
    def removed(self) -> int:
        return int((~self.alive).sum())

    @cached_property
    def has_subject(self) -> np.ndarray:
        """Per group: it names a subject."""
        return np.array([k is not None for k in self.subject_keys], dtype=bool)

    @cached_property
    def _by_subject(self) -> dict[str, np.ndarray]:
        positions: dict[str, list[int]] = {}
        for gi, key in enumerate(self.subject_keys):
            if key is not None:
                positions.setdefault(key, []).append(gi)
        return {key: np.array(p, dtype=np.intp) for key, p in positions.items()}

    def about(self, subject_keys: Iterable[str]) -> np.ndarray:
        """Per group: its subject is one of ``subject_keys``. (This index is never changed once
        built, so what is worked out here once serves every request.)"""
        out = np.zeros(len(self.ids), dtype=bool)
        for key in subject_keys:
            out[self._by_subject.get(key, _NONE)] = True
        return out

    def with_changes(self, matrix: CandidateMatrix, upserts: Iterable[GroupData] = (),
                     removed: Iterable[str] = (), redo: Iterable[str] = ()) -> GroupIndex:
        """A new index over ``matrix`` (this one's matrix, rows changed in place or appended):
        ``upserts`` replace or add groups, ``removed`` groups are never ranked again, and the
        pairs of the groups in ``redo`` are recomputed (a member's profile changed)."""
        groups, ids, index = list(self.groups), list(self.ids), dict(self.index)
        keys, alive = list(self.subject_keys), self.alive.copy()
        touched: set[int] = set()
        for g in {g.id: g for g in upserts}.values():
            if g.id in index:
                gi = index[g.id]
                groups[gi], keys[gi] = g, _key(g)
            else:
                gi = index[g.id] = len(ids)
                ids.append(g.id)
                groups.append(g)
                keys.append(_key(g))
                alive = np.append(alive, True)
            alive[gi] = True
            touched.add(gi)
        for gid in removed:
            if gid in index:
                alive[index[gid]] = False
                touched.add(index[gid])
        touched |= {index[gid] for gid in redo if gid in index}
        keep = ~np.isin(self.pair_group, np.fromiter(touched, dtype=np.intp, count=len(touched)))
        live = sorted(gi for gi in touched if alive[gi])
        pg, pr, adds = _pairs(live, groups, keys, matrix)
        return GroupIndex(
            groups=groups, ids=ids, index=index, subject_keys=keys,
            pair_group=np.concatenate([self.pair_group[keep], pg]),
            pair_row=np.concatenate([self.pair_row[keep], pr]),
            pair_adds_subject=np.concatenate([self.pair_adds_subject[keep], adds]),
            alive=alive,
        )


def _key(group: GroupData) -> str | None:
    return subject_key(group.subject) if group.subject and str(group.subject).strip() else None


def _pairs(positions: Iterable[int], groups: list[GroupData], keys: list[str | None], matrix: CandidateMatrix):
    """(group position, member row, adds subject) of the groups at ``positions``, members in ``matrix`` only."""
    pg, pr, adds = [], [], []
    for gi in positions:
        g = groups[gi]
        col = matrix.subject_vocab.get(keys[gi]) if keys[gi] else None
        for row in dict.fromkeys(matrix.index[m] for m in g.member_ids if m in matrix.index):
            pg.append(gi)
            pr.append(row)
            adds.append(keys[gi] is not None and (col is None or not matrix.subject_rows[col, row]))
    return np.array(pg, dtype=np.intp), np.array(pr, dtype=np.intp), np.array(adds, dtype=bool)


@dataclass
class GroupScores:
    """Per-group mean components, aligned with ``index.ids``."""

    subject: np.ndarray
    schedule: np.ndarray
    learning_style: np.ndarray
    performance: np.ndarray
    total: np.ndarray
    members_scored: np.ndarray


def score_groups(
    query: ProfileData,
    matrix: CandidateMatrix,
    index: GroupIndex,
    weights: Weights = Weights(),
    scores: Scores | None = None,
    at_least: float | None = None,
    allowed: np.ndarray | None = None,
) -> GroupScores:
    """Every group's mean components for ``query``, from ``scores`` when given.

    Without ``scores``, with ``at_least`` (a ranking's threshold): the members' learning-style
    cosines, most of the cost, are computed only for the groups (of ``allowed``, and not
    removed) whose total could still reach it with perfect styles; the other groups get total
    -inf (and style 0). Each group computed gets exactly the total it would otherwise."""
    q = matrix.features(query)
    n_groups = len(index.groups)
    g_in_query = index.about(q.subject_keys)

    grp, row, adds = index.pair_group, index.pair_row, index.pair_adds_subject
    own_row = matrix.index.get(query.id)
    if own_row is not None:
        keep = row != own_row
        grp, row, adds = grp[keep], row[keep], adds[keep]
    if scores is not None:
        shared_subjects, schedule, performance = scores.shared_subjects[row], scores.schedule[row], scores.performance[row]
    else:
        _, shared_subjects, schedule, performance = cheap_components(q, matrix, row)

    shared = shared_subjects + (adds & g_in_query[grp])
    pair_subject = jaccard(shared, q.subject_size, matrix.subject_count[row] + adds)
    counts = np.bincount(grp, minlength=n_groups)

    def mean(values: np.ndarray, pairs=grp) -> np.ndarray:
        sums = np.bincount(pairs, weights=values, minlength=n_groups)
        return np.divide(sums, counts, out=np.zeros(n_groups), where=counts > 0)

    subject = mean(pair_subject)
    empty = counts == 0
    subject[empty] = jaccard(g_in_query, q.subject_size, index.has_subject)[empty]
    schedule = mean(schedule)
    performance = mean(performance)
    wanted = None
    if scores is not None:
        learning_style = mean(scores.learning_style[row])
    elif at_least is None:
        learning_style = mean(style_at(q, matrix, row))
    else:
        wanted = index.alive & could_reach(weights, at_least, subject, schedule, performance)
        if allowed is not None:
            wanted &= allowed
        pairs = wanted[grp]  # the sums of a group's pairs, in the same order: the same means
        learning_style = mean(style_at(q, matrix, row[pairs]), grp[pairs])
    total = weights.combine(subject, schedule, learning_style, performance)
    if wanted is not None:
        total[~wanted] = -np.inf
    return GroupScores(subject, schedule, learning_style, performance, total, counts)


def top_groups(
    query: ProfileData,
    matrix: CandidateMatrix,
    index: GroupIndex,
    weights: Weights = Weights(),
    k: int = 10,
    exclude_group_ids: Iterable[str] = (),
    scores: Scores | None = None,
    allowed: np.ndarray | None = None,
) -> list[Match]:
    """Best ``k`` groups above the threshold (exclude full groups and the student's own, by id
    or as ``allowed``, a bool per group of ``index``)."""
    gs = score_groups(query, matrix, index, weights, scores, at_least=weights.threshold if scores is None else None,
                      allowed=allowed)
    total = gs.total.copy()
    total[~index.alive] = -np.inf
    if allowed is not None:
        total[~allowed] = -np.inf
    for gid in exclude_group_ids:
        if gid in index.index:
            total[index.index[gid]] = -np.inf
    out = []
    for gi in ranked_rows(total, weights.threshold, k):
        parts = {
            "subject": float(gs.subject[gi]),
            "schedule": float(gs.schedule[gi]),
            "learning_style": float(gs.learning_style[gi]),
            "performance": float(gs.performance[gi]),
        }
        members = [matrix.profiles[r] for r in index.pair_row[index.pair_group == gi] if matrix.ids[r] != query.id]
        summary = group_profile(index.groups[gi], members)
        out.append(
            Match(
                id=index.ids[gi],
                total=float(total[gi]),
                explanation=explain(query, summary, parts, weights, members=True),
                **parts,
            )
        )
    return out


def group_profile(group: GroupData, members: list[ProfileData]) -> ProfileData:
    """A stand-in profile for explanations: the group's subject first, then the members'
    commonest; the slots at least half the members have free (all their slots if none)."""
    subject_counts = Counter(label for m in members for label in m.subject_map().values())
    subjects = ([group.subject] if group.subject else []) + [s for s, _ in subject_counts.most_common()]
    slot_counts = Counter(typed for m in members for typed in m.slot_map().values())
    common = [pair for pair, c in slot_counts.items() if 2 * c >= len(members)] or list(slot_counts)
    schedule: dict[str, list[str]] = {}
    for day, slot in common:
        schedule.setdefault(day, []).append(slot)
    levels = [m.performance_level for m in members if m.performance_level is not None]
    level = round(sum(levels) / len(levels)) if levels else None
    return ProfileData(id=group.id, subjects=subjects, schedule=schedule, performance_level=level, name=group.name)
