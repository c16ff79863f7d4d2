"""Study groups: creation, browsing, membership, join requests.

The rules that must hold under concurrency on every database — a group never exceeds
`max_members`, a student never exceeds their `group_limit` of active groups, one membership row
per (group, user) — are enforced under row locks, never by check-then-insert:

1. lock the user rows whose active-group count may grow (`SELECT ... FOR UPDATE`, sorted by id);
2. lock the group row (`SELECT ... FOR UPDATE`), then re-read the memberships concerned;
3. check capacity (`member_count`) and the limits, change the rows, commit.

Always users before the group, so two paths cannot wait on each other. Every change that
activates or ends a membership takes the group lock, so `member_count` (the number of active
members) stays exact; a join *request* only adds a pending row, under the requester's lock.
On SQLite `FOR UPDATE` is a no-op, but every transaction begins with BEGIN IMMEDIATE (db.py),
which serialises writers anyway. The unique constraint on (group_id, user_id) is the last guard.

Group limit: a student's `group_limit`, else the college setting `settings["group_limit"]`, else
5; it counts active memberships in non-archived groups (so unarchiving re-checks it). Staff have no
limit. `min_rating` is checked when a student joins or asks to join; members added by a leader,
teacher or admin are "invited" and skip it (and may rejoin an invite-only group after leaving;
removal revokes that).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable

from sqlalchemy import and_, func, or_, select

from ..db import db, utcnow
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..models import Classroom, College, GroupMember, GroupMessage, GroupReadMarker, StudyGroup, User
from ..models.user import DEFAULT_GROUP_LIMIT
from ..policies import can_manage_group, can_see_email, ensure, ensure_manage_group, ensure_view_group
from ..queries import Page, after_row, get_scoped_or_404, paginate, text_search
from ..realtime import MEMBERSHIP_CHANGED, user_channel
from . import notifications
from .events import publish_after_commit
from .classrooms import classroom_ids_of, enrolled_among, get_classroom_or_404, is_enrolled
from .users import commit_or_conflict

GROUP_NOT_FOUND = "Group not found"
ALREADY_MEMBER = "You are already a member of this group"
ALREADY_PENDING = "Your request to join this group is already pending"
GROUP_FULL = "This group is full"
GROUP_ARCHIVED = "This group is archived"
INVITE_ONLY = "This group is invite-only: ask its leader to add you"
NOT_MEMBER = "You are not a member of this group"
NO_REQUEST = "No pending join request from this user"
LEADER_STAYS = "The leader must remain a member; hand leadership to another member first"
ONLY_ENROLLED = "Only students enrolled in this classroom can join its groups"
MEMBERSHIP_RACE = "Membership changed at the same time; please retry"

ACTIVE, PENDING, LEFT, REMOVED, REJECTED = "active", "pending", "left", "removed", "rejected"
LEADER, MEMBER = "leader", "member"
COLLEGE_ROLES = ("admin", "teacher", "student")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# Loading ---------------------------------------------------------------------------------------


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


def _memberships(group_id: str, user_ids: Iterable[str]) -> dict[str, GroupMember]:
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id.in_(ids))
        .execution_options(populate_existing=True)
    ).scalars()
    return {m.user_id: m for m in rows}


def lock_users(user_ids: Iterable[str]) -> dict[str, User]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(User).where(User.id.in_(ids)).order_by(User.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).scalars()
    return {u.id: u for u in rows}


def lock_group(group_id: str) -> StudyGroup:
    """The group, re-read and locked until the caller commits (posting to its chat takes it too)."""
    group = db.session.execute(
        select(StudyGroup).where(StudyGroup.id == group_id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if group is None:
        raise NotFound(GROUP_NOT_FOUND)
    return group


@dataclass
class _Access:
    group: StudyGroup
    classroom: Classroom | None
    membership: GroupMember | None


def _access(actor: User, group_id: str) -> _Access:
    """The group if `actor` may see it (another college's id is a 404, like an unknown one)."""
    group = get_group_or_404(group_id)
    classroom = classroom_of(group)
    membership = membership_of(group.id, actor.id)
    member = membership is not None and membership.status in (ACTIVE, PENDING)
    enrolled = group.classroom_id is not None and actor.role == "student" and is_enrolled(group.classroom_id, actor.id)
    ensure_view_group(actor, group, classroom, member=member, enrolled=enrolled)
    return _Access(group, classroom, membership)


def _managed(actor: User, group_id: str) -> _Access:
    access = _access(actor, group_id)
    ensure_manage_group(actor, access.group, access.classroom)
    return access


# Queries other services use --------------------------------------------------------------------


def get_visible_group(actor: User, group_id: str) -> StudyGroup:
    """404 for an unknown (or another college's) group, 403 if `actor` may not see it."""
    return _access(actor, group_id).group


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


def unread_counts(user_id: str, group_ids: list[str]) -> dict[str, int]:
    """Unread chat messages per group for `user_id`, in one query: other people's messages, not
    deleted, newer than the user's read marker and than the moment they (last) joined."""
    if not group_ids:
        return {}
    message, marker, member = GroupMessage, GroupReadMarker, GroupMember
    rows = db.session.execute(
        select(message.group_id, func.count())
        .select_from(message)
        .join(member, and_(member.group_id == message.group_id, member.user_id == user_id))
        .outerjoin(marker, and_(marker.group_id == message.group_id, marker.user_id == user_id))
        .where(message.group_id.in_(group_ids), message.sender_id != user_id, message.deleted_at.is_(None),
               member.status == ACTIVE, message.created_at > member.joined_at,
               or_(marker.last_read_at.is_(None),
                   after_row(message.created_at, message.id, marker.last_read_at, marker.last_read_message_id)))
        .group_by(message.group_id)
    ).all()
    return {group_id: count for group_id, count in rows}


def group_limit_of(user: User) -> int:
    if user.group_limit:
        return user.group_limit
    college = db.session.get(College, user.college_id) if user.college_id else None
    setting = (college.settings or {}).get("group_limit") if college is not None else None
    return int(setting) if setting else DEFAULT_GROUP_LIMIT


def active_group_counts(user_ids: Iterable[str]) -> dict[str, int]:
    """Active memberships in non-archived groups, per user (one query)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(GroupMember.user_id, func.count())
        .join(StudyGroup, StudyGroup.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(ids), GroupMember.status == ACTIVE, StudyGroup.is_archived.is_(False))
        .group_by(GroupMember.user_id)
    ).all()
    return dict(rows)


# Rules -----------------------------------------------------------------------------------------


def _ensure_within_limits(actor: User, users: Iterable[User]) -> None:
    """Each student in `users` can take one more active group (call with their rows locked)."""
    students = [u for u in users if u.role == "student"]
    counts = active_group_counts(u.id for u in students)
    for user in students:
        limit, count = group_limit_of(user), counts.get(user.id, 0)
        if count >= limit:
            if user.id == actor.id:
                raise Conflict(f"You have reached your limit of {limit} active groups")
            raise Conflict(f"{user.name} has reached their limit of {limit} active groups")


def _ensure_space(group: StudyGroup, adding: int) -> None:
    if group.member_count + adding > group.max_members:
        if adding == 1:
            raise Conflict(f"{GROUP_FULL} ({group.member_count} of {group.max_members} members)")
        raise Conflict(f"{GROUP_FULL}: {group.member_count} of {group.max_members} members, "
                       f"cannot add {adding} more")


def _ensure_rating(user: User, group: StudyGroup) -> None:
    if (user.rating or 0) < (group.min_rating or 0):
        raise Forbidden(f"Your rating {_num(user.rating or 0)} is below this group's minimum of {_num(group.min_rating)}")


def _ensure_open(group: StudyGroup) -> None:
    if group.is_archived:
        raise Conflict(GROUP_ARCHIVED)


def _valid_members(user_ids: list[str], classroom: Classroom | None) -> list[User]:
    """Active users of the college (students only, enrolled, for a classroom group); else a 400."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    found = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_(ids), User.role.in_(COLLEGE_ROLES), User.status == "active")
    ).scalars()}
    missing = [i for i in ids if i not in found]
    if missing:
        message = f"Unknown users: {', '.join(missing)}"
        raise BadRequest(message, errors={"user_ids": [message]})
    if classroom is not None:
        enrolled = enrolled_among(classroom.id, ids)
        outside = [found[i].name for i in ids if i not in enrolled]
        if outside:
            message = f"Not enrolled in this classroom: {', '.join(outside)}"
            raise BadRequest(message, errors={"user_ids": [message]})
    return [found[i] for i in ids]


