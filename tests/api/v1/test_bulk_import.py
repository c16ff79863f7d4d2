"""PCRM API 10: bulk registration, synchronous for small batches, a pollable job for large ones."""
from __future__ import annotations

import time
from types import SimpleNamespace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from studysync.auth.passwords import verify_password
from studysync.db import db, utcnow
from studysync.models import College, User
from studysync.models.bulk_job import BulkImportJob
from studysync.services import bulk_import, students
from studysync.tenancy import tenant_context
from tests.factories import PASSWORD, Factory

GOOD_PASSWORD = "Student@1234"
SEED_ROWS = [
    {"student_name": "Alice Johnson", "student_email": "alice.johnson@mit.edu", "student_password": GOOD_PASSWORD,
     "student_department": "Electrical Engineering", "student_year": 1},
    {"student_name": "Bob Smith", "student_email": "bob.smith@mit.edu", "student_password": GOOD_PASSWORD,
     "student_department": "Mechanical Engineering", "student_year": 3},
]
WEAK = "student_password: Password must be at least 8 characters with uppercase, lowercase and numeric characters"
TOO_LONG = "student_password: Password must be at most 72 bytes"
BAD_EMAIL = "student_email: Not a valid email address."


def row(n: int, domain: str = "bulk.edu", **fields) -> dict:
    data = {"student_name": f"Student {n:04d}", "student_email": f"student{n:04d}@{domain}",
            "student_password": GOOD_PASSWORD, "student_department": "Computer Science", "student_year": 2}
    data.update(fields)
    return data


def student_emails(app, college_id: str) -> set[str]:
    with app.app_context(), tenant_context(college_id):
        return set(db.session.execute(select(User.email).where(User.role == "student")).scalars())


