"""Auto-forming a classroom's study groups.

Objective (as CATME Team-Maker): maximise the WEAKEST group, not the average —
a teacher notices the one group that doesn't work, not a high mean. A group's
score is the mean pairwise compatibility of its members (``pairwise_matrix``).

Meeting is a hard preference: a group whose members share no (day, slot) can't
study together, so its score is lowered by ``NO_COMMON_SLOT_PENALTY`` (1.0,
more than any compatibility spread) while searching; such a group survives
only when no partition avoids it.

Search, bounded so 120 students take about a tenth of a second:

1. Greedy draft: the ``m`` students with the lowest total compatibility
   (hardest to place) anchor the groups; then, round by round, the weakest
   group picks the unassigned student that raises its score most.
2. Swap improvement: take groups weakest first; for the first one where some
   member swap with another group is better — fewer of the two groups without
   a common slot, or as many and the lower of the two scores rises (or stays
   and the higher rises) — apply the best such swap. Each swap strictly
   improves (groups without a common slot, sorted scores), so it terminates;
   ``max_swaps`` caps it anyway.
3. Kicks (iterated local search): a swap alone stalls where two members would
   have to move at once, so ``kicks`` times, swap a member of the weakest group
   with one of the students who fit it best, re-run step 2, and keep the result
   only if it is better. This mostly rescues the last group that cannot meet.

The seed drives tie-breaking and the kicks; a given seed always gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrix import CandidateMatrix
from .profile import ProfileData
from .scoring import Weights, pairwise_matrix, vector_dim

NO_COMMON_SLOT_PENALTY = 1.0
_EPS = 1e-9
KICK_POOL = 10  # a kick pulls in one of the students who fit the weakest group best


@dataclass
class Formation:
    groups: list[list[str]]
    scores: list[float]  # mean pairwise compatibility per group (0 for a one-person group)
    common_slot: list[bool]  # members share at least one free (day, slot)
    min_score: float
    objective: float = 0.0  # weakest score after the no-common-slot penalty
    swaps: int = 0


def group_sizes(n: int, group_size: int) -> list[int]:
    """Sizes nearest ``group_size`` that differ by at most one; one group if n < group_size."""
    if n <= 0:
        return []
    m = max(1, int(n / max(group_size, 1) + 0.5))
    base, extra = divmod(n, m)
    return [base + 1] * extra + [base] * (m - extra)


def random_partition(n: int, group_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A uniformly shuffled partition with the same sizes (the benchmark's baseline)."""
    order = rng.permutation(n)
    bounds = np.cumsum([0] + group_sizes(n, group_size))
    return [order[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]


def evaluate(compat: np.ndarray, slot_bits: np.ndarray, groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(mean pairwise score, has a common slot) per group of row indices."""
    scores, common = [], []
    for g in groups:
        g = np.asarray(g, dtype=np.intp)
        s = len(g)
        sub = compat[np.ix_(g, g)]
        scores.append((sub.sum() - np.trace(sub)) / (s * (s - 1)) if s > 1 else 0.0)
        common.append(bool(np.bitwise_and.reduce(slot_bits[g], axis=0).any()) if s else False)
    return np.array(scores), np.array(common)


class _State:
    """Partition with the per-group sums needed for O(1)-per-candidate swap deltas."""

    def __init__(self, compat: np.ndarray, bits: np.ndarray, sizes: list[int], penalty: float) -> None:
        self.C = compat
        self.bits = bits
        self.n = len(compat)
        self.m = len(sizes)
        self.penalty = penalty
        self.label = np.full(self.n, -1, dtype=np.intp)
        self.members: list[list[int]] = [[] for _ in sizes]
        self.M = np.zeros((self.n, self.m))  # M[i, g] = Σ_{j∈g} C[i, j]
        self.sum = np.zeros(self.m)  # Σ over pairs inside g
        full = np.full(bits.shape[1], np.iinfo(np.uint64).max, dtype=np.uint64)
        self.common_bits = np.tile(full, (self.m, 1))  # AND of members' slots
        self.excl = np.zeros_like(bits)  # AND of the OTHER members of i's group

    def pairs(self, sizes) -> np.ndarray:
        sizes = np.asarray(sizes, dtype=np.float64)
        return sizes * (sizes - 1) / 2

    def effective(self, sums, sizes, has_common) -> np.ndarray:
        p = self.pairs(sizes)
        mean = np.divide(sums, p, out=np.zeros(np.broadcast(sums, p).shape), where=p > 0)
        return mean - self.penalty * ((~np.asarray(has_common)) & (np.asarray(sizes) > 1))

    def group_effective(self) -> np.ndarray:
        sizes = np.array([len(g) for g in self.members])
        return self.effective(self.sum, sizes, self.common_bits.any(axis=1))

    def add(self, i: int, g: int) -> None:
        self.sum[g] += self.M[i, g]
        self.members[g].append(i)
        self.label[i] = g
        self.M[:, g] += self.C[:, i]
        self.common_bits[g] &= self.bits[i]

    def refresh_group(self, g: int) -> None:
        idx = self.members[g]
        words = self.bits[idx]
        self.common_bits[g] = np.bitwise_and.reduce(words, axis=0)
        for k, i in enumerate(idx):
            others = np.delete(words, k, axis=0)
            self.excl[i] = np.bitwise_and.reduce(others, axis=0) if len(others) else ~np.uint64(0)

    def copy(self) -> _State:
        other = object.__new__(_State)
        other.__dict__.update(self.__dict__)
        for name in ("label", "M", "sum", "common_bits", "excl"):
            setattr(other, name, getattr(self, name).copy())
        other.members = [list(g) for g in self.members]
        return other

    def swap_members(self, a: int, b: int) -> None:
        ga, gb = self.label[a], self.label[b]
        C, M = self.C, self.M
        sum_a = self.sum[ga] - M[a, ga] + M[b, ga] - C[a, b]
        sum_b = self.sum[gb] - M[b, gb] + M[a, gb] - C[a, b]
        self.swap(a, b, sum_a, sum_b)

    def swap(self, a: int, b: int, sum_a: float, sum_b: float) -> None:
        ga, gb = self.label[a], self.label[b]
        self.members[ga][self.members[ga].index(a)] = b
        self.members[gb][self.members[gb].index(b)] = a
        self.label[a], self.label[b] = gb, ga
        delta = self.C[:, b] - self.C[:, a]
        self.M[:, ga] += delta
        self.M[:, gb] -= delta
        self.sum[ga], self.sum[gb] = sum_a, sum_b
        self.refresh_group(ga)
        self.refresh_group(gb)


def _draft(state: _State, sizes: list[int], rank: np.ndarray) -> None:
    order = np.argsort(rank)  # students in tie-break order
    hardness = state.C.sum(axis=1)[order]
    anchors = order[np.argsort(hardness, kind="stable")[: state.m]]
    for g, i in enumerate(anchors):
        state.add(int(i), g)
    unassigned = [int(i) for i in order if state.label[i] < 0]
    while unassigned:
        eff = state.group_effective()
        open_groups = [g for g in np.argsort(eff, kind="stable") if len(state.members[g]) < sizes[g]]
        for g in open_groups:
            if not unassigned:
                break
            cand = np.array(unassigned, dtype=np.intp)
            s = len(state.members[g])
            common = (state.bits[cand] & state.common_bits[g]).any(axis=1)
            value = state.effective(state.sum[g] + state.M[cand, g], s + 1, common)
            pick = int(cand[int(np.argmax(value))])
            state.add(pick, g)
            unassigned.remove(pick)


def _best_swap(state: _State, g: int, eff: np.ndarray, apart: np.ndarray, sizes: np.ndarray):
    """Best improving swap of a member of g with anyone outside g, or None.

    ``apart[h]`` is 1 when group h (of 2+) has no common slot."""
    A = np.array(state.members[g], dtype=np.intp)
    if len(A) == 0:
        return None
    others = np.flatnonzero(state.label != g)
    if len(others) == 0:
        return None
    gb = state.label[others]  # (o,)
    C, M = state.C, state.M
    # New sums: rows = candidates b outside g, columns = members a of g.
    sum_a = state.sum[g] - M[A, g][None, :] + M[others, g][:, None] - C[np.ix_(others, A)]
    sum_b = (state.sum[gb] - M[others, gb])[:, None] + M[np.ix_(A, gb)].T - C[np.ix_(others, A)]
    excl_a = state.excl[A]  # AND of the other members of g, per member a
    common_a = (state.bits[others][:, None, :] & excl_a[None, :, :]).any(axis=2)
    common_b = (state.excl[others][:, None, :] & state.bits[A][None, :, :]).any(axis=2)
    new_a = state.effective(sum_a, sizes[g], common_a)
    new_b = state.effective(sum_b, sizes[gb][:, None], common_b)
    # First: fewer of the two groups without a common slot. Then: leximin on scores.
    apart_a = (~common_a & (sizes[g] > 1)).astype(np.int64)
    apart_b = (~common_b & (sizes[gb] > 1)[:, None]).astype(np.int64)
    fixed = (apart[g] + apart[gb])[:, None] - (apart_a + apart_b)
    old_lo = np.minimum(eff[g], eff[gb])[:, None]
    old_hi = np.maximum(eff[g], eff[gb])[:, None]
    lo, hi = np.minimum(new_a, new_b), np.maximum(new_a, new_b)
    leximin = (lo > old_lo + _EPS) | ((lo > old_lo - _EPS) & (hi > old_hi + _EPS))
    better = (fixed > 0) | ((fixed == 0) & leximin)
    if not better.any():
        return None
    key_fixed = np.where(better, fixed, -1)
    tie = better & (key_fixed == key_fixed.max())
    key_lo = np.where(tie, lo, -np.inf)
    tie &= key_lo >= key_lo.max() - _EPS
    flat = int(np.argmax(np.where(tie, hi, -np.inf)))
    r, c = divmod(flat, len(A))
    return int(A[c]), int(others[r]), float(sum_a[r, c]), float(sum_b[r, c])


def _local_search(state: _State, sizes: np.ndarray, cap: int) -> int:
    swaps = 0
    while swaps < cap:
        eff = state.group_effective()
        apart = ((~state.common_bits.any(axis=1)) & (sizes > 1)).astype(np.int64)
        for g in np.argsort(eff, kind="stable"):
            found = _best_swap(state, int(g), eff, apart, sizes)
            if found:
                state.swap(*found)
                swaps += 1
                break
        else:
            break
    return swaps


def _quality(state: _State, sizes: np.ndarray) -> tuple:
    """Fewer groups without a common slot, then the sorted scores (leximin)."""
    apart = int(((~state.common_bits.any(axis=1)) & (sizes > 1)).sum())
    return (-apart, tuple(np.round(np.sort(state.group_effective()), 12)))


def _kick_and_retry(state: _State, sizes: np.ndarray, cap: int, kicks: int, rng: np.random.Generator):
    """Iterated local search: swap a random member of the weakest group with a random
    student elsewhere, re-optimise, keep the result only if it is better overall."""
    best, best_q, swaps = state, _quality(state, sizes), 0
    if state.m < 2:
        return best, 0
    for _ in range(kicks):
        trial = best.copy()
        weakest = int(np.argmin(trial.group_effective()))
        a = int(rng.choice(trial.members[weakest]))
        outside = np.flatnonzero(trial.label != weakest)
        fits = outside[np.argsort(-trial.M[outside, weakest], kind="stable")[:KICK_POOL]]
        b = int(rng.choice(fits))
        trial.swap_members(a, b)
        n = _local_search(trial, sizes, cap)
        q = _quality(trial, sizes)
        if q > best_q:
            best, best_q, swaps = trial, q, swaps + n + 1
    return best, swaps


def form_groups(
    ids: list[str],
    compat: np.ndarray,
    slot_bits: np.ndarray,
    group_size: int,
    *,
    seed: int = 0,
    improve: bool = True,
    max_swaps: int | None = None,
    kicks: int = 20,
    penalty: float = NO_COMMON_SLOT_PENALTY,
) -> Formation:
    """Partition ``ids`` (rows of ``compat`` / ``slot_bits``) into groups of about ``group_size``.

    ``improve=False`` stops after the greedy draft (the benchmark's "plain greedy").
    """
    n = len(ids)
    sizes = group_sizes(n, group_size)
    if not sizes:
        return Formation([], [], [], 0.0)
    compat = np.array(compat, dtype=np.float64)
    np.fill_diagonal(compat, 0.0)
    bits = np.asarray(slot_bits, dtype=np.uint64).reshape(n, -1)
    state = _State(compat, bits, sizes, penalty)
    _draft(state, sizes, np.random.default_rng(seed).permutation(n))
    for g in range(state.m):
        state.refresh_group(g)

    size_arr = np.array(sizes)
    swaps = 0
    if improve:
        cap = 20 * n if max_swaps is None else max_swaps
        swaps = _local_search(state, size_arr, cap)
        state, extra = _kick_and_retry(state, size_arr, cap, kicks, np.random.default_rng(seed))
        swaps += extra

    groups_idx = [np.array(g, dtype=np.intp) for g in state.members]
    scores, common = evaluate(compat, bits, groups_idx)
    return Formation(
        groups=[[ids[i] for i in g] for g in state.members],
        scores=[float(s) for s in scores],
        common_slot=[bool(c) for c in common],
        min_score=float(scores.min()),
        objective=float(state.group_effective().min()),
        swaps=swaps,
    )


def auto_form(
    profiles: list[ProfileData],
    group_size: int,
    weights: Weights = Weights(),
    *,
    seed: int = 0,
    improve: bool = True,
) -> Formation:
    """Profiles in, groups out: builds the pairwise matrix with the recommendation formula."""
    matrix = CandidateMatrix.build(profiles, vector_dim(profiles))
    compat = pairwise_matrix(profiles, weights, matrix)
    return form_groups(matrix.ids, compat, matrix.slot_bits, group_size, seed=seed, improve=improve)
