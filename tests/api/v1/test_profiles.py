"""Learning profiles: the student's own, validation, staleness for the matcher, public views."""
import pytest
from sqlalchemy import select

from studysync.db import db
from studysync.errors import BadRequest
from studysync.models import Profile, User
from studysync.services.profiles import upsert_profile
from studysync.tenancy import all_tenants, tenant_context

SEED_002_PROFILE = {
    "university": "State University",
    "major": "Computer Science",
    "year": "Junior",
    "learning_style": "I learn best with visual aids and hands-on practice",
    "subjects": ["Mathematics", "Computer Science"],
    "schedule": {"Monday": ["Evening (5-9 PM)"], "Wednesday": ["Evening (5-9 PM)"]},
    "performance_level": 4,
    "group_preferences": {"group_size": 4, "session_duration": 2, "study_goals": ["Exam Preparation"]},
    "study_environments": ["Library"],
    "study_methods": ["Flashcards", "Practice problems"],
    "bio": "Third-year CS student.",
}


def stored(app, user_id):
    with app.app_context(), all_tenants():
        return db.session.execute(select(Profile).where(Profile.user_id == user_id)).scalar_one_or_none()


def test_a_new_student_has_an_empty_profile_never_nulls(client, factory):
    kit = factory.college(students_count=1)
    r = client.get("/api/v1/me/profile", headers=kit.student.headers)
    assert r.status_code == 200
    data = r.json["data"]
    assert data["user_id"] == kit.student.id and data["email"] == kit.student.email
    assert (data["subjects"], data["schedule"], data["group_preferences"]) == ([], {}, {})
    assert data["study_environments"] == data["study_methods"] == []


def test_seed_002_profile_round_trip_and_staleness(app, client, factory):
    kit = factory.college(students_count=1)
    r = client.put("/api/v1/me/profile", json=SEED_002_PROFILE, headers=kit.student.headers)
    assert r.status_code == 200, r.json
    data = r.json["data"]
    for field, value in SEED_002_PROFILE.items():
        assert data[field] == value, field
    first = stored(app, kit.student.id)
    assert first.embedding_stale is False and first.text_version == 1  # the save embedded its text

    # Any change bumps the version; a new text is embedded by the save that brings it.
    r = client.put("/api/v1/me/profile", json={"learning_style": "Group discussion"}, headers=kit.student.headers)
    assert r.json["data"]["learning_style"] == "Group discussion" and r.json["data"]["major"] == "Computer Science"
    second = stored(app, kit.student.id)
    assert second.embedding_stale is False and second.text_version == 2
    client.put("/api/v1/me/profile", json={"bio": None}, headers=kit.student.headers)
    assert stored(app, kit.student.id).bio is None
    assert client.get("/api/v1/me/profile", headers=kit.student.headers).json["data"]["bio"] is None


def test_schedule_days_are_normalised(client, factory):
    kit = factory.college(students_count=1)
    body = {"schedule": {"mon": "Morning (8-12 PM)", "THURS": ["Evening", "Evening", " Night "], "Sunday": []}}
    r = client.put("/api/v1/me/profile", json=body, headers=kit.student.headers)
    assert r.status_code == 200, r.json
    assert r.json["data"]["schedule"] == {"Monday": ["Morning (8-12 PM)"], "Thursday": ["Evening", "Night"]}


@pytest.mark.parametrize("body,field", [
    ({"schedule": {"Funday": ["Evening"]}}, "schedule"),
    ({"schedule": {"Monday": [1, 2]}}, "schedule"),
    ({"schedule": ["Monday"]}, "schedule"),
    ({"schedule": {"Monday": [f"slot {i}" for i in range(9)]}}, "schedule"),
    ({"performance_level": 6}, "performance_level"),
    ({"performance_level": 0}, "performance_level"),
    ({"subjects": [f"S{i}" for i in range(21)]}, "subjects"),
    ({"subjects": ["x" * 101]}, "subjects"),
    ({"bio": "x" * 2001}, "bio"),
    ({"study_methods": [f"m{i}" for i in range(11)]}, "study_methods"),
    ({"group_preferences": {"group_size": 1}}, "group_preferences"),
    ({"group_preferences": {"colour": "red"}}, "group_preferences"),
    ({"email": "new@x.edu"}, "email"),
])
def test_profile_validation(client, factory, body, field):
    kit = factory.college(students_count=1)
    r = client.put("/api/v1/me/profile", json=body, headers=kit.student.headers)
    assert r.status_code == 400 and field in r.json["errors"], r.json


