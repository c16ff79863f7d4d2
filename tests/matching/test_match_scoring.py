import math
import random

import numpy as np
import pytest

from studysync.matching import (
    CandidateMatrix,
    GroupData,
    GroupIndex,
    ProfileData,
    Weights,
    explain,
    pairwise_matrix,
    score,
    score_groups,
    top_groups,
    top_k,
)
from studysync.matching.profile import DAYS, SLOTS

SUBJECTS = ["Mathematics", "Physics", "Chemistry", "Biology", "History", "Economics", "Computer Science", "Art"]
DIM = 16


def reference_score(q: ProfileData, c: ProfileData, w=Weights()) -> dict:
    """The seed's formula written out plainly, one pair at a time."""
    qs = {s.strip().lower() for s in q.subjects}
    cs = {s.strip().lower() for s in c.subjects}
    subject = len(qs & cs) / len(qs | cs) if qs | cs else 0.0
    qt = {(d.lower(), s.lower()) for d, slots in q.schedule.items() for s in slots}
    ct = {(d.lower(), s.lower()) for d, slots in c.schedule.items() for s in slots}
    schedule = len(qt & ct) / len(qt | ct) if qt and ct else 0.0
    qv, cv = q.vector, c.vector
    nq, nc = math.sqrt(sum(x * x for x in qv)), math.sqrt(sum(x * x for x in cv))
    style = max(0.0, sum(a * b for a, b in zip(qv, cv)) / (nq * nc)) if nq and nc else 0.0
    perf = 1 - abs((q.performance_level or 3) - (c.performance_level or 3)) / 4
    total = w.subject * subject + w.schedule * schedule + w.learning_style * style + w.performance * perf
    return {"subject": subject, "schedule": schedule, "learning_style": style, "performance": perf, "total": total}


def random_profile(rng: random.Random, pid: str) -> ProfileData:
    subjects = [s if rng.random() < 0.5 else f"  {s.upper()} " for s in rng.sample(SUBJECTS, rng.randint(0, 4))]
    schedule = {}
    for day in rng.sample(DAYS, rng.randint(0, 4)):
        schedule[day] = rng.sample(SLOTS, rng.randint(1, 3))
    vector = None if rng.random() < 0.1 else np.array([rng.gauss(0, 1) for _ in range(DIM)], dtype=np.float32)
    level = None if rng.random() < 0.2 else rng.randint(1, 5)
    return ProfileData(pid, subjects, schedule, level, vector)


def test_vectorised_score_equals_the_plain_formula():
    rng = random.Random(7)
    profiles = [random_profile(rng, f"s{i}") for i in range(200)]
    matrix = CandidateMatrix.build(profiles, DIM)
    for query in [random_profile(rng, f"q{i}") for i in range(25)] + profiles[:5]:
        s = score(query, matrix)
        for row, cand in enumerate(profiles):
            if cand.id == query.id:
                continue
            ref = reference_score(_with_zero_vector(query), _with_zero_vector(cand))
            for part in ("subject", "schedule", "learning_style", "performance", "total"):
                assert getattr(s, part)[row] == pytest.approx(ref[part], abs=1e-5), (query.id, cand.id, part)


def _with_zero_vector(p: ProfileData) -> ProfileData:
    v = p.vector if p.vector is not None else np.zeros(DIM)
    return ProfileData(p.id, p.subjects, p.schedule, p.performance_level, [float(x) for x in v])


def test_query_subjects_and_slots_unknown_to_the_matrix_count_in_the_union():
    cand = ProfileData("c", ["Math"], {"Monday": ["Morning (8-12 PM)"]}, 3, None)
    query = ProfileData("q", ["Math", "Latin", "Greek"], {"Monday": ["Morning (8-12 PM)"], "Sunday": ["Night (9-12 AM)"]}, 3)
    s = score(query, CandidateMatrix.build([cand], DIM))
    assert s.subject[0] == pytest.approx(1 / 3)
    assert s.schedule[0] == pytest.approx(1 / 2)


def test_schedule_is_zero_when_either_side_is_empty():
    busy = ProfileData("busy", ["Math"], {"Monday": ["Evening (5-9 PM)"]}, 3)
    empty = ProfileData("empty", ["Math"], {}, 3)
    m = CandidateMatrix.build([busy, empty], DIM)
    assert score(busy, m).schedule[1] == 0.0
    assert score(empty, m).schedule[0] == 0.0


def test_opposite_learning_styles_floor_at_zero_and_missing_vectors_score_zero():
    v = np.ones(DIM, dtype=np.float32)
    a = ProfileData("a", [], {}, 3, v)
    b = ProfileData("b", [], {}, 3, -v)
    c = ProfileData("c", [], {}, 3, None)
    s = score(a, CandidateMatrix.build([a, b, c], DIM))
    assert s.learning_style[1] == 0.0 and s.learning_style[2] == 0.0


