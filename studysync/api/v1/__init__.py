"""The canonical `/api/v1` API: one blueprint per resource, registered here and only here."""
from __future__ import annotations

from flask_smorest import Api

from . import auth, colleges, students, users
from . import classrooms, groups, notifications, profiles  # groups, classrooms, profiles, notifications
from . import chat, dm, friends  # group chat, social and direct messages
from . import matching  # AI matching
from . import study_sessions  # study sessions and calendar feeds
from . import audit  # audit log of staff actions
from . import account  # password resets (temporary and forgotten)
from . import data_rights  # personal data export and erasure, college offboarding
from . import features  # the known feature names

BLUEPRINTS = [auth.blp, colleges.blp, users.blp, students.blp]
BLUEPRINTS += [profiles.blp, classrooms.blp, groups.blp, notifications.blp]
BLUEPRINTS += [chat.blp, friends.blp, dm.blp]
BLUEPRINTS += [matching.blp]
BLUEPRINTS += [study_sessions.blp]
BLUEPRINTS += [audit.blp]
BLUEPRINTS += [account.blp, data_rights.blp]
BLUEPRINTS += [features.blp]


def register(api: Api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
