"""Alembic environment: the models' metadata and the app's database URL."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from studysync.config import default_sqlite_url
from studysync.db import Base, UTCDateTime
from studysync import models  # noqa: F401  (complete metadata)

import os

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    return config.attributes.get("database_url") or os.environ.get("DATABASE_URL") or default_sqlite_url()


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    """Our UTCDateTime is a DATETIME everywhere (DATETIME(6) on MySQL): not a difference."""
    if isinstance(metadata_type, UTCDateTime):
        return inspected_type.__class__.__name__.upper() not in ("DATETIME", "TIMESTAMP")
    return None


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=compare_type, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=compare_type,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
