"""The canonical `/api/v1` API: one blueprint per resource, registered here and only here."""
from __future__ import annotations

from flask_smorest import Api

from . import (  # groups, classrooms, profiles, notifications  # group chat, social and direct messages
    auth,
    chat,
    classrooms,
    colleges,
    dm,
    friends,
    groups,
    matching,  # AI matching
    notifications,
    profiles,
    students,
    study_sessions,  # study sessions and calendar feeds
    users,
)

BLUEPRINTS = [auth.blp, colleges.blp, users.blp, students.blp]
BLUEPRINTS += [profiles.blp, classrooms.blp, groups.blp, notifications.blp]
BLUEPRINTS += [chat.blp, friends.blp, dm.blp]
BLUEPRINTS += [matching.blp]
BLUEPRINTS += [study_sessions.blp]


def register(api: Api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
