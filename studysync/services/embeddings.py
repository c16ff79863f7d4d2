"""The embedding cache: vectors computed once per text, in batches, and the log of matching changes.

A profile's vector embeds its `learning_style`; a group's embeds its name, subject and
description. Each vector is stored with the sha256 of its text, so `vectors_for` only sends texts
that are new or changed to the model, many at a time — a recommendation request embeds nothing
once its college is indexed (the reindex CLI or the first request after a bulk import does it).

A changed profile text is embedded by the request that saves it (services/profiles.py); the
per-worker indexes only read the cache, and embed in memory (writing nothing) what is still stale.

`log_on_flush` is the one place that notices profile, group and membership changes: an
`after_flush` listener inserts one `matching_changes` row per student or group touched, in the
same transaction, so the in-process index of every worker (services/matching_index.py) applies
just that change. Inserting takes no lock that another writer of the college waits for.
"""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from datetime import timedelta
from typing import Callable

import numpy as np
from flask import current_app
from sqlalchemy import event, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..db import db, utcnow
from ..matching import Embedder
from ..models import Embedding, GroupMember, MatchingChange, Profile, StudyGroup, User
from ..observability import metrics

BATCH_SIZE = 256
WATCHED = (Profile, StudyGroup, GroupMember, User)  # a new student is found by people search at once


def embedder() -> Embedder:
    return current_app.extensions["studysync.embedder"]


