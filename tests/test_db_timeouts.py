"""A statement stuck behind a lock ends in a JSON 503 after DB_STATEMENT_TIMEOUT, and stores nothing.

(A frozen or killed server is in tests/faults/; this is the part every server database can show.)
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, text

from studysync.config import ConfigError, load_config
from tests.conftest import BACKEND
from tests.factories import Factory, make_group
from tests.support.envelopes import error_body


@pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite has no statement timeout: writers queue on its busy timeout")
def test_a_post_stuck_behind_a_lock_is_a_503_after_the_statement_timeout(app_factory, migrated_database):
    app = app_factory(db_statement_timeout=1, ratelimit_enabled=False)
    client = app.test_client()
    kit = Factory(app, client).college()
    group = make_group(client, kit.student)
    path = f"/api/v1/groups/{group['group_id']}/messages"

    blocker = create_engine(migrated_database, poolclass=pool.NullPool)
    with blocker.connect() as connection:
        with connection.begin():  # someone holds the group's row and does not let go
            connection.execute(text("SELECT id FROM study_groups WHERE id = :id FOR UPDATE"),
                               {"id": group["group_id"]})
            r = client.post(path, json={"content": "stuck"}, headers=kit.student.headers)
    blocker.dispose()

    assert r.status_code == 503
    assert error_body(r) == {"success": False, "message": "The database is unavailable; please try again shortly"}
    r = client.post(path, json={"content": "free again"}, headers=kit.student.headers)
    assert r.status_code == 201
    contents = [m["content"] for m in client.get(path, headers=kit.student.headers).json["data"]]
    assert "stuck" not in contents and "free again" in contents


def test_timeouts_are_settings_with_defaults(monkeypatch):
    defaults = load_config()
    assert (defaults.db_connect_timeout, defaults.db_pool_timeout, defaults.db_statement_timeout,
            defaults.health_timeout) == (3.0, 3.0, 5.0, 2.0)
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", "0.5")
    assert load_config().db_statement_timeout == 0.5
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", "0")
    with pytest.raises(ConfigError, match="DB_STATEMENT_TIMEOUT"):
        load_config()
