"""bcrypt hashing with configurable rounds, and the password policy.

Every bcrypt run first tells `hashing_routes` that the request on this thread hashes, so that the
server runs that route's requests on threads apart from the reads (asgi.py).

bcrypt silently ignores everything past 72 bytes, so a longer password is refused instead of
being truncated behind the user's back.
"""
from __future__ import annotations

import re
from functools import lru_cache

import bcrypt

from ..hashing_routes import note_hashing

MAX_PASSWORD_BYTES = 72
MIN_PASSWORD_LENGTH = 8
POLICY_MESSAGE = "Password must be at least 8 characters with uppercase, lowercase and numeric characters"
TOO_LONG_MESSAGE = "Password must be at most 72 bytes"


def password_problem(password: str, *, strong: bool = True) -> str | None:
    """Why `password` is unacceptable, or None. `strong=False` keeps only the length rules."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return TOO_LONG_MESSAGE
    if not strong:
        return None if len(password) >= 6 else "Password must be at least 6 characters"
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or not re.search(r"[A-Z]", password)
        or not re.search(r"[a-z]", password)
        or not re.search(r"[0-9]", password)
    ):
        return POLICY_MESSAGE
    return None


def hash_password(password: str, rounds: int) -> str:
    note_hashing()
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        return False
    note_hashing()
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(b"", password_hash.encode("ascii"))  # as slow as a real check: timing tells nothing
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


@lru_cache(maxsize=None)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"timing-equaliser", bcrypt.gensalt(rounds=rounds))


def burn_verify_time(rounds: int) -> None:
    """One bcrypt check of the configured cost, so an unknown email answers as slowly as a known one
    with a wrong password (no user enumeration by timing). The dummy hash is made once per cost."""
    note_hashing()
    bcrypt.checkpw(b"x", _dummy_hash(rounds))
