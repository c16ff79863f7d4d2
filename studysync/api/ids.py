"""Ids in URLs are checked against the caller's college before any view runs.

Every URL parameter named `<something>_id` must be registered here with the model it names; the
app refuses to start otherwise. For an authenticated caller, an id that does not exist in their
college is a 404 before role checks or services run — so a route cannot forget tenant isolation,
and another college's id always looks exactly like a missing one (never a 403).
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, g, request
from sqlalchemy import bindparam, select

from ..auth.current import USER_PARAMS
from ..db import db
from ..errors import NotFound

Check = Callable[[str], bool]
_CHECKS: dict[str, Check] = {}
_user_exists: Check = lambda value: False  # bound to the users table by _register_core()


def model_check(model) -> Check:
    """The row is loaded whole, under the tenant criteria: the service that reads it next by
    primary key (`session.get`) finds it in the session instead of asking the database again.
    The statement is built once, here: every request with an id in its URL runs it."""
    stmt = select(model).where(model.id == bindparam("id"))

    def exists(value: str) -> bool:
        row = db.session.execute(stmt, {"id": value}).scalar_one_or_none()
        if row is None:
            return False
        g.setdefault("url_rows", []).append(row)  # the session holds rows weakly: keep it for the request
        return True

    return exists


def register_id(param: str, check_or_model) -> None:
    _CHECKS[param] = check_or_model if callable(check_or_model) and not hasattr(check_or_model, "__table__") \
        else model_check(check_or_model)


def _user_check(value: str) -> bool:
    """The caller is in their own college already, and the user the URL names was looked for in it
    by the token's statement (`auth/current.py`, `g.url_user`): only another user id costs a query."""
    if value == g.user.id:
        return True
    url_user = g.get("url_user")
    if url_user is not None and url_user[0] == value:
        return url_user[1] is not None
    return _user_exists(value)


def _own_college(value: str) -> bool:
    return g.user.role == "sysadmin" or g.user.college_id == value


def _register_core() -> None:
    from ..models import AuthSession, BulkImportJob, User

    register_id("college_id", _own_college)
    global _user_exists
    _user_exists = model_check(User)
    for param in USER_PARAMS:
        register_id(param, _user_check)
    register_id("session_id", lambda value: True)  # checked against the owner in auth/sessions.py
    register_id("job_id", BulkImportJob)
    from ..models import FriendRequest

    register_id("request_id", FriendRequest)  # friend requests (services/friends.py)
    _ = AuthSession


def check_url_ids() -> None:
    if g.get("user") is None or not request.view_args:
        return
    if g.user.college_id is None:  # the sysadmin: no tenant to check against (tenant queries would raise);
        return                     # role checks answer tenant routes, platform routes scope themselves
    for param, value in request.view_args.items():
        check = _CHECKS.get(param)
        if check is not None and not check(str(value)):
            raise NotFound()


def install(app: Flask) -> None:
    """Refuse to start with an unregistered id parameter; check ids on every request."""
    _register_core()
    missing = sorted(
        f"{rule.rule} ({arg})" for rule in app.url_map.iter_rules() for arg in rule.arguments
        if arg.endswith("_id") and arg not in _CHECKS
    )
    if missing:
        raise RuntimeError(f"URL ids without a tenant check in studysync/api/ids.py: {', '.join(missing)}")
    app.before_request(check_url_ids)
