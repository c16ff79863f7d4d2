import random

import numpy as np

from studysync.matching import CandidateMatrix, HashingEmbedder, ProfileData, auto_form, form_groups, pairwise_matrix
from studysync.matching.formation import evaluate, group_sizes, random_partition
from studysync.matching.profile import DAYS, SLOTS

STYLES = ["visual diagrams", "listening to lectures", "hands-on practice", "group discussion", "reading notes"]
SUBJECTS = ["Calculus", "Physics", "Chemistry", "Biology", "History", "Economics"]


def classroom(n, seed=0):
    rng = random.Random(seed)
    emb = HashingEmbedder(dim=64)
    out = []
    for i in range(n):
        schedule = {d: rng.sample(SLOTS, rng.randint(1, 2)) for d in rng.sample(DAYS, rng.randint(1, 3))}
        text = " and ".join(rng.sample(STYLES, 2))
        out.append(ProfileData(f"s{i}", rng.sample(SUBJECTS, 2), schedule, rng.randint(1, 5), emb.embed_one(text)))
    return out


def test_sizes_are_balanced():
    assert group_sizes(120, 4) == [4] * 30
    assert group_sizes(10, 4) == [4, 3, 3]
    assert group_sizes(3, 4) == [3]
    assert group_sizes(0, 4) == []
    for n in range(1, 60):
        sizes = group_sizes(n, 4)
        assert sum(sizes) == n and max(sizes) - min(sizes) <= 1


def test_every_student_exactly_once_in_balanced_groups():
    profiles = classroom(37)
    result = auto_form(profiles, 4, seed=1)
    flat = [sid for g in result.groups for sid in g]
    assert sorted(flat) == sorted(p.id for p in profiles)
    sizes = [len(g) for g in result.groups]
    assert max(sizes) - min(sizes) <= 1
    assert result.min_score == min(result.scores)


def test_fewer_students_than_group_size_make_one_group():
    result = auto_form(classroom(3), 4)
    assert len(result.groups) == 1 and len(result.groups[0]) == 3


def test_deterministic_for_a_seed():
    profiles = classroom(40, seed=2)
    assert auto_form(profiles, 4, seed=9).groups == auto_form(profiles, 4, seed=9).groups


def test_beats_random_partitions_on_the_weakest_group():
    profiles = classroom(60, seed=3)
    matrix = CandidateMatrix.build(profiles, 64)
    compat = pairwise_matrix(profiles, matrix=matrix)
    ours = form_groups(matrix.ids, compat, matrix.slot_bits, 4, seed=0)
    rng = np.random.default_rng(0)
    random_mins = [evaluate(compat, matrix.slot_bits, random_partition(60, 4, rng))[0].min() for _ in range(50)]
    assert ours.min_score > np.mean(random_mins)
    greedy = form_groups(matrix.ids, compat, matrix.slot_bits, 4, seed=0, improve=False)
    # Swaps never leave more groups unable to meet than the greedy draft did.
    assert sum(ours.common_slot) >= sum(greedy.common_slot)


def test_groups_share_a_free_slot_whenever_possible():
    # Two "shifts": half the class is only free Monday morning, half only Friday night.
    # Compatibility alone would mix them (the mixed pairs share subjects and styles).
    profiles = []
    for i in range(16):
        shift = {"Monday": ["Morning (8-12 PM)"]} if i % 2 else {"Friday": ["Night (9-12 AM)"]}
        subjects = ["Calculus"] if (i // 2) % 2 else ["History"]
        profiles.append(ProfileData(f"s{i}", subjects, shift, 3))
    result = auto_form(profiles, 4, seed=0)
    assert all(result.common_slot)