def text_hash(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def group_text(group: StudyGroup) -> str:
    return ". ".join(p for p in (group.name, group.subject, group.description) if p and str(p).strip())


# The change log -------------------------------------------------------------------------------

PROFILE, GROUP = "profile", "group"
RETENTION = timedelta(hours=1)  # a worker that has not synced for half of this rebuilds instead
PRUNE_EVERY = 256  # changes logged by this process between two prunes of old rows


def _subject(obj) -> tuple[str, str] | None:
    """What a flushed row changes for matching: a student (profile, user) or a group (group, membership)."""
    if isinstance(obj, Profile):
        return PROFILE, obj.user_id
    if isinstance(obj, User):
        return PROFILE, obj.id
    if isinstance(obj, StudyGroup):
        return GROUP, obj.id
    if isinstance(obj, GroupMember):
        return GROUP, obj.group_id
    return None


_logged = itertools.count(1)


def _log(session: Session, changes: set[tuple[str, str, str]]) -> None:
    connection = session.connection()
    table = MatchingChange.__table__
    now = utcnow()
    connection.execute(table.insert(), [{"college_id": college_id, "kind": kind, "subject_id": subject_id,
                                         "created_at": now} for college_id, kind, subject_id in sorted(changes)])
    if next(_logged) % PRUNE_EVERY == 0:  # old rows of these colleges: no worker still needs them
        for college_id in sorted({c for c, _, _ in changes}):
            connection.execute(table.delete().where(table.c.college_id == college_id,
                                                    table.c.created_at < now - RETENTION))


# Columns whose change cannot alter a match: a chat message touching `last_message_at` must not
# throw away the college's matrices.
IGNORED = {"updated_at", "last_message_at", "embedding_stale"}


# A user row matters only for what people search shows of someone without a profile.
USER_FIELDS = {"name", "department", "year", "status", "role"}


def _matters(obj) -> bool:
    state = inspect(obj)
    keys = USER_FIELDS if isinstance(obj, User) else None
    return any(attr.key not in IGNORED and (keys is None or attr.key in keys) and attr.history.has_changes()
               for attr in state.attrs)


def log_on_flush(session: Session, _context) -> None:
    touched = [obj for obj in (*session.new, *session.deleted) if isinstance(obj, WATCHED)]
    touched += [obj for obj in session.dirty if isinstance(obj, WATCHED) and _matters(obj)]
    changes = set()
    for obj in touched:
        subject = _subject(obj)
        if obj.college_id is not None and subject is not None and subject[1] is not None:
            changes.add((obj.college_id, *subject))
    if changes:
        _log(session, changes)


def install(session_factory: sessionmaker) -> None:
    """Once per app, on its new session factory. Never guarded by `event.contains`: SQLAlchemy
    remembers a session class's listeners by the class's `id()`, so a factory built after another
    one was dropped (the tests build an app per test) could answer "already listening" while no
    listener was attached, and that app logged no change at all."""
    event.listen(session_factory, "after_flush", log_on_flush)


# Vectors -------------------------------------------------------------------------------------


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def vectors_for(owner_type: str, texts: dict[str, str | None], model: Embedder | None = None,
                progress: Callable[[int], None] | None = None, commit: bool = False,
                store: bool = True) -> dict[str, np.ndarray]:
    """Vectors of `texts` (owner id → text) from the cache, embedding new or changed texts in batches.

    New rows are written in a savepoint of the caller's transaction and committed with it (or
    after each batch with `commit`, for the reindex CLI): a request never commits half-way, so it
    keeps every lock it holds until its end. A concurrent writer of the same row wins and this call
    keeps its in-memory vectors. Without `store` nothing is written: a request that only reads
    (a recommendation catching up with one change) must not queue for a write lock, SQLite's one
    above all, behind the writers it is reading after.
    """
    model = model or embedder()
    if not texts:
        return {}
    ids = list(texts)
    cached: dict[str, Embedding] = {}
    for chunk in _chunks(ids, 500):
        for row in db.session.execute(select(Embedding).where(
                Embedding.owner_type == owner_type, Embedding.model == model.name,
                Embedding.owner_id.in_(chunk))).scalars():
            cached[row.owner_id] = row
    out: dict[str, np.ndarray] = {}
    stale: list[str] = []
    for owner_id in ids:
        row = cached.get(owner_id)
        if row is not None and row.text_hash == text_hash(texts[owner_id]):
            out[owner_id] = from_bytes(row.vector)
        else:
            stale.append(owner_id)
    metrics.count_embedding_misses(owner_type, len(stale))
    for chunk in _chunks(stale, BATCH_SIZE):
        matrix = model.embed([texts[i] or "" for i in chunk])
        for owner_id, vector in zip(chunk, matrix):
            out[owner_id] = vector
        if store:
            _store(owner_type, model.name, {i: (texts[i], out[i]) for i in chunk}, cached)
        if commit:
            db.session.commit()
        if progress is not None:
            progress(len(chunk))
    return out


def _store(owner_type: str, model_name: str, rows: dict[str, tuple[str | None, np.ndarray]],
           cached: dict[str, Embedding]) -> None:
    now = utcnow()
    try:
        with db.session.begin_nested():
            for owner_id, (text, vector) in rows.items():
                row = cached.get(owner_id)
                if row is None:
                    db.session.add(Embedding(owner_type=owner_type, owner_id=owner_id, model=model_name,
                                             text_hash=text_hash(text), vector=to_bytes(vector), updated_at=now))
                else:
                    row.text_hash, row.vector, row.updated_at = text_hash(text), to_bytes(vector), now
            if owner_type == "profile":
                _clear_stale(rows)
            db.session.flush()  # a concurrent writer's row collides here
    except IntegrityError:
        pass  # the savepoint is rolled back; the caller's transaction goes on


def _clear_stale(rows: dict[str, tuple[str | None, np.ndarray]]) -> None:
    """Clear `embedding_stale` only where the profile's text is still the one embedded."""
    for user_id, (text, _vector) in rows.items():
        db.session.execute(
            update(Profile).where(Profile.user_id == user_id, Profile.embedding_stale.is_(True),
                                  _same_text(text))
            .values(embedding_stale=False).execution_options(synchronize_session=False)
        )


def _same_text(text: str | None):
    return Profile.learning_style.is_(None) if text is None else Profile.learning_style == text


def profile_vectors(profiles: Iterable[Profile], model: Embedder | None = None,
                    store: bool = True) -> dict[str, np.ndarray]:
    """user id → learning-style vector."""
    return vectors_for("profile", {p.user_id: p.learning_style for p in profiles}, model, store=store)


def group_vectors(groups: Iterable[StudyGroup], model: Embedder | None = None,
                  store: bool = True) -> dict[str, np.ndarray]:
    return vectors_for("group", {g.id: group_text(g) for g in groups}, model, store=store)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
