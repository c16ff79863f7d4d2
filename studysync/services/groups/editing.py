"""Creating a group, editing it, archiving it."""
from __future__ import annotations

from typing import Any

from ...access import allow
from ...db import utcnow
from ...errors import BadRequest, Conflict
from ...models import StudyGroup, User
from ...models.user import COLLEGE_ROLES
from ...policies import ensure_create_group_in, ensure_group_writable
from ..classrooms import get_classroom_or_404, is_enrolled
from .lookups import (
    ACTIVE,
    LEADER,
    MEMBER,
    Access,
    active_member_ids,
    lock_group,
    lock_users,
    managed,
    membership_of,
)
from .membership import _ensure_within_limits, _valid_members, found_group
from .views import GroupDetail, detail


@allow(*COLLEGE_ROLES)
def create_group(actor: User, data: dict[str, Any]) -> GroupDetail:
    """The creator leads the group; a student creator is also its first member. A teacher or admin
    leads without being a member unless they list themselves in `member_ids`."""
    classroom = None
    if data.get("classroom_id"):
        classroom = get_classroom_or_404(data["classroom_id"])
        enrolled = actor.role == "student" and is_enrolled(classroom.id, actor.id)
        ensure_create_group_in(actor, classroom, enrolled=enrolled)
    max_members = data.get("max_members") or 6
    member_ids = list(dict.fromkeys(data.get("member_ids") or []))
    if actor.role == "student" and actor.id not in member_ids:
        member_ids.insert(0, actor.id)
    members = _valid_members(member_ids, classroom)
    if len(members) > max_members:
        message = f"{len(members)} members do not fit in max_members {max_members}"
        raise BadRequest(message, errors={"member_ids": [message]})

    locked = lock_users(m.id for m in members)
    _ensure_within_limits(actor, locked.values())
    now = utcnow()
    group = StudyGroup(
        name=data["name"], subject=data.get("subject"), description=data.get("description"),
        schedule=data.get("schedule"), location=data.get("location"), max_members=max_members,
        min_rating=data.get("min_rating") or 0, join_policy=data.get("join_policy") or "open",
        classroom_id=classroom.id if classroom else None, leader_id=actor.id, created_by=actor.id,
        created_at=now, updated_at=now,
    )
    found_group(group, [m.id for m in members], now)
    return detail(actor, Access(group, classroom, None))


EDITABLE = ("name", "subject", "description", "schedule", "location", "max_members", "min_rating", "join_policy")


@allow(*COLLEGE_ROLES)
def update_group(actor: User, group_id: str, changes: dict[str, Any]) -> GroupDetail:
    """Leader, teacher or admin. `leader_id` hands leadership to an active member."""
    found = managed(actor, group_id)
    group = lock_group(found.group.id)
    ensure_group_writable(group)
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
    for name in EDITABLE:
        if name in changes:
            setattr(group, name, changes[name])
    group.updated_at = utcnow()
    return detail(actor, found)


@allow(*COLLEGE_ROLES)
def set_archived(actor: User, group_id: str, archived: bool) -> GroupDetail:
    """Archived groups leave every listing but keep their members and history. Unarchiving
    re-checks each student member's group limit, since their membership counts again."""
    found = managed(actor, group_id)
    if not archived and found.group.is_archived:
        locked = lock_users(active_member_ids(found.group.id))
        _ensure_within_limits(actor, locked.values())
    group = lock_group(found.group.id)
    if group.is_archived != archived:
        group.is_archived = archived
        group.updated_at = utcnow()
    return detail(actor, found)