def wait_for_job(app, college_id: str, job_id: str) -> BulkImportJob:
    """Until the background worker is done (the tests must not end under a running job)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with app.app_context(), tenant_context(college_id):
            job = bulk_import.get_job(SimpleNamespace(role="admin", college_id=college_id), job_id)
            if job.status in ("finished", "failed"):
                return job
        time.sleep(0.02)
    raise AssertionError("bulk import job never finished")


def failures(data: dict) -> list[tuple]:
    return [(f["row"], f["student_email"], f["reason"]) for f in data["failed"]]


# --- small batches: answered at once ------------------------------------------------------------


def test_the_seed_example_registers_both_students(client, factory):
    kit = factory.college()
    r = client.post("/api/v1/students/bulk", json={"students": SEED_ROWS}, headers=kit.admin.headers)
    assert r.status_code == 200, r.json
    assert r.json["success"] is True
    assert r.json["message"] == "2 students registered, 0 failed"
    data = r.json["data"]
    assert set(data) == {"success", "failed"}
    assert data["failed"] == []
    assert [set(s) for s in data["success"]] == [{"student_id", "student_email", "student_name"}] * 2
    assert [(s["student_email"], s["student_name"]) for s in data["success"]] == [
        ("alice.johnson@mit.edu", "Alice Johnson"), ("bob.smith@mit.edu", "Bob Smith")]

    alice = data["success"][0]["student_id"]
    r = client.get(f"/api/v1/students/{alice}", headers=kit.admin.headers)
    assert r.status_code == 200
    assert (r.json["data"]["student_department"], r.json["data"]["student_year"]) == ("Electrical Engineering", 1)
    r = client.post("/api/v1/students/login", json={"college_id": kit.id, "student_email": "bob.smith@mit.edu",
                                                     "student_password": GOOD_PASSWORD})
    assert r.status_code == 200, r.json


def test_each_bad_row_fails_alone_and_the_good_ones_are_committed(app, client, factory):
    kit = factory.college(domain="mixed.edu")
    other = factory.college()
    existing = factory.student_in(kit, "Old Timer", email="old@mixed.edu", roll_no="OLD-1")
    before_here, before_other = student_emails(app, kit.id), student_emails(app, other.id)
    rows = [
        row(1, "mixed.edu", roll_no="R-1"),
        row(2, "mixed.edu", student_email="not-an-email"),
        row(3, "mixed.edu", student_password="password"),
        row(4, "mixed.edu", student_password="Aa1" + "x" * 80),
        row(5, "mixed.edu", student_email="STUDENT0001@mixed.edu"),  # the same email as row 1, once lower-cased
        row(6, "mixed.edu", student_email="old@mixed.edu", student_name="Impostor"),
        row(7, "other.edu"),
        row(8, "mixed.edu", roll_no="R-1"),
        row(9, "mixed.edu", roll_no="OLD-1"),
        row(10, "mixed.edu"),
        "not a row",
        {k: v for k, v in row(12, "mixed.edu").items() if k != "student_name"},
        row(13, "mixed.edu", nickname="Bo"),
    ]
    r = client.post("/api/v1/students/bulk", json={"students": rows}, headers=kit.admin.headers)
    assert r.status_code == 200, r.json
    assert r.json["message"] == "2 students registered, 11 failed"
    data = r.json["data"]
    assert [s["student_email"] for s in data["success"]] == ["student0001@mixed.edu", "student0010@mixed.edu"]
    assert failures(data) == [
        (2, "not-an-email", BAD_EMAIL),
        (3, "student0003@mixed.edu", WEAK),
        (4, "student0004@mixed.edu", TOO_LONG),
        (5, "student0001@mixed.edu", "Duplicate email in this file"),
        (6, "old@mixed.edu", "Email already exists"),
        (7, "student0007@other.edu", "Email must belong to one of: mixed.edu"),
        (8, "student0008@mixed.edu", "Duplicate roll number in this file"),
        (9, "student0009@mixed.edu", "Roll number already exists"),
        (11, None, bulk_import.NOT_AN_OBJECT),
        (12, "student0012@mixed.edu", "student_name: Missing data for required field."),
        (13, "student0013@mixed.edu", "nickname: Unknown field."),
    ]

    # Nothing but the two good rows changed: not the existing student, not the other college.
    assert student_emails(app, kit.id) == before_here | {"student0001@mixed.edu", "student0010@mixed.edu"}
    assert student_emails(app, other.id) == before_other
    r = client.get(f"/api/v1/students/{existing.id}", headers=kit.admin.headers)
    assert (r.json["data"]["student_name"], r.json["data"]["roll_no"]) == ("Old Timer", "OLD-1")
    with app.app_context(), tenant_context(kit.id):
        old = db.session.execute(select(User).where(User.email == "old@mixed.edu")).scalar_one()
        assert verify_password(PASSWORD, old.password_hash)
        new = db.session.execute(select(User).where(User.email == "student0001@mixed.edu")).scalar_one()
        assert (new.role, new.roll_no, new.department, new.year) == ("student", "R-1", "Computer Science", 2)
        assert verify_password(GOOD_PASSWORD, new.password_hash)


def test_resubmitting_the_same_file_is_harmless(app, client, factory):
    kit = factory.college()
    first = client.post("/api/v1/students/bulk", json={"students": SEED_ROWS}, headers=kit.admin.headers)
    assert first.status_code == 200
    before = student_emails(app, kit.id)
    again = client.post("/api/v1/students/bulk", json={"students": SEED_ROWS}, headers=kit.admin.headers)
    assert again.status_code == 200, again.json
    assert again.json["message"] == "0 students registered, 2 failed"
    assert again.json["data"]["success"] == []
    assert failures(again.json["data"]) == [(1, "alice.johnson@mit.edu", "Email already exists"),
                                            (2, "bob.smith@mit.edu", "Email already exists")]
    assert student_emails(app, kit.id) == before


def test_a_registration_racing_the_import_fails_only_its_row(app, factory):
    """The early duplicate check has passed; the unique constraint still catches the late comer."""
    kit = factory.college()
    rows = [row(1), row(2), row(3)]

    def someone_registers_row_3_meanwhile(done_row):
        if done_row.index == 0:
            students.create_student(kit.admin, {"name": "Quick", "email": "student0003@bulk.edu"}, GOOD_PASSWORD)
            db.session.commit()  # another request's unit of work

    with app.app_context(), tenant_context(kit.id):
        job = bulk_import.import_rows(rows, on_row=someone_registers_row_3_meanwhile)
        data = bulk_import.results(job)
        assert (job.status, job.done) == ("finished", 3)
    assert [s["email"] for s in data["success"]] == ["student0001@bulk.edu", "student0002@bulk.edu"]
    assert failures(data) == [(3, "student0003@bulk.edu", "Email already exists")]


def test_the_envelope_itself_must_be_well_formed(client, factory):
    kit = factory.college()
    r = client.post("/api/v1/students/bulk", json={"rows": SEED_ROWS}, headers=kit.admin.headers)
    assert r.status_code == 400 and "students" in r.json["errors"]
    r = client.post("/api/v1/students/bulk", json={"students": [row(n) for n in range(1001)]},
                    headers=kit.admin.headers)
    assert r.status_code == 400
    assert r.json["message"] == "students: Between 1 and 1000 students per request"
    assert client.post("/api/v1/students/bulk", json={"students": []}, headers=kit.admin.headers).status_code == 400


def test_only_admins_import(client, factory):
    kit = factory.college()
    for actor in (kit.teacher, kit.student):
        r = client.post("/api/v1/students/bulk", json={"students": SEED_ROWS}, headers=actor.headers)
        assert r.status_code == 403
        assert r.json["message"] == "Forbidden - insufficient permissions"
    assert client.post("/api/v1/students/bulk", json={"students": SEED_ROWS}).status_code == 401
    assert "alice.johnson@mit.edu" not in student_emails(factory.app, kit.id)


# --- large batches: a job in the background -----------------------------------------------------


def test_a_job_is_visible_to_its_college_admins_only(app, client, factory):
    kit, other = factory.college(), factory.college()
    rows = [row(n) for n in range(1, app.config["SETTINGS"].bulk_sync_max_rows + 2)]
    r = client.post("/api/v1/students/bulk", json={"students": rows}, headers=kit.admin.headers)
    assert r.status_code == 202, r.json
    job_id = r.json["data"]["job_id"]
    wait_for_job(app, kit.id, job_id)

    assert client.get(f"/api/v1/students/bulk/{job_id}", headers=other.admin.headers).status_code == 404
    assert client.get(f"/api/v1/students/bulk/{job_id}", headers=kit.teacher.headers).status_code == 403
    assert client.get("/api/v1/students/bulk/no-such-job", headers=kit.admin.headers).status_code == 404
    r = client.get(f"/api/v1/students/bulk/{job_id}", headers=kit.admin.headers)
    assert r.status_code == 200 and r.json["data"]["status"] == "finished"
    assert r.json["message"] == f"{len(rows)} students registered, 0 failed"
    assert not student_emails(app, other.id) & {x["student_email"] for x in rows}


def large_file() -> list:
    rows = [row(n) for n in range(1, 201)]
    rows[9]["student_email"] = "nope"
    rows[49]["student_password"] = "short"
    rows[99]["student_email"] = rows[0]["student_email"]
    rows[149]["student_password"] = "Aa1" + "é" * 40
    return rows


def poll(client, url: str, headers: dict) -> tuple[dict, bool]:
    """The job's last answer, and whether it was ever seen part-way."""
    seen_partway, deadline = False, time.monotonic() + 300
    while time.monotonic() < deadline:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.json
        data = r.json["data"]
        if data["status"] in ("finished", "failed"):
            return data, seen_partway
        if 1 <= data["done"] < data["total"]:
            seen_partway = True
            assert data["status"] == "running"
            assert data["succeeded"] + data["failed_count"] == data["done"]
            assert "success" not in data and "failed" not in data
            assert r.json["message"] == f"{data['done']} of {data['total']} rows processed"
        time.sleep(0.01)
    raise AssertionError("bulk import job never finished")


