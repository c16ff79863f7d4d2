"""Seed 000's student group API at `/signup`, `/signin`, `/group/create_group` (shared/seeds/000_*.txt).

Its bodies (`user_id` is the student's handle, `feild` and `min_requirement` describe a group,
`creator_id` names its creator by handle) and its reply `{status, message, data, status_code}` with
the student object (`group_list`, `group_limit`). The college comes from the email's domain, the
request's subdomain or `DEFAULT_COLLEGE`, as for the mobile app. Rules stay in the services: a
student's own `rating` is kept only where the college's `self_reported_rating` allows it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..bodies import json_object
from ...auth.current import current_user
from ...auth.passwords import password_problem
from ...errors import ApiError, BadRequest, handle_http_exception
from ...models import User
from ...schemas.common import REAL_MAX
from ...auth import sessions
from ...services import groups, students
from ...tenancy import tenant_context
from ..request_college import college_for_request

bp = Blueprint("legacy_seed000", __name__)

NO_COLLEGE = "No college found for this request; sign up from your college's address"
CREATOR_MISMATCH = "creator_id must be your own user_id"
DEFAULT_MAX_MEMBERS = 6


def _reply(status: int, message: str, data: Any = None) -> Response:
    response = jsonify({"status": "success" if status < 400 else "error", "message": message, "data": data,
                        "status_code": status})
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return _reply(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    shaped = handle_http_exception(exc)
    response = _reply(shaped.status_code, (shaped.get_json(silent=True) or {}).get("message") or "Error")
    if "Retry-After" in shaped.headers:
        response.headers["Retry-After"] = shaped.headers["Retry-After"]
    return response


_body = json_object


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return value.strip() if isinstance(value, str) else ""


def _naive_iso(moment: datetime | None) -> str | None:
    """`2024-10-26T18:26:23.865470`: the document's (Python's naive UTC) form of a time."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat()


def _student(user: User, *, with_handle: bool) -> dict[str, Any]:
    standing = groups.standing(user)
    shaped: dict[str, Any] = {"id": user.id}
    if with_handle:
        shaped["user_id"] = user.username
    shaped.update({
        "name": user.name, "email": user.email, "created_at": _naive_iso(user.created_at),
        "updated_at": _naive_iso(user.updated_at or user.created_at), "rating": user.rating or 0,
        "group_list": standing.group_ids, "group_limit": standing.group_limit,
    })
    return shaped


def _client() -> sessions.ClientInfo:
    return sessions.ClientInfo(request.headers.get("User-Agent"), request.remote_addr)


@bp.post("/signup")
def signup():
    body = _body()
    handle, name, email = _text(body, "user_id"), _text(body, "name"), _text(body, "email").lower()
    password = body.get("password") if isinstance(body.get("password"), str) else ""
    if not handle or not name or not email:
        raise BadRequest("user_id, name, email and password are required")
    problem = password_problem(password, strong=False)
    if problem:
        raise BadRequest(problem)
    college = college_for_request(email)
    if college is None:
        raise BadRequest(NO_COLLEGE)
    record: dict[str, Any] = {"name": name, "email": email, "username": handle}
    if isinstance(body.get("rating"), (int, float)) and not isinstance(body.get("rating"), bool):
        if not 0 <= body["rating"] <= REAL_MAX:
            raise BadRequest("rating must be a number of at least 0")
        record["rating"] = body["rating"]
    student = students.register(college.id, record, password, _client())
    login = sessions.open_session(student, _client())
    return _reply(201, "Student signed up successfully",
                  {"token": login.token, "student": _student_in_college(student, with_handle=False)})


def _student_in_college(user: User, *, with_handle: bool) -> dict[str, Any]:
    """Before a token names the tenant (sign-up, sign-in), the student's own college is read."""
    with tenant_context(user.college_id):
        return _student(user, with_handle=with_handle)


@bp.post("/signin")
def signin():
    body = _body()
    identifier = _text(body, "email")
    password = body.get("password") if isinstance(body.get("password"), str) else ""
    if not identifier or not password:
        raise BadRequest("email and password are required")
    college = college_for_request(identifier.lower())
    login = sessions.login_handle_or_email(identifier, password, _client(),
                                           college_id=college.id if college is not None else None)
    return _reply(200, "Student signed in successfully",
                  {"token": login.token, "student": _student_in_college(login.user, with_handle=True)})


@bp.post("/group/create_group")
def create_group():
    actor = current_user()
    body = _body()
    name, creator = _text(body, "name"), _text(body, "creator_id")
    if not name:
        raise BadRequest("name is required")
    if creator and creator not in (actor.username, actor.id):
        raise BadRequest(CREATOR_MISMATCH)
    minimum = body.get("min_requirement")
    if minimum is not None and (isinstance(minimum, bool) or not isinstance(minimum, (int, float))
                                or not 0 <= minimum <= REAL_MAX):
        raise BadRequest("min_requirement must be a number of at least 0")
    groups.create_group(actor, {"name": name[:120], "subject": _text(body, "feild")[:120] or None,
                                "min_rating": minimum or 0, "max_members": DEFAULT_MAX_MEMBERS,
                                "join_policy": "open"})
    return _reply(201, "Group created successfully")
