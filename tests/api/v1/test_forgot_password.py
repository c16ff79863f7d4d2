"""Forgot password, through a real SMTP server the test starts and reads (aiosmtpd)."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from studysync.db import db, utcnow
from studysync.models import PasswordResetToken
from studysync.services.account_recovery import FORGOT_ANSWER, INVALID_RESET_TOKEN
from studysync.tenancy import all_tenants
from tests.factories import PASSWORD, Factory
from tests.support.smtp import smtp_server

TOKEN = re.compile(r"^ {4}(\S+)\r?$", re.MULTILINE)
SENDER = "StudySync Test <no-reply@studysync.test>"


@pytest.fixture
def mail_app(app_factory):
    with smtp_server() as (url, inbox):
        app = app_factory(smtp_url=url, mail_from=SENDER)
        client = app.test_client()
        yield app, client, Factory(app, client), inbox
        if "studysync.reset_queue" in app.extensions:  # nothing left running into the next test
            app.extensions["studysync.reset_queue"].drain()


def forgot(client, email, **body):
    return client.post("/api/v1/auth/forgot-password", json={"email": email, **body})


def token_in(message) -> str:
    return TOKEN.search(message.get_content()).group(1)


def login(client, actor, password):
    return client.post("/api/v1/students/login", json={"college_id": actor.college_id, "student_email": actor.email,
                                                       "student_password": password})


def test_round_trip_through_the_mail_server(mail_app):
    app, client, factory, inbox = mail_app
    kit = factory.college()
    student = kit.student

    unknown = forgot(client, "nobody@nowhere.edu")
    known = forgot(client, student.email.upper())  # emails are matched case-insensitively
    assert unknown.status_code == known.status_code == 200
    assert unknown.json == known.json == {"success": True, "data": {}, "message": FORGOT_ANSWER}

    (mail,) = inbox.wait_for(1)
    assert mail["To"] == student.email and mail["From"] == SENDER
    assert mail["Subject"] == "Reset your StudySync password"
    token = token_in(mail)
    assert "30 minutes" in mail.get_content()

    with app.app_context(), all_tenants():  # only the token's hash is kept
        (row,) = db.session.execute(select(PasswordResetToken)).scalars()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash

    r = client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "Fresh@Start9"})
    assert r.status_code == 200, r.json
    assert client.get("/api/v1/auth/me", headers=student.headers).status_code == 401  # every session revoked
    assert login(client, student, PASSWORD).status_code == 401
    assert login(client, student, "Fresh@Start9").status_code == 200

    again = client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "Second@Try9"})
    assert again.status_code == 400 and again.json["message"] == INVALID_RESET_TOKEN
    assert login(client, student, "Fresh@Start9").status_code == 200
    assert len(inbox.messages) == 1  # the unknown email got nothing


def test_an_expired_or_superseded_token_is_refused(mail_app):
    app, client, factory, inbox = mail_app
    kit = factory.college()
    student = kit.student

    forgot(client, student.email)
    forgot(client, student.email)
    first, second = (token_in(m) for m in inbox.wait_for(2))
    r = client.post("/api/v1/auth/reset-password", json={"token": first, "new_password": "Fresh@Start9"})
    assert r.status_code == 400 and r.json["message"] == INVALID_RESET_TOKEN  # only the newest one works

    with app.app_context(), all_tenants():  # 31 minutes later
        db.session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    r = client.post("/api/v1/auth/reset-password", json={"token": second, "new_password": "Fresh@Start9"})
    assert r.status_code == 400 and r.json["message"] == INVALID_RESET_TOKEN
    assert login(client, student, PASSWORD).status_code == 200


def test_a_reset_clears_a_temporary_password_and_works_for_staff(mail_app):
    app, client, factory, inbox = mail_app
    kit = factory.college()
    temporary = client.post(f"/api/v1/users/{kit.teacher.id}/password-reset", headers=kit.admin.headers)
    assert temporary.status_code == 200

    forgot(client, kit.teacher.email, college_id=kit.id)
    token = token_in(inbox.wait_for(1)[0])
    assert client.post("/api/v1/auth/reset-password",
                       json={"token": token, "new_password": "Teach@Again7"}).status_code == 200
    r = client.post("/api/v1/auth/login", json={"email": kit.teacher.email, "password": "Teach@Again7"})
    token = r.json["data"]["token"]
    assert client.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_forgot_password_is_throttled_like_logins(mail_app):
    app, client, factory, inbox = mail_app
    answers = [forgot(client, "someone@nowhere.edu").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]  # each request counts like a wrong password for that account
    assert forgot(client, "someone.else@nowhere.edu").status_code == 200  # the address is not locked

    bad = [client.post("/api/v1/auth/reset-password", json={"token": f"guess{i}", "new_password": "Fresh@Start9"})
           for i in range(6)]
    assert [r.status_code for r in bad] == [400] * 5 + [429]
    assert "Too many" in bad[-1].json["message"]
