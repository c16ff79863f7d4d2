"""The college of a public request that names none (the mobile app's and the legacy clients'
sign-up and sign-in): the email's domain, else the request's subdomain, else `DEFAULT_COLLEGE`.

One helper for every surface, so a college is found the same way whichever client asks.
"""
from __future__ import annotations

from sqlalchemy import select

from ..config import settings
from ..db import db
from ..models import College
from ..services import colleges
from ..tenancy import all_tenants
from .v1.common import subdomain_from_host


def _by_key(key: str) -> College | None:
    """A college named by id or by subdomain."""
    return db.session.get(College, key) or db.session.execute(
        select(College).where(College.subdomain == key.lower())).scalar_one_or_none()


def college_for_request(email: str | None = None) -> College | None:
    with all_tenants():
        college = colleges.college_for_email(email) if email and "@" in email else None
        subdomain = subdomain_from_host()
        if college is None and subdomain:
            college = _by_key(subdomain)
        if college is None and settings().default_college:
            college = _by_key(settings().default_college)
    return college