def test_a_large_import_runs_as_a_job_whose_progress_can_be_watched(app_factory):
    # bcrypt rounds 8 on two workers: a 200-row job takes long enough to be watched part-way
    app = app_factory(bcrypt_rounds=8, bulk_workers=2, ratelimit_enabled=False)
    client = app.test_client()
    factory = Factory(app, client)
    kit, twin = factory.college(), factory.college()
    rows = large_file()

    r = client.post("/api/v1/students/bulk", json={"students": rows}, headers=kit.admin.headers)
    assert r.status_code == 202, r.json
    queued = r.json["data"]
    assert set(queued) == {"job_id", "status", "total", "done", "status_url"}
    assert (queued["status"], queued["total"], queued["done"]) == ("queued", 200, 0)
    assert queued["status_url"] == f"/api/v1/students/bulk/{queued['job_id']}"

    final, seen_partway = poll(client, queued["status_url"], kit.admin.headers)
    assert seen_partway
    assert (final["status"], final["done"], final["succeeded"], final["failed_count"]) == ("finished", 200, 196, 4)
    assert final["finished_at"].endswith("Z")
    assert failures(final) == [
        (10, "nope", BAD_EMAIL),
        (50, "student0050@bulk.edu", WEAK),
        (100, "student0001@bulk.edu", "Duplicate email in this file"),
        (150, "student0150@bulk.edu", TOO_LONG),
    ]
    assert len(student_emails(app, kit.id)) == 2 + 196

    # The same rows through the synchronous path of the same pipeline, in a second college.
    with app.app_context(), tenant_context(twin.id):
        twin_job = bulk_import.import_rows(rows)
        twin_data = bulk_import.results(twin_job)
    assert [s["student_email"] for s in final["success"]] == [s["email"] for s in twin_data["success"]]
    assert failures(final) == failures(twin_data)

    # Submitting the file again registers nobody: each good row is now "Email already exists".
    r = client.post("/api/v1/students/bulk", json={"students": rows}, headers=kit.admin.headers)
    assert r.status_code == 202
    again, _ = poll(client, r.json["data"]["status_url"], kit.admin.headers)
    assert again["status"] == "finished" and again["success"] == []
    first_reasons = {f["row"]: f["reason"] for f in final["failed"]}
    assert {f["row"]: f["reason"] for f in again["failed"]} == {
        n: first_reasons.get(n, "Email already exists") for n in range(1, 201)}
    assert len(student_emails(app, kit.id)) == 2 + 196


