"""The React Native app's unversioned `/api/...` routes (contract: shared/contracts/studysync-mobile.md).

Thin adapters: each view reshapes one service call into the app's shapes — `{"success": true, ...}`
and errors `{"success": false, "error": "...", "message": "..."}`, JSON on every status. No rule is
implemented here; body-less POSTs never parse JSON (the app sends a JSON content type with no body).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import conditional
from ..bodies import json_object
from ...auth import sessions
from ...auth.current import companion_row, current_user, loads_with_token
from ...auth.passwords import password_problem
from ...db import utc_iso
from ...errors import NO_COLLEGE_MESSAGE, ApiError, BadRequest, envelope, handle_http_exception
from ...models import College, User
from ...schemas.group import MAX_GROUP_SIZE
from ...schemas.profile import ProfileUpdateSchema
from ...services import groups, notifications, profiles, recommendations, search, students
from ...tenancy import TenancyError
from ..request_college import college_for_request

bp = Blueprint("mobile", __name__, url_prefix="/api")

NO_COLLEGE = "No college is registered for this email's domain; use your college email"
DEFAULT_MAX_MEMBERS = 6
LIST_LIMIT = 100
NOTIFICATIONS_ROUTE = "mobile.notifications"  # names the route inside its ETags (api/conditional.py)


# Shapes -----------------------------------------------------------------------------------------




def _ok(**fields) -> Response:
    return jsonify({"success": True, **fields})


_body = json_object


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _percent(value: Any) -> int | None:
    """0–100 as an int; a missing or zero match is null (the app renders a bare 0 otherwise)."""
    if value is None:
        return None
    number = int(round(float(value)))
    return number if number > 0 else None


def _mobile_error(response: Response) -> Response:
    body = response.get_json(silent=True) or {"success": False, "message": "Error"}
    body["error"] = body.get("message") or "Error"
    out = jsonify(body)
    out.status_code = response.status_code
    for header in ("Retry-After", "Allow"):
        if header in response.headers:
            out.headers[header] = response.headers[header]
    return out


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return _mobile_error(exc.response())


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _mobile_error(handle_http_exception(exc))


@bp.errorhandler(TenancyError)
def _tenancy_error(exc: TenancyError):
    return _mobile_error(envelope(403, NO_COLLEGE_MESSAGE))


@bp.after_request
def _conditional(response: Response) -> Response:
    """A GET whose body has not changed since the client's `If-None-Match` answers 304 with no
    body. The two routes the app polls (a DM thread every 3 s, notifications every 10 s) tag
    their answers themselves, before building them (`api/conditional.py`); the others are tagged
    here by a hash of the body they built. Per-user data, so nothing in between may cache it."""
    if request.method == "GET" and response.status_code == 200 and response.is_json and "ETag" not in response.headers:
        response.headers["Cache-Control"] = "private, no-cache"
        response.add_etag()
        response.make_conditional(request)
    return response


def _user_view(user: User, profile: dict[str, Any]) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "major": profile.get("major"),
            "year": profile.get("year"), "subjects": list(profile.get("subjects") or [])}


def _full_user(user: User, profile: dict[str, Any], college: College | None) -> dict[str, Any]:
    prefs = profile.get("group_preferences") or {}
    return {
        **_user_view(user, profile),
        "university": profile.get("university") or (college.name if college is not None else None),
        "learning_style": profile.get("learning_style"),
        "schedule": profile.get("schedule") or {},
        "performance_level": profile.get("performance_level") or 3,
        "group_preferences": {"groupSize": prefs.get("group_size"), "sessionDuration": prefs.get("session_duration"),
                              "studyGoals": list(prefs.get("study_goals") or [])},
        "studyPreferences": {"learningStyle": profile.get("learning_style"),
                             "sessionDuration": prefs.get("session_duration")},
    }


def _client() -> sessions.ClientInfo:
    return sessions.ClientInfo(request.headers.get("User-Agent"), request.remote_addr)


# Auth -------------------------------------------------------------------------------------------


# The app's own snake_case names, and the camelCase ones of the StudySync backend's README (seed 002).
CAMEL_PROFILE_FIELDS = {"learningStyle": "learning_style", "performanceLevel": "performance_level",
                        "schedule": "schedule", "studyEnvironments": "study_environments",
                        "studyMethods": "study_methods"}
CAMEL_PREFERENCES = {"groupSize": "group_size", "sessionDuration": "session_duration", "studyGoals": "study_goals"}


def _profile_data(body: dict[str, Any]) -> dict[str, Any]:
    """The profile a registration body describes, in either body's field names."""
    data = {k: body[k] for k in ("major", "year", "subjects", "learning_style", "university", "performance_level",
                                 "study_environments", "study_methods", "bio") if body.get(k) is not None}
    for camel, snake in CAMEL_PROFILE_FIELDS.items():
        if body.get(camel) is not None:
            data.setdefault(snake, body[camel])
    if body.get("availability") is not None:
        data["schedule"] = body["availability"]
    prefs: dict[str, Any] = {}
    camel_prefs = body.get("groupPreferences")
    if isinstance(camel_prefs, dict):
        prefs.update({snake: camel_prefs[camel] for camel, snake in CAMEL_PREFERENCES.items()
                      if camel_prefs.get(camel) is not None})
    if body.get("preferred_group_size") is not None:
        prefs["group_size"] = body["preferred_group_size"]
    if body.get("study_preferences") is not None:
        prefs["study_goals"] = body["study_preferences"]
    if prefs:
        data["group_preferences"] = prefs
    return data


