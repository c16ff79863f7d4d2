"""How many SQL statements a request costs (issue 15): an authenticated single-object read at most 3,
a list at most 4, and a list's count does not grow with its page size or length.

Counted with SQLAlchemy's `before_cursor_execute` on the app's engine; transaction control (SQLite's
BEGIN IMMEDIATE, savepoints) is not a statement a query plan can save, so it is left out.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from .factories import make_group

SINGLE_READ_MAX = 3
LIST_MAX = 4
GROUPS = 4
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def counted(app):
    statements: list[str] = []
    engine = app.extensions["studysync.db"].engine

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_for(app, client, path, headers, method="GET", json=None) -> int:
    client.open(path, method=method, headers=headers, json=json)  # first use: last-seen stamps, caches
    with counted(app) as statements:
        response = client.open(path, method=method, headers=headers, json=json)
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(statements)


@pytest.fixture
def busy_student(factory, client):
    """A student in several groups, with a thread of messages and their notifications."""
    kit = factory.college(students_count=3)
    me, friend, leader = kit.students
    for n in range(GROUPS):  # fewer than a student's limit of active groups
        group = make_group(client, (friend, leader)[n % 2], name=f"Group {n}", join_policy="open")
        assert client.post(f"/api/v1/groups/{group['group_id']}/join", headers=me.headers).status_code == 200
    for n in range(6):
        sent = client.post("/api/messages/send", headers=friend.headers, json={"receiverId": me.id, "content": f"hi {n}"})
        assert sent.status_code == 200
    return kit, me, friend


@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/auth/profile", "/api/auth/me", "/api/v1/me/profile"])
def test_a_single_object_read_costs_at_most_three_statements(app, client, busy_student, path):
    _, me, _ = busy_student
    assert statements_for(app, client, path, me.headers) <= SINGLE_READ_MAX


@pytest.mark.parametrize("path", ["/api/v1/groups/mine", "/api/v1/notifications"])
def test_a_list_costs_at_most_four_statements_whatever_the_page_size(app, client, busy_student, path):
    _, me, _ = busy_student
    counts = {limit: statements_for(app, client, f"{path}?limit={limit}", me.headers) for limit in (1, 2, 50)}
    assert max(counts.values()) <= LIST_MAX, counts
    assert len(set(counts.values())) == 1, counts


@pytest.mark.parametrize("path", ["/api/groups/mine", "/api/notifications"])
def test_the_apps_lists_cost_at_most_four_statements(app, client, busy_student, path):
    _, me, _ = busy_student
    assert statements_for(app, client, path, me.headers) <= LIST_MAX


def test_a_page_past_the_end_still_reports_the_total(app, client, busy_student):
    _, me, _ = busy_student
    first = client.get("/api/v1/groups/mine?limit=2", headers=me.headers).get_json()
    beyond = client.get("/api/v1/groups/mine?limit=2&page=9", headers=me.headers).get_json()
    assert first["pagination"]["total"] == beyond["pagination"]["total"] == GROUPS
    assert beyond["data"] == []


def test_the_notification_lists_cost_one_statement_more_than_authentication(app, client, busy_student):
    """The page carries its version and unread count as window aggregates: one statement after the
    token for a client holding no tag, whatever the page size."""
    _, me, _ = busy_student
    assert statements_for(app, client, "/api/notifications", me.headers) == 2
    for limit in (1, 2, 50):
        assert statements_for(app, client, f"/api/v1/notifications?limit={limit}", me.headers) == 2


def test_my_groups_cost_two_statements_more_than_authentication(app, client, busy_student):
    """The page (with the total, the leaders' names and the unread counts), then the members."""
    _, me, _ = busy_student
    assert statements_for(app, client, "/api/groups/mine", me.headers) == 3
    for limit in (1, 2, 50):
        assert statements_for(app, client, f"/api/v1/groups/mine?limit={limit}", me.headers) == 3


def test_a_dm_thread_costs_the_conversation_and_the_page(app, client, busy_student):
    """The app's thread: the token's statement loads the URL's user and the conversation with the
    reader's marker, then the page — and no lock when the marker is already at the newest message.
    The v1 thread reads the conversation on its own."""
    _, me, friend = busy_student
    assert statements_for(app, client, f"/api/messages/{friend.id}", me.headers) == 2
    assert statements_for(app, client, f"/api/v1/dm/{friend.id}/messages", me.headers) <= LIST_MAX
