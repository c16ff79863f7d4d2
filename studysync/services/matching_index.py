"""Each worker's index of a college's candidates, kept current change by change.

The per-college work — every student's profile as arrays (`CandidateMatrix`), every group's
members (`GroupIndex`), the search items — is built once per worker and then kept up to date from
the college's change log (`matching_changes`, written by services/embeddings.py in the writer's
transaction): a request reads the log rows newer than the last one this worker applied, in one
indexed statement, re-reads just the students and groups they name, and swaps in an index where
those rows are replaced. A profile change thus costs one re-embedded text and one copied matrix in
each worker, not a rebuild of 10,000 students. The whole index is rebuilt only when none is
cached, too many changes piled up, too many rows are retired, or this worker has not looked for
longer than the log keeps rows.

Ids are handed out when a row is inserted but become visible when its transaction commits, so a
change with a smaller id can appear after a larger one was read. The log is therefore read as
`id > last`, plus a count of the rows in `(horizon, last]`: the horizon is the newest id this
worker had seen `LATE_COMMIT_WINDOW` seconds ago (every id below it was handed out earlier still,
and no transaction stays open that long), so a row that commits late changes that count and is
fetched and applied then. Applying a row twice is harmless: it re-reads current state.

An index is never written to once published: requests score the one they were handed while a
newer one is being made. One thread per college catches up at a time; the others use the index
as it is rather than wait for it.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import bindparam, func, null, select, union_all

from ..db import db, utcnow
from ..matching import CandidateMatrix, GroupData, GroupIndex, ProfileData, SearchIndex, SearchItem
from ..models import GroupMember, MatchingChange, Profile, StudyGroup, User
from . import embeddings
from .embeddings import GROUP, PROFILE

log = logging.getLogger(__name__)

MAX_COLLEGES_CACHED = 64
LATE_COMMIT_WINDOW = 60.0  # seconds: longer than any transaction between logging a change and committing
MAX_INCREMENTAL = 500  # students and groups changed since the last look: more than this, rebuild
MAX_RETIRED = 0.2  # fraction of retired matrix rows or removed groups that triggers a rebuild...
MIN_RETIRED = 64  # ...once there are this many (a few dead rows cost nothing)
STALE_AFTER = embeddings.RETENTION.total_seconds() / 2  # the log may have lost what happened since
COLD_WAIT = 30.0  # seconds a request waits for another thread's first build of the college


JOINABLE_POLICIES = ("open", "request")


@dataclass
class GroupFacts:
    """What decides whether a student may join each group of a `GroupIndex`, as arrays, so a
    request never walks 1,000 groups in Python."""

    open: np.ndarray  # bool: listed, open or by request, with a free place
    min_rating: np.ndarray  # float
    classroom: dict[int, str]  # group position → classroom id, for classroom groups only

    @classmethod
    def of(cls, ids: list[str], groups: dict[str, StudyGroup], before: GroupFacts | None = None,
           changed: Iterable[int] = ()) -> GroupFacts:
        n = len(ids)
        is_open, min_rating = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float64)
        if before is None:
            classroom, positions = {}, range(n)
        else:
            old = len(before.open)
            is_open[:old], min_rating[:old] = before.open, before.min_rating
            classroom, positions = dict(before.classroom), sorted({*changed, *range(old, n)})
        for pos in positions:
            group = groups.get(ids[pos])
            classroom.pop(pos, None)
            is_open[pos] = group is not None and group.join_policy in JOINABLE_POLICIES and \
                group.member_count < group.max_members
            if group is not None:
                min_rating[pos] = group.min_rating or 0
                if group.classroom_id is not None:
                    classroom[pos] = group.classroom_id
        return cls(is_open, min_rating, classroom)


@dataclass
class CollegeIndex:
    """One college's candidates. Never changed once published; changes make a new one."""

    model: str
    matrix: CandidateMatrix
    people: dict[str, dict[str, Any]]  # user id → partner fields
    people_items: dict[str, SearchItem]
    groups: dict[str, StudyGroup]  # non-archived groups (detached snapshots)
    group_members: dict[str, list[str]]  # group id → active member ids
    member_of: dict[str, frozenset[str]]  # user id → groups they are an active member of
    group_index: GroupIndex
    group_facts: GroupFacts
    group_items: dict[str, SearchItem]
    _search: dict[str, SearchIndex] = field(default_factory=dict, repr=False)

    @property
    def people_search(self) -> SearchIndex:
        return self._search_index("people", self.people_items)

    @property
    def group_search(self) -> SearchIndex:
        return self._search_index("groups", self.group_items)

    def _search_index(self, name: str, items: dict[str, SearchItem]) -> SearchIndex:
        """Built on first use: a recommendation never needs it, and a change does not rebuild it eagerly."""
        built = self._search.get(name)
        if built is None:
            built = self._search[name] = SearchIndex.build(list(items.values()), self.matrix.dim)
        return built