def _tick(start, steps: int):
    """Members added together keep the order they were given in (seniority decides succession)."""
    return start + timedelta(microseconds=steps)


def _activate(group: StudyGroup, user_id: str, existing: GroupMember | None, *, invited: bool,
              role: str = MEMBER, now=None) -> GroupMember:
    """Make `user_id` an active member (the group row is locked by the caller)."""
    now = now or utcnow()
    membership = _active_membership(group.id, user_id, existing, invited=invited, role=role, now=now)
    group.member_count += 1
    group.updated_at = now
    return membership


def _active_membership(group_id: str, user_id: str, existing: GroupMember | None, *, invited: bool,
                       role: str, now) -> GroupMember:
    """The membership row of an active member, and the news for their live streams; the caller
    counts it in the group's `member_count`."""
    membership = existing or GroupMember(group_id=group_id, user_id=user_id, created_at=now)
    if existing is None:
        db.session.add(membership)
    membership.status, membership.role, membership.joined_at = ACTIVE, role, now
    membership.invited = membership.invited or invited
    _announce_membership(group_id, user_id, ACTIVE)
    return membership


def found_group(group: StudyGroup, member_ids: list[str], now) -> StudyGroup:
    """Add a new group with `member_ids` as its active members, senior first (the caller has locked
    their user rows and checked their limits). A member who is the group's leader leads; the others
    count as invited."""
    group.member_count = len(member_ids)
    db.session.add(group)
    db.session.flush()  # the group row first: memberships reference it
    for i, user_id in enumerate(member_ids):
        leads = user_id == group.leader_id
        _active_membership(group.id, user_id, None, invited=not leads, role=LEADER if leads else MEMBER,
                           now=_tick(now, i))
    return group


