"""Factories: everything is created inside a college (a second one for isolation tests)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from studysync.access import SYSTEM, SystemActor
from studysync.auth import sessions
from studysync.db import db
from studysync.services import colleges, students, users
from studysync.services.bootstrap import create_sysadmin
from studysync.tenancy import tenant_context

PASSWORD = "Passw0rd!x"
_counter = itertools.count(1)


@dataclass
class Actor:
    id: str
    email: str
    role: str
    college_id: str | None
    token: str
    name: str = ""

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class CollegeKit:
    id: str
    subdomain: str
    admin: Actor
    teacher: Actor
    students: list[Actor] = field(default_factory=list)

    @property
    def student(self) -> Actor:
        return self.students[0]


class Factory:
    def __init__(self, app, client):
        self.app = app
        self.client = client

    @staticmethod
    def setup_actor(college_id: str) -> SystemActor:
        """The test's set-up acting as the college's admin: allowed what an admin is, audited as
        nobody (the audit log shows what people did)."""
        return SystemActor(role="admin", college_id=college_id)

    def _actor(self, user) -> Actor:
        login = sessions.open_session(user, sessions.ClientInfo("pytest", "127.0.0.1"))
        db.session.commit()
        return Actor(user.id, user.email, user.role, user.college_id, login.token, user.name)

    def sysadmin(self, email: str = "sysadmin@studysync.test") -> Actor:
        with self.app.app_context():
            user, _ = create_sysadmin(email, PASSWORD)
            return self._actor(user)

    def college(self, name: str | None = None, students_count: int = 2, features=None, domain: str | None = None) -> CollegeKit:
        n = next(_counter)
        sub = f"c{n}"
        with self.app.app_context():
            created = colleges.create_college(SYSTEM, name or f"College {n}", sub, f"Admin {n}", f"admin@{sub}.edu",
                                              PASSWORD, features or ["core", "chat", "study_sessions", "ai_matching", "social"],
                                              temporary_admin_password=False)
            college_id = created.college.id
            with tenant_context(college_id):
                if domain:
                    colleges.assign_email_domains(SYSTEM, college_id, [domain])
                admin = self._actor(created.admin)
                teacher = self._actor(users.create_staff(self.setup_actor(college_id), f"Teacher {n}", f"teacher@{sub}.edu", PASSWORD, "teacher"))
                kit = CollegeKit(college_id, sub, admin, teacher)
                for i in range(students_count):
                    kit.students.append(self.student_in(kit, f"Student {n}-{i}"))
        return kit

    def student_in(self, kit: CollegeKit, name: str | None = None, **record) -> Actor:
        n = next(_counter)
        name = name or f"Student {n}"
        with self.app.app_context(), tenant_context(kit.id):
            data = {"name": name, "email": f"s{n}@{kit.subdomain}.edu", "department": "Computer Science", "year": 2}
            data.update(record)
            student, _ = students.create_student(self.setup_actor(kit.id), data, PASSWORD)
            return self._actor(student)


# Classrooms and groups through the API (issue 3) ------------------------------------------------


def make_classroom(client, kit: CollegeKit, students=(), **fields) -> dict:
    """A classroom taught by `kit.teacher` with `students` (Actors) enrolled."""
    body = {"name": f"Class {next(_counter)}", **fields}
    r = client.post("/api/v1/classrooms", json=body, headers=kit.teacher.headers)
    assert r.status_code == 201, r.json
    classroom = r.json["data"]
    if students:
        r = client.post(f"/api/v1/classrooms/{classroom['classroom_id']}/students",
                        json={"student_ids": [s.id for s in students]}, headers=kit.teacher.headers)
        assert r.status_code == 200, r.json
        classroom = r.json["data"]
    return classroom


def make_group(client, creator: Actor, **fields) -> dict:
    body = {"name": f"Group {next(_counter)}", **fields}
    r = client.post("/api/v1/groups", json=body, headers=creator.headers)
    assert r.status_code == 201, r.json
    return r.json["data"]
