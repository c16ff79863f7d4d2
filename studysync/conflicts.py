"""What a unique-constraint violation means to the person who caused it.

Services flush and let the database's unique constraints decide races (two registrations of one
email, a double-tapped join); the request's unit of work (`api/unit_of_work.py`) turns the
violation into a 409 whose message names the conflict, found here by the constraint's name. Any
other integrity error (a foreign key whose row vanished meanwhile) is not the caller's conflict:
the unit runs again and meets the missing row as a 404.
"""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from .db import UNIQUE, integrity_violation

EMAIL_TAKEN = "Email already exists"
ROLL_NO_TAKEN = "Roll number already exists"
SUBDOMAIN_TAKEN = "College subdomain already exists"
CODE_TAKEN = "Classroom code already exists"
DOMAIN_TAKEN = "Email domain already used by another college"
MEMBERSHIP_RACE = "Membership changed at the same time; please retry"
SAME_MOMENT = "This was created by another request at the same moment; please try again"

MESSAGES = {
    "uq_users_college_id_email": EMAIL_TAKEN,
    "uq_users_college_id_roll_no": ROLL_NO_TAKEN,
    "uq_colleges_subdomain": SUBDOMAIN_TAKEN,
    "uq_classrooms_college_id_code": CODE_TAKEN,
    "pk_college_email_domains": DOMAIN_TAKEN,
    "uq_group_members_group_id_user_id": MEMBERSHIP_RACE,
}


def is_unique_violation(exc: IntegrityError) -> bool:
    return integrity_violation(exc)[0] == UNIQUE


def conflict_message(exc: IntegrityError) -> str:
    _, name = integrity_violation(exc)
    return MESSAGES.get(name or "", SAME_MOMENT)