@bp.post("/auth/register")
def register():
    body = _body()
    # the app's login screen trims the password, so sign-up does too: what was typed works at login
    name, email, password = _text(body.get("name")).strip(), _text(body.get("email")).strip().lower(), \
        _text(body.get("password")).strip()
    if not name or not email or "@" not in email:
        raise BadRequest("name and a valid email are required")
    problem = password_problem(password, strong=False)
    if problem:
        raise BadRequest(problem, errors={"password": [problem]})
    profile_data = _profile_data(body)
    errors = ProfileUpdateSchema().validate(profile_data)  # the profile's own rules, before any row exists
    if errors:
        field, problems = next(iter(errors.items()))
        raise BadRequest(f"{field}: {problems[0] if isinstance(problems, list) else problems}", errors=errors)
    college = college_for_request(email)
    if college is None:
        raise BadRequest(NO_COLLEGE, errors={"email": [NO_COLLEGE]})
    student = students.register(college.id, {"name": name, "email": email}, password, _client())
    profiles.upsert_profile(student, profile_data)
    login = sessions.open_session(student, _client())
    return _ok(token=login.token, user=_user_view(student, profile_data), message="Registration successful"), 201


@bp.post("/auth/login")
def login():
    body = _body()
    email, password = _text(body.get("email")).strip().lower(), _text(body.get("password")).strip()
    college = college_for_request(email) if email else None
    result = sessions.login_app_student(email, password, _client(), college_id=college.id if college else None)
    profile = profiles.my_profile(result.user)
    return _ok(token=result.token, user=_user_view(result.user, profile), message="Login successful")


@bp.get("/auth/profile")
@bp.get("/auth/me")
def my_profile():
    user = current_user()
    return _ok(user=_full_user(user, profiles.my_profile(user), g.get("college")))


@bp.get("/users/<user_id>")
def user_profile(user_id: str):
    viewer = current_user()
    profile = profiles.public_profile(viewer, user_id)
    user = {"id": profile["user_id"], "name": profile["name"], "major": profile.get("major"),
            "year": profile.get("year"), "subjects": list(profile.get("subjects") or []),
            "learning_style": profile.get("learning_style"), "schedule": profile.get("schedule") or {}}
    if "email" in profile:
        user["email"] = profile["email"]
    return _ok(user=user)


# Groups -----------------------------------------------------------------------------------------


# The "Create your own group" card, filled as the app fills its own fallback card: every line has text.
SUGGESTION_ID = "create-your-own-group"
SUGGESTION_MEMBERS = "Just you, to start"
SUGGESTION_COMPATIBILITY = {"subject": 0.0, "schedule": 0.0, "learning_style": 0.0, "performance": 0.0}


def _member_info(count: Any, maximum: Any) -> str:
    return f"{count or 0}/{maximum or DEFAULT_MAX_MEMBERS} members"


@bp.post("/recommend")
def recommend():
    user = current_user()
    items = []
    for r in recommendations.recommend(user, "groups"):
        suggested = bool(r.get("suggested"))
        comp = r.get("compatibility") or SUGGESTION_COMPATIBILITY
        items.append({
            "id": r.get("group_id") or SUGGESTION_ID,
            "title": r.get("name") or r.get("title") or "Study group",
            "matchPercentage": _percent(r.get("match_percentage")),
            "memberInfo": SUGGESTION_MEMBERS if suggested else _member_info(r.get("member_count"), r.get("max_members")),
            "schedule": r.get("schedule") or ("Flexible" if suggested else ""),
            "focus": r.get("subject") or ("Any subject" if suggested else ""),
            "location": r.get("location") or ("TBD" if suggested else ""),
            "action": "Create Group" if suggested else
                      ("Request to Join" if r.get("join_policy") == "request" else "Join Group"),
            "suggested": suggested,
            "explanation": r.get("explanation") or r.get("description") or "",
            "compatibility": {"subject": comp.get("subject"), "schedule": comp.get("schedule"),
                              "learningStyle": comp.get("learning_style"), "performance": comp.get("performance")},
        })
    return _ok(recommendations=items)


