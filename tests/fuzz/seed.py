"""Prepare a database for the fuzzing pass and print one bearer token per role, as JSON.

`python -m tests.fuzz.seed <database url>`: drops every table, runs `alembic upgrade head`, creates the
sysadmin and a college (every feature on) with its admin, a teacher and two students, through the same
factories as the test suite.
"""
from __future__ import annotations

import json
import sys

from tests.conftest import _drop_everything, alembic_config, make_app
from tests.factories import Factory

from alembic import command


def main(url: str) -> None:
    _drop_everything(url)
    command.upgrade(alembic_config(url), "head")
    app = make_app(url)
    factory = Factory(app, app.test_client())
    kit = factory.college(domain="fuzz.edu")
    tokens = {"sysadmin": factory.sysadmin().token, "admin": kit.admin.token, "teacher": kit.teacher.token,
              "student": kit.student.token}
    app.extensions["studysync.db"].dispose()
    print(json.dumps(tokens))


if __name__ == "__main__":
    main(sys.argv[1])
