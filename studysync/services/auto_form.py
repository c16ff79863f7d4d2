"""Auto-forming a classroom's study groups from its students who are not in one yet.

The partition itself is the pure `matching.auto_form` (deterministic for a seed, maximising the
weakest group). Here: who is eligible, their profiles and cached vectors, and creating every group
and membership in one transaction.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from ..access import allow
from ..db import db, utcnow
from ..errors import BadRequest, Forbidden
from ..matching import ProfileData, Weights, auto_form
from ..models import ClassroomEnrollment, GroupMember, Profile, StudyGroup, User
from . import embeddings
from .classrooms import get_classroom_or_404
from .groups import active_group_counts, found_group, group_limit_of, lock_users
from .recommendations import weights_of


def _eligible(classroom_id: str) -> list[tuple[User, Profile | None]]:
    grouped = select(GroupMember.user_id).join(StudyGroup, StudyGroup.id == GroupMember.group_id).where(
        StudyGroup.classroom_id == classroom_id, StudyGroup.is_archived.is_(False), GroupMember.status == "active")
    rows = db.session.execute(
        select(User, Profile).join(ClassroomEnrollment, ClassroomEnrollment.student_id == User.id)
        .outerjoin(Profile, Profile.user_id == User.id)
        .where(ClassroomEnrollment.classroom_id == classroom_id, User.role == "student", User.status == "active",
               User.id.not_in(grouped))
        .order_by(User.id)
    ).all()
    counts = active_group_counts(u.id for u, _ in rows)
    return [(u, p) for u, p in rows if counts.get(u.id, 0) < group_limit_of(u)]


@allow("admin", "teacher", feature="ai_matching")
def auto_form_groups(actor: User, classroom_id: str, data: dict[str, Any]) -> dict[str, Any]:
    classroom = get_classroom_or_404(classroom_id)
    if not (actor.role == "admin" or classroom.teacher_id == actor.id):
        raise Forbidden("Only the classroom's teacher or an admin can auto-form its groups")
    group_size = data["group_size"]
    weights = Weights(**{**weights_of(actor.college_id).__dict__, **(data.get("weights") or {})})
    rows = _eligible(classroom.id)
    if len(rows) < 2:
        raise BadRequest("At least two enrolled students without a group are needed to form groups")
    vectors = embeddings.profile_vectors([p for _, p in rows if p is not None])
    users = {u.id: u for u, _ in rows}
    profiles = [ProfileData(id=u.id, name=u.name, subjects=list(p.subjects or []) if p else [],
                            schedule=dict(p.schedule or {}) if p else {},
                            performance_level=p.performance_level if p else None,
                            vector=vectors.get(u.id) if p else None) for u, p in rows]
    formation = auto_form(profiles, group_size, weights, seed=data.get("seed") or 0)

    result = {"dry_run": bool(data.get("dry_run")), "min_score": round(formation.min_score, 4), "groups": []}
    groups = [{"members": [{"user_id": uid, "name": users[uid].name} for uid in members], "score": round(s, 4)}
              for members, s in zip(formation.groups, formation.scores)]
    if data.get("dry_run"):
        result["groups"] = groups
        return result

    lock_users(users)  # group limits hold under concurrency, as in services/groups.py
    counts = active_group_counts(users)
    full = [users[u].name for u in users if counts.get(u, 0) >= group_limit_of(users[u])]
    if full:
        raise BadRequest(f"Reached their group limit meanwhile: {', '.join(full)}")
    now = utcnow()
    base = classroom.name
    for number, group in enumerate(groups, start=1):
        row = StudyGroup(name=f"{base} Group {number}"[:120], subject=_common_subject(profiles, group["members"]),
                         max_members=max(group_size, len(group["members"])), min_rating=0, join_policy="invite",
                         classroom_id=classroom.id, leader_id=actor.id, created_by=actor.id,
                         created_at=now, updated_at=now)
        found_group(row, [member["user_id"] for member in group["members"]], now)
        group.update(group_id=row.id, name=row.name)
    result["groups"] = groups
    return result


def _common_subject(profiles: list[ProfileData], members: list[dict[str, Any]]) -> str | None:
    """The subject most of the group's members share (None when nobody lists one)."""
    ids = {m["user_id"] for m in members}
    counts = Counter(label for p in profiles if p.id in ids for label in p.subject_map().values())
    return counts.most_common(1)[0][0][:120] if counts else None
