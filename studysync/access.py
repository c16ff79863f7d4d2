"""Who may call a service: each entry point declares the roles and the feature it serves.

    @allow(*COLLEGE_ROLES, feature="chat")
    def post_message(actor, group_id, ...): ...

The declaration travels with the function, so every surface that calls it (`/api/v1`, the mobile
`/api`, each legacy surface, the CLI) gets the same answer: 401 without an actor, 403 for a role
the entry point does not serve (the sysadmin, who belongs to no college, is refused by every
college-only entry point instead of reaching tenant data with no college set), 403 naming the
feature when the actor's college has it off. Object rules (is this the group's leader?) stay in
`policies.py` and are checked by the entry point itself, once it has loaded the objects.

Why on the service rather than on each route: a route is one of several doors to the same
operation; a rule kept at the door is a rule a new door forgets. `tests/test_access.py` fails when
a surface calls a service function that declares nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable, TypeVar

from .errors import NO_COLLEGE_MESSAGE, Forbidden, Unauthorized
from .features import FEATURES, ensure_feature
from .models.user import COLLEGE_ROLES, ROLES

F = TypeVar("F", bound=Callable)



@dataclass(frozen=True)
class Rule:
    roles: tuple[str, ...]
    feature: str | None = None
    public: bool = False


def rule_of(function: Callable) -> Rule | None:
    return getattr(function, "access_rule", None)


def check(actor, rule: Rule) -> None:
    """401 without an actor, 403 for a role `rule` does not serve or a feature switched off."""
    if rule.public:
        return
    if actor is None:
        raise Unauthorized()
    if actor.role not in rule.roles:
        if actor.college_id is None and set(rule.roles) <= set(COLLEGE_ROLES):
            raise Forbidden(NO_COLLEGE_MESSAGE)
        raise Forbidden()
    if rule.feature is not None and actor.college_id is not None:
        ensure_feature(college_of(actor), rule.feature)


def _flush() -> None:
    """An entry point's changes reach the database when it returns (the request still commits
    once, later): what it returned then carries the database's values (ids, `updated_at`), and a
    violated constraint surfaces here, inside the call that caused it."""
    from .db import db

    db.session.flush()


def college_of(actor):
    """The actor's college row (already in the session's identity map after authentication)."""
    from .db import db
    from .models import College

    return db.session.get(College, actor.college_id)


def allow(*roles: str, feature: str | None = None) -> Callable[[F], F]:
    """Declare the roles (and the optional feature) an entry point serves; its first argument is
    the acting user."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"allow() needs known roles, got {roles}")
    if feature is not None and feature not in FEATURES:
        raise ValueError(f"unknown feature {feature}")
    rule = Rule(tuple(roles), feature)

    def decorator(function: F) -> F:
        @wraps(function)
        def entry(actor, *args, **kwargs):
            check(actor, rule)
            result = function(actor, *args, **kwargs)
            _flush()
            return result

        entry.access_rule = rule
        return entry  # type: ignore[return-value]

    return decorator


def public(function: F) -> F:
    """An entry point anyone may call (registration, login): it names its college itself."""
    function.access_rule = Rule((), public=True)
    return function


def presenter(function: F) -> F:
    """A function that only shapes a result its caller was already allowed to get; it checks
    nothing and needs no rule of its own."""
    function.access_rule = Rule((), public=True)
    function.presenter = True
    return function


@dataclass(frozen=True)
class SystemActor:
    """The platform acting on its own behalf (the CLI, start-up, tests' factories): the sysadmin's
    powers without an account."""

    id: str | None = None
    role: str = "sysadmin"
    college_id: str | None = None
    name: str = "StudySync"


SYSTEM = SystemActor()
