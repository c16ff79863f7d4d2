"""Data rights: a person's data as JSON, erasure on request, a college's archive and offboarding.

Routes sit beside the resources they act on (`/me/...`, `/users/{id}/...`, `/colleges/{id}/...`);
the services decide who may call them.
"""
from __future__ import annotations

from ...auth import current_user
from ...schemas.account import EraseSelfSchema, ErasedSchema, OffboardedSchema, OffboardSchema
from ...schemas.common import envelope, reply
from ...services import data_export, erasure, offboarding
from .blueprint import Blueprint

blp = Blueprint("data_rights", __name__, url_prefix="/api/v1",
                description="Personal data export and erasure, college archive and offboarding")


# Personal data ----------------------------------------------------------------------------------


@blp.route("/me/data", methods=["GET"])
@blp.response(200, envelope())
def my_data():
    """Everything the college holds about the caller, as one JSON document."""
    actor = current_user()
    return reply(data_export.personal_data(actor, actor.id).document, "Personal data export")


@blp.route("/users/<user_id>/data", methods=["GET"])
@blp.response(200, envelope())
def user_data(user_id):
    """The same document for one of the college's people, downloaded by its admin."""
    return reply(data_export.personal_data(current_user(), user_id).document, "Personal data export")


@blp.route("/me/erasure", methods=["POST"])
@blp.arguments(EraseSelfSchema)
@blp.response(200, envelope(ErasedSchema))
def erase_me(body):
    """A student erases their own account (password required). Group chat history stays, as "Deleted user"."""
    return reply(erasure.erase_self(current_user(), body["password"]), "Account and personal data erased")


@blp.route("/users/<user_id>/erasure", methods=["POST"])
@blp.response(200, envelope(ErasedSchema))
def erase_user(user_id):
    """The college's admin erases a student or teacher on their request."""
    return reply(erasure.erase_user(current_user(), user_id), "Account and personal data erased")


# Colleges ---------------------------------------------------------------------------------------


@blp.route("/colleges/<college_id>/archive", methods=["GET"])
@blp.response(200, envelope())
def college_archive(college_id):
    """Sysadmin: every row of the college as JSON (password and token hashes left out)."""
    return reply(data_export.college_archive(current_user(), college_id), "College archive")


@blp.route("/colleges/<college_id>/offboard", methods=["POST"])
@blp.arguments(OffboardSchema)
@blp.response(200, envelope(OffboardedSchema))
def offboard_college(body, college_id):
    """Sysadmin: the college's archive, then the college and all its data deleted, in one operation.
    `confirm_subdomain` must repeat the college's subdomain. Answers the archive and rows removed per table."""
    result = offboarding.offboard_college(current_user(), college_id, body["confirm_subdomain"])
    return reply(result, f"College {result.subdomain} exported and deleted")
