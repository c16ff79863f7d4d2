"""Study sessions (feature `study_sessions`): a group's sessions, RSVPs, the caller's upcoming
sessions and their calendar feed.

`GET /me/calendar.ics` is the one route here a caller may reach without a Bearer token: calendar
apps cannot send headers, so it also takes the secret of `POST /me/calendar/token` as `?token=`.
A request with an Authorization header is authenticated as usual (a bad header is a 401 whatever
the query says); without one, the secret alone decides (401 when unknown, revoked or its owner
deactivated).

The URL parameter is `study_session_id`, not `session_id`: `api/ids.py` already gives
`session_id` to the login sessions of `/auth/sessions/<session_id>`, and an id parameter has one
tenant check for every route.
"""
from __future__ import annotations

from flask import Response, request, url_for

from ...auth import current_user, login_required
from ...models import StudySession
from ...schemas.common import PageQuerySchema, envelope, reply
from ...schemas.study_session import (
    CalendarQuerySchema,
    CalendarTokenSchema,
    MyStudySessionSchema,
    RsvpSchema,
    StudySessionCreateSchema,
    StudySessionDetailSchema,
    StudySessionListQuerySchema,
    StudySessionSchema,
    StudySessionUpdateSchema,
)
from ...services import study_sessions
from ..ids import register_id
from .blueprint import Blueprint

register_id("study_session_id", StudySession)  # another college's session is a 404 before any view

blp = Blueprint("study_sessions", __name__, url_prefix="/api/v1", description="Study sessions (feature study_sessions)")

ICALENDAR = "text/calendar; charset=utf-8"


@blp.route("/groups/<group_id>/sessions", methods=["GET"])
@login_required
@blp.arguments(StudySessionListQuerySchema, location="query")
@blp.response(200, envelope(StudySessionSchema, many=True, paginated=True))
def list_sessions(query, group_id):
    page = study_sessions.list_group_sessions(current_user(), group_id, query["page"], query["limit"],
                                              upcoming=query["upcoming"], include_cancelled=query["include_cancelled"])
    return reply(page.items, "Study sessions retrieved", page.pagination)


@blp.route("/groups/<group_id>/sessions", methods=["POST"])
@login_required
@blp.arguments(StudySessionCreateSchema)
@blp.response(201, envelope(StudySessionDetailSchema))
def schedule_session(body, group_id):
    return reply(study_sessions.schedule(current_user(), group_id, body), "Study session scheduled")


@blp.route("/sessions/<study_session_id>", methods=["GET"])
@login_required
@blp.response(200, envelope(StudySessionDetailSchema))
def get_session(study_session_id):
    return reply(study_sessions.get_session(current_user(), study_session_id), "Study session retrieved")


@blp.route("/sessions/<study_session_id>", methods=["PATCH"])
@login_required
@blp.arguments(StudySessionUpdateSchema)
@blp.response(200, envelope(StudySessionDetailSchema))
def update_session(body, study_session_id):
    return reply(study_sessions.update_session(current_user(), study_session_id, body), "Study session updated")


@blp.route("/sessions/<study_session_id>", methods=["DELETE"])
@login_required
@blp.response(200, envelope(StudySessionDetailSchema))
def cancel_session(study_session_id):
    return reply(study_sessions.cancel_session(current_user(), study_session_id), "Study session cancelled")


@blp.route("/sessions/<study_session_id>/rsvp", methods=["PUT"])
@login_required
@blp.arguments(RsvpSchema)
@blp.response(200, envelope(StudySessionDetailSchema))
def rsvp(body, study_session_id):
    return reply(study_sessions.rsvp(current_user(), study_session_id, body["status"]), "RSVP saved")


@blp.route("/me/sessions", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, envelope(MyStudySessionSchema, many=True, paginated=True))
def my_sessions(query):
    page = study_sessions.my_sessions(current_user(), query["page"], query["limit"])
    return reply(page.items, "Your upcoming study sessions", page.pagination)


@blp.route("/me/calendar/token", methods=["POST"])
@login_required
@blp.response(201, envelope(CalendarTokenSchema))
def rotate_calendar_token():
    """Create or replace the caller's calendar secret; URLs handed out before stop working."""
    token = study_sessions.rotate_feed_token(current_user())
    url = url_for("study_sessions.calendar_feed", token=token, _external=True)
    return reply({"token": token, "url": url}, "Calendar feed link created")


@blp.route("/me/calendar/token", methods=["DELETE"])
@login_required
@blp.response(200, envelope())
def revoke_calendar_token():
    study_sessions.revoke_feed_token(current_user())
    return reply({}, "Calendar feed link revoked")


@blp.route("/me/calendar.ics", methods=["GET"])
@blp.arguments(CalendarQuerySchema, location="query")
@blp.response(200, content_type="text/calendar",
              description="iCalendar feed: the sessions of the caller's groups from 30 days ago on")
@blp.doc(security=[{"bearerAuth": []}, {}])
def calendar_feed(query):
    """With a Bearer token, or with `?token=<feed secret>` and no Authorization header."""
    if query.get("token") and "Authorization" not in request.headers:
        body = study_sessions.calendar_for_secret(query["token"])
    else:
        body = study_sessions.calendar_for(current_user())
    response = Response(body, content_type=ICALENDAR)
    response.headers["Content-Disposition"] = 'inline; filename="studysync.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response
