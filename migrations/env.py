"""Alembic environment: the models' metadata and the app's database URL."""
from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from studysync.config import default_sqlite_url
from studysync.db import Base, alembic_compare_type
from studysync import models  # noqa: F401  (complete metadata)

config = context.config
target_metadata = Base.metadata
if config.cmd_opts is not None and config.config_file_name:  # the `alembic` command: log its progress
    if os.environ.get("LOG_FORMAT") or os.environ.get("APP_ENV", "development") != "development":
        from studysync.observability import logging as app_logging  # the app's JSON lines, as a deploy step

        app_logging.configure(app_logging.log_format_for(os.environ.get("APP_ENV", "development"),
                                                         os.environ.get("LOG_FORMAT")))
    else:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
compare_type = alembic_compare_type  # shared with tests/test_migrations.py


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL") or default_sqlite_url()
    _ensure_sqlite_directory(url)
    return url


def _ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file, not its directory: instance/ is git-ignored, so a fresh clone lacks it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)


def drop_tables_not_their_indexes(context, revision, directives) -> None:
    """Autogenerate writes `drop_index` before `drop_table`; MariaDB/MySQL refuse to drop an index a
    foreign key still needs (error 1553). A dropped table takes its indexes with it, so leave them out."""
    from alembic.operations import ops

    for script in directives:
        for container in (script.upgrade_ops, script.downgrade_ops):
            dropped = {op.table_name for op in container.ops if isinstance(op, ops.DropTableOp)}
            kept = []
            for op in container.ops:
                if isinstance(op, ops.ModifyTableOps) and op.table_name in dropped:
                    op.ops = [o for o in op.ops if not isinstance(o, ops.DropIndexOp)]
                    if not op.ops:
                        continue
                elif isinstance(op, ops.DropIndexOp) and op.table_name in dropped:
                    continue
                kept.append(op)
            container.ops = kept


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=compare_type, render_as_batch=True,
                      process_revision_directives=drop_tables_not_their_indexes)
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
                      render_as_batch=connection.dialect.name == "sqlite",
                      process_revision_directives=drop_tables_not_their_indexes)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
