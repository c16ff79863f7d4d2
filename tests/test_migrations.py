"""The migrations are the schema: one head, they match the models, and they go down and up again.

Runs on the backend of the run (TEST_DATABASE). The model comparison uses the shared test database,
which `migrated_database` built with `alembic upgrade head`; the downgrade/upgrade round trip uses a
throwaway database of its own (a tmp file on SQLite, `<test db>_mig` on PostgreSQL and MariaDB), so it
never disturbs the other tests.
"""
from __future__ import annotations

from pprint import pformat

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import make_url

from studysync.db import Base, alembic_compare_type

from .conftest import BACKEND, alembic_config


def _schema_differences(url: str) -> list:
    """What `alembic revision --autogenerate` would write, configured like migrations/env.py."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": alembic_compare_type, "target_metadata": Base.metadata})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _current_revisions(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def _heads(url: str) -> list[str]:
    return ScriptDirectory.from_config(alembic_config(url)).get_heads()


@pytest.fixture
def scratch_database(database_url, tmp_path):
    """An empty database for the round trip, dropped afterwards."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_mig"
    server = create_engine(url.set(database="postgres" if BACKEND == "postgres" else None),
                           isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    quoted = server.dialect.identifier_preparer.quote(name)
    create = f"CREATE DATABASE {quoted}"
    if BACKEND == "mysql":
        create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        connection.execute(text(create))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        server.dispose()


def test_there_is_one_alembic_head(database_url):
    heads = _heads(database_url)
    assert len(heads) == 1, f"several alembic heads, merge or re-chain them: {heads}"


def test_upgrade_head_matches_the_models(migrated_database):
    assert _current_revisions(migrated_database) == set(_heads(migrated_database))
    differences = _schema_differences(migrated_database)
    assert differences == [], (
        "the models and the migrations disagree; autogenerate a revision for:\n" + pformat(differences))


def test_downgrade_to_base_and_upgrade_again(scratch_database):
    config = alembic_config(scratch_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")

    engine = create_engine(scratch_database, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            leftovers = set(inspector.get_table_names()) - {"alembic_version"}
            enums = inspector.get_enums() if BACKEND == "postgres" else []
    finally:
        engine.dispose()
    assert leftovers == set(), f"downgrade to base left tables behind: {sorted(leftovers)}"
    assert enums == [], f"downgrade to base left PostgreSQL enum types behind: {enums}"
    assert _current_revisions(scratch_database) == set()

    command.upgrade(config, "head")
    assert _current_revisions(scratch_database) == set(_heads(scratch_database))
    assert _schema_differences(scratch_database) == []
