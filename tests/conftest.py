"""Test fixtures: a real database (SQLite, PostgreSQL or MariaDB), a fresh app per test.

`TEST_DATABASE` picks the backend: `sqlite` (default, a file under pytest's tmp dir), `postgres`
(TEST_POSTGRES_URL) or `mysql` (TEST_MYSQL_URL). The schema is built once per run by
`alembic upgrade head` — so every run also proves the migrations — and each test starts from
empty tables.
"""
from __future__ import annotations

import logging
import os

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, exc, pool, text
from sqlalchemy.engine import make_url

from studysync.app import create_app
from studysync.db import Base
from studysync.observability.logging import add_tap

from .factories import Factory
from .support.log_lines import LOG_LINES, leaked_secrets

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
URL_VARIABLES = {"postgres": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"


def pytest_report_header(config):
    return f"StudySync database backend: {BACKEND}"


def pytest_configure(config):
    """Every log line of the run, rendered as production writes it, is kept for the secrets check."""
    logging.getLogger().addHandler(LOG_LINES)
    add_tap(LOG_LINES.take)


def pytest_sessionfinish(session, exitstatus):
    """No token, password, password hash or JWT secret in any log line of the whole run."""
    leaks = leaked_secrets(LOG_LINES.lines, extra=[TEST_SECRET])
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"FAILED: {len(leaks)} log line(s) hold a secret, e.g.: {leaks[0][:300]}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if BACKEND == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = os.environ.get(URL_VARIABLES[BACKEND])
    if not url:
        pytest.exit(f"TEST_DATABASE={BACKEND} needs {URL_VARIABLES[BACKEND]}", returncode=2)
    _require_reachable(url)
    return url


def _require_reachable(url: str) -> None:
    """One clear line when the server is down, instead of the same traceback under every test."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except exc.DBAPIError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        pytest.exit(f"Cannot reach the {BACKEND} test database {shown}: {error.orig}", returncode=3)
    finally:
        engine.dispose()


def alembic_config(url: str) -> Config:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = Config(os.path.join(root, "alembic.ini"))
    config.set_main_option("script_location", os.path.join(root, "migrations"))
    config.attributes["database_url"] = url
    return config


def _drop_everything(url: str) -> None:
    """Every table in the database, not only today's models: a run on a branch with another schema
    (a renamed or removed table) must not leave something behind that breaks `upgrade head`."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        if engine.dialect.name == "mysql":
            connection.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)
        if engine.dialect.name == "mysql":
            connection.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url) -> str:
    _drop_everything(database_url)
    command.upgrade(alembic_config(database_url), "head")
    return database_url


def _empty_tables(engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "mysql":
            connection.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        if engine.dialect.name == "mysql":
            connection.execute(text("SET FOREIGN_KEY_CHECKS=1"))


def make_app(database_url: str, **overrides):
    settings = dict(database_url=database_url, jwt_secret_key=TEST_SECRET, bcrypt_rounds=4,
                    redis_url=None, embedding_model="hashing", sysadmin_email=None, sysadmin_password=None)
    settings.update(overrides)
    return create_app(**settings)


@pytest.fixture
def app(migrated_database):
    application = make_app(migrated_database)
    database = application.extensions["studysync.db"]
    _empty_tables(database.engine)
    yield application
    database.dispose()


@pytest.fixture
def app_factory(migrated_database):
    """Build apps with other settings (rate limits, bcrypt rounds) on the same emptied database."""
    made = []

    engine = create_engine(migrated_database)
    _empty_tables(engine)
    engine.dispose()

    def build(**overrides):
        application = make_app(migrated_database, **overrides)
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["studysync.db"].dispose()


@pytest.fixture
def redis_url():
    """A real Redis (TEST_REDIS_URL, default db 15 on localhost), flushed; skipped only outside CI."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        connection = redis.Redis.from_url(url, socket_connect_timeout=1)
        connection.flushdb()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is unreachable in CI: {exc}")
        pytest.skip(f"Redis at {url} is unreachable: {exc}")
    yield url
    connection.flushdb()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app, client):
    return Factory(app, client)