def _deactivate(group: StudyGroup, membership: GroupMember, status: str) -> None:
    if membership.status == ACTIVE:
        group.member_count -= 1
    membership.status, membership.role = status, MEMBER
    if status == REMOVED:
        membership.invited = False
    group.updated_at = utcnow()
    _announce_membership(group.id, membership.user_id, status)


def _announce_membership(group_id: str, user_id: str, status: str) -> None:
    """Tell the user's live streams, after the commit, to start or stop following the group's chat
    (a removed member's open socket stops receiving the group's events at once)."""
    publish_after_commit(user_channel(user_id), MEMBERSHIP_CHANGED, {"group_id": group_id, "status": status})


# Views (plain objects for the schemas) ---------------------------------------------------------


def _decorate(groups: list[StudyGroup]) -> list[StudyGroup]:
    """Attach `member_ids` and `leader_name` to each group, in two queries for the whole list."""
    ids = [g.id for g in groups]
    members: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for group_id, user_id in db.session.execute(
            select(GroupMember.group_id, GroupMember.user_id)
            .where(GroupMember.group_id.in_(ids), GroupMember.status == ACTIVE)
            .order_by(GroupMember.joined_at, GroupMember.id)
        ).all():
            members[group_id].append(user_id)
    leader_ids = {g.leader_id for g in groups}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(leader_ids))).all()) if leader_ids else {}
    for group in groups:
        group.member_ids = members.get(group.id, [])
        group.leader_name = names.get(group.leader_id)
    return groups


def _member_views(viewer: User, group: StudyGroup) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(GroupMember, User).join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id == group.id, GroupMember.status == ACTIVE)
        .order_by(GroupMember.joined_at, GroupMember.id)
    ).all()
    views = []
    for membership, user in rows:
        view = {"user_id": user.id, "name": user.name, "role": LEADER if user.id == group.leader_id else MEMBER,
                "user_role": user.role, "joined_at": membership.joined_at}
        if can_see_email(viewer, user):
            view["email"] = user.email
        views.append(view)
    views.sort(key=lambda v: v["role"] != LEADER)  # the leader first, then by seniority
    return views