def test_an_interrupted_job_says_how_far_it_got_and_the_file_can_be_sent_again(app, client, factory):
    kit = factory.college()
    rows = [row(n) for n in range(1, 11)]

    class WorkerDied(Exception):
        pass

    def die_after_the_fifth_row(done_row):
        if done_row.index == 4:
            raise WorkerDied("killed")

    with app.app_context(), tenant_context(kit.id):
        with pytest.raises(WorkerDied):
            bulk_import.import_rows(rows, created_by=kit.admin.id, on_row=die_after_the_fifth_row)
        job_id = db.session.execute(select(BulkImportJob.id)).scalar_one()

    r = client.get(f"/api/v1/students/bulk/{job_id}", headers=kit.admin.headers)
    assert r.status_code == 200
    data = r.json["data"]
    assert (data["status"], data["total"], data["done"], data["succeeded"]) == ("failed", 10, 5, 5)
    assert data["not_imported"] == [6, 7, 8, 9, 10]
    assert r.json["message"] == "5 of 10 rows processed"
    assert {f"student{n:04d}@bulk.edu" for n in range(1, 6)} <= student_emails(app, kit.id)
    assert not {f"student{n:04d}@bulk.edu" for n in range(6, 11)} & student_emails(app, kit.id)

    r = client.post("/api/v1/students/bulk", json={"students": rows}, headers=kit.admin.headers)
    assert r.status_code == 200
    assert r.json["message"] == "5 students registered, 5 failed"
    assert {f["reason"] for f in r.json["data"]["failed"]} == {"Email already exists"}
    assert [f["row"] for f in r.json["data"]["failed"]] == [1, 2, 3, 4, 5]


def test_a_job_whose_worker_vanished_reads_interrupted_and_a_live_one_does_not(app, client, factory):
    kit = factory.college()
    with app.app_context(), tenant_context(kit.id):
        job = bulk_import.create_job(total=10, created_by=kit.admin.id)
        job_id, created = job.id, job.updated_at
        # the worker commits three rows, each touching the job ...
        prepared = bulk_import.prepare_rows([row(n) for n in range(1, 4)], db.session.get(College, kit.id))
        db.session.execute(update(BulkImportJob).where(BulkImportJob.id == job_id).values(status="running"))
        db.session.commit()
        for prepared_row in prepared:
            assert bulk_import._commit_row(job_id, prepared_row, "x" * 60)
        touched = db.session.execute(select(BulkImportJob.updated_at).where(BulkImportJob.id == job_id)).scalar_one()
        assert touched is not None and (created is None or touched > created)

    r = client.get(f"/api/v1/students/bulk/{job_id}", headers=kit.admin.headers)
    assert (r.json["data"]["status"], r.json["data"]["done"]) == ("running", 3)

    # ... and is killed: nothing touches the job any more
    with app.app_context(), tenant_context(kit.id):
        db.session.execute(update(BulkImportJob).where(BulkImportJob.id == job_id)
                           .values(updated_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    r = client.get(f"/api/v1/students/bulk/{job_id}", headers=kit.admin.headers)
    data = r.json["data"]
    assert (data["status"], data["done"], data["total"]) == ("interrupted", 3, 10)
    assert "submit the rows listed in not_imported again" in data["error"]
    assert data["not_imported"] == [4, 5, 6, 7, 8, 9, 10]
