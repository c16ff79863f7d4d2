"""Colleges (tenants): onboarding by the sysadmin, features and settings."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..conflicts import DOMAIN_TAKEN
from ..access import allow, presenter, public
from ..auth.passwords import hash_password
from ..config import settings
from ..db import db, new_id
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..features import normalise_features
from ..models import College, CollegeEmailDomain, User
from ..models.user import DEFAULT_GROUP_LIMIT
from ..queries import Page, paginate, text_search
from ..tenancy import all_tenants, tenant_context
from . import audit

SUBDOMAIN_TAKEN = "College subdomain already exists"


@dataclass(frozen=True)
class NewCollege:
    college: College
    admin: User
    temporary_password: str


def _college_or_404(college_id: str) -> College:
    college = db.session.get(College, college_id)
    if college is None:
        raise NotFound("College not found")
    return college


@allow("sysadmin", "admin")
def visible_college(actor: User, college_id: str) -> College:
    """The sysadmin reads any college; an admin only their own (another id is a 404)."""
    if actor.role != "sysadmin" and actor.college_id != college_id:
        raise NotFound("College not found")
    return _college_or_404(college_id)


@allow("sysadmin")
def create_college(actor: User, name: str, subdomain: str, admin_name: str, admin_email: str, admin_password: str,
                   enabled_features: list[str] | None = None, *, temporary_admin_password: bool = True) -> NewCollege:
    """API 2: the admin's password was chosen by the sysadmin, so it must be changed at first login
    (the seeded demo college and test factories opt out)."""
    features = normalise_features(enabled_features or ["core"])
    college = College(id=new_id(), name=name, subdomain=subdomain.lower(), status="active",
                      enabled_features=features, settings={"group_limit": DEFAULT_GROUP_LIMIT})
    db.session.add(college)
    with tenant_context(college.id):
        admin = User(role="admin", name=admin_name, email=admin_email,
                     password_hash=hash_password(admin_password, settings().bcrypt_rounds),
                     must_change_password=temporary_admin_password)
        db.session.add(admin)
        audit.record(actor, "college.create", "college", college, {"subdomain": college.subdomain, "features": features})
        db.session.flush()  # inside the new college's context: the flush guard stamps the admin
    return NewCollege(college=college, admin=admin, temporary_password=admin_password)


@presenter
def portal_url(college: College) -> str:
    """Where the college's people sign in: `PORTAL_URL_TEMPLATE` with its subdomain."""
    config = settings()
    template = config.portal_url_template or "https://{subdomain}." + config.portal_domain
    return template.format(subdomain=college.subdomain)


@allow("sysadmin")
def list_colleges(actor: User, page: int, limit: int, status: str | None = None, q: str | None = None) -> Page[College]:
    stmt = select(College).order_by(College.created_at, College.id)
    if status:
        stmt = stmt.where(College.status == status)
    if q:
        stmt = stmt.where(text_search(q, College.name, College.subdomain))
    return paginate(stmt, page, limit)


@allow("sysadmin")
def update_college(actor: User, college_id: str, changes: dict) -> College:
    college = _college_or_404(college_id)
    for field in ("name", "subdomain", "status"):
        if field in changes:
            setattr(college, field, changes[field].lower() if field == "subdomain" else changes[field])
    audit.record(actor, "college.update", "college", college, {"changes": changes}, college_id=college.id)
    return college


@allow("sysadmin")
def update_features(actor: User, college_id: str, features: list[str]) -> College:
    college = _college_or_404(college_id)
    college.enabled_features = normalise_features(features)
    audit.record(actor, "college.features", "college", college, {"enabled_features": college.enabled_features}, college_id=college.id)
    return college


DOMAINS_ARE_THE_SYSADMINS = ("Email domains route students to their college, so only the StudySync sysadmin "
                             "assigns them: ask the sysadmin to add or remove a domain")


@allow("sysadmin", "admin")
def update_settings(actor: User, college_id: str, changes: dict) -> College:
    """An admin sets their college's defaults; email domains are the sysadmin's alone (an admin sending
    the domains the college already has, as a form that round-trips every setting does, is fine)."""
    college = visible_college(actor, college_id)
    if "email_domains" in changes:
        wanted = _domain_names(changes["email_domains"])
        if actor.role != "sysadmin" and wanted != sorted(college.domain_names):
            raise Forbidden(DOMAINS_ARE_THE_SYSADMINS)
        _assign_domains(college, wanted)
    merged = dict(college.settings or {})
    for key in ("group_limit", "ratelimit_api", "password_policy", "self_reported_rating"):
        if key in changes:
            merged[key] = changes[key]
    college.settings = merged
    audit.record(actor, "college.settings", "college", college, {"changes": changes}, college_id=college.id)
    return college


@allow("sysadmin")
def assign_email_domains(actor: User, college_id: str, domains: list[str]) -> College:
    """The sysadmin's operation (also used by scripts and tests): the college's domains become `domains`."""
    college = _college_or_404(college_id)
    _assign_domains(college, _domain_names(domains))
    audit.record(actor, "college.email_domains", "college", college, {"domains": college.domain_names},
                 college_id=college.id)
    return college


def _domain_names(domains: list[str]) -> list[str]:
    return sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})


def _assign_domains(college: College, domains: list[str]) -> None:
    """A domain belongs to one college: one that another college declared, or whose addresses another
    college's people already log in with, is refused (it would send them to this college)."""
    added = [name for name in domains if name not in college.domain_names]
    with all_tenants():
        declared = db.session.execute(
            select(CollegeEmailDomain.domain).where(
                CollegeEmailDomain.domain.in_(domains), CollegeEmailDomain.college_id != college.id
            )
        ).scalars().all()
        in_use = [name for name in added if db.session.execute(
            select(User.id).where(User.college_id.is_not(None), User.college_id != college.id,
                                  User.email.endswith(f"@{name}", autoescape=True)).limit(1)
        ).first() is not None]
    taken = sorted({*declared, *in_use})
    if taken:
        raise Conflict(f"{DOMAIN_TAKEN}: {', '.join(taken)}")
    college.email_domains = [
        next((d for d in college.email_domains if d.domain == name), None) or CollegeEmailDomain(domain=name)
        for name in domains
    ]


@public
def college_for_email(email: str) -> College | None:
    """The college whose email domains contain this email's domain (domains are unique)."""
    domain = email.rsplit("@", 1)[-1].strip().lower()
    row = db.session.execute(
        select(College).join(CollegeEmailDomain).where(CollegeEmailDomain.domain == domain)
    ).scalar_one_or_none()
    return row


def require_active_college(college_id: str) -> College:
    college = db.session.get(College, college_id)
    if college is None:
        raise NotFound("College not found")
    if not college.is_active:
        raise BadRequest("College is suspended")
    return college
