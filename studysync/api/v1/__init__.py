"""The canonical `/api/v1` API: one blueprint per resource, registered here and only here."""
from __future__ import annotations

from flask_smorest import Api

from . import auth, colleges, students, users

BLUEPRINTS = [auth.blp, colleges.blp, users.blp, students.blp]


def register(api: Api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
