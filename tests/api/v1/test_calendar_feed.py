"""The iCalendar feed of a user's study sessions and its secret URL, parsed as a calendar app would."""
import hashlib
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
from sqlalchemy import event, select

from studysync.db import db
from studysync.models import CalendarFeed, StudySession
from studysync.tenancy import all_tenants

from ...factories import make_group

FEED = "/api/v1/me/calendar.ics"
TOKEN = "/api/v1/me/calendar/token"


def at(days: float, hour: int = 16) -> datetime:
    day = datetime.now(timezone.utc) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def schedule(client, group, actor, when, **fields) -> dict:
    body = {"title": "Exam prep", "scheduled_time": iso(when), **fields}
    r = client.post(f"/api/v1/groups/{group['group_id']}/sessions", json=body, headers=actor.headers)
    assert r.status_code == 201, r.json
    return r.json["data"]


def new_token(client, actor) -> dict:
    r = client.post(TOKEN, headers=actor.headers)
    assert r.status_code == 201, r.json
    return r.json["data"]


def fetch(client, token=None, headers=None):
    return client.get(FEED, query_string={"token": token} if token else None, headers=headers or {})


def events_of(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200, response.data[:500]
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["PRODID"]) == "-//StudySync//Study sessions//EN" and str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"])
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == len(calendar.walk("VEVENT")), "one VEVENT per session"
    return events


def uid(session) -> str:
    return f"{session['session_id']}@studysync"


def move(app, session, when):
    """Time passes: put a session at `when` directly (the API only schedules the future)."""
    with app.app_context(), all_tenants():
        db.session.get(StudySession, session["session_id"]).scheduled_time = when
        db.session.commit()


@pytest.fixture
def setup(client, factory):
    kit = factory.college(students_count=3)
    alice, bob, carol = kit.students
    ours = make_group(client, alice, name="Calc Crew", member_ids=[bob.id])
    theirs = make_group(client, carol, name="Chem Club")  # bob is not in it
    return kit, alice, bob, carol, ours, theirs


def test_feed_has_one_stable_event_per_session(app, client, setup):
    _, alice, bob, carol, ours, theirs = setup
    first_time, second_time = at(2), at(5, hour=9)
    first = schedule(client, ours, alice, first_time, title="Limits, series; and more", duration_minutes=90,
                     location="Library, room 2", description="Chapter 3 " * 30)
    second = schedule(client, ours, bob, second_time, title="Derivatives")
    hidden = schedule(client, theirs, carol, at(3), title="Titrations")
    recent = schedule(client, ours, alice, at(4), title="Last week's")
    old = schedule(client, ours, alice, at(6), title="Two months ago")
    move(app, recent, at(-10))
    move(app, old, at(-60))

    link = new_token(client, bob)
    parts = urlsplit(link["url"])
    assert parts.scheme in ("http", "https") and parts.netloc and parts.path == FEED
    assert parse_qs(parts.query) == {"token": [link["token"]]}
    events = events_of(client.get(link["url"]))  # no Authorization header at all
    assert set(events) == {uid(first), uid(second), uid(recent)}  # not Chem Club's, not two months ago
    assert uid(hidden) not in events and uid(old) not in events

    limits = events[uid(first)]
    assert limits.decoded("DTSTART") == first_time and limits.decoded("DTSTART").utcoffset() == timedelta(0)
    assert limits.decoded("DTEND") == first_time + timedelta(minutes=90)
    assert f"DTSTART:{first_time:%Y%m%dT%H%M%S}Z" in client.get(link["url"]).data.decode()
    assert str(limits["SUMMARY"]) == "Limits, series; and more"  # escaped in the text, intact once parsed
    assert str(limits["LOCATION"]) == "Library, room 2"
    assert "Chapter 3" in str(limits["DESCRIPTION"]) and "Calc Crew" in str(limits["DESCRIPTION"])
    assert str(limits["STATUS"]) == "CONFIRMED" and limits.decoded("SEQUENCE") == 0
    assert limits.decoded("DTSTAMP") and limits.decoded("LAST-MODIFIED")
    assert all(len(line) <= 75 for line in client.get(link["url"]).data.split(b"\r\n")), "long lines are folded"

    # Stable across fetches; an edit keeps the UID and raises SEQUENCE; a cancel stays, marked.
    assert set(events_of(fetch(client, link["token"]))) == set(events)
    r = client.patch(f"/api/v1/sessions/{first['session_id']}", json={"scheduled_time": iso(at(3))},
                     headers=alice.headers)
    assert r.status_code == 200, r.json
    assert client.delete(f"/api/v1/sessions/{second['session_id']}", headers=bob.headers).status_code == 200
    events = events_of(fetch(client, link["token"]))
    assert set(events) == {uid(first), uid(second), uid(recent)}
    assert events[uid(first)].decoded("SEQUENCE") == 1 and events[uid(first)].decoded("DTSTART") == at(3)
    assert str(events[uid(second)]["STATUS"]) == "CANCELLED" and events[uid(second)].decoded("SEQUENCE") == 1

    # The same feed with a Bearer token; other people see their own groups.
    assert set(events_of(fetch(client, headers=bob.headers))) == set(events)
    assert set(events_of(fetch(client, headers=carol.headers))) == {uid(hidden)}


