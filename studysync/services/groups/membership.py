"""Membership: joining, leaving, members added and removed by staff, join requests.

The rules that must hold under concurrency on every database — a group never exceeds
`max_members`, a student never exceeds their `group_limit` of active groups, one membership row
per (group, user) — are enforced under row locks, never by check-then-insert:

1. lock the user rows whose active-group count may grow (`SELECT ... FOR UPDATE`, sorted by id);
2. lock the group row (`SELECT ... FOR UPDATE`), then re-read the memberships concerned;
3. check capacity (`member_count`) and the limits, change the rows; the request commits.

Always users before the group, so two paths cannot wait on each other. Every change that
activates or ends a membership takes the group lock, so `member_count` (the number of active
members) stays exact; a join *request* only adds a pending row, under the requester's lock.
On SQLite `FOR UPDATE` is a no-op, but its single write lock serialises writers anyway (a request
whose reads went stale before its first write runs again; db.py). The unique constraint on
(group_id, user_id) is the last guard.

Group limit: a student's `group_limit`, else the college setting `settings["group_limit"]`, else
5; it counts active memberships in non-archived groups (so unarchiving re-checks it). Staff have no
limit. A join is checked in the order a student understands: whether they may join at all
(classroom, archived, already in, invite-only), then whether there is room, then `min_rating`.
Members added by a leader, teacher or admin are "invited" and skip the rating (and may rejoin an
invite-only group after leaving; removal revokes that).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Iterable

from sqlalchemy import select

from ...access import allow
from ...db import db, utcnow
from ...errors import BadRequest, Conflict, Forbidden, NotFound
from ...models import Classroom, GroupMember, StudyGroup, User
from ...models.user import COLLEGE_ROLES
from ...policies import ensure_group_writable
from ...realtime import MEMBERSHIP_CHANGED, user_channel
from .. import audit, notifications
from ..classrooms import enrolled_among, is_enrolled
from ..events import publish_after_commit
from .lookups import (
    ACTIVE,
    LEADER,
    LEFT,
    MEMBER,
    NOT_MEMBER,
    PENDING,
    REJECTED,
    REMOVED,
    Access,
    access,
    active_group_counts,
    get_group_or_404,
    group_limit_of,
    is_active_member,
    lock_group,
    lock_users,
    managed,
    membership_of,
    memberships,
)
from .views import (
    GroupCard,
    GroupDetail,
    MembershipResult,
    card,
    detail,
    membership_result,
)

ALREADY_MEMBER = "You are already a member of this group"
ALREADY_PENDING = "Your request to join this group is already pending"
GROUP_FULL = "This group is full"
INVITE_ONLY = "This group is invite-only: ask its leader to add you"
NO_REQUEST = "No pending join request from this user"
LEADER_STAYS = "The leader must remain a member; hand leadership to another member first"
ONLY_ENROLLED = "Only students enrolled in this classroom can join its groups"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


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


# Joining and leaving ---------------------------------------------------------------------------


def _ensure_not_member(membership: GroupMember | None) -> None:
    if membership is not None and membership.status == ACTIVE:
        raise Conflict(ALREADY_MEMBER)
    if membership is not None and membership.status == PENDING:
        raise Conflict(ALREADY_PENDING)


def _ensure_may_join(actor: User, group: StudyGroup, membership: GroupMember | None) -> None:
    """Whether the student may join at all, before whether there is room or their rating fits."""
    if group.classroom_id is not None and not is_enrolled(group.classroom_id, actor.id):
        raise Forbidden(ONLY_ENROLLED)
    ensure_group_writable(group)
    _ensure_not_member(membership)
    if group.join_policy == "invite" and not (membership is not None and membership.invited):
        raise Forbidden(INVITE_ONLY)


@allow("student")
def join_group(actor: User, group_id: str) -> MembershipResult:
    """open → active member; request → pending and the leader is notified; invite → 403 unless
    the caller was added by a leader before (then they rejoin directly)."""
    group = get_group_or_404(group_id)
    membership = membership_of(group.id, actor.id)
    _ensure_may_join(actor, group, membership)
    _ensure_space(group, 1)  # pointless to queue for a full group; approval checks again
    invited = membership is not None and membership.invited
    if not invited:
        _ensure_rating(actor, group)
    if group.join_policy == "request" and not invited:
        return membership_result(group, _request_to_join(actor, group))

    user = lock_users([actor.id]).get(actor.id, actor)
    group = lock_group(group.id)
    membership = membership_of(group.id, actor.id, fresh=True)
    ensure_group_writable(group)
    _ensure_not_member(membership)
    _ensure_space(group, 1)
    _ensure_within_limits(actor, [user])
    return membership_result(group, _activate(group, actor.id, membership, invited=False))


def _request_to_join(actor: User, group: StudyGroup) -> GroupMember:
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
    db.session.flush()  # a double-tapped request meets the unique (group, user) pair here
    return membership


@allow(*COLLEGE_ROLES)
def leave_group(actor: User, group_id: str) -> GroupCard:
    """Leaving (or withdrawing a pending request). A leaving leader hands over to the
    longest-standing active member; the last member leaving archives the group. Leaving an
    archived group is a write to it like any other, and is refused."""
    found = access(actor, group_id)
    group = lock_group(found.group.id)
    ensure_group_writable(group)
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
    return card(group)


# Managing members ------------------------------------------------------------------------------


def _leader_is_member(group: StudyGroup) -> bool:
    return is_active_member(group.id, group.leader_id)


def _non_empty(user_ids: list[str]) -> None:
    if not user_ids:
        raise BadRequest("user_ids must be a non-empty array", errors={"user_ids": ["Must not be empty"]})


@allow(*COLLEGE_ROLES)
def add_members(actor: User, group_id: str, user_ids: list[str]) -> GroupDetail:
    """Add members (ids already active are skipped). Pending requesters among them are approved."""
    found = managed(actor, group_id)
    _non_empty(user_ids)
    ensure_group_writable(found.group)
    users = _valid_members(user_ids, found.classroom)
    locked = lock_users(u.id for u in users)
    group = lock_group(found.group.id)
    ensure_group_writable(group)
    current = memberships(group.id, locked)
    joining = [locked[u.id] for u in users if u.id in locked
               and (current.get(u.id) is None or current[u.id].status != ACTIVE)]
    _ensure_space(group, len(joining))
    _ensure_within_limits(actor, joining)
    now = utcnow()
    for i, user in enumerate(joining):
        _activate(group, user.id, current.get(user.id), invited=True, now=_tick(now, i))
    audit.record_if_staff(actor, "group.member_add", "group", group, {"added": [u.id for u in joining]})
    return detail(actor, found)


@allow(*COLLEGE_ROLES)
def replace_members(actor: User, group_id: str, user_ids: list[str]) -> GroupDetail:
    """Make the active members exactly `user_ids` (the leader, if a member, must stay)."""
    found = managed(actor, group_id)
    ensure_group_writable(found.group)
    target = _valid_members(user_ids, found.classroom)
    target_ids = {u.id for u in target}
    if found.group.leader_id not in target_ids and _leader_is_member(found.group):
        raise BadRequest(LEADER_STAYS, errors={"user_ids": [LEADER_STAYS]})
    locked = lock_users(target_ids)
    group = lock_group(found.group.id)
    ensure_group_writable(group)
    active = {m.user_id: m for m in db.session.execute(
        select(GroupMember).where(GroupMember.group_id == group.id, GroupMember.status == ACTIVE)
        .execution_options(populate_existing=True)
    ).scalars()}
    leaving = [m for uid, m in active.items() if uid not in target_ids]
    current = memberships(group.id, target_ids)
    joining = [locked[u.id] for u in target if u.id not in active and u.id in locked]
    _ensure_space(group, len(joining) - len(leaving))
    _ensure_within_limits(actor, joining)
    for membership in leaving:
        _deactivate(group, membership, REMOVED)
    now = utcnow()
    for i, user in enumerate(joining):
        _activate(group, user.id, current.get(user.id), invited=True, now=_tick(now, i))
    group.updated_at = now
    audit.record_if_staff(actor, "group.member_replace", "group", group, {"user_ids": sorted(target_ids)})
    return detail(actor, found)


@allow(*COLLEGE_ROLES)
def remove_members(actor: User, group_id: str, user_ids: list[str]) -> GroupDetail:
    """Remove members (and pending requesters); ids that are not members are ignored. A removed
    member can come back only as the join policy allows (their invitation is revoked)."""
    found = managed(actor, group_id)
    _non_empty(user_ids)
    ids = set(user_ids)
    if found.group.leader_id in ids and _leader_is_member(found.group):
        raise BadRequest(LEADER_STAYS, errors={"user_ids": [LEADER_STAYS]})
    group = lock_group(found.group.id)
    ensure_group_writable(group)
    for membership in memberships(group.id, ids).values():
        if membership.status in (ACTIVE, PENDING):
            _deactivate(group, membership, REMOVED)
    group.updated_at = utcnow()
    audit.record_if_staff(actor, "group.member_remove", "group", group, {"removed": sorted(ids)})
    return detail(actor, found)


# Join requests ---------------------------------------------------------------------------------


def _pending_request(found: Access, user_id: str) -> None:
    membership = found.membership if found.membership and found.membership.user_id == user_id else None
    membership = membership or membership_of(found.group.id, user_id)
    if membership is None or membership.status != PENDING:
        raise NotFound(NO_REQUEST)


@allow(*COLLEGE_ROLES)
def approve_request(actor: User, group_id: str, user_id: str) -> MembershipResult:
    found = managed(actor, group_id)
    _pending_request(found, user_id)
    ensure_group_writable(found.group)
    requester = lock_users([user_id]).get(user_id)
    group = lock_group(found.group.id)
    membership = membership_of(group.id, user_id, fresh=True)
    if requester is None or membership is None or membership.status != PENDING:
        raise NotFound(NO_REQUEST)
    ensure_group_writable(group)
    if group.classroom_id is not None and not is_enrolled(group.classroom_id, user_id):
        raise Conflict(f"{requester.name} is no longer enrolled in this group's classroom")
    _ensure_space(group, 1)
    _ensure_within_limits(actor, [requester])
    _activate(group, user_id, membership, invited=False)
    notifications.notify(user_id, notifications.REQUEST_APPROVED, "Join request approved",
                         f"You are now a member of {group.name}", {"groupId": group.id, "groupName": group.name})
    return membership_result(group, membership)


@allow(*COLLEGE_ROLES)
def reject_request(actor: User, group_id: str, user_id: str) -> MembershipResult:
    found = managed(actor, group_id)
    _pending_request(found, user_id)
    group = lock_group(found.group.id)
    ensure_group_writable(group)
    membership = membership_of(group.id, user_id, fresh=True)
    if membership is None or membership.status != PENDING:
        raise NotFound(NO_REQUEST)
    _deactivate(group, membership, REJECTED)
    notifications.notify(user_id, notifications.REQUEST_REJECTED, "Join request declined",
                         f"Your request to join {group.name} was declined",
                         {"groupId": group.id, "groupName": group.name})
    return membership_result(group, membership)
