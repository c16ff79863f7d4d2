"""Learning profiles: the student's own (`/me/profile`) and a classmate's public one.

`/users/<user_id>/profile` lives here, not in `users.py` (staff management): any user of the
college may read it, and the email shows only when `policies.can_see_email` allows.
"""
from __future__ import annotations

from ...auth import current_user, login_required
from ...schemas.common import envelope, reply
from ...schemas.profile import ProfileSchema, ProfileUpdateSchema
from ...services import profiles
from .blueprint import Blueprint

blp = Blueprint("profiles", __name__, url_prefix="/api/v1", description="Learning profiles")



@blp.route("/me/profile", methods=["GET"])
@login_required
@blp.response(200, envelope(ProfileSchema))
def get_my_profile():
    return reply(profiles.my_profile(current_user()), "Profile retrieved")


@blp.route("/me/profile", methods=["PUT"])
@login_required
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, envelope(ProfileSchema))
def update_my_profile(body):
    return reply(profiles.update_profile(current_user(), body), "Profile updated successfully")


@blp.route("/users/<user_id>/profile", methods=["GET"])
@login_required
@blp.response(200, envelope(ProfileSchema))
def get_public_profile(user_id):
    return reply(profiles.public_profile(current_user(), user_id), "Profile retrieved")
