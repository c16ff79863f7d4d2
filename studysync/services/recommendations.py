"""Recommendations: the groups a student can join and the classmates they fit, best first.

The per-college work — every student's profile as arrays, every group's members — is this
worker's `CollegeIndex` (services/matching_index.py), kept current change by change, so each
request is a handful of NumPy operations over the whole college. What depends on the caller alone
(their memberships, rating, group limit, classrooms) is read per request.
"""
from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select

from ..access import allow
from ..db import db
from ..errors import BadRequest
from ..matching import ProfileData, Weights, top_groups, top_k
from ..models import College, GroupMember, StudyGroup, User
from .groups import ACTIVE, PENDING, counts_toward_limit, group_limit_of
from .matching_index import CollegeIndex, college_index

KINDS = ("groups", "partners")


def weights_of(college_id: str) -> Weights:
    """The college's `settings["matching"]` (any of the four weights and `threshold`), else the seed's."""
    college = db.session.get(College, college_id)
    custom = ((college.settings or {}).get("matching") if college is not None else None) or {}
    known = {k: float(v) for k, v in custom.items()
             if k in ("subject", "schedule", "learning_style", "performance", "threshold") and v is not None}
    return Weights(**known)


def group_view(group: StudyGroup) -> dict[str, Any]:
    return {"group_id": group.id, "name": group.name, "subject": group.subject, "schedule": group.schedule,
            "location": group.location, "member_count": group.member_count, "max_members": group.max_members,
            "join_policy": group.join_policy}


def _query_profile(user: User, index: CollegeIndex) -> ProfileData:
    row = index.matrix.index.get(user.id)
    if row is not None:
        return index.matrix.profiles[row]
    return ProfileData(id=user.id, name=user.name)  # no profile yet: only a group's subject can match


def _result(match, extra: dict[str, Any]) -> dict[str, Any]:
    return {**extra, "match_percentage": max(0, min(100, match.match_percentage)),
            "compatibility": {k: round(max(0.0, min(1.0, v)), 4) for k, v in match.components().items()},
            "explanation": match.explanation}


@cache
def _memberships_statement():
    """A student's current memberships, each with whether it counts toward the group limit; built
    once per process (every recommendation of groups runs it)."""
    return (select(GroupMember.group_id, counts_toward_limit())
            .join(StudyGroup, StudyGroup.id == GroupMember.group_id)
            .where(GroupMember.user_id == bindparam("user_id"), GroupMember.status.in_((ACTIVE, PENDING))))


def joinable(user: User, index: CollegeIndex) -> np.ndarray:
    """Per group of the index: listed, with space, open or by request, not the student's own, and
    one the student may see and join (rating, classroom, group limit)."""
    facts = index.group_facts
    # One statement: the limit and the groups to leave out.
    memberships = db.session.execute(_memberships_statement(), {"user_id": user.id}).all()
    if sum(1 for _, counted in memberships if counted) >= group_limit_of(user):
        return np.zeros(len(facts.open), dtype=bool)
    allowed = facts.open & (facts.min_rating <= (user.rating or 0))
    if facts.classroom:
        from .classrooms import classroom_ids_of

        classrooms = set(db.session.execute(classroom_ids_of(user.id)).scalars())
        for position, classroom_id in facts.classroom.items():
            allowed[position] &= classroom_id in classrooms
    for group_id, _ in memberships:
        position = index.group_index.index.get(group_id)
        if position is not None:
            allowed[position] = False
    return allowed


@allow("student", feature="ai_matching")
def recommend(user: User, kind: str = "groups", limit: int = 10) -> list[dict[str, Any]]:
    if kind not in KINDS:
        raise BadRequest(f"kind must be one of: {', '.join(KINDS)}")
    index = college_index(user.college_id)
    weights = weights_of(user.college_id)
    query = _query_profile(user, index)
    if kind == "partners":
        results = [_result(m, _partner_view(index.people[m.id]))
                   for m in top_k(query, index.matrix, weights, k=limit)]
    else:
        results = [_result(m, group_view(index.groups[m.id]))
                   for m in top_groups(query, index.matrix, index.group_index, weights, k=limit,
                                       allowed=joinable(user, index))]
    return results or [suggestion(query)]


def _partner_view(person: dict[str, Any]) -> dict[str, Any]:
    return {k: person[k] for k in ("user_id", "name", "major", "year", "subjects")}


def suggestion(query: ProfileData) -> dict[str, Any]:
    subject = next(iter(query.subject_map().values()), None)
    about = f" for {subject}" if subject else ""
    return {
        "suggested": True,
        "match_percentage": None,
        "title": "Create Your Own Study Group",
        "subject": subject,
        "description": f"No group or classmate matches you closely enough yet. Start a group{about} and invite others.",
        "explanation": "Nothing cleared the match threshold",
    }
