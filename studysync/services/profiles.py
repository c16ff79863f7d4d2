"""Learning profiles: a student's own (read, write) and a classmate's public view.

`upsert_profile(user, data)` is the entry point for plain, untrusted data (the mobile adapter
stores the app's register body through it); the v1 view has already validated its body and calls
`update_profile`. Either way every change bumps `text_version` and marks the embedding stale, and
the saving request embeds a new learning-style text itself (`embed_changed_profile`), so that no
recommendation request has to (each worker's matching index only reads the cached vector).
"""
from __future__ import annotations

from functools import cache
from typing import Any

from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import bindparam, select

from ..access import allow
from ..db import db
from ..errors import BadRequest, NotFound
from ..models import Profile, User
from ..models.user import COLLEGE_ROLES
from ..schemas.profile import WEEKDAYS, ProfileUpdateSchema
from ..tenancy import tenant_context
from .embeddings import embedder, profile_vectors
from .friends import visible_emails

PROFILE_FIELDS = ("major", "year", "university", "learning_style", "bio", "subjects", "schedule",
                  "performance_level", "group_preferences", "study_environments", "study_methods")
EMPTY = {"subjects": [], "schedule": {}, "group_preferences": {}, "study_environments": [], "study_methods": []}


def profile_of(user_id: str) -> Profile | None:
    return db.session.execute(_profile_statement(), {"user_id": user_id}).scalar_one_or_none()


@cache
def _profile_statement():
    """Built once per process: every profile read and recommendation runs it."""
    return select(Profile).where(Profile.user_id == bindparam("user_id"))


def profiles_of(user_ids: list[str]) -> dict[str, Profile]:
    """Profiles of many users in one query (for lists)."""
    if not user_ids:
        return {}
    rows = db.session.execute(select(Profile).where(Profile.user_id.in_(set(user_ids)))).scalars()
    return {p.user_id: p for p in rows}


def view(user: User, profile: Profile | None, *, show_email: bool) -> dict[str, Any]:
    """User and profile as one plain dict; lists and objects are never null (the apps rely on it)."""
    data: dict[str, Any] = {"user_id": user.id, "name": user.name, "role": user.role}
    if show_email:
        data["email"] = user.email
    for field in PROFILE_FIELDS:
        value = getattr(profile, field) if profile is not None else None
        data[field] = EMPTY[field] if value is None and field in EMPTY else value
    data["schedule"] = {day: data["schedule"][day] for day in WEEKDAYS if day in data["schedule"]}
    # a student who never filled a profile still has a record (self-registration, admin, bulk import)
    if not data["major"] and user.department:
        data["major"] = user.department
    if not data["year"] and user.year is not None:
        data["year"] = str(user.year)
    data["updated_at"] = (profile.updated_at or profile.created_at) if profile is not None else None
    return data


@allow("student")
def my_profile(user: User) -> dict[str, Any]:
    return view(user, profile_of(user.id), show_email=True)


@allow(*COLLEGE_ROLES)
def public_profile(viewer: User, user_id: str) -> dict[str, Any]:
    subject = db.session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if subject is None or not subject.is_active:
        raise NotFound("User not found")
    show_email = subject.id in visible_emails(viewer, [subject])
    return view(subject, profile_of(subject.id), show_email=show_email)


def _apply(user: User, changes: dict[str, Any]) -> Profile:
    profile = profile_of(user.id)
    if profile is None:
        profile = Profile(user_id=user.id, text_version=0)
        db.session.add(profile)
    changed = False
    for field, value in changes.items():
        if field not in PROFILE_FIELDS:
            continue
        if value is None and field in EMPTY:
            value = type(EMPTY[field])()
        if field == "group_preferences" and value:
            value = {k: v for k, v in value.items() if v is not None}
        if getattr(profile, field) != value:
            setattr(profile, field, value)
            changed = True
    if changed or profile.text_version == 0:
        profile.text_version = (profile.text_version or 0) + 1
        profile.embedding_stale = True
    return profile


def embed_changed_profile(profile: Profile) -> None:
    """Flush the change, then embed its text and clear `embedding_stale` in this same transaction.
    Not while the model is still loading (or failed to): saving a profile never waits for it; the
    text stays stale, and each worker's index embeds it in memory until a whole build stores it."""
    db.session.flush()
    model = embedder()
    if profile.embedding_stale and model.state == "loaded":
        profile_vectors([profile], model)
        db.session.expire(profile, ["embedding_stale"])  # cleared by an UPDATE, not through the object


@allow("student")
def update_profile(user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """Set the validated `changes` on the student's profile (creating it on the first save)."""
    embed_changed_profile(_apply(user, changes))
    return my_profile(user)


@allow("student")
def upsert_profile(user: User, data: dict[str, Any]) -> Profile:
    """Create or update `user`'s profile from plain snake_case data, validated like the API's body.

    Unknown keys are ignored (adapters pass whole request bodies); invalid values are a 400 with
    the field errors.
    """
    try:
        changes = ProfileUpdateSchema(unknown=EXCLUDE).load(data)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        field, problems = next(iter(errors.items()))
        raise BadRequest(f"{field}: {problems[0] if isinstance(problems, list) else problems}", errors=errors)
    with tenant_context(user.college_id):
        profile = _apply(user, changes)
        embed_changed_profile(profile)
    return profile
