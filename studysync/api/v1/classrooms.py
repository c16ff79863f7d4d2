"""Classrooms: created by admins and teachers; enrollment; the classroom's study groups.

Reading a classroom is for admins, its teacher and its enrolled students; editing and enrollment
for admins and its teacher. (The auto-form route belongs to the matching blueprint.)
"""
from __future__ import annotations

from ...auth import current_user, login_required
from ...models import Classroom
from ...schemas.classroom import (
    ClassroomCreateSchema,
    ClassroomListQuerySchema,
    ClassroomSchema,
    ClassroomStudentSchema,
    ClassroomUpdateSchema,
    StudentIdsSchema,
)
from ...schemas.common import PageQuerySchema, envelope, reply
from ...schemas.group import GroupSchema
from ...services import classrooms, groups
from ..ids import register_id
from .blueprint import Blueprint

register_id("classroom_id", Classroom)  # another college's classroom is a 404 before any view

blp = Blueprint("classrooms", __name__, url_prefix="/api/v1/classrooms", description="Classrooms")



@blp.route("", methods=["POST"])
@login_required
@blp.arguments(ClassroomCreateSchema)
@blp.response(201, envelope(ClassroomSchema))
def create_classroom(body):
    return reply(classrooms.create_classroom(current_user(), body), "Classroom created successfully")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(ClassroomListQuerySchema, location="query")
@blp.response(200, envelope(ClassroomSchema, many=True, paginated=True))
def list_classrooms(query):
    page = classrooms.list_classrooms(current_user(), query["page"], query["limit"], query.get("q"))
    return reply(page.items, "Classrooms retrieved", page.pagination)


@blp.route("/<classroom_id>", methods=["GET"])
@login_required
@blp.response(200, envelope(ClassroomSchema))
def get_classroom(classroom_id):
    return reply(classrooms.get_classroom(current_user(), classroom_id), "Classroom retrieved")


@blp.route("/<classroom_id>", methods=["PUT"])
@login_required
@blp.arguments(ClassroomUpdateSchema)
@blp.response(200, envelope(ClassroomSchema))
def update_classroom(body, classroom_id):
    return reply(classrooms.update_classroom(current_user(), classroom_id, body), "Classroom updated successfully")


@blp.route("/<classroom_id>/students", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, envelope(ClassroomStudentSchema, many=True, paginated=True))
def list_students(query, classroom_id):
    page = classrooms.list_students(current_user(), classroom_id, query["page"], query["limit"])
    return reply(page.items, "Students retrieved", page.pagination)


@blp.route("/<classroom_id>/students", methods=["POST"])
@login_required
@blp.arguments(StudentIdsSchema)
@blp.response(200, envelope(ClassroomSchema))
def enroll(body, classroom_id):
    return reply(classrooms.enroll(current_user(), classroom_id, body["student_ids"]), "Students enrolled")


@blp.route("/<classroom_id>/students", methods=["PUT"])
@login_required
@blp.arguments(StudentIdsSchema)
@blp.response(200, envelope(ClassroomSchema))
def replace_enrollment(body, classroom_id):
    return reply(classrooms.replace_enrollment(current_user(), classroom_id, body["student_ids"]),
                 "Enrollment replaced")


@blp.route("/<classroom_id>/students", methods=["DELETE"])
@login_required
@blp.arguments(StudentIdsSchema)
@blp.response(200, envelope(ClassroomSchema))
def unenroll(body, classroom_id):
    return reply(classrooms.unenroll(current_user(), classroom_id, body["student_ids"]), "Students removed")


@blp.route("/<classroom_id>/groups", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, envelope(GroupSchema, many=True, paginated=True))
def list_groups(query, classroom_id):
    page = groups.list_classroom_groups(current_user(), classroom_id, query["page"], query["limit"])
    return reply(page.items, "Groups retrieved", page.pagination)
