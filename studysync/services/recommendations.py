"""Recommendations: the groups a student can join and the classmates they fit, best first.

The per-college work — every student's profile as arrays (`CandidateMatrix`), every group's
members (`GroupIndex`), the search indexes — is built once and kept in process, keyed by the
college's matching version (services/embeddings.py bumps it on any profile, group or membership
change), so each request is a handful of NumPy operations over the whole college. What depends on
the caller alone (their memberships, rating, group limit, classrooms) is read per request.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..access import allow
from ..db import db
from ..errors import BadRequest
from ..matching import (
    CandidateMatrix,
    GroupData,
    GroupIndex,
    ProfileData,
    SearchIndex,
    SearchItem,
    Weights,
    score,
    top_groups,
    top_k,
)
from ..models import College, GroupMember, Profile, StudyGroup, User
from . import embeddings
from .groups import active_group_counts, group_limit_of

MAX_COLLEGES_CACHED = 64
KINDS = ("groups", "partners")
JOINABLE_POLICIES = ("open", "request")


@dataclass
class CollegeIndex:
    """One college's candidates, as of `version`."""

    version: int
    model: str
    matrix: CandidateMatrix
    people: dict[str, dict[str, Any]]  # user id → partner fields
    groups: dict[str, StudyGroup]  # non-archived groups (detached snapshots)
    group_members: dict[str, list[str]]  # group id → active member ids
    group_index: GroupIndex
    people_search: SearchIndex
    group_search: SearchIndex


class IndexCache:
    """college id → CollegeIndex, least recently used dropped first."""

    def __init__(self, size: int = MAX_COLLEGES_CACHED) -> None:
        self.size = size
        self._items: OrderedDict[str, CollegeIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, college_id: str, version: int, model: str) -> CollegeIndex | None:
        with self._lock:
            item = self._items.get(college_id)
            if item is None or item.version != version or item.model != model:
                return None
            self._items.move_to_end(college_id)
            return item

    def forget(self, college_id: str) -> None:
        with self._lock:
            self._items.pop(college_id, None)

    def put(self, college_id: str, item: CollegeIndex) -> None:
        with self._lock:
            self._items[college_id] = item
            self._items.move_to_end(college_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _cache() -> IndexCache:
    return current_app.extensions.setdefault("studysync.matching_index", IndexCache())


def college_index(college_id: str) -> CollegeIndex:
    model = embeddings.embedder()
    version = embeddings.college_version(college_id)
    cached = _cache().get(college_id, version, model.name)
    if cached is not None:
        return cached
    built = _build(version, model)
    _cache().put(college_id, built)
    return built


def _build(version: int, model) -> CollegeIndex:
    students = db.session.execute(
        select(User, Profile).outerjoin(Profile, Profile.user_id == User.id)
        .where(User.role == "student", User.status == "active").order_by(User.id)
    ).all()
    rows = [(user, profile) for user, profile in students if profile is not None]
    vectors = embeddings.profile_vectors([p for _, p in rows], model)
    profiles, people, people_items = [], {}, []
    for user, profile in students:
        if profile is None:  # no learning profile yet: people search still finds them by their record
            people[user.id] = {"user_id": user.id, "name": user.name, "major": user.department,
                               "year": str(user.year) if user.year is not None else None, "subjects": [],
                               "learning_style": None}
            people_items.append(SearchItem(id=user.id, name=user.name,
                                           subjects=[user.department] if user.department else []))
            continue
        vector = vectors.get(user.id)
        profiles.append(ProfileData(id=user.id, subjects=list(profile.subjects or []), schedule=dict(profile.schedule or {}),
                                    performance_level=profile.performance_level, vector=vector, name=user.name))
        people[user.id] = {"user_id": user.id, "name": user.name, "major": profile.major or user.department,
                           "year": profile.year or (str(user.year) if user.year is not None else None),
                           "subjects": list(profile.subjects or []), "learning_style": profile.learning_style}
        people_items.append(SearchItem(id=user.id, name=user.name, subjects=list(profile.subjects or []), vector=vector))
    matrix = CandidateMatrix.build(profiles, model.dim)

    groups = list(db.session.execute(
        select(StudyGroup).where(StudyGroup.is_archived.is_(False)).order_by(StudyGroup.id)).scalars())
    members: dict[str, list[str]] = {g.id: [] for g in groups}
    if groups:
        for group_id, user_id in db.session.execute(
                select(GroupMember.group_id, GroupMember.user_id)
                .join(StudyGroup, StudyGroup.id == GroupMember.group_id)
                .where(GroupMember.status == "active", StudyGroup.is_archived.is_(False))
                .order_by(GroupMember.group_id, GroupMember.created_at)):
            members.setdefault(group_id, []).append(user_id)
    group_vectors = embeddings.group_vectors(groups, model)
    group_index = GroupIndex.build([GroupData(id=g.id, subject=g.subject, member_ids=members[g.id], name=g.name)
                                    for g in groups], matrix)
    group_items = [SearchItem(id=g.id, name=g.name, subjects=[g.subject] if g.subject else [],
                              vector=group_vectors.get(g.id)) for g in groups]
    for g in groups:
        db.session.expunge(g)  # a snapshot: safe to read after this request's session ends
    return CollegeIndex(
        version=version, model=model.name, matrix=matrix, people=people, groups={g.id: g for g in groups},
        group_members=members, group_index=group_index,
        people_search=SearchIndex.build(people_items, model.dim),
        group_search=SearchIndex.build(group_items, model.dim),
    )


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


def joinable_group_ids(user: User, index: CollegeIndex) -> list[str]:
    """Non-archived groups with space, open or by request, that the student may see and join."""
    if active_group_counts([user.id]).get(user.id, 0) >= group_limit_of(user):
        return []
    mine = set(db.session.execute(select(GroupMember.group_id).where(
        GroupMember.user_id == user.id, GroupMember.status.in_(("active", "pending")))).scalars())
    from .classrooms import classroom_ids_of

    classrooms = set(db.session.execute(classroom_ids_of(user.id)).scalars())
    rating = user.rating or 0
    return [g.id for g in index.groups.values()
            if g.id not in mine and g.member_count < g.max_members and g.join_policy in JOINABLE_POLICIES
            and (g.min_rating or 0) <= rating and (g.classroom_id is None or g.classroom_id in classrooms)]


@allow("student", feature="ai_matching")
def recommend(user: User, kind: str = "groups", limit: int = 10) -> list[dict[str, Any]]:
    if kind not in KINDS:
        raise BadRequest(f"kind must be one of: {', '.join(KINDS)}")
    index = college_index(user.college_id)
    weights = weights_of(user.college_id)
    query = _query_profile(user, index)
    scores = score(query, index.matrix, weights)
    if kind == "partners":
        results = [_result(m, _partner_view(index.people[m.id]))
                   for m in top_k(query, index.matrix, weights, k=limit, scores=scores)]
    else:
        allowed = set(joinable_group_ids(user, index))
        excluded = [gid for gid in index.group_index.ids if gid not in allowed]
        results = [_result(m, group_view(index.groups[m.id]))
                   for m in top_groups(query, index.matrix, index.group_index, weights, k=limit,
                                       exclude_group_ids=excluded, scores=scores)]
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