def _detail(actor: User, access: _Access) -> StudyGroup:
    group = _decorate([access.group])[0]
    group.members = _member_views(actor, group)
    membership = membership_of(group.id, actor.id)
    group.my_membership = (
        {"role": LEADER if group.leader_id == actor.id else membership.role, "status": membership.status}
        if membership is not None and membership.status in (ACTIVE, PENDING) else None
    )
    group.can_manage = can_manage_group(actor, group, access.classroom)
    return group


def membership_view(group: StudyGroup, membership: GroupMember) -> dict[str, Any]:
    return {"group_id": group.id, "user_id": membership.user_id,
            "role": LEADER if membership.user_id == group.leader_id else membership.role,
            "status": membership.status, "joined_at": membership.joined_at,
            "requested_at": membership.requested_at}


# Creating, reading, editing --------------------------------------------------------------------


def create_group(actor: User, data: dict[str, Any]) -> StudyGroup:
    """The creator leads the group; a student creator is also its first member. A teacher or admin
    leads without being a member unless they list themselves in `member_ids`."""
    classroom = None
    if data.get("classroom_id"):
        classroom = get_classroom_or_404(data["classroom_id"])
        enrolled = actor.role == "student" and is_enrolled(classroom.id, actor.id)
        if not (actor.role == "admin" or classroom.teacher_id == actor.id or enrolled):
            raise Forbidden("Only the classroom's teacher, an admin or its students can create groups in it")
    member_ids = list(dict.fromkeys(data.get("member_ids") or []))
    if actor.role == "student" and actor.id not in member_ids:
        member_ids.insert(0, actor.id)
    members = _valid_members(member_ids, classroom)
    if len(members) > data["max_members"]:
        message = f"{len(members)} members do not fit in max_members {data['max_members']}"
        raise BadRequest(message, errors={"member_ids": [message]})

    locked = lock_users(m.id for m in members)
    _ensure_within_limits(actor, locked.values())
    now = utcnow()
    group = StudyGroup(
        name=data["name"], subject=data.get("subject"), description=data.get("description"),
        schedule=data.get("schedule"), location=data.get("location"), max_members=data["max_members"],
        min_rating=data.get("min_rating") or 0, join_policy=data.get("join_policy") or "open",
        classroom_id=classroom.id if classroom else None, leader_id=actor.id, created_by=actor.id,
        created_at=now, updated_at=now,
    )
    found_group(group, [m.id for m in members], now)
    commit_or_conflict(MEMBERSHIP_RACE)
    return _detail(actor, _Access(group, classroom, None))


def get_group(actor: User, group_id: str) -> StudyGroup:
    return _detail(actor, _access(actor, group_id))


def update_group(actor: User, group_id: str, changes: dict[str, Any]) -> StudyGroup:
    """Leader, teacher or admin. `leader_id` hands leadership to an active member."""
    access = _managed(actor, group_id)
    group = lock_group(access.group.id)
    if "max_members" in changes and changes["max_members"] < group.member_count:
        raise Conflict(f"The group already has {group.member_count} members; "
                       f"max_members cannot be lower than that")
    new_leader = changes.get("leader_id")
    if new_leader and new_leader != group.leader_id:
        incoming = membership_of(group.id, new_leader, fresh=True)
        if incoming is None or incoming.status != ACTIVE:
            raise BadRequest("The new leader must be an active member of the group",
                             errors={"leader_id": ["Not an active member"]})
        outgoing = membership_of(group.id, group.leader_id, fresh=True)
        if outgoing is not None and outgoing.role == LEADER:
            outgoing.role = MEMBER
        incoming.role = LEADER
        group.leader_id = new_leader
    for field in ("name", "subject", "description", "schedule", "location", "max_members", "min_rating",
                  "join_policy"):
        if field in changes:
            setattr(group, field, changes[field])
    group.updated_at = utcnow()
    commit_or_conflict(MEMBERSHIP_RACE)
    return _detail(actor, access)


