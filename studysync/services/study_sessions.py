"""Study sessions (feature `study_sessions`): scheduling, editing, cancelling, RSVPs, the caller's
upcoming sessions and their iCalendar feed.

Who: a group's sessions are seen by its active members and by the staff who manage the group
(`groups.can_manage`: leader, admin, the group's teacher). The same people schedule; the creator,
the leader and managing staff edit and cancel; only active members RSVP. An archived group's
sessions stay readable, but nothing about them changes.

A session is never deleted: cancelling sets its status, so a subscribed calendar learns of it.
`sequence` (iCalendar's SEQUENCE) grows with each edit and the cancel; RSVPs leave it alone.
"Ended" means `scheduled_time + duration_minutes` has passed; `minutes_after()` spells that sum in each
database's SQL, so "upcoming" lists filter and page in the database.

Concurrency: edits and cancels lock the session row and re-read it, so a session is cancelled
once; an RSVP holds a shared lock on it, so none lands after a cancel. One attendee row per
(session, user), updated in place; two first RSVPs at once meet at the unique constraint and the
loser updates the winner's row (a savepoint, as in `direct_messages`). On SQLite `FOR UPDATE` is a
no-op and its single write lock serialises writers instead (a request whose reads went stale
before its first write runs again; db.py).

Every change publishes `session.changed` `{"action", "session"}` to the group's channel after the
commit; scheduling also notifies the group's other active members (`session_scheduled`) and, when
the college has chat, posts an announcement in the group's chat (as the app does on the device).

Calendar feeds: a user's secret (`secrets.token_urlsafe`) is stored only as its SHA-256; rotating
replaces it and revoking deletes it, so older URLs stop working at once. The feed is found by that
hash across colleges (no tenant is known yet), then built inside the owner's college.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from icalendar import Calendar, Event
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..access import allow, public
from ..db import UTCDateTime, db, new_id, utcnow
from ..errors import BadRequest, Conflict, NotFound, Unauthorized
from ..features import ensure_feature, feature_enabled
from ..models import (
    CalendarFeed,
    College,
    GroupMember,
    SessionAttendee,
    StudyGroup,
    StudySession,
    User,
)
from ..models.study_session import RSVP_STATUSES
from ..models.user import COLLEGE_ROLES
from ..policies import ensure, ensure_group_writable
from ..queries import Page, locked_or_created, paginate
from ..realtime import group_channel
from ..schemas.study_session import StudySessionEventSchema
from ..tenancy import all_tenants, tenant_context
from . import chat, groups, notifications
from .events import publish_after_commit

FEATURE = "study_sessions"
CHAT = "chat"  # when the college has it, scheduling also announces the session in the group's chat
SCHEDULED, CANCELLED = "scheduled", "cancelled"
GOING = "going"
SESSION_CHANGED = "session.changed"
SESSION_SCHEDULED = "session_scheduled"  # notification type

SESSION_NOT_FOUND = "Study session not found"
NOT_EDITOR = "Only the session's creator, the group's leader, its teacher or an admin can do this"
IS_CANCELLED = "This session has been cancelled"
ALREADY_CANCELLED = "This session is already cancelled"
HAS_ENDED = "This session has already ended"
INVALID_FEED = "Invalid or revoked calendar token"
COLLEGE_SUSPENDED = "College is suspended"

MAX_AHEAD = timedelta(days=5 * 365)  # a sanity bound: sessions are planned weeks ahead, not decades
FEED_PAST = timedelta(days=30)
FEED_MAX_EVENTS = 1000
PRODID = "-//StudySync//Study sessions//EN"
CALENDAR_NAME = "StudySync study sessions"


# "Ended", in SQL -------------------------------------------------------------------------------


class minutes_after(FunctionElement):
    """`minutes_after(moment, minutes)`: `moment` plus `minutes` minutes, as each database writes it."""

    type = UTCDateTime()
    name = "minutes_after"
    inherit_cache = True


@compiles(minutes_after)
def _minutes_after_postgresql(element, compiler, **kw):
    moment, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"({moment} + make_interval(mins => {minutes}))"


@compiles(minutes_after, "mysql")
@compiles(minutes_after, "mariadb")
def _minutes_after_mysql(element, compiler, **kw):
    moment, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"TIMESTAMPADD(MINUTE, {minutes}, {moment})"


@compiles(minutes_after, "sqlite")
def _minutes_after_sqlite(element, compiler, **kw):
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff'; '%f' keeps milliseconds, which compare
    # correctly against that text to within a millisecond.
    moment, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"strftime('%Y-%m-%d %H:%M:%f', {moment}, '+' || {minutes} || ' minutes')"


def _not_ended(now: datetime):
    return minutes_after(StudySession.scheduled_time, StudySession.duration_minutes) > now


# Loading and rules -----------------------------------------------------------------------------


def _session_stmt(session_id: str):
    return select(StudySession).where(StudySession.id == session_id)


def get_session_or_404(session_id: str) -> StudySession:
    session = db.session.execute(_session_stmt(session_id)).scalar_one_or_none()
    if session is None:
        raise NotFound(SESSION_NOT_FOUND)
    return session


def _locked(session_id: str, *, shared: bool = False) -> StudySession:
    """The session re-read under a row lock held until the commit (shared: it may not change)."""
    session = db.session.execute(
        _session_stmt(session_id).with_for_update(read=shared).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if session is None:
        raise NotFound(SESSION_NOT_FOUND)
    return session


def _ensure_sees(actor: User, group: StudyGroup) -> None:
    ensure(groups.is_active_member(group.id, actor.id) or groups.can_manage(actor, group), groups.NOT_MEMBER)


def _visible_group(actor: User, group_id: str) -> StudyGroup:
    """404 for an unknown (or another college's) group; 403 unless a member or managing staff."""
    group = groups.get_group_or_404(group_id)
    _ensure_sees(actor, group)
    return group


def _visible(actor: User, session_id: str) -> tuple[StudySession, StudyGroup]:
    session = get_session_or_404(session_id)
    return session, _visible_group(actor, session.group_id)


def _editable(actor: User, session_id: str) -> tuple[StudySession, StudyGroup]:
    session, group = _visible(actor, session_id)
    ensure(session.created_by == actor.id or groups.can_manage(actor, group), NOT_EDITOR)
    ensure_group_writable(group)
    return session, group


def _ensure_future(moment: datetime, now: datetime) -> None:
    problem = None
    if moment <= now:
        problem = "scheduled_time must be in the future"
    elif moment > now + MAX_AHEAD:
        problem = "scheduled_time must be within the next 5 years"
    if problem:
        raise BadRequest(problem, errors={"scheduled_time": [problem]})


def _has_ended(session: StudySession, now: datetime) -> bool:
    return session.ends_at <= now


def _optional_text(value: str | None) -> str | None:
    return value or None  # a blank location or description is none


# Views (plain dicts for the schemas) -----------------------------------------------------------


def _view(session: StudySession, counts: dict[str, int], my_rsvp: str | None) -> dict[str, Any]:
    return {
        "session_id": session.id, "group_id": session.group_id, "title": session.title,
        "scheduled_time": session.scheduled_time, "ends_at": session.ends_at,
        "duration_minutes": session.duration_minutes, "location": session.location,
        "description": session.description, "status": session.status, "sequence": session.sequence,
        "created_by": session.created_by, "created_at": session.created_at, "updated_at": session.updated_at,
        "cancelled_at": session.cancelled_at, "counts": counts, "my_rsvp": my_rsvp,
    }


def _summaries(viewer_id: str, sessions: Iterable[StudySession]) -> list[dict[str, Any]]:
    """Each session with its RSVP counts and the viewer's own RSVP: one query for the whole list."""
    sessions = list(sessions)
    counts = {s.id: dict.fromkeys(RSVP_STATUSES, 0) for s in sessions}
    mine: dict[str, str] = {}
    if sessions:
        attendee = SessionAttendee
        rows = db.session.execute(
            select(attendee.session_id, attendee.status, func.count(),
                   func.max(case((attendee.user_id == viewer_id, 1), else_=0)))
            .where(attendee.session_id.in_(list(counts)))
            .group_by(attendee.session_id, attendee.status)
        ).all()
        for session_id, status, count, includes_viewer in rows:
            counts[session_id][status] = count
            if includes_viewer:
                mine[session_id] = status
    return [_view(s, counts[s.id], mine.get(s.id)) for s in sessions]


def _detail(viewer_id: str, session: StudySession) -> dict[str, Any]:
    rows = db.session.execute(
        select(SessionAttendee.user_id, User.name, SessionAttendee.status)
        .join(User, User.id == SessionAttendee.user_id)
        .where(SessionAttendee.session_id == session.id)
        .order_by(SessionAttendee.created_at, SessionAttendee.id)
    ).all()
    counts = dict.fromkeys(RSVP_STATUSES, 0)
    for _, _, status in rows:
        counts[status] += 1
    mine = next((status for user_id, _, status in rows if user_id == viewer_id), None)
    view = _view(session, counts, mine)
    view["attendees"] = [{"user_id": user_id, "name": name, "status": status} for user_id, name, status in rows]
    return view


def _announce(action: str, view: dict[str, Any]) -> None:
    """`session.changed` to the group's live channel, once the change has committed."""
    publish_after_commit(group_channel(view["group_id"]), SESSION_CHANGED,
                         {"action": action, "session": StudySessionEventSchema().dump(view)})


# Listing ---------------------------------------------------------------------------------------


@allow(*COLLEGE_ROLES, feature="study_sessions")
def list_group_sessions(actor: User, group_id: str, page: int, limit: int, *, upcoming: bool = True,
                        include_cancelled: bool = False) -> Page[dict[str, Any]]:
    """The group's sessions, soonest first: by default those not yet ended and not cancelled."""
    group = _visible_group(actor, group_id)
    stmt = select(StudySession).where(StudySession.group_id == group.id)
    if upcoming:
        stmt = stmt.where(_not_ended(utcnow()))
    if not include_cancelled:
        stmt = stmt.where(StudySession.status == SCHEDULED)
    result = paginate(stmt.order_by(StudySession.scheduled_time, StudySession.id), page, limit)
    result.items = _summaries(actor.id, result.items)
    return result


@allow(*COLLEGE_ROLES, feature="study_sessions")
def my_sessions(actor: User, page: int, limit: int) -> Page[dict[str, Any]]:
    """The caller's sessions not yet ended nor cancelled, across the non-archived groups they are an
    active member of, soonest first, each with its group — three queries for any page."""
    stmt = (select(StudySession, StudyGroup.name)
            .join(StudyGroup, StudyGroup.id == StudySession.group_id)
            .join(GroupMember, and_(GroupMember.group_id == StudySession.group_id, GroupMember.user_id == actor.id,
                                    GroupMember.status == groups.ACTIVE))
            .where(StudyGroup.is_archived.is_(False), StudySession.status == SCHEDULED, _not_ended(utcnow()))
            .order_by(StudySession.scheduled_time, StudySession.id))
    result = paginate(stmt, page, limit, scalars=False)
    views = _summaries(actor.id, (session for session, _ in result.items))
    for view, (session, group_name) in zip(views, result.items):
        view["group"] = {"group_id": session.group_id, "name": group_name}
    result.items = views
    return result


@allow(*COLLEGE_ROLES, feature="study_sessions")
def get_session(actor: User, session_id: str) -> dict[str, Any]:
    session, _ = _visible(actor, session_id)
    return _detail(actor.id, session)


# Scheduling, editing, cancelling ---------------------------------------------------------------


@allow(*COLLEGE_ROLES, feature="study_sessions")
def schedule(actor: User, group_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A new session of the group; the creator is going, the other active members are notified."""
    group = _visible_group(actor, group_id)
    ensure_group_writable(group)
    now = utcnow()
    scheduled_time = data["scheduled_time"].replace(microsecond=0)
    _ensure_future(scheduled_time, now)
    session = StudySession(
        id=new_id(), group_id=group.id, title=data["title"], scheduled_time=scheduled_time,
        duration_minutes=data["duration_minutes"], location=_optional_text(data.get("location")),
        description=_optional_text(data.get("description")), status=SCHEDULED, sequence=0,
        created_by=actor.id, created_at=now, updated_at=now,
    )
    db.session.add(session)
    db.session.flush()  # the session row first: the creator's RSVP references it
    db.session.add(SessionAttendee(id=new_id(), session_id=session.id, user_id=actor.id, status=GOING,
                                   created_at=now))
    when = f"{scheduled_time:%Y-%m-%d %H:%M} UTC"
    for member_id in groups.active_member_ids(group.id):
        if member_id != actor.id:
            notifications.notify(member_id, SESSION_SCHEDULED, f"New study session in {group.name}",
                                 f"{actor.name} scheduled \"{session.title}\" for {when}",
                                 {"sessionId": session.id, "groupId": group.id})
    if feature_enabled(db.session.get(College, group.college_id), CHAT):
        where = f" at {session.location}" if session.location else ""
        chat.announce(actor, group.id, f"📅 New study session: \"{session.title}\" on {when}{where}")
    view = _detail(actor.id, session)
    _announce("scheduled", view)
    return view


@allow(*COLLEGE_ROLES, feature="study_sessions")
def update_session(actor: User, session_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit any of the create fields; a real change bumps `sequence` (calendars apply it)."""
    found, _ = _editable(actor, session_id)
    now = utcnow()
    if changes.get("scheduled_time") is not None:
        changes["scheduled_time"] = changes["scheduled_time"].replace(microsecond=0)
        _ensure_future(changes["scheduled_time"], now)
    for field in ("location", "description"):
        if field in changes:
            changes[field] = _optional_text(changes[field])
    session = _locked(found.id)
    if session.status == CANCELLED:
        raise Conflict(IS_CANCELLED)
    changed = False
    for field in ("title", "scheduled_time", "duration_minutes", "location", "description"):
        if field in changes and getattr(session, field) != changes[field]:
            setattr(session, field, changes[field])
            changed = True
    if not changed:
        return _detail(actor.id, session)  # nothing to write or announce
    session.sequence += 1
    session.updated_at = now
    view = _detail(actor.id, session)
    _announce("updated", view)
    return view


@allow(*COLLEGE_ROLES, feature="study_sessions")
def cancel_session(actor: User, session_id: str) -> dict[str, Any]:
    """Cancel (never delete): the row stays, so calendars show the event as cancelled."""
    found, _ = _editable(actor, session_id)
    session = _locked(found.id)
    now = utcnow()
    if session.status == CANCELLED:
        raise Conflict(ALREADY_CANCELLED)
    if _has_ended(session, now):
        raise Conflict(HAS_ENDED)
    session.status, session.cancelled_at, session.updated_at = CANCELLED, now, now
    session.sequence += 1
    view = _detail(actor.id, session)
    _announce("cancelled", view)
    return view


# RSVPs -----------------------------------------------------------------------------------------


def _set_rsvp(session_id: str, user_id: str, status: str) -> bool:
    """The user's one attendee row says `status`; True if that changed anything."""
    attendee, created = locked_or_created(SessionAttendee, {"session_id": session_id, "user_id": user_id},
                                          id=new_id(), status=status, created_at=utcnow())
    if created or attendee.status == status:
        return created
    attendee.status = status
    return True


@allow(*COLLEGE_ROLES, feature="study_sessions")
def rsvp(actor: User, session_id: str, status: str) -> dict[str, Any]:
    """Answer going / maybe / not_going (active members only; not once cancelled or ended)."""
    found, group = _visible(actor, session_id)
    groups.ensure_active_member(actor, group)
    ensure_group_writable(group)
    session = _locked(found.id, shared=True)
    if session.status == CANCELLED:
        raise Conflict(IS_CANCELLED)
    if _has_ended(session, utcnow()):
        raise Conflict(HAS_ENDED)
    changed = _set_rsvp(session.id, actor.id, status)
    view = _detail(actor.id, session)
    if changed:
        _announce("rsvp", view)
    return view


# Calendar feed ---------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@allow(*COLLEGE_ROLES, feature="study_sessions")
def rotate_feed_token(actor: User) -> str:
    """A new secret for the caller's feed; the previous one (if any) stops working. Only the hash is kept."""
    secret = secrets.token_urlsafe(32)
    digest, now = _digest(secret), utcnow()
    feed, _ = locked_or_created(CalendarFeed, {"user_id": actor.id}, token_hash=digest, created_at=now)
    feed.token_hash, feed.created_at = digest, now
    return secret


@allow(*COLLEGE_ROLES, feature="study_sessions")
def revoke_feed_token(actor: User) -> None:
    feed = db.session.execute(select(CalendarFeed).where(CalendarFeed.user_id == actor.id)).scalar_one_or_none()
    if feed is not None:
        db.session.delete(feed)


def feed_owner(secret: str) -> User:
    """The active user whose feed secret this is (401 otherwise; 403 if their college has the feature off)."""
    digest = _digest(secret)
    with all_tenants():
        row = db.session.execute(
            select(User, College)
            .join(CalendarFeed, and_(CalendarFeed.user_id == User.id, CalendarFeed.college_id == User.college_id))
            .join(College, College.id == User.college_id)
            .where(CalendarFeed.token_hash == digest)
        ).first()
    user, college = row if row is not None else (None, None)
    if user is None or not user.is_active:
        raise Unauthorized(INVALID_FEED)
    if not college.is_active:
        raise Unauthorized(COLLEGE_SUSPENDED)
    ensure_feature(college, FEATURE)
    return user


@public
def calendar_for_secret(secret: str) -> bytes:
    """The feed behind a calendar URL's secret, built inside its owner's college."""
    owner = feed_owner(secret)
    with tenant_context(owner.college_id):
        return calendar_for(owner)


@allow(*COLLEGE_ROLES, feature="study_sessions")
def calendar_for(actor: User) -> bytes:
    """iCalendar text: the sessions of the actor's groups from 30 days ago on, cancelled ones
    included (STATUS:CANCELLED), so subscribed calendars drop them. One query."""
    now = utcnow()
    rows = db.session.execute(
        select(StudySession, StudyGroup.name)
        .join(StudyGroup, StudyGroup.id == StudySession.group_id)
        .join(GroupMember, and_(GroupMember.group_id == StudySession.group_id, GroupMember.user_id == actor.id,
                                GroupMember.status == groups.ACTIVE))
        .where(StudyGroup.is_archived.is_(False), StudySession.scheduled_time >= now - FEED_PAST)
        .order_by(StudySession.scheduled_time, StudySession.id)
        .limit(FEED_MAX_EVENTS)
    ).all()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    for session, group_name in rows:
        calendar.add_component(_vevent(session, group_name, now))
    return calendar.to_ical()


def _vevent(session: StudySession, group_name: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"{session.id}@studysync")
    event.add("dtstamp", now)
    event.add("dtstart", _utc(session.scheduled_time))
    event.add("dtend", _utc(session.ends_at))
    event.add("sequence", session.sequence)
    event.add("summary", session.title)
    if session.location:
        event.add("location", session.location)
    event.add("description", "\n\n".join(filter(None, (session.description, f"Group: {group_name}"))))
    event.add("status", "CANCELLED" if session.status == CANCELLED else "CONFIRMED")
    event.add("created", _utc(session.created_at))
    event.add("last-modified", _utc(session.updated_at))
    return event


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
