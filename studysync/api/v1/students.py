"""Students: public registration and login, records managed by staff, bulk imports."""
from __future__ import annotations

from flask import current_app, url_for

from ...auth import current_session, current_user, login_required, sessions
from ...schemas.auth import PasswordChangeSchema
from ...schemas.common import envelope, reply
from ...schemas.student import (
    BulkJobSchema,
    BulkRequestSchema,
    StudentBriefSchema,
    StudentCreatedSchema,
    StudentCreateSchema,
    StudentListQuerySchema,
    StudentLoginResultSchema,
    StudentLoginSchema,
    StudentRegisterSchema,
    StudentSchema,
    StudentUpdateSchema,
)
from ...services import bulk_import, roster_export, students
from .blueprint import Blueprint
from .common import client_info
from .csv_reply import csv_response, wants_csv

blp = Blueprint("students", __name__, url_prefix="/api/v1/students", description="Students")


@blp.route("/register", methods=["POST"])
@blp.arguments(StudentRegisterSchema)
@blp.response(201, envelope(StudentBriefSchema))
def register(body):
    password = body.pop("password")
    student = students.register(body.pop("college_id"), body, password, client_info())
    return reply(student, "Student registered successfully")


@blp.route("/login", methods=["POST"])
@blp.arguments(StudentLoginSchema)
@blp.response(200, envelope(StudentLoginResultSchema))
def login(body):
    result = sessions.login_student(body["college_id"], body["student_email"], body["student_password"],
                                    client_info())
    user = result.user
    data = {"token": result.token, "role": user.role, "student_id": user.id,
            "student_email": user.email, "student_name": user.name}
    return reply(data, "Login successful")


@blp.route("/logout", methods=["POST"])
@login_required
@blp.response(200, envelope())
def logout():
    sessions.revoke(current_user(), current_session())
    return reply({}, "Logout successful")


@blp.route("/password", methods=["PUT"])
@login_required
@blp.arguments(PasswordChangeSchema)
@blp.response(200, envelope())
def change_password(body):
    sessions.change_password(current_user(), current_session(), body["old_password"], body["new_password"],
                             client_info())
    return reply({}, "Password updated successfully")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(StudentListQuerySchema, location="query")
@blp.response(200, envelope(StudentSchema, many=True, paginated=True))
def list_students(query):
    if wants_csv(query.pop("format")):  # every matching row, same filters (admins only)
        return csv_response(StudentSchema(), roster_export.export_students(current_user(), query), "students.csv")
    page = students.list_students(current_user(), query.pop("page"), query.pop("limit"), query)
    return reply(page.items, "Students retrieved", page.pagination)


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(StudentCreateSchema)
@blp.response(201, envelope(StudentCreatedSchema))
def create_student(body):
    password = body.pop("password")
    student, temporary = students.create_student(current_user(), body, password)
    student.temporary_password = temporary  # shown once, never stored
    return reply(student, "Student created successfully")


@blp.route("/bulk", methods=["POST"])
@login_required
@blp.arguments(BulkRequestSchema)
@blp.response(200, envelope(BulkJobSchema), description="A small batch, processed at once: `success` and `failed`")
@blp.alt_response(202, schema=envelope(BulkJobSchema), description="A large batch, queued: the job to poll")
def bulk_register(body):
    job = bulk_import.submit(current_user(), body["students"], current_app._get_current_object())
    if job.status == "queued":
        data = {"id": job.id, "status": job.status, "total": job.total, "done": job.done,
                "status_url": url_for("students.bulk_status", job_id=job.id)}
        return reply(data, f"Import of {job.total} students queued"), 202
    data = bulk_import.results(job)
    return reply(data, bulk_import.summary(data))


@blp.route("/bulk/<job_id>", methods=["GET"])
@login_required
@blp.response(200, envelope(BulkJobSchema))
def bulk_status(job_id):
    job = bulk_import.get_job(current_user(), job_id)
    data = bulk_import.job_progress(job)
    if data["status"] == "finished":
        return reply(data, bulk_import.summary(data))
    return reply(data, f"{data['done']} of {data['total']} rows processed")


@blp.route("/<student_id>", methods=["GET"])
@login_required
@blp.response(200, envelope(StudentSchema))
def get_student(student_id):
    return reply(students.get_student(current_user(), student_id), "Student retrieved")


@blp.route("/<student_id>/profile", methods=["PUT"])
@login_required
@blp.arguments(StudentUpdateSchema)
@blp.response(200, envelope(StudentSchema))
def update_profile(body, student_id):
    return reply(students.update_record(current_user(), student_id, body), "Student profile updated successfully")


@blp.route("/<student_id>", methods=["DELETE"])
@login_required
@blp.response(200, envelope(StudentSchema))
def deactivate(student_id):
    return reply(students.deactivate(current_user(), student_id), "Student deactivated")
