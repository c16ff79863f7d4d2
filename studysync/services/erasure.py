"""Erasure on request: the person's account and personal data go; what others keep reading stays.

The user row itself stays as an anonymous tombstone (role `erased`, name "Deleted user", no email,
no password, no record), because group chat, direct messages, study sessions and groups that
other people keep reading point at it: their history now reads "Deleted user". Everything that
was only about the person is deleted: profile, learning-style vectors, memberships, enrolments,
reactions, read markers, RSVPs, friendships and requests, notifications, sessions, reset tokens,
calendar feed. Their name is replaced in the notifications of others and in bulk-import results.

Deleting the profile and memberships through the ORM logs a matching change (services/embeddings.py),
so every worker drops the person from its recommendation and search index on the next request.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Text, cast, delete, or_, select, update

from ..auth.passwords import verify_password
from ..db import db, utcnow
from ..errors import BadRequest, NotFound, Unauthorized
from ..models import (
    AuthSession, BulkImportRow, CalendarFeed, Classroom, ClassroomEnrollment, DirectReadMarker, Embedding,
    FriendRequest, Friendship, GroupMember, GroupReadMarker, MessageReaction, Notification, PasswordResetToken,
    Profile, SessionAttendee, StudyGroup, User,
)
from ..models.user import ERASED_NAME, ERASED_ROLE
from ..access import allow
from ..policies import ensure
from . import audit, notifications
from .groups import lock_group
from .search import forget_queries_mentioning

ERASABLE_BY_ADMIN = ("student", "teacher")
RECORD_FIELDS = ("department", "year", "roll_no", "marks", "group_limit", "password_hash", "password_changed_at")


@dataclass(frozen=True)
class Erased:
    user_id: str
    removed: dict[str, int]


@allow("student")
def erase_self(actor: User, password: str) -> Erased:
    """A student erases their own account; the password proves it is them, not a borrowed token."""
    if not verify_password(password, actor.password_hash):
        raise Unauthorized("Password is incorrect")
    audit.record(actor, "user.erased", "user", actor.id)
    return _erase(actor)


@allow("admin")
def erase_user(actor: User, user_id: str) -> Erased:
    """The college's admin erases a student or teacher on their request."""
    target = db.session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if target is None or target.role == ERASED_ROLE:
        raise NotFound("User not found")
    ensure(target.role in ERASABLE_BY_ADMIN, "Admins are erased by another admin after a role change")
    audit.record(actor, "user.erased", "user", target.id)
    return _erase(target)


def _erase(user: User) -> Erased:
    if user.college_id is None:
        raise BadRequest("The sysadmin account cannot be erased")
    removed: dict[str, int] = {}
    removed["group_members"] = _leave_groups(user)
    profile = db.session.execute(select(Profile).where(Profile.user_id == user.id)).scalar_one_or_none()
    if profile is not None:
        db.session.delete(profile)  # through the ORM: logged for the matching index
    removed["profiles"] = int(profile is not None)
    removed["embeddings"] = _delete(Embedding, Embedding.owner_type == "profile", Embedding.owner_id == user.id)
    for model, column in ((AuthSession, AuthSession.user_id), (PasswordResetToken, PasswordResetToken.user_id),
                          (CalendarFeed, CalendarFeed.user_id), (Notification, Notification.user_id),
                          (ClassroomEnrollment, ClassroomEnrollment.student_id),
                          (MessageReaction, MessageReaction.user_id), (GroupReadMarker, GroupReadMarker.user_id),
                          (DirectReadMarker, DirectReadMarker.user_id), (SessionAttendee, SessionAttendee.user_id)):
        removed[model.__tablename__] = _delete(model, column == user.id)
    removed["friendships"] = _delete(Friendship, or_(Friendship.user_low_id == user.id,
                                                     Friendship.user_high_id == user.id))
    removed["friend_requests"] = _delete(FriendRequest, or_(FriendRequest.sender_id == user.id,
                                                            FriendRequest.receiver_id == user.id))
    db.session.execute(update(Classroom).where(Classroom.teacher_id == user.id).values(teacher_id=None)
                       .execution_options(synchronize_session=False))
    _scrub_mentions(user)
    name = user.name
    _tombstone(user)
    db.session.flush()
    forget_queries_mentioning(name)  # searches for the person by name, in this worker
    return Erased(user_id=user.id, removed=removed)


def _delete(model, *conditions) -> int:
    return db.session.execute(delete(model).where(*conditions).execution_options(synchronize_session=False)).rowcount


def _leave_groups(user: User) -> int:
    """Memberships go; a group the person led passes to its longest-standing active member (as when
    a leader leaves), and a group left with no one is archived."""
    memberships = list(db.session.execute(
        select(GroupMember).where(GroupMember.user_id == user.id).order_by(GroupMember.group_id)).scalars())
    for membership in memberships:
        group = lock_group(membership.group_id)
        if membership.status == "active":
            group.member_count -= 1
            if group.member_count == 0:
                group.is_archived = True
        db.session.delete(membership)
    db.session.flush()
    led = db.session.execute(select(StudyGroup).where(StudyGroup.leader_id == user.id)).scalars()
    for group in led:
        successor = db.session.execute(
            select(GroupMember).where(GroupMember.group_id == group.id, GroupMember.status == "active")
            .order_by(GroupMember.joined_at, GroupMember.created_at, GroupMember.id).limit(1)
        ).scalar_one_or_none()
        if successor is not None:
            successor.role = "leader"
            group.leader_id = successor.user_id
    return len(memberships)


def _scrub_mentions(user: User) -> None:
    """Other people's notifications name the person ("Alice wants to be friends"): they now say
    "Deleted user". So do the results of the bulk import that created them."""
    name = user.name
    owners = set()
    for note in db.session.execute(select(Notification).where(
            or_(Notification.title.contains(name, autoescape=True),
                Notification.message.contains(name, autoescape=True),
                cast(Notification.data, Text).contains(user.id, autoescape=True)))).scalars():
        note.title = note.title.replace(name, ERASED_NAME)
        note.message = note.message.replace(name, ERASED_NAME)
        note.data = _without_name(note.data, name)
        owners.add(note.user_id)
    notifications.rewritten(owners)  # their polled lists (ETags) must not answer "unchanged"
    for row in db.session.execute(select(BulkImportRow).where(
            or_(BulkImportRow.student_id == user.id, BulkImportRow.student_email == user.email))).scalars():
        row.student_email, row.student_name = _erased_email(user), ERASED_NAME


def _without_name(value, name: str):
    """`{"senderName": "Alice"}` → `{"senderName": "Deleted user"}`, at any depth."""
    if isinstance(value, str):
        return value.replace(name, ERASED_NAME)
    if isinstance(value, dict):
        return {key: _without_name(item, name) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_name(item, name) for item in value]
    return value


def _erased_email(user: User) -> str:
    return f"erased-{user.id}@erased.invalid"


def _tombstone(user: User) -> None:
    user.name, user.email, user.role, user.status = ERASED_NAME, _erased_email(user), ERASED_ROLE, "inactive"
    user.rating, user.must_change_password, user.updated_at = 0, False, utcnow()
    for field in RECORD_FIELDS:
        setattr(user, field, None)
