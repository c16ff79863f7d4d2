"""Seed 003's classroom study groups at `/api/studygroups/...` (shared/seeds/003_*.txt), unchanged.

Its eight operations with its own bodies (`classroomId`, `memberUserIds`, `userIds`), its own answer
(`_id`, `classroomId`, `name`, `memberUserIds`, `createdBy`, `lastMessageAt`, `isArchived`,
`createdAt`, `updatedAt`; no envelope) and its own errors (`{"message": "..."}`). Each view parses
the body, makes one call into `services/groups.py` and shapes the result; who may do what is decided
there, as on every other surface.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..bodies import json_object
from ...auth.current import current_user
from ...errors import ApiError, BadRequest, handle_http_exception
from ...models import StudyGroup
from ...schemas.group import MAX_GROUP_SIZE
from ...services import groups

bp = Blueprint("legacy_seed003", __name__, url_prefix="/api/studygroups")

LIST_LIMIT = 100
NAME_MAX = 120
DEFAULT_NAME = "Study group"  # the document's name is optional; ours is not
REQUIRED = "classroomId and non-empty memberUserIds are required"
NAME_TOO_LONG = f"name must be at most {NAME_MAX} characters"
MEMBERS_NOT_ARRAY = "memberUserIds must be an array"
USER_IDS_REQUIRED = "userIds must be a non-empty array"
UNAUTHORIZED = "Unauthorized - Invalid or missing token"
GROUP_NOT_FOUND = "Study group not found"
CLASSROOM_NOT_FOUND = "Classroom not found"


# Errors: the document's `{"message": "..."}` --------------------------------------------------


def _error(status: int, message: str, **extra) -> Response:
    response = jsonify({"message": message, **extra})
    response.status_code = status
    return response


def _not_found_message() -> str:
    if request.view_args and "group_id" in request.view_args:
        return GROUP_NOT_FOUND
    return CLASSROOM_NOT_FOUND


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    if exc.status == 401:
        return _error(401, UNAUTHORIZED)
    if exc.status == 404:
        return _error(404, _not_found_message())
    return _error(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 404:
        return _error(404, _not_found_message())
    shaped = handle_http_exception(exc)
    body = shaped.get_json(silent=True) or {}
    extra = {"retryAfter": body["retryAfter"]} if "retryAfter" in body else {}
    response = _error(shaped.status_code, body.get("message") or "Error", **extra)
    for header in ("Retry-After", "Allow"):
        if header in shaped.headers:
            response.headers[header] = shaped.headers[header]
    return response


# Shapes ----------------------------------------------------------------------------------------


def _iso_ms(moment: datetime | None) -> str | None:
    """`2026-01-19T10:30:00.000Z`, the document's (JavaScript's) form of a time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _study_group(group: StudyGroup, members: list[Any] | None = None) -> dict[str, Any]:
    return {
        "_id": group.id,
        "classroomId": group.classroom_id,
        "name": group.name,
        "memberUserIds": members if members is not None else list(group.member_ids),
        "createdBy": group.created_by,
        "lastMessageAt": _iso_ms(group.last_message_at),
        "isArchived": bool(group.is_archived),
        "createdAt": _iso_ms(group.created_at),
        "updatedAt": _iso_ms(group.updated_at),
    }


def _populated(group: StudyGroup) -> dict[str, Any]:
    """`GET /:id`: members as `{_id, name, email, role}` (an email our rules hide is null)."""
    members = [{"_id": m.user_id, "name": m.name, "email": m.email, "role": m.user_role} for m in group.members]
    by_id = {m["_id"]: m for m in members}
    return _study_group(group, [by_id[i] for i in group.member_ids if i in by_id])


_body = json_object


def _ids(value: Any) -> list[str] | None:
    """A JSON array of id strings, else None."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return None
    return value


# The eight operations --------------------------------------------------------------------------


@bp.post("/")
def create_study_group():
    actor = current_user()
    body = _body()
    classroom_id, member_ids, name = body.get("classroomId"), _ids(body.get("memberUserIds")), body.get("name")
    if not isinstance(classroom_id, str) or not classroom_id or not member_ids:
        raise BadRequest(REQUIRED)
    if name is not None and (not isinstance(name, str) or len(name) > NAME_MAX):
        raise BadRequest(NAME_TOO_LONG)
    group = groups.create_group(actor, {
        "name": (name or "").strip() or DEFAULT_NAME, "classroom_id": classroom_id, "member_ids": member_ids,
        "max_members": MAX_GROUP_SIZE, "join_policy": "invite",
    })
    return jsonify(_study_group(group)), 201


@bp.get("/")
def my_study_groups():
    page = groups.my_groups(current_user(), 1, LIST_LIMIT, status="active")
    return jsonify([_study_group(group) for group in page.items])


@bp.get("/classroom/<classroom_id>")
def classroom_study_groups(classroom_id: str):
    page = groups.list_classroom_groups(current_user(), classroom_id, 1, LIST_LIMIT)
    return jsonify([_study_group(group) for group in page.items])


@bp.get("/<group_id>")
def get_study_group(group_id: str):
    return jsonify(_populated(groups.get_group(current_user(), group_id)))


@bp.put("/<group_id>/members")
def replace_members(group_id: str):
    actor = current_user()
    member_ids = _body().get("memberUserIds")
    if not isinstance(member_ids, list) or (member_ids and _ids(member_ids) is None):
        raise BadRequest(MEMBERS_NOT_ARRAY)
    return jsonify(_study_group(groups.replace_members(actor, group_id, member_ids)))


@bp.post("/<group_id>/members")
def add_members(group_id: str):
    actor = current_user()
    user_ids = _ids(_body().get("userIds"))
    if not user_ids:
        raise BadRequest(USER_IDS_REQUIRED)
    return jsonify(_study_group(groups.add_members(actor, group_id, user_ids)))


@bp.delete("/<group_id>/members")
def remove_members(group_id: str):
    actor = current_user()
    user_ids = _ids(_body().get("userIds"))
    if not user_ids:
        raise BadRequest(USER_IDS_REQUIRED)
    return jsonify(_study_group(groups.remove_members(actor, group_id, user_ids)))


@bp.post("/<group_id>/archive")
def archive(group_id: str):
    return jsonify(_study_group(groups.set_archived(current_user(), group_id, True)))
