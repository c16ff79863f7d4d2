"""Object rules: pure `can_*(actor, obj, ...)` functions and `ensure_*` helpers that raise.

Nothing here queries the database. Whatever a rule needs beyond the objects themselves (is the
actor enrolled? a member? friends with the subject?) is passed in by the service that loaded it,
so every rule can be read, and tested, on its own.
"""
from __future__ import annotations

from .errors import Forbidden
from .models.user import STAFF_ROLES


def is_staff(user) -> bool:
    return user.role in STAFF_ROLES


def ensure(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise Forbidden(message)


def ensure_role(actor, *roles: str) -> None:
    """The first line of a service entry point: 403 (the seed's message) unless `actor` has one of `roles`."""
    ensure(actor is not None and actor.role in roles)


# Users and profiles --------------------------------------------------------------------------


def can_see_email(viewer, subject, *, friends: bool = False) -> bool:
    """A classmate's email is private: shown to the person themself, to staff, and to friends.

    The social issue passes `friends=True` once friendships exist; until then a student never
    sees another student's email.
    """
    return viewer.id == subject.id or is_staff(viewer) or friends


# Classrooms ----------------------------------------------------------------------------------


def can_manage_classroom(actor, classroom) -> bool:
    """Edit, enroll and unenroll: the college's admins and the classroom's own teacher."""
    return actor.role == "admin" or (actor.role == "teacher" and classroom.teacher_id == actor.id)


def can_view_classroom(actor, classroom, *, enrolled: bool) -> bool:
    return can_manage_classroom(actor, classroom) or (actor.role == "student" and enrolled)


def ensure_manage_classroom(actor, classroom) -> None:
    ensure(can_manage_classroom(actor, classroom), "Only an admin or the classroom's teacher can do this")


def ensure_view_classroom(actor, classroom, *, enrolled: bool) -> None:
    ensure(can_view_classroom(actor, classroom, enrolled=enrolled), "You are not a member of this classroom")


# Groups --------------------------------------------------------------------------------------


def can_manage_group(actor, group, classroom=None) -> bool:
    """Edit, archive, manage members and requests: the leader, an admin, or a teacher who created
    the group or teaches its classroom."""
    if actor.role == "admin" or group.leader_id == actor.id:
        return True
    if actor.role == "teacher":
        return group.created_by == actor.id or (classroom is not None and classroom.teacher_id == actor.id)
    return False


def can_view_group(actor, group, classroom=None, *, member: bool, enrolled: bool) -> bool:
    """Anyone of the college sees an open-to-all group; a classroom group is seen by the
    classroom's people (and by its members, even after they leave the classroom)."""
    if is_staff(actor) or member or group.leader_id == actor.id:
        return True
    return group.classroom_id is None or enrolled


def can_create_group(actor, classroom=None, *, enrolled: bool) -> bool:
    if classroom is None:
        return actor.role in ("admin", "teacher", "student")
    return can_manage_classroom(actor, classroom) or (actor.role == "student" and enrolled)


def ensure_manage_group(actor, group, classroom=None) -> None:
    ensure(can_manage_group(actor, group, classroom),
           "Only the group's leader, its teacher or an admin can do this")


def ensure_view_group(actor, group, classroom=None, *, member: bool, enrolled: bool) -> None:
    ensure(can_view_group(actor, group, classroom, member=member, enrolled=enrolled),
           "Only students of this group's classroom can see it")


# Group chat ----------------------------------------------------------------------------------


def can_moderate_chat(actor, group, classroom=None) -> bool:
    """A teacher of the group or an admin: reads the chat and deletes anyone's message, member or not."""
    return is_staff(actor) and can_manage_group(actor, group, classroom)


def can_use_chat(actor, group, classroom=None, *, member: bool) -> bool:
    """Active members read and post; so do the group's moderators. A member who leaves or is removed
    loses access at once (the service passes `member` from a fresh read)."""
    return member or can_moderate_chat(actor, group, classroom)


def can_announce(actor, group, classroom=None) -> bool:
    """Announcements come from the leader or the group's teacher (or an admin)."""
    return group.leader_id == actor.id or can_moderate_chat(actor, group, classroom)


def can_delete_message(actor, message, group, classroom=None) -> bool:
    return message.sender_id == actor.id or group.leader_id == actor.id or can_moderate_chat(actor, group, classroom)


def ensure_use_chat(actor, group, classroom=None, *, member: bool) -> None:
    ensure(can_use_chat(actor, group, classroom, member=member), "You are not a member of this group")