def set_archived(actor: User, group_id: str, archived: bool) -> StudyGroup:
    """Archived groups leave every listing but keep their members and history. Unarchiving
    re-checks each student member's group limit, since their membership counts again."""
    access = _managed(actor, group_id)
    if not archived and access.group.is_archived:
        locked = lock_users(active_member_ids(access.group.id))
        _ensure_within_limits(actor, locked.values())
    group = lock_group(access.group.id)
    if group.is_archived != archived:
        group.is_archived = archived
        group.updated_at = utcnow()
    commit_or_conflict(MEMBERSHIP_RACE)
    return _detail(actor, access)


# Listing ---------------------------------------------------------------------------------------


def _visible_to(actor: User, stmt):
    """Students see groups outside classrooms and those of their own classrooms."""
    if actor.role == "student":
        stmt = stmt.where(or_(StudyGroup.classroom_id.is_(None), StudyGroup.classroom_id.in_(classroom_ids_of(actor.id))))
    return stmt


def list_groups(actor: User, page: int, limit: int, filters: dict[str, Any] | None = None) -> Page[StudyGroup]:
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
    _decorate(list(result.items))
    return result


def list_classroom_groups(actor: User, classroom_id: str, page: int, limit: int) -> Page[StudyGroup]:
    """Seed 003's "groups by classroom": for the classroom's teacher, admins and enrolled students."""
    from .classrooms import viewable

    classroom = viewable(actor, classroom_id)
    return list_groups(actor, page, limit, {"classroom_id": classroom.id})


def my_groups(actor: User, page: int, limit: int, status: str | None = None) -> Page[StudyGroup]:
    """The caller's non-archived groups (active and pending), and those they lead without being a
    member (a teacher's classroom groups), with the caller's role and status."""
    mine = and_(GroupMember.group_id == StudyGroup.id, GroupMember.user_id == actor.id)
    statuses = (status,) if status else (ACTIVE, PENDING)
    condition = GroupMember.status.in_(statuses)
    if status in (None, ACTIVE):
        condition = or_(condition, StudyGroup.leader_id == actor.id)
    stmt = (select(StudyGroup, GroupMember).outerjoin(GroupMember, mine)
            .where(StudyGroup.is_archived.is_(False), condition)
            .order_by(StudyGroup.updated_at.desc(), StudyGroup.id.desc()))
    result = paginate(stmt, page, limit, scalars=False)
    groups = []
    for group, membership in result.items:
        leads = group.leader_id == actor.id
        group.role = LEADER if leads else membership.role
        group.status = membership.status if membership is not None and membership.status in (ACTIVE, PENDING) else ACTIVE
        group.joined_at = membership.joined_at if membership is not None else None
        group.requested_at = membership.requested_at if membership is not None else None
        groups.append(group)
    counts = unread_counts(actor.id, [g.id for g in groups])
    for group in groups:
        group.unread_count = counts.get(group.id, 0)
    result.items = _decorate(groups)
    return result


def list_members(actor: User, group_id: str) -> list[dict[str, Any]]:
    access = _access(actor, group_id)
    return _member_views(actor, access.group)


# Joining and leaving ---------------------------------------------------------------------------


def _ensure_not_member(membership: GroupMember | None) -> None:
    if membership is not None and membership.status == ACTIVE:
        raise Conflict(ALREADY_MEMBER)
    if membership is not None and membership.status == PENDING:
        raise Conflict(ALREADY_PENDING)


def join_group(actor: User, group_id: str) -> tuple[StudyGroup, GroupMember]:
    """open → active member; request → pending and the leader is notified; invite → 403 unless
    the caller was added by a leader before (then they rejoin directly)."""
    group = get_group_or_404(group_id)
    if group.classroom_id is not None and not is_enrolled(group.classroom_id, actor.id):
        raise Forbidden(ONLY_ENROLLED)
    membership = membership_of(group.id, actor.id)
    _ensure_open(group)
    _ensure_not_member(membership)
    invited = membership is not None and membership.invited
    if not invited:
        _ensure_rating(actor, group)
    if group.join_policy == "invite" and not invited:
        raise Forbidden(INVITE_ONLY)
    if group.join_policy == "request" and not invited:
        return group, _request_to_join(actor, group)

    user = lock_users([actor.id]).get(actor.id, actor)
    group = lock_group(group.id)
    membership = membership_of(group.id, actor.id, fresh=True)
    _ensure_open(group)
    _ensure_not_member(membership)
    _ensure_space(group, 1)
    _ensure_within_limits(actor, [user])
    membership = _activate(group, actor.id, membership, invited=False)
    commit_or_conflict(ALREADY_MEMBER)
    return group, membership


