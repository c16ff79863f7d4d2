"""Finding groups and memberships, and the row locks the membership protocol takes.

Reads here never decide anything; they load what the rules in `policies.py` and `membership.py`
need. `access(actor, group_id)` is the one way a service reaches a group on someone's behalf: it
is a 404 for an unknown group or another college's, a 403 for a classroom group the actor may
not see.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import ColumnElement, and_, func, select

from ...db import db
from ...errors import NotFound
from ...models import Classroom, College, GroupMember, StudyGroup, User
from ...models.user import DEFAULT_GROUP_LIMIT
from ...policies import can_manage_group, ensure, ensure_manage_group, ensure_view_group
from ...queries import get_scoped_or_404
from ..classrooms import is_enrolled

GROUP_NOT_FOUND = "Group not found"
NOT_MEMBER = "You are not a member of this group"

ACTIVE, PENDING, LEFT, REMOVED, REJECTED = "active", "pending", "left", "removed", "rejected"
LEADER, MEMBER = "leader", "member"


def get_group_or_404(group_id: str) -> StudyGroup:
    return get_scoped_or_404(StudyGroup, group_id, GROUP_NOT_FOUND)


def classroom_of(group: StudyGroup) -> Classroom | None:
    if group.classroom_id is None:
        return None
    return db.session.execute(select(Classroom).where(Classroom.id == group.classroom_id)).scalar_one_or_none()


def membership_of(group_id: str, user_id: str, *, fresh: bool = False) -> GroupMember | None:
    stmt = select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return db.session.execute(stmt).scalar_one_or_none()


def memberships(group_id: str, user_ids: Iterable[str]) -> dict[str, GroupMember]:
    """The membership rows of `user_ids` in the group, re-read (the caller holds the group lock)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id.in_(ids))
        .execution_options(populate_existing=True)
    ).scalars()
    return {m.user_id: m for m in rows}


# MariaDB locks every row its plan reads: with the tenant filter (`college_id = ?`) on small tables
# it may read the college's index instead of the primary key, and then wait for rows of other
# users and groups that a concurrent join holds. Locks name only the rows they mean.
BY_PRIMARY_KEY = "FORCE INDEX (PRIMARY)"


def lock_users(user_ids: Iterable[str]) -> dict[str, User]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(User).where(User.id.in_(ids)).order_by(User.id).with_hint(User, BY_PRIMARY_KEY, "mysql")
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).scalars()
    return {u.id: u for u in rows}


def lock_group(group_id: str) -> StudyGroup:
    """The group, re-read and locked until the request commits (posting to its chat takes it too)."""
    group = db.session.execute(
        select(StudyGroup).where(StudyGroup.id == group_id).with_hint(StudyGroup, BY_PRIMARY_KEY, "mysql")
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if group is None:
        raise NotFound(GROUP_NOT_FOUND)
    return group


@dataclass
class Access:
    group: StudyGroup
    classroom: Classroom | None
    membership: GroupMember | None


def access(actor: User, group_id: str) -> Access:
    """The group if `actor` may see it (another college's id is a 404, like an unknown one)."""
    group = get_group_or_404(group_id)
    classroom = classroom_of(group)
    membership = membership_of(group.id, actor.id)
    member = membership is not None and membership.status in (ACTIVE, PENDING)
    enrolled = group.classroom_id is not None and actor.role == "student" and is_enrolled(group.classroom_id, actor.id)
    ensure_view_group(actor, group, classroom, member=member, enrolled=enrolled)
    return Access(group, classroom, membership)


def managed(actor: User, group_id: str) -> Access:
    found = access(actor, group_id)
    ensure_manage_group(actor, found.group, found.classroom)
    return found


def get_visible_group(actor: User, group_id: str) -> StudyGroup:
    """404 for an unknown (or another college's) group, 403 if `actor` may not see it."""
    return access(actor, group_id).group


def can_manage(actor: User, group: StudyGroup) -> bool:
    """Leader, admin, or a teacher who created the group or teaches its classroom."""
    return can_manage_group(actor, group, classroom_of(group))


def is_active_member(group_id: str, user_id: str) -> bool:
    membership = membership_of(group_id, user_id)
    return membership is not None and membership.status == ACTIVE


def ensure_active_member(actor: User, group: StudyGroup) -> None:
    ensure(is_active_member(group.id, actor.id), NOT_MEMBER)


def active_member_ids(group_id: str) -> list[str]:
    return list(db.session.execute(
        select(GroupMember.user_id).where(GroupMember.group_id == group_id, GroupMember.status == ACTIVE)
        .order_by(GroupMember.joined_at, GroupMember.id)
    ).scalars())


def group_ids_of(user_id: str, statuses: tuple[str, ...] = (ACTIVE,), include_archived: bool = False) -> list[str]:
    """Ids of the groups `user_id` belongs to with one of `statuses`."""
    stmt = (select(GroupMember.group_id).join(StudyGroup, StudyGroup.id == GroupMember.group_id)
            .where(GroupMember.user_id == user_id, GroupMember.status.in_(statuses)))
    if not include_archived:
        stmt = stmt.where(StudyGroup.is_archived.is_(False))
    return list(db.session.execute(stmt).scalars())


def group_limit_of(user: User) -> int:
    """A student's own `group_limit`, else the college's setting, else 5."""
    if user.group_limit:
        return user.group_limit
    college = db.session.get(College, user.college_id) if user.college_id else None
    setting = (college.settings or {}).get("group_limit") if college is not None else None
    return int(setting) if setting else DEFAULT_GROUP_LIMIT


def counts_toward_limit() -> ColumnElement[bool]:
    """The memberships a student's `group_limit` counts: active, in a group that is not archived
    (so unarchiving re-checks it). For statements that join `StudyGroup` to `GroupMember`; the one
    place the rule is written, whether a statement filters by it or reads it per row."""
    return and_(GroupMember.status == ACTIVE, StudyGroup.is_archived.is_(False))


def active_group_counts(user_ids: Iterable[str]) -> dict[str, int]:
    """Memberships that count toward the group limit, per user (one query)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(GroupMember.user_id, func.count())
        .join(StudyGroup, StudyGroup.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(ids), counts_toward_limit())
        .group_by(GroupMember.user_id)
    ).all()
    return dict(rows)
