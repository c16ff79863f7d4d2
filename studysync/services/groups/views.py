"""What the surfaces show of groups: typed results, built for a whole list in a fixed number of
queries, and the read-only entry points (browse, mine, detail, members, requests).

Every surface shapes these dataclasses with its own schema; nothing here knows a field name of
any client.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from ...access import allow
from ...db import db
from ...models import GroupMember, StudyGroup, User
from ...models.user import COLLEGE_ROLES
from ...policies import can_manage_group
from ...queries import Page, paginate, text_search
from ..classrooms import classroom_ids_of
from ..friends import visible_emails
from ..read_markers import group_unread_column
from .lookups import (
    ACTIVE, LEADER, MEMBER, PENDING, Access, access, group_ids_of, group_limit_of, managed, membership_of,
)


@dataclass
class GroupCard:
    """A group as every listing shows it."""

    id: str
    name: str
    subject: str | None
    description: str | None
    schedule: str | None
    location: str | None
    max_members: int
    member_count: int
    min_rating: float
    join_policy: str
    classroom_id: str | None
    leader_id: str
    created_by: str
    is_archived: bool
    last_message_at: datetime | None
    created_at: datetime
    updated_at: datetime
    leader_name: str | None = None
    member_ids: list[str] = field(default_factory=list)

    @property
    def has_space(self) -> bool:
        return self.member_count < self.max_members


_COLUMNS = [f.name for f in fields(GroupCard) if f.name not in ("leader_name", "member_ids")]


@dataclass
class MyGroup(GroupCard):
    """One of the caller's groups, with their place in it."""

    role: str = MEMBER
    status: str = ACTIVE
    joined_at: datetime | None = None
    requested_at: datetime | None = None
    unread_count: int = 0


@dataclass
class Member:
    user_id: str
    name: str
    role: str  # leader or member
    user_role: str  # student, teacher or admin
    joined_at: datetime | None
    email: str | None = None  # only for viewers allowed to see it


@dataclass
class ViewerMembership:
    role: str
    status: str


@dataclass
class GroupDetail(GroupCard):
    members: list[Member] = field(default_factory=list)
    my_membership: ViewerMembership | None = None
    can_manage: bool = False


@dataclass
class MembershipResult:
    group_id: str
    user_id: str
    role: str
    status: str
    joined_at: datetime | None
    requested_at: datetime | None


@dataclass
class JoinRequest:
    user_id: str
    name: str
    rating: float | None
    requested_at: datetime | None


def cards(groups: list[StudyGroup], kind: type[GroupCard] = GroupCard,
          per_group: dict[str, dict[str, Any]] | None = None, leader_names: dict[str, str] | None = None) -> list:
    """`kind` for each group, with its active member ids and leader's name, in two queries for the
    whole list (one when the caller's list query brought `leader_names`, by leader id).
    `per_group[group_id]` holds the fields a subclass adds."""
    members = active_member_ids([g.id for g in groups])
    leader_ids = {g.leader_id for g in groups}
    if leader_names is not None:
        names = leader_names
    elif leader_ids:
        names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(leader_ids))).all())
    else:
        names = {}
    per_group = per_group or {}
    return [kind(**{c: getattr(g, c) for c in _COLUMNS}, leader_name=names.get(g.leader_id),
                 member_ids=members.get(g.id, []), **per_group.get(g.id, {})) for g in groups]


def active_member_ids(group_ids: list[str]) -> dict[str, list[str]]:
    """Each group's active members, by seniority, in one query for the whole list."""
    members: dict[str, list[str]] = {i: [] for i in group_ids}
    if group_ids:
        for group_id, user_id in db.session.execute(_members_statement(), {"group_ids": group_ids}).all():
            members[group_id].append(user_id)
    return members


@cache
def _members_statement():
    """Active members of a list of groups, built once per process (every group list runs it)."""
    return (select(GroupMember.group_id, GroupMember.user_id)
            .where(GroupMember.group_id.in_(bindparam("group_ids", expanding=True)), GroupMember.status == ACTIVE)
            .order_by(GroupMember.joined_at, GroupMember.id))


def card(group: StudyGroup) -> GroupCard:
    return cards([group])[0]


def members_of(viewer: User, group: StudyGroup) -> list[Member]:
    """Active members, the leader first, then by seniority; emails as `visible_emails` allows."""
    rows = db.session.execute(
        select(GroupMember, User).join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id == group.id, GroupMember.status == ACTIVE)
        .order_by(GroupMember.joined_at, GroupMember.id)
    ).all()
    emails = visible_emails(viewer, (user for _, user in rows))
    views = [Member(user.id, user.name, LEADER if user.id == group.leader_id else MEMBER, user.role,
                    membership.joined_at, emails.get(user.id)) for membership, user in rows]
    views.sort(key=lambda v: v.role != LEADER)
    return views


def detail(actor: User, found: Access) -> GroupDetail:
    group = found.group
    membership = membership_of(group.id, actor.id)
    mine = None
    if membership is not None and membership.status in (ACTIVE, PENDING):
        mine = ViewerMembership(LEADER if group.leader_id == actor.id else membership.role, membership.status)
    extra = {group.id: {"members": members_of(actor, group), "my_membership": mine,
                        "can_manage": can_manage_group(actor, group, found.classroom)}}
    return cards([group], GroupDetail, per_group=extra)[0]


def membership_result(group: StudyGroup, membership: GroupMember) -> MembershipResult:
    return MembershipResult(group.id, membership.user_id,
                            LEADER if membership.user_id == group.leader_id else membership.role,
                            membership.status, membership.joined_at, membership.requested_at)


