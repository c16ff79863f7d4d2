"""Search within the college: meaning (embeddings) blended with the letters people type.

"calc" finds "Calculus II Crew" by keyword prefix; "visual learner" finds students whose learning
style reads like one by cosine. The candidates' vectors come from the college index
(services/matching_index.py); the query is embedded once per (model, text) and kept in a small
per-app LRU, so a repeated search embeds nothing.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from flask import current_app

from ..access import allow
from ..db import db
from ..errors import BadRequest
from ..matching import search as run_search
from sqlalchemy import select

from ..models import GroupMember, Profile, User
from ..models.user import COLLEGE_ROLES
from . import embeddings
from .matching_index import college_index
from .recommendations import group_view

TYPES = ("groups", "people")
QUERY_CACHE_SIZE = 512
MAX_QUERY_LENGTH = 200


class QueryVectors:
    """A tiny thread-safe LRU of query embeddings, keyed by (model, normalised query)."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vector(self, model, query: str) -> np.ndarray:
        key = (model.name, " ".join(query.split()).casefold())
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        vector = model.embed_one(key[1])
        with self._lock:
            self._items[key] = vector
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vector

    def forget_mentioning(self, name: str) -> None:
        """Drop every cached query with a word of `name` in it ("zelda" as well as "zelda quixote")."""
        words = set(name.casefold().split())
        with self._lock:
            for key in [k for k in self._items if words & set(k[1].split())]:
                del self._items[key]


def _query_vectors() -> QueryVectors:
    return current_app.extensions.setdefault("studysync.query_vectors", QueryVectors())


def forget_queries_mentioning(text: str) -> None:
    """This worker's cached searches naming `text` (an erasure calls it with the person's name)."""
    _query_vectors().forget_mentioning(text)


@allow(*COLLEGE_ROLES, feature="ai_matching")
def search(user: User, q: str, kind: str = "groups", limit: int = 20) -> list[dict[str, Any]]:
    q = (q or "").strip()
    if not q:
        raise BadRequest("q is required", errors={"q": ["Missing data for required field."]})
    if kind not in TYPES:
        raise BadRequest(f"type must be one of: {', '.join(TYPES)}")
    q = q[:MAX_QUERY_LENGTH]
    index = college_index(user.college_id)
    vector = _query_vectors().vector(embeddings.embedder(), q)
    if kind == "people":
        hits = run_search(index.people_search, q, vector, limit=limit + 1)
        return [{**_person(index.people[h.id]), "score": round(h.score, 4)} for h in hits if h.id != user.id][:limit]
    visible = _visible_group_ids(user, index)
    hits = run_search(index.group_search, q, vector, limit=len(index.group_search.ids))
    hits = [h for h in hits if h.id in visible][:limit]
    people = _members_of([index.groups[h.id] for h in hits])
    return [{**group_view(index.groups[h.id]), "description": index.groups[h.id].description,
             **people[h.id], "score": round(h.score, 4)} for h in hits]


def _members_of(groups: list) -> dict[str, dict[str, Any]]:
    """Each group's leader name and active members `{name, major, role}` (leader first), in one query."""
    out: dict[str, dict[str, Any]] = {g.id: {"leader_name": None, "members": []} for g in groups}
    if not groups:
        return out
    leaders = {g.id: g.leader_id for g in groups}
    rows = db.session.execute(
        select(GroupMember.group_id, User.id, User.name, User.department, Profile.major)
        .join(User, User.id == GroupMember.user_id).outerjoin(Profile, Profile.user_id == User.id)
        .where(GroupMember.group_id.in_(list(out)), GroupMember.status == "active")
        .order_by(GroupMember.joined_at, GroupMember.id)
    ).all()
    for group_id, user_id, name, department, major in rows:
        leads = user_id == leaders[group_id]
        out[group_id]["members"].append({"name": name, "major": major or department,
                                         "role": "leader" if leads else "member"})
        if leads:
            out[group_id]["leader_name"] = name
    missing = {leaders[gid] for gid, item in out.items() if item["leader_name"] is None}
    if missing:  # a teacher leading a classroom group without being a member
        names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(missing))).all())
        for gid, item in out.items():
            item["leader_name"] = item["leader_name"] or names.get(leaders[gid])
    for item in out.values():
        item["members"].sort(key=lambda m: m["role"] != "leader")
    return out


def _person(person: dict[str, Any]) -> dict[str, Any]:
    return {k: person[k] for k in ("user_id", "name", "major", "year", "subjects", "learning_style")}


def _visible_group_ids(user: User, index) -> set[str]:
    """Students see groups outside classrooms and those of their own classrooms; staff see all."""
    if user.role != "student":
        return set(index.groups)
    from .classrooms import classroom_ids_of

    classrooms = set(db.session.execute(classroom_ids_of(user.id)).scalars())
    return {gid for gid, g in index.groups.items() if g.classroom_id is None or g.classroom_id in classrooms}


