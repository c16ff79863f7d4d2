"""PostgreSQL: a cursor's `description` is built only when read, and then reads as psycopg's own."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from studysync.db import db

from .conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the psycopg driver's cursor")
TIMESTAMPTZ = 1184  # PostgreSQL's type oid


def test_a_result_read_by_column_name_gets_its_columns(app):
    with app.app_context():
        result = db.session.execute(text("select 1 as one, 'two'::text as two"))
        assert list(result.keys()) == ["one", "two"]
        assert result.one() == (1, "two")


def test_the_description_describes_its_own_result_whenever_it_is_read(app):
    with app.app_context():
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        cursor.execute("select 1 as one, now() as at")
        first = cursor.description
        cursor.fetchall()
        cursor.execute("select 2 as other")
        assert [(c.name, c.type_code) for c in first] == [("one", 23), ("at", TIMESTAMPTZ)]
        assert len(first) == 2 and first[-1].name == "at"
        assert [c.name for c in cursor.description] == ["other"]
        cursor.execute("create temporary table scratch (x int)")
        assert cursor.description is None
        cursor.close()