@dataclass
class Standing:
    """Where a user stands: the groups they are an active member of, and how many they may join."""

    group_ids: list[str]
    group_limit: int


# Read-only entry points ------------------------------------------------------------------------


@allow(*COLLEGE_ROLES)
def standing(actor: User) -> Standing:
    return Standing(group_ids_of(actor.id), group_limit_of(actor))


@allow(*COLLEGE_ROLES)
def get_group(actor: User, group_id: str) -> GroupDetail:
    return detail(actor, access(actor, group_id))


def _visible_to(actor: User, stmt):
    """Students see groups outside classrooms and those of their own classrooms."""
    if actor.role == "student":
        stmt = stmt.where(or_(StudyGroup.classroom_id.is_(None), StudyGroup.classroom_id.in_(classroom_ids_of(actor.id))))
    return stmt


@allow(*COLLEGE_ROLES)
def list_groups(actor: User, page: int, limit: int, filters: dict[str, Any] | None = None) -> Page[GroupCard]:
    """Browse the college's non-archived groups, most recently updated first."""
    filters = filters or {}
    stmt = _visible_to(actor, select(StudyGroup).where(StudyGroup.is_archived.is_(False)))
    if filters.get("q") and filters["q"].strip():
        stmt = stmt.where(text_search(filters["q"], StudyGroup.name, StudyGroup.subject, StudyGroup.description))
    if filters.get("subject") and filters["subject"].strip():
        stmt = stmt.where(func.lower(StudyGroup.subject) == filters["subject"].strip().lower())
    if filters.get("classroom_id"):
        stmt = stmt.where(StudyGroup.classroom_id == filters["classroom_id"])
    if filters.get("has_space"):
        stmt = stmt.where(StudyGroup.member_count < StudyGroup.max_members)
    stmt = stmt.order_by(StudyGroup.updated_at.desc(), StudyGroup.id.desc())
    result = paginate(stmt, page, limit)
    result.items = cards(list(result.items))
    return result


@allow(*COLLEGE_ROLES)
def list_classroom_groups(actor: User, classroom_id: str, page: int, limit: int) -> Page[GroupCard]:
    """Seed 003's "groups by classroom": for the classroom's teacher, admins and enrolled students."""
    from ..classrooms import viewable

    classroom = viewable(actor, classroom_id)
    return list_groups(actor, page, limit, {"classroom_id": classroom.id})


@allow(*COLLEGE_ROLES)
def my_groups(actor: User, page: int, limit: int, status: str | None = None) -> Page[MyGroup]:
    """The caller's non-archived groups (active and pending), and those they lead without being a
    member (a teacher's classroom groups), with the caller's role and status. Two statements for
    any page: the page (with the total, leader names and unread counts), then the members."""
    statuses = (status,) if status else (ACTIVE, PENDING)
    result = paginate(_my_groups_statement(status in (None, ACTIVE)), page, limit, scalars=False,
                      params={"user_id": actor.id, "statuses": list(statuses)})
    width = len(_COLUMNS)
    members = active_member_ids([row[0] for row in result.items])  # `id` is the first card column
    items = []
    for row in result.items:
        card = dict(zip(_COLUMNS, row[:width]))
        role, member_status, joined_at, requested_at, leader_name, unread = row[width:]
        current = member_status in (ACTIVE, PENDING)  # None: led without a membership
        items.append(MyGroup(**card, leader_name=leader_name, member_ids=members[card["id"]],
                             role=LEADER if card["leader_id"] == actor.id else role,
                             status=member_status if current else ACTIVE,
                             joined_at=joined_at, requested_at=requested_at, unread_count=unread))
    result.items = items
    return result


@cache
def _my_groups_statement(or_led: bool):
    """Built once per process (the app polls this list): each group's card columns with the
    caller's membership (if any), its leader's name and the caller's unread count (a correlated
    count, `read_markers.group_unread_column`); `or_led` adds the groups the caller leads without a
    membership. Columns, not ORM rows: a list builds no entity per group."""
    user_id = bindparam("user_id")
    mine = and_(GroupMember.group_id == StudyGroup.id, GroupMember.user_id == user_id)
    condition = GroupMember.status.in_(bindparam("statuses", expanding=True))
    if or_led:
        condition = or_(condition, StudyGroup.leader_id == user_id)
    leader = aliased(User)
    return (select(*(getattr(StudyGroup, c) for c in _COLUMNS),
                   GroupMember.role, GroupMember.status, GroupMember.joined_at, GroupMember.requested_at,
                   leader.name, group_unread_column(GroupMember))
            .select_from(StudyGroup).outerjoin(GroupMember, mine)
            .outerjoin(leader, leader.id == StudyGroup.leader_id)
            .where(StudyGroup.is_archived.is_(False), condition)
            .order_by(StudyGroup.updated_at.desc(), StudyGroup.id.desc()))


@allow(*COLLEGE_ROLES)
def list_members(actor: User, group_id: str) -> list[Member]:
    return members_of(actor, access(actor, group_id).group)


@allow(*COLLEGE_ROLES)
def list_requests(actor: User, group_id: str, page: int, limit: int) -> Page[JoinRequest]:
    found = managed(actor, group_id)
    stmt = (select(GroupMember, User).join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == found.group.id, GroupMember.status == PENDING)
            .order_by(GroupMember.requested_at, GroupMember.id))
    result = paginate(stmt, page, limit, scalars=False)
    result.items = [JoinRequest(u.id, u.name, u.rating, m.requested_at) for m, u in result.items]
    return result
