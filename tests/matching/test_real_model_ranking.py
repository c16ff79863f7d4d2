"""The real all-MiniLM-L6-v2 model through the API: the ranking is the seed's formula.

The expected order is computed here independently — plain Python sets and the model's own cosine
of each pair of texts — and compared with GET /api/v1/recommendations on a hand-built college.
"""
from __future__ import annotations

import math

import pytest

from studysync.matching import create_embedder

pytestmark = pytest.mark.model

ME = dict(subjects=["Calculus", "Physics", "Chemistry"], performance_level=4,
          schedule={"Monday": ["Evening (5-9 PM)"], "Wednesday": ["Evening (5-9 PM)"], "Friday": ["Morning (8-12 PM)"]},
          learning_style="I am a visual learner: diagrams, mind maps and colour-coded notes help me most")
OTHERS = [
    dict(subjects=["Calculus", "Physics", "Chemistry"], performance_level=4, schedule=ME["schedule"],
         learning_style="Visual learner who sketches diagrams and charts"),
    dict(subjects=["Calculus", "Physics"], performance_level=3,
         schedule={"Monday": ["Evening (5-9 PM)"], "Wednesday": ["Evening (5-9 PM)"]},
         learning_style="I like to listen to lectures and discuss out loud"),
    dict(subjects=["Calculus", "Physics", "Chemistry"], performance_level=2, schedule={"Monday": ["Evening (5-9 PM)"]},
         learning_style="Hands-on: I learn by doing experiments and building things"),
    dict(subjects=["Calculus"], performance_level=5, schedule=ME["schedule"],
         learning_style="Mind maps and colourful notes, I remember pictures"),
    dict(subjects=["Physics", "Chemistry"], performance_level=4,
         schedule={"Monday": ["Evening (5-9 PM)"], "Friday": ["Morning (8-12 PM)"]},
         learning_style="Reading textbooks and writing summaries"),
    dict(subjects=["History", "Literature"], performance_level=4, schedule=ME["schedule"],
         learning_style="Visual learner, I draw diagrams"),
    dict(subjects=["Calculus", "Biology"], performance_level=1, schedule={"Tuesday": ["Night (9-12 AM)"]},
         learning_style="Flashcards and repetition"),
    dict(subjects=["Chemistry"], performance_level=4, schedule={"Wednesday": ["Evening (5-9 PM)"]},
         learning_style="Diagrams of molecules and visual models"),
    dict(subjects=["Calculus", "Physics", "Chemistry", "Biology"], performance_level=3,
         schedule={"Monday": ["Evening (5-9 PM)"], "Wednesday": ["Evening (5-9 PM)"], "Saturday": ["Afternoon (12-5 PM)"]},
         learning_style="Group discussion and teaching others"),
]


@pytest.fixture(scope="module")
def minilm():
    embedder = create_embedder(None)
    embedder.wait_loaded()
    return embedder


def cosine(model, a: str, b: str) -> float:
    va, vb = (list(map(float, model.embed([t])[0])) for t in (a, b))
    dot = sum(x * y for x, y in zip(va, vb))
    na, nb = math.sqrt(sum(x * x for x in va)), math.sqrt(sum(y * y for y in vb))
    return dot / (na * nb) if na and nb else 0.0


def seed_score(model, me: dict, other: dict) -> float:
    a, b = set(me["subjects"]), set(other["subjects"])
    subject = len(a & b) / len(a | b) if a | b else 0.0
    sa = {(d, s) for d, slots in me["schedule"].items() for s in slots}
    sb = {(d, s) for d, slots in other["schedule"].items() for s in slots}
    schedule = len(sa & sb) / len(sa | sb) if sa and sb else 0.0
    style = max(0.0, cosine(model, me["learning_style"], other["learning_style"]))
    performance = 1 - abs(me["performance_level"] - other["performance_level"]) / 4
    return 0.4 * subject + 0.3 * schedule + 0.2 * style + 0.1 * performance


def test_partner_order_is_the_seed_formula_with_the_real_model(app, client, factory, minilm):
    app.extensions["studysync.embedder"] = minilm
    kit = factory.college(students_count=10)
    me, others = kit.students[0], kit.students[1:]
    for actor, profile in zip(kit.students, [ME, *OTHERS]):
        r = client.put("/api/v1/me/profile", json=profile, headers=actor.headers)
        assert r.status_code == 200, r.json

    expected = sorted(((seed_score(minilm, ME, p), a.id) for a, p in zip(others, OTHERS)), key=lambda t: -t[0])
    expected = [(s, uid) for s, uid in expected if s >= 0.5]
    assert len(expected) >= 4  # the college is built so several clear the threshold

    r = client.get("/api/v1/recommendations", query_string={"kind": "partners", "limit": 20}, headers=me.headers)
    assert r.status_code == 200, r.json
    got = r.json["data"]
    assert [d["user_id"] for d in got] == [uid for _, uid in expected]
    assert [d["match_percentage"] for d in got] == [round(s * 100) for s, _ in expected]

    # and a second request embeds nothing: the vectors are cached per profile text
    before = (minilm.calls, minilm.texts_embedded)
    r = client.get("/api/v1/recommendations", query_string={"kind": "partners", "limit": 20}, headers=me.headers)
    assert [d["user_id"] for d in r.json["data"]] == [uid for _, uid in expected]
    assert (minilm.calls, minilm.texts_embedded) == before


def test_semantic_people_search_with_the_real_model(app, client, factory, minilm):
    app.extensions["studysync.embedder"] = minilm
    kit = factory.college(students_count=10)
    for actor, profile in zip(kit.students, [ME, *OTHERS]):
        assert client.put("/api/v1/me/profile", json=profile, headers=actor.headers).status_code == 200
    visual = {kit.students[i].id for i in (0, 1, 6)}  # who call themselves visual learners
    r = client.get("/api/v1/search", query_string={"q": "visual learner", "type": "people"}, headers=kit.students[3].headers)
    assert r.status_code == 200, r.json
    assert {p["user_id"] for p in r.json["data"][:3]} == visual
