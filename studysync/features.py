"""The features registry and the gate for routes of optional features."""
from __future__ import annotations

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


def normalise_features(names: list[str]) -> list[str]:
    """Validate a college's feature list: `core` is mandatory, unknown names are refused."""
    unknown = sorted(set(names) - FEATURES.keys())
    if unknown:
        raise BadRequest(
            f"Unknown features: {', '.join(unknown)}. Known features: {', '.join(FEATURES)}",
            errors={"enabled_features": [f"Known features: {', '.join(FEATURES)}"]},
        )
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
