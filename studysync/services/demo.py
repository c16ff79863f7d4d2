"""The demo college `make run` seeds once, so a fresh checkout has something to log into."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..access import SYSTEM
from ..db import db
from ..models import College
from ..tenancy import tenant_context
from . import colleges, students, users

DEMO_SUBDOMAIN = "demo"
DEMO_DOMAIN = "demo.edu"
ADMIN_PASSWORD = "Admin@1234"
TEACHER_PASSWORD = "Teacher@1234"
STUDENT_PASSWORD = "Student@1234"
DEMO_STUDENTS = [
    ("Alice Johnson", "Computer Science", 1), ("Bob Smith", "Mechanical Engineering", 3),
    ("Carmen Diaz", "Mathematics", 2), ("Dev Patel", "Physics", 2), ("Ella Chen", "Biology", 1),
    ("Farid Haddad", "Computer Science", 4), ("Grace Kim", "Chemistry", 3), ("Hugo Martin", "Economics", 2),
    ("Ines Silva", "Psychology", 1), ("Jonas Berg", "Electrical Engineering", 3),
    ("Kemi Adeyemi", "Mathematics", 4), ("Liam O'Brien", "History", 2),
]


@dataclass
class DemoCollege:
    college: College
    created: bool
    domain: str = DEMO_DOMAIN
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def _email(name: str) -> str:
    return name.lower().replace("'", "").replace(" ", ".") + "@" + DEMO_DOMAIN


def seed_demo() -> DemoCollege:
    logins = [("admin", f"admin@{DEMO_DOMAIN}", ADMIN_PASSWORD), ("teacher", f"teacher@{DEMO_DOMAIN}", TEACHER_PASSWORD)]
    logins += [("student", _email(name), STUDENT_PASSWORD) for name, _, _ in DEMO_STUDENTS]
    existing = db.session.execute(select(College).where(College.subdomain == DEMO_SUBDOMAIN)).scalar_one_or_none()
    if existing is not None:
        return DemoCollege(existing, created=False, logins=logins)
    created = colleges.create_college(SYSTEM, "StudySync Demo College", DEMO_SUBDOMAIN, "Demo Admin",
                                      f"admin@{DEMO_DOMAIN}", ADMIN_PASSWORD, list(_all_features()),
                                      temporary_admin_password=False)  # the README prints it
    college = created.college
    with tenant_context(college.id):
        colleges.assign_email_domains(SYSTEM, college.id, [DEMO_DOMAIN])
        users.create_staff(created.admin, "Dr. Demo Teacher", f"teacher@{DEMO_DOMAIN}", TEACHER_PASSWORD, "teacher")
        for index, (name, department, year) in enumerate(DEMO_STUDENTS, start=1):
            record = {"name": name, "email": _email(name), "department": department, "year": year,
                      "roll_no": f"D{index:03d}", "rating": float(3 + index % 5)}
            students.create_student(created.admin, record, STUDENT_PASSWORD)
    db.session.commit()
    return DemoCollege(college, created=True, logins=logins)


def _all_features():
    from ..features import FEATURES

    return FEATURES.keys()