def test_only_students_have_a_me_profile(client, factory):
    kit = factory.college(students_count=0)
    assert client.get("/api/v1/me/profile", headers=kit.teacher.headers).status_code == 403
    assert client.put("/api/v1/me/profile", json={}, headers=kit.admin.headers).status_code == 403
    assert client.get("/api/v1/me/profile").status_code == 401


def test_public_profile_hides_the_email_from_classmates(client, factory):
    kit = factory.college(students_count=2)
    me, classmate = kit.students
    client.put("/api/v1/me/profile", json=SEED_002_PROFILE, headers=classmate.headers)
    path = f"/api/v1/users/{classmate.id}/profile"
    r = client.get(path, headers=me.headers)
    assert r.status_code == 200
    assert "email" not in r.json["data"]
    assert r.json["data"]["major"] == "Computer Science" and r.json["data"]["name"] == classmate.name
    assert r.json["data"]["schedule"] == SEED_002_PROFILE["schedule"]
    assert client.get(path, headers=kit.teacher.headers).json["data"]["email"] == classmate.email
    assert client.get(f"/api/v1/users/{me.id}/profile", headers=me.headers).json["data"]["email"] == me.email
    r = client.get(f"/api/v1/users/{kit.teacher.id}/profile", headers=me.headers)  # staff have an empty one
    assert r.status_code == 200 and r.json["data"]["subjects"] == [] and "email" not in r.json["data"]
    assert client.get("/api/v1/users/nobody/profile", headers=me.headers).status_code == 404


def test_another_colleges_users_cannot_read_a_profile(app, client, factory):
    victim = factory.college(students_count=1)
    client.put("/api/v1/me/profile", json=SEED_002_PROFILE, headers=victim.student.headers)
    intruders = factory.college(students_count=1)
    before = stored(app, victim.student.id).text_version
    for actor in (intruders.admin, intruders.teacher, intruders.student):
        r = client.get(f"/api/v1/users/{victim.student.id}/profile", headers=actor.headers)
        assert r.status_code == 404, actor.role
    assert stored(app, victim.student.id).text_version == before


def test_upsert_profile_takes_plain_data(app, factory):
    """What the mobile adapter does with the app's register body (already mapped to our names)."""
    kit = factory.college(students_count=1)
    body = {"major": "Physics", "year": "Senior", "subjects": ["Physics", "physics", "Mathematics"],
            "schedule": {"Monday": ["Morning (8-12 PM)"], "Tuesday": [], "Wednesday": [], "Thursday": [],
                         "Friday": [], "Saturday": [], "Sunday": ["Night (9-12 AM)"]},
            "learning_style": "hands-on", "group_preferences": {"group_size": 3, "study_goals": ["Homework Help"]},
            "password": "ignored", "preferred_group_size": 3}
    with app.app_context():
        user = db.session.execute(select(User).where(User.id == kit.student.id).execution_options(all_tenants=True)).scalar_one()
        profile = upsert_profile(user, body)
        assert profile.subjects == ["Physics", "Mathematics"]
        assert profile.schedule == {"Monday": ["Morning (8-12 PM)"], "Sunday": ["Night (9-12 AM)"]}
        assert profile.group_preferences == {"group_size": 3, "study_goals": ["Homework Help"]}
        assert profile.text_version == 1 and not profile.embedding_stale  # the save embedded its text
        upsert_profile(user, {"year": "Senior"})  # unchanged: no new version
        with tenant_context(kit.id):
            assert db.session.get(Profile, profile.id).text_version == 1
        with pytest.raises(BadRequest) as raised:
            upsert_profile(user, {"performance_level": 9})
        assert "performance_level" in raised.value.errors