def test_missing_level_counts_as_three():
    a = ProfileData("a", [], {}, 5)
    b = ProfileData("b", [], {}, None)
    assert score(a, CandidateMatrix.build([b], DIM)).performance[0] == pytest.approx(0.5)


def test_threshold_keeps_exactly_half_and_drops_below():
    q = ProfileData("q", ["Math"], {"Monday": ["Morning (8-12 PM)"]}, 3)
    # subject 1·0.4 + schedule 0 + style 0 + performance 1·0.1 = 0.5 exactly
    at = ProfileData("at", ["math"], {}, 3)
    below = ProfileData("below", ["math"], {}, 4)  # performance 0.75 → 0.475
    matches = top_k(q, CandidateMatrix.build([at, below], DIM))
    assert [m.id for m in matches] == ["at"]
    assert matches[0].match_percentage == 50
    assert top_k(q, CandidateMatrix.build([at, below], DIM), Weights(threshold=0.4))[1].id == "below"


def test_top_k_ranks_limits_and_excludes():
    rng = random.Random(3)
    profiles = [random_profile(rng, f"s{i}") for i in range(300)]
    matrix = CandidateMatrix.build(profiles, DIM)
    query = profiles[0]
    weights = Weights(threshold=0.0)
    matches = top_k(query, matrix, weights, k=10, exclude_ids=["s1", "s2"])
    s = score(query, matrix, weights, exclude_ids=["s1", "s2"])
    expected = sorted((i for i in range(300) if i not in (0, 1, 2)), key=lambda i: (-s.total[i], i))[:10]
    assert [m.id for m in matches] == [f"s{i}" for i in expected]
    assert all(m.id not in ("s0", "s1", "s2") for m in matches)


def test_explanation_names_shared_subjects_and_first_shared_slot():
    mine, theirs = np.zeros(DIM, dtype=np.float32), np.zeros(DIM, dtype=np.float32)
    mine[0], theirs[0], theirs[1] = 1.0, 0.6, 0.8  # cosine 0.6
    me = ProfileData("me", ["Mathematics", "Physics", "Art"],
                     {"Wednesday": ["Evening (5-9 PM)"], "Monday": ["Evening (5-9 PM)", "Morning (8-12 PM)"]}, 4, mine)
    them = ProfileData("them", ["physics", "mathematics "],
                       {"Monday": ["Evening (5-9 PM)"], "wed": ["evening"]}, 2, theirs)
    match = top_k(me, CandidateMatrix.build([them], DIM))[0]
    assert match.explanation == (
        "Shares Mathematics and Physics; both free Monday evening and 1 other time; similar learning style"
    )


def test_explanation_orders_parts_by_strength():
    me = ProfileData("me", ["Art", "Math", "Music", "Latin"], {"Friday": ["Night (9-12 AM)"]}, 3)
    them = ProfileData("them", ["Art"], {"Friday": ["Night (9-12 AM)"]}, 3)
    parts = {"subject": 0.25, "schedule": 1.0, "learning_style": 0.0, "performance": 1.0}
    assert explain(me, them, parts) == "Both free Friday night; shares Art; same performance level"


def test_pairwise_matrix_agrees_with_score():
    rng = random.Random(11)
    profiles = [random_profile(rng, f"s{i}") for i in range(40)]
    pair = pairwise_matrix(profiles)
    matrix = CandidateMatrix.build(profiles, DIM)
    np.testing.assert_allclose(pair, pair.T)
    for i in (0, 5, 17):
        s = score(profiles[i], matrix)
        others = [j for j in range(40) if j != i]
        np.testing.assert_allclose(pair[i, others], s.total[others], atol=1e-6)


def test_matrix_reports_its_memory():
    rng = random.Random(1)
    m = CandidateMatrix.build([random_profile(rng, str(i)) for i in range(50)], DIM)
    assert m.nbytes >= 50 * DIM * 4


def test_clients_spelling_of_days_and_slots_does_not_matter():
    web = ProfileData("web", ["Calculus"], {"Monday": ["Evening (5-9 PM)"], "Thursday": ["Morning (8-12 PM)"]}, 3)
    mobile = ProfileData("mobile", [" calculus"], {"mon": "evening", "Thurs": ["MORNING (8-12 PM)"]}, 3)
    s = score(web, CandidateMatrix.build([mobile], DIM))
    assert s.subject[0] == 1.0 and s.schedule[0] == 1.0


def test_an_empty_matrix_recommends_nobody():
    me = ProfileData("me", ["Math"], {"Monday": ["Evening (5-9 PM)"]}, 3, np.ones(DIM))
    assert top_k(me, CandidateMatrix.build([], DIM)) == []


# --- groups: the mean over members, with the group subject added ---


def reference_group_total(query, members, subject):
    totals = []
    for m in members:
        with_subject = ProfileData(m.id, list(m.subjects) + [subject], m.schedule, m.performance_level, m.vector)
        totals.append(reference_score(_with_zero_vector(query), _with_zero_vector(with_subject))["total"])
    return sum(totals) / len(totals)