def _request_to_join(actor: User, group: StudyGroup) -> GroupMember:
    _ensure_space(group, 1)  # pointless to queue for a full group; approval checks again
    user = lock_users([actor.id]).get(actor.id, actor)
    _ensure_within_limits(actor, [user])
    membership = membership_of(group.id, actor.id, fresh=True)
    _ensure_not_member(membership)
    now = utcnow()
    if membership is None:
        membership = GroupMember(group_id=group.id, user_id=actor.id, created_at=now)
        db.session.add(membership)
    membership.status, membership.role, membership.requested_at = PENDING, MEMBER, now
    notifications.notify(
        group.leader_id, notifications.JOIN_REQUEST, "New join request",
        f"{actor.name} wants to join {group.name}",
        {"groupId": group.id, "groupName": group.name, "requesterId": actor.id, "requesterName": actor.name},
    )
    commit_or_conflict(ALREADY_PENDING)
    return membership


def leave_group(actor: User, group_id: str) -> StudyGroup:
    """Leaving (or withdrawing a pending request). A leaving leader hands over to the
    longest-standing active member; the last member leaving archives the group."""
    access = _access(actor, group_id)
    group = lock_group(access.group.id)
    membership = membership_of(group.id, actor.id, fresh=True)
    if membership is None or membership.status not in (ACTIVE, PENDING):
        raise Conflict(NOT_MEMBER)
    was_active = membership.status == ACTIVE
    _deactivate(group, membership, LEFT)
    if was_active and group.leader_id == actor.id:
        successor = db.session.execute(
            select(GroupMember).where(GroupMember.group_id == group.id, GroupMember.status == ACTIVE,
                                      GroupMember.user_id != actor.id)
            .order_by(GroupMember.joined_at, GroupMember.created_at, GroupMember.id).limit(1)
        ).scalar_one_or_none()
        if successor is not None:
            successor.role = LEADER
            group.leader_id = successor.user_id
    if was_active and group.member_count == 0:
        group.is_archived = True
    commit_or_conflict(MEMBERSHIP_RACE)
    return _decorate([group])[0]


# Managing members ------------------------------------------------------------------------------


def _leader_is_member(group: StudyGroup) -> bool:
    return is_active_member(group.id, group.leader_id)


def add_members(actor: User, group_id: str, user_ids: list[str]) -> StudyGroup:
    """Add members (ids already active are skipped). Pending requesters among them are approved."""
    access = _managed(actor, group_id)
    if not user_ids:
        raise BadRequest("user_ids must be a non-empty array", errors={"user_ids": ["Must not be empty"]})
    users = _valid_members(user_ids, access.classroom)
    locked = lock_users(u.id for u in users)
    group = lock_group(access.group.id)
    _ensure_open(group)
    current = _memberships(group.id, locked)
    joining = [locked[u.id] for u in users if u.id in locked
               and (current.get(u.id) is None or current[u.id].status != ACTIVE)]
    _ensure_space(group, len(joining))
    _ensure_within_limits(actor, joining)
    now = utcnow()
    for i, user in enumerate(joining):
        _activate(group, user.id, current.get(user.id), invited=True, now=_tick(now, i))
    commit_or_conflict(MEMBERSHIP_RACE)
    return _detail(actor, access)


def replace_members(actor: User, group_id: str, user_ids: list[str]) -> StudyGroup:
    """Make the active members exactly `user_ids` (the leader, if a member, must stay)."""
    access = _managed(actor, group_id)
    target = _valid_members(user_ids, access.classroom)
    target_ids = {u.id for u in target}
    if access.group.leader_id not in target_ids and _leader_is_member(access.group):
        raise BadRequest(LEADER_STAYS, errors={"user_ids": [LEADER_STAYS]})
    locked = lock_users(target_ids)
    group = lock_group(access.group.id)
    _ensure_open(group)
    active = {m.user_id: m for m in db.session.execute(
        select(GroupMember).where(GroupMember.group_id == group.id, GroupMember.status == ACTIVE)
        .execution_options(populate_existing=True)
    ).scalars()}
    leaving = [m for uid, m in active.items() if uid not in target_ids]
    current = _memberships(group.id, target_ids)
    joining = [locked[u.id] for u in target if u.id not in active and u.id in locked]
    _ensure_space(group, len(joining) - len(leaving))
    _ensure_within_limits(actor, joining)
    for membership in leaving:
        _deactivate(group, membership, REMOVED)
    now = utcnow()
    for i, user in enumerate(joining):
        _activate(group, user.id, current.get(user.id), invited=True, now=_tick(now, i))
    group.updated_at = now
    commit_or_conflict(MEMBERSHIP_RACE)
    return _detail(actor, access)


