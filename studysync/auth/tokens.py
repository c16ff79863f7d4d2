"""JWTs: HS256 pinned, always naming a server-side session."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import jwt

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: str
    college_id: str | None
    session_id: str


def encode_token(claims: TokenClaims, secret: str, issued_at: datetime, expires_at: datetime) -> str:
    payload = {
        "sub": claims.user_id,
        "role": claims.role,
        "college_id": claims.college_id,
        "sid": claims.session_id,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token, or None.

    Every request carries a token its client has sent many times before: the signature check and
    parse are done once per process (bounded cache), the expiry is checked on every call."""
    checked = _verified(token, secret)
    if checked is None:
        return None
    claims, expires = checked
    return claims if time.time() < expires else None


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[TokenClaims, int] | None:
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub", "sid"]}
        )
        claims = TokenClaims(
            user_id=str(payload["sub"]),
            role=str(payload["role"]),
            college_id=payload.get("college_id"),
            session_id=str(payload["sid"]),
        )
        return claims, int(payload["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