def _max_members(value: Any) -> int:
    """The app sends `parseInt(input) || 6`: anything not positive is 6; above the largest group is
    refused like on /api/v1 (it would not fit the column either)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return DEFAULT_MAX_MEMBERS
    if number > MAX_GROUP_SIZE:
        raise BadRequest(f"maxMembers: at most {MAX_GROUP_SIZE}", errors={"maxMembers": [f"At most {MAX_GROUP_SIZE}"]})
    return number if number > 0 else DEFAULT_MAX_MEMBERS


@bp.post("/groups/create")
def create_group():
    user = current_user()
    body = _body()
    title = _text(body.get("title")).strip()
    if not title:
        raise BadRequest("title is required", errors={"title": ["Missing data for required field."]})
    data = {"name": title, "subject": _text(body.get("subject")).strip() or None,
            "description": _text(body.get("description")) or None,
            "schedule": _text(body.get("schedule")).strip() or "Flexible",
            "location": _text(body.get("location")).strip() or "TBD",
            "max_members": _max_members(body.get("maxMembers")), "join_policy": "request"}
    group = groups.create_group(user, data)
    return _ok(group_id=group.id, message="Group created"), 201


@bp.get("/groups/mine")
def my_groups():
    user = current_user()
    page = groups.my_groups(user, 1, LIST_LIMIT)
    items = [{
        "id": gr.id, "title": gr.name, "subject": gr.subject or "", "description": gr.description or "",
        "schedule": gr.schedule or "Flexible", "location": gr.location or "TBD", "maxMembers": gr.max_members,
        "currentMembers": gr.member_count, "leaderName": gr.leader_name or "", "role": gr.role,
        "status": gr.status, "createdAt": utc_iso(gr.created_at), "joinedAt": utc_iso(gr.joined_at),
    } for gr in page.items]
    return _ok(groups=items)


@bp.post("/groups/<group_id>/request-join")
@bp.post("/groups/<group_id>/join")
def request_join(group_id: str):
    membership = groups.join_group(current_user(), group_id)
    if membership.status == "pending":
        return _ok(message="Join request sent to the group leader", status="pending")
    return _ok(message="You joined the group", status=membership.status)


@bp.post("/groups/<group_id>/requests/<user_id>/approve")
def approve_request(group_id: str, user_id: str):
    groups.approve_request(current_user(), group_id, user_id)
    return _ok(message="Join request approved")


@bp.post("/groups/<group_id>/requests/<user_id>/reject")
def reject_request(group_id: str, user_id: str):
    groups.reject_request(current_user(), group_id, user_id)
    return _ok(message="Join request has been rejected")


# Search -----------------------------------------------------------------------------------------


@bp.post("/search")
def search_groups():
    user = current_user()
    hits = search.search(user, _text(_body().get("query")), "groups")
    results = [{
        "id": h["group_id"], "title": h.get("name") or "Study group",
        "matchPercentage": _percent((h.get("score") or 0) * 100), "focus": h.get("subject") or "",
        "memberInfo": _member_info(h.get("member_count"), h.get("max_members")),
        "schedule": h.get("schedule") or "", "location": h.get("location") or "",
        "explanation": h.get("description") or "",  # GroupInfo shows it as the group's description
        "maxMembers": h.get("max_members") or DEFAULT_MAX_MEMBERS, "currentMembers": h.get("member_count") or 0,
        "leaderName": h.get("leader_name") or "", "members": list(h.get("members") or []),
        "description": h.get("description") or "",
    } for h in hits]
    return _ok(results=results)


@bp.post("/search/people")
def search_people():
    user = current_user()
    hits = search.search(user, _text(_body().get("query")), "people")
    results = [{
        "id": h["user_id"], "name": h.get("name") or "", "major": h.get("major"), "year": h.get("year"),
        "subjects": list(h.get("subjects") or []), "matchPercentage": _percent((h.get("score") or 0) * 100),
    } for h in hits]
    return _ok(results=results)


# Notifications ----------------------------------------------------------------------------------


@bp.get("/notifications")
@loads_with_token(notifications.BELL_COUNTS, when=conditional.revalidating)
def list_notifications():
    """Polled every 10 s: unchanged since the client's ETag → 304 before anything is loaded, from
    the one statement that also checked the token."""
    user = current_user()
    validator = conditional.Validator(NOTIFICATIONS_ROUTE, user)
    polled = notifications.poll(user, 1, LIST_LIMIT, unchanged=validator.unchanged, counts=companion_row())
    if polled.page is None:
        return validator.not_modified(polled.version)
    items = [{"id": n.id, "type": n.type, "title": n.title, "message": n.message, "read": n.read_at is not None,
              "createdAt": utc_iso(n.created_at), "data": dict(n.data or {})} for n in polled.page.items]
    return validator.tagged(_ok(notifications=items, unreadCount=polled.unread), polled.version)


@bp.post("/notifications/<notification_id>/read")
def read_notification(notification_id: str):
    notifications.mark_read(current_user(), notification_id)
    return _ok(message="Notification marked as read")


from . import chat, social  # noqa: E402,F401  group chat; friends and direct messages