@dataclass
class Sync:
    """Where this worker is in the college's change log (changed under the entry's lock only)."""

    last: int = 0  # newest change id applied
    horizon: int = 0  # every change id up to this one that will ever commit has been applied
    applied: set[int] = field(default_factory=set)  # ids in (horizon, last] applied
    reads: deque = field(default_factory=deque)  # (monotonic time, last) of reads that moved `last`
    synced_at: float = 0.0

    def advance_horizon(self, now: float) -> None:
        moved = False
        while self.reads and self.reads[0][0] <= now - LATE_COMMIT_WINDOW:
            self.horizon = max(self.horizon, self.reads.popleft()[1])
            moved = True
        if moved:
            self.applied = {i for i in self.applied if i > self.horizon}

    def saw(self, ids: list[int], at: float) -> None:
        self.applied.update(i for i in ids if i > self.horizon)
        if ids and max(ids) > self.last:
            self.last = max(ids)
            self.reads.append((at, self.last))
        self.synced_at = at


class Entry:
    def __init__(self, model: str) -> None:
        self.model = model
        self.lock = threading.Lock()
        self.index: CollegeIndex | None = None
        self.sync = Sync()
        self.builds = 0  # whole builds of this college in this worker (changes applied do not count)


class IndexCache:
    """college id → Entry, least recently used dropped first."""

    def __init__(self, size: int = MAX_COLLEGES_CACHED) -> None:
        self.size = size
        self._items: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def entry(self, college_id: str, model: str) -> Entry:
        with self._lock:
            item = self._items.get(college_id)
            if item is None or item.model != model:
                item = self._items[college_id] = Entry(model)
            self._items.move_to_end(college_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return item

    def peek(self, college_id: str) -> Entry | None:
        with self._lock:
            return self._items.get(college_id)

    def forget(self, college_id: str) -> None:
        with self._lock:
            self._items.pop(college_id, None)


def cache() -> IndexCache:
    return current_app.extensions.setdefault("studysync.matching_index", IndexCache())


def college_index(college_id: str) -> CollegeIndex:
    """The college's index, with every change committed before this call applied — unless another
    thread is applying changes right now, in which case the index as it was a moment ago."""
    model = embeddings.embedder()
    entry = cache().entry(college_id, model.name)
    # Catching up takes a moment: the other requests use the index as it is rather than wait.
    # The first build takes seconds: the others wait for it (the builder never commits half-way,
    # so it never needs a database lock a waiting request holds, SQLite's write lock included).
    cold = entry.index is None
    if entry.lock.acquire(blocking=cold, timeout=COLD_WAIT if cold else -1):
        try:
            if entry.index is None or time.monotonic() - entry.sync.synced_at > STALE_AFTER:
                _rebuild(entry, college_id, model)
            else:
                _catch_up(entry, college_id, model)
            return entry.index
        finally:
            entry.lock.release()
    if entry.index is not None:
        return entry.index
    return _build(model)  # the first build is taking too long: build too


# Reading the log -----------------------------------------------------------------------------

_log = MatchingChange.__table__
# The catch-up's reads, built once (every recommendation runs one), the college and the positions
# in the log as named parameters. Ids in (`horizon`, `last`] are where a change committed late may
# still appear (`Sync`).
_NEWER = select(_log.c.id, _log.c.kind, _log.c.subject_id).where(
    _log.c.college_id == bindparam("college_id"), _log.c.id > bindparam("last"))
_IN_WINDOW = (_log.c.college_id == bindparam("college_id"), _log.c.id > bindparam("horizon"),
              _log.c.id <= bindparam("last"))
_WINDOW = select(_log.c.id, _log.c.kind, _log.c.subject_id).where(*_IN_WINDOW)
_NEWER_AND_WINDOW_COUNT = union_all(
    _NEWER, select(func.count(_log.c.id), null(), null()).where(*_IN_WINDOW))  # untyped: the columns' collation


def _rebuild(entry: Entry, college_id: str, model) -> None:
    """Build from scratch, starting the log where the build can see it."""
    final = db.session.execute(select(func.max(_log.c.id)).where(
        _log.c.college_id == college_id,
        _log.c.created_at < utcnow() - timedelta(seconds=LATE_COMMIT_WINDOW))).scalar()
    sync = Sync(last=final or 0, horizon=final or 0)
    ids = list(db.session.execute(select(_log.c.id).where(_log.c.college_id == college_id,
                                                          _log.c.id > sync.horizon)).scalars())
    sync.saw(ids, time.monotonic())
    started = time.perf_counter()
    entry.index = _build(model)  # sees at least every change read above: applying one again is harmless
    entry.sync = sync
    entry.builds += 1
    log.info("matching index built", extra={"college_id": college_id, "students": len(entry.index.matrix),
                                            "groups": len(entry.index.groups),
                                            "seconds": round(time.perf_counter() - started, 3)})


def _catch_up(entry: Entry, college_id: str, model) -> None:
    sync = entry.sync
    sync.advance_horizon(time.monotonic())
    positions = {"college_id": college_id, "last": sync.last, "horizon": sync.horizon}
    late_count = None
    if sync.horizon < sync.last:
        rows = db.session.execute(_NEWER_AND_WINDOW_COUNT, positions).all()
        late_count = next(r[0] for r in rows if r[1] is None)
        rows = [r for r in rows if r[1] is not None]
    else:
        rows = db.session.execute(_NEWER, positions).all()
    read_at = time.monotonic()
    if late_count is not None and late_count != len(sync.applied):
        window_rows = db.session.execute(_WINDOW, positions).all()
        rows += [r for r in window_rows if r[0] not in sync.applied]
        sync.applied = {r[0] for r in window_rows}  # forgets rows pruned meanwhile
        read_at = time.monotonic()
    if not rows:
        sync.synced_at = read_at
        return
    students = {subject for _, kind, subject in rows if kind == PROFILE}
    groups = {subject for _, kind, subject in rows if kind == GROUP}
    if len(students) + len(groups) > MAX_INCREMENTAL:
        _rebuild(entry, college_id, model)
        return
    index = _apply(entry.index, students, groups, model)
    if index.matrix.retired > max(MAX_RETIRED * len(index.matrix), MIN_RETIRED) or \
            index.group_index.removed > max(MAX_RETIRED * len(index.group_index.ids), MIN_RETIRED):
        _rebuild(entry, college_id, model)
        return
    entry.index = index
    sync.saw([r[0] for r in rows], read_at)


# Building and changing an index --------------------------------------------------------------


def _profile_data(user: User, profile: Profile, vector) -> ProfileData:
    return ProfileData(id=user.id, subjects=list(profile.subjects or []), schedule=dict(profile.schedule or {}),
                       performance_level=profile.performance_level, vector=vector, name=user.name)


def _person(user: User, profile: Profile | None, vector) -> tuple[dict[str, Any], SearchItem]:
    year = str(user.year) if user.year is not None else None
    if profile is None:  # no learning profile yet: people search still finds them by their record
        return ({"user_id": user.id, "name": user.name, "major": user.department, "year": year, "subjects": [],
                 "learning_style": None},
                SearchItem(id=user.id, name=user.name, subjects=[user.department] if user.department else []))
    return ({"user_id": user.id, "name": user.name, "major": profile.major or user.department,
             "year": profile.year or year, "subjects": list(profile.subjects or []),
             "learning_style": profile.learning_style},
            SearchItem(id=user.id, name=user.name, subjects=list(profile.subjects or []), vector=vector))


def _group_item(group: StudyGroup, vector) -> SearchItem:
    return SearchItem(id=group.id, name=group.name, subjects=[group.subject] if group.subject else [], vector=vector)


def _students(user_ids: Iterable[str] | None = None) -> list[tuple[User, Profile | None]]:
    """Active students (of `user_ids`, or all) with their profile, if any, by id."""
    stmt = (select(User, Profile).outerjoin(Profile, Profile.user_id == User.id)
            .where(User.role == "student", User.status == "active").order_by(User.id))
    if user_ids is not None:
        stmt = stmt.where(User.id.in_(list(user_ids)))
    return [(user, profile) for user, profile in db.session.execute(stmt)]


def _listed_groups(group_ids: Iterable[str] | None = None) -> list[StudyGroup]:
    """Non-archived groups (of `group_ids`, or all), by id, as snapshots: safe to read after this
    session ends (or rolls back a cache write)."""
    stmt = select(StudyGroup).where(StudyGroup.is_archived.is_(False)).order_by(StudyGroup.id)
    if group_ids is not None:
        stmt = stmt.where(StudyGroup.id.in_(list(group_ids)))
    groups = list(db.session.execute(stmt).scalars())
    for group in groups:
        db.session.expunge(group)
    return groups


def _members(group_ids: list[str] | None = None) -> dict[str, list[str]]:
    """Active members of non-archived groups (of `group_ids`, or all), in joining order."""
    stmt = (select(GroupMember.group_id, GroupMember.user_id).join(StudyGroup, StudyGroup.id == GroupMember.group_id)
            .where(GroupMember.status == "active", StudyGroup.is_archived.is_(False))
            .order_by(GroupMember.group_id, GroupMember.created_at))
    if group_ids is not None:
        stmt = stmt.where(GroupMember.group_id.in_(group_ids))
    out: dict[str, list[str]] = {}
    for group_id, user_id in db.session.execute(stmt):
        out.setdefault(group_id, []).append(user_id)
    return out


def _build(model) -> CollegeIndex:
    students = _students()
    vectors = embeddings.profile_vectors([p for _, p in students if p is not None], model)
    profiles, people, people_items = [], {}, {}
    for user, profile in students:
        vector = vectors.get(user.id) if profile is not None else None
        people[user.id], people_items[user.id] = _person(user, profile, vector)
        if profile is not None:
            profiles.append(_profile_data(user, profile, vector))
    matrix = CandidateMatrix.build(profiles, model.dim)

    groups = _listed_groups()
    members = _members() if groups else {}
    members = {g.id: members.get(g.id, []) for g in groups}
    group_vectors = embeddings.group_vectors(groups, model)
    group_index = GroupIndex.build([GroupData(id=g.id, subject=g.subject, member_ids=members[g.id], name=g.name)
                                    for g in groups], matrix)
    member_of: dict[str, set[str]] = {}
    for group_id, user_ids in members.items():
        for user_id in user_ids:
            member_of.setdefault(user_id, set()).add(group_id)
    return CollegeIndex(
        model=model.name, matrix=matrix, people=people, people_items=people_items,
        groups={g.id: g for g in groups}, group_members=members,
        member_of={u: frozenset(gs) for u, gs in member_of.items()}, group_index=group_index,
        group_facts=GroupFacts.of(group_index.ids, {g.id: g for g in groups}),
        group_items={g.id: _group_item(g, group_vectors.get(g.id)) for g in groups},
    )


def _apply(index: CollegeIndex, student_ids: set[str], group_ids: set[str], model) -> CollegeIndex:
    """A new index with these students and groups re-read from the database. Writes nothing: a text
    its writer left stale is embedded in memory (`store=False`), so a recommendation that happens
    to catch up never becomes a writer (on SQLite it would queue for the write lock, or fail to
    upgrade its read and run again, behind the very change it is applying)."""
    matrix, people, people_items = index.matrix, index.people, index.people_items
    redo: set[str] = set()
    if student_ids:
        found = {user.id: (user, profile) for user, profile in _students(student_ids)}
        vectors = embeddings.profile_vectors([p for _, p in found.values() if p is not None], model, store=False)
        people, people_items = dict(people), dict(people_items)
        upserts, retired = [], []
        for user_id in sorted(student_ids):
            if user_id not in found:  # gone, no longer active, or no longer a student
                people.pop(user_id, None)
                people_items.pop(user_id, None)
                retired.append(user_id)
                continue
            user, profile = found[user_id]
            vector = vectors.get(user_id) if profile is not None else None
            people[user_id], people_items[user_id] = _person(user, profile, vector)
            if profile is None:
                retired.append(user_id)
            else:
                upserts.append(_profile_data(user, profile, vector))
            redo |= index.member_of.get(user_id, frozenset())
        matrix = matrix.with_changes(upserts, retired)

    groups, members, member_of, group_items = index.groups, index.group_members, index.member_of, index.group_items
    upserted: list[GroupData] = []
    removed: list[str] = []
    if group_ids:
        groups, members, member_of, group_items = dict(groups), dict(members), dict(member_of), dict(group_items)
        wanted = sorted(group_ids)
        rows = {g.id: g for g in _listed_groups(wanted)}
        now_members = _members(list(rows)) if rows else {}
        group_vectors = embeddings.group_vectors(list(rows.values()), model, store=False)
        for group_id in wanted:
            for user_id in members.get(group_id, ()):
                member_of[user_id] = member_of.get(user_id, frozenset()) - {group_id}
            group = rows.get(group_id)
            if group is None:  # deleted or archived
                groups.pop(group_id, None)
                members.pop(group_id, None)
                group_items.pop(group_id, None)
                removed.append(group_id)
                continue
            groups[group_id], members[group_id] = group, now_members.get(group_id, [])
            group_items[group_id] = _group_item(group, group_vectors.get(group_id))
            for user_id in members[group_id]:
                member_of[user_id] = member_of.get(user_id, frozenset()) | {group_id}
            upserted.append(GroupData(id=group_id, subject=group.subject, member_ids=members[group_id],
                                      name=group.name))
    group_index = index.group_index.with_changes(matrix, upserts=upserted, removed=removed, redo=redo)
    facts = index.group_facts
    if group_ids:
        facts = GroupFacts.of(group_index.ids, groups, facts, [group_index.index[g] for g in group_ids
                                                                if g in group_index.index])
    return CollegeIndex(model=index.model, matrix=matrix, people=people, people_items=people_items,
                        groups=groups, group_members=members, member_of=member_of, group_index=group_index,
                        group_facts=facts, group_items=group_items)


def forget(college_id: str) -> None:
    """This worker's index of the college (other workers' entries simply age out)."""
    cache().forget(college_id)