def test_group_score_is_the_mean_over_members_with_the_group_subject_added():
    rng = random.Random(5)
    people = [random_profile(rng, f"s{i}") for i in range(60)]
    matrix = CandidateMatrix.build(people, DIM)
    groups = [
        GroupData(f"g{k}", rng.choice(["Mathematics", "physics", "Latin"]), [p.id for p in rng.sample(people, rng.randint(1, 6))])
        for k in range(15)
    ]
    index = GroupIndex.build(groups, matrix)
    for query in [random_profile(rng, f"q{i}") for i in range(5)]:
        gs = score_groups(query, matrix, index)
        for k, g in enumerate(groups):
            members = [matrix.profiles[matrix.index[m]] for m in dict.fromkeys(g.member_ids)]
            assert gs.total[k] == pytest.approx(reference_group_total(query, members, g.subject), abs=1e-5)


def test_the_students_own_membership_is_left_out_and_empty_groups_score_on_subject():
    me = ProfileData("me", ["Math"], {"Monday": ["Evening (5-9 PM)"]}, 3)
    twin = ProfileData("twin", ["Math"], {"Monday": ["Evening (5-9 PM)"]}, 3)
    stranger = ProfileData("x", ["Art"], {"Sunday": ["Night (9-12 AM)"]}, 1)
    matrix = CandidateMatrix.build([me, twin, stranger], DIM)
    index = GroupIndex.build(
        [GroupData("mine", "Math", ["me", "stranger-not-indexed", "x"]), GroupData("empty", "math", []),
         GroupData("good", "Math", ["twin"])],
        matrix,
    )
    gs = score_groups(me, matrix, index)
    alone = score_groups(me, matrix, GroupIndex.build([GroupData("x-only", "Math", ["x"])], matrix))
    assert gs.total[0] == pytest.approx(alone.total[0])
    assert gs.members_scored.tolist() == [1, 0, 1]
    assert gs.subject[1] == 1.0 and gs.total[1] == pytest.approx(0.4)

    matches = top_groups(me, matrix, index, Weights(), exclude_group_ids=["mine"])
    assert [m.id for m in matches] == ["good"]
    assert matches[0].explanation.startswith("Shares Math; members free Monday evening")


# --- rankings skip the learning style where it cannot matter, and rank exactly the same ---


RANKING_WEIGHTS = [Weights(), Weights(threshold=0.3), Weights(threshold=0.0), Weights(threshold=0.7),
                   Weights(subject=0.1, schedule=0.1, learning_style=0.7, performance=0.1, threshold=0.6),
                   Weights(learning_style=0.0, threshold=0.45)]


def _same(bounded, full):
    assert [(m.id, m.total, m.components(), m.explanation) for m in bounded] == \
        [(m.id, m.total, m.components(), m.explanation) for m in full]


@pytest.mark.parametrize("weights", RANKING_WEIGHTS)
def test_top_k_ranks_as_if_every_style_were_computed(weights):
    rng = random.Random(21)
    profiles = [random_profile(rng, f"s{i}") for i in range(400)]
    matrix = CandidateMatrix.build(profiles, DIM)
    for query in profiles[:12] + [random_profile(rng, f"q{i}") for i in range(8)]:
        full = score(query, matrix, weights, exclude_ids=["s7"])
        _same(top_k(query, matrix, weights, k=15, exclude_ids=["s7"]),
              top_k(query, matrix, weights, k=15, exclude_ids=["s7"], scores=full))
        bounded = score(query, matrix, weights, exclude_ids=["s7"], at_least=weights.threshold)
        kept = bounded.total > -np.inf
        np.testing.assert_array_equal(bounded.total[kept], full.total[kept])
        assert not (full.total[~kept] >= weights.threshold).any()


@pytest.mark.parametrize("weights", RANKING_WEIGHTS)
def test_top_groups_rank_as_if_every_style_were_computed(weights):
    rng = random.Random(22)
    people = [random_profile(rng, f"s{i}") for i in range(300)]
    matrix = CandidateMatrix.build(people, DIM)
    groups = [GroupData(f"g{k}", rng.choice(["Mathematics", "physics", "Latin", None]),
                        [p.id for p in rng.sample(people, rng.randint(0, 6))]) for k in range(120)]
    index = GroupIndex.build(groups, matrix).with_changes(matrix, removed=["g3", "g4"])
    for query in people[:10] + [random_profile(rng, f"q{i}") for i in range(6)]:
        allowed = np.array([rng.random() < 0.8 for _ in groups])
        full = score(query, matrix, weights)
        _same(top_groups(query, matrix, index, weights, k=20, allowed=allowed),
              top_groups(query, matrix, index, weights, k=20, allowed=allowed, scores=full))