def test_the_secret_url_can_be_rotated_and_revoked(app, client, factory, setup):
    kit, alice, bob, _, ours, _ = setup
    schedule(client, ours, alice, at(2))

    def refused(response, why):
        assert response.status_code == 401, response.data[:300]
        assert response.json["success"] is False and why in response.json["message"]

    refused(fetch(client), "Authorization")
    refused(fetch(client, "not-a-token"), "calendar token")
    first = new_token(client, bob)["token"]
    with app.app_context(), all_tenants():
        stored = db.session.execute(
            select(CalendarFeed.token_hash).where(CalendarFeed.user_id == bob.id)).scalars().all()
    assert stored == [hashlib.sha256(first.encode()).hexdigest()]  # only the hash is kept
    assert len(events_of(fetch(client, first))) == 1

    second = new_token(client, bob)["token"]
    assert second != first
    refused(fetch(client, first), "calendar token")
    assert len(events_of(fetch(client, second))) == 1
    refused(fetch(client, second, headers={"Authorization": "Bearer nonsense"}), "token")  # the header decides

    r = client.delete(TOKEN, headers=bob.headers)
    assert r.status_code == 200 and r.json["success"] is True
    refused(fetch(client, second), "calendar token")
    assert len(events_of(fetch(client, headers=bob.headers))) == 1  # signed in, no secret needed
    assert client.delete(TOKEN, headers=bob.headers).status_code == 200  # nothing left to revoke: fine

    # A deactivated student's link dies with the account.
    alices = new_token(client, alice)["token"]
    assert fetch(client, alices).status_code == 200
    assert client.delete(f"/api/v1/students/{alice.id}", headers=kit.admin.headers).status_code == 200
    refused(fetch(client, alices), "calendar token")

    # Another college's secret shows only that college's sessions.
    other = factory.college(students_count=1)
    outsider = other.student
    their_group = make_group(client, outsider)
    theirs = schedule(client, their_group, outsider, at(1))
    assert set(events_of(fetch(client, new_token(client, outsider)["token"]))) == {uid(theirs)}


def test_feature_off_closes_an_issued_link(client, factory):
    kit = factory.college(students_count=1)
    student = kit.student
    group = make_group(client, student)
    schedule(client, group, student, at(1))
    token = new_token(client, student)["token"]
    assert fetch(client, token).status_code == 200
    sysadmin = factory.sysadmin()
    r = client.put(f"/api/v1/colleges/{kit.id}/features", headers=sysadmin.headers,
                   json={"enabled_features": ["core", "chat"]})
    assert r.status_code == 200, r.json
    for response in (fetch(client, token), fetch(client, headers=student.headers)):
        assert response.status_code == 403 and "study_sessions" in response.json["message"]


def test_the_feed_takes_a_fixed_number_of_queries(app, client, factory):
    kit = factory.college(students_count=1)
    me = kit.student
    engine = app.extensions["studysync.db"].engine
    groups = [make_group(client, me, name=f"Group {i}") for i in range(3)]
    token = new_token(client, me)["token"]

    def queries_for_feed():
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            events = events_of(fetch(client, token))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements), len(events)

    schedule(client, groups[0], me, at(1))
    few = queries_for_feed()
    for i in range(6):
        schedule(client, groups[i % 3], me, at(2 + i))
    many = queries_for_feed()
    assert few[1] == 1 and many[1] == 7
    assert many[0] == few[0]
