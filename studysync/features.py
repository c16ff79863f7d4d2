"""The features registry and the gate for routes of optional features.

A college's `enabled_features` is a list of slugs it may store freely (seed 004 names `ai_mock`,
`resume_builder`, ...); the known ones below gate StudySync's routes, the others gate nothing here.
"""
from __future__ import annotations

import re
from functools import wraps
from typing import Callable

from flask import g

from .errors import BadRequest, Forbidden

FEATURES: dict[str, str] = {
    "core": "accounts, students, classrooms, groups",
    "chat": "group chat and direct messages",
    "study_sessions": "study sessions with RSVPs and calendar feeds",
    "ai_matching": "recommendations, semantic search, auto-formed groups",
    "social": "friends and notifications of social events",
}
CORE = "core"
MANDATORY_CORE_MESSAGE = "Core feature must always be included in enabled features"
SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")
MAX_FEATURES = 50
SLUG_MESSAGE = "Feature names are slugs: lower-case letters, digits, '_' or '-', at most 50 characters"


def normalise_features(names: list[str]) -> list[str]:
    """Validate a college's feature list: `core` is mandatory; any slug may be stored."""
    bad = sorted({n for n in names if not isinstance(n, str) or not SLUG.match(n)}, key=str)
    if bad or len(set(names)) > MAX_FEATURES:
        message = f"{SLUG_MESSAGE}: {', '.join(map(str, bad))}" if bad else f"At most {MAX_FEATURES} features"
        raise BadRequest(message, errors={"enabled_features": [message]})
    if CORE not in names:
        raise BadRequest(MANDATORY_CORE_MESSAGE)
    return list(dict.fromkeys(names))


def feature_enabled(college, name: str) -> bool:
    return name == CORE or (college is not None and name in (college.enabled_features or []))


def ensure_feature(college, name: str) -> None:
    """403 naming the feature when `college` has it off."""
    if not feature_enabled(college, name):
        raise Forbidden(f"Feature '{name}' is not enabled for this college")


def require_feature(name: str) -> Callable:
    """403 naming the feature when the caller's college has it off (the sysadmin has no college)."""
    if name not in FEATURES:
        raise ValueError(f"unknown feature {name}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            college = g.get("college")
            if college is not None:
                ensure_feature(college, name)
            return view(*args, **kwargs)

        return wrapper

    return decorator