def remove_members(actor: User, group_id: str, user_ids: list[str]) -> StudyGroup:
    """Remove members (and pending requesters); ids that are not members are ignored. A removed
    member can come back only as the join policy allows (their invitation is revoked)."""
    access = _managed(actor, group_id)
    if not user_ids:
        raise BadRequest("user_ids must be a non-empty array", errors={"user_ids": ["Must not be empty"]})
    ids = set(user_ids)
    if access.group.leader_id in ids and _leader_is_member(access.group):
        raise BadRequest(LEADER_STAYS, errors={"user_ids": [LEADER_STAYS]})
    group = lock_group(access.group.id)
    for membership in _memberships(group.id, ids).values():
        if membership.status in (ACTIVE, PENDING):
            _deactivate(group, membership, REMOVED)
    group.updated_at = utcnow()
    commit_or_conflict(MEMBERSHIP_RACE)
    return _detail(actor, access)


# Join requests ---------------------------------------------------------------------------------


def list_requests(actor: User, group_id: str, page: int, limit: int) -> Page[dict]:
    access = _managed(actor, group_id)
    stmt = (select(GroupMember, User).join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == access.group.id, GroupMember.status == PENDING)
            .order_by(GroupMember.requested_at, GroupMember.id))
    result = paginate(stmt, page, limit, scalars=False)
    result.items = [{"user_id": u.id, "name": u.name, "rating": u.rating, "requested_at": m.requested_at}
                    for m, u in result.items]
    return result


def _pending_request(access: _Access, user_id: str) -> None:
    membership = access.membership if access.membership and access.membership.user_id == user_id else None
    membership = membership or membership_of(access.group.id, user_id)
    if membership is None or membership.status != PENDING:
        raise NotFound(NO_REQUEST)


def approve_request(actor: User, group_id: str, user_id: str) -> tuple[StudyGroup, GroupMember]:
    access = _managed(actor, group_id)
    _pending_request(access, user_id)
    requester = lock_users([user_id]).get(user_id)
    group = lock_group(access.group.id)
    membership = membership_of(group.id, user_id, fresh=True)
    if requester is None or membership is None or membership.status != PENDING:
        raise NotFound(NO_REQUEST)
    _ensure_open(group)
    if group.classroom_id is not None and not is_enrolled(group.classroom_id, user_id):
        raise Conflict(f"{requester.name} is no longer enrolled in this group's classroom")
    _ensure_space(group, 1)
    _ensure_within_limits(actor, [requester])
    _activate(group, user_id, membership, invited=False)
    notifications.notify(user_id, notifications.REQUEST_APPROVED, "Join request approved",
                         f"You are now a member of {group.name}", {"groupId": group.id, "groupName": group.name})
    commit_or_conflict(MEMBERSHIP_RACE)
    return group, membership


def reject_request(actor: User, group_id: str, user_id: str) -> tuple[StudyGroup, GroupMember]:
    access = _managed(actor, group_id)
    _pending_request(access, user_id)
    group = lock_group(access.group.id)
    membership = membership_of(group.id, user_id, fresh=True)
    if membership is None or membership.status != PENDING:
        raise NotFound(NO_REQUEST)
    _deactivate(group, membership, REJECTED)
    notifications.notify(user_id, notifications.REQUEST_REJECTED, "Join request declined",
                         f"Your request to join {group.name} was declined",
                         {"groupId": group.id, "groupName": group.name})
    commit_or_conflict(MEMBERSHIP_RACE)
    return group, membership
