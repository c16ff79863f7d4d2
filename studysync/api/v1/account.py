"""Account lifecycle: an admin's reset to a temporary password, and the forgotten-password flow.

Routes sit beside the resources they act on (`/users/{id}/...`, `/auth/...`); the services decide
who may call them.
"""
from __future__ import annotations

from ...auth import current_user
from ...schemas.account import ForgotPasswordSchema, ResetPasswordSchema, TemporaryPasswordSchema
from ...schemas.common import envelope, reply
from ...services import account_recovery
from .blueprint import Blueprint
from .common import client_info

blp = Blueprint("account", __name__, url_prefix="/api/v1", description="Password resets")


# Passwords --------------------------------------------------------------------------------------


@blp.route("/users/<user_id>/password-reset", methods=["POST"])
@blp.response(200, envelope(TemporaryPasswordSchema))
def reset_password(user_id):
    """An admin (for teachers and students) or the sysadmin (for anyone, admins included) sets a
    temporary password, shown once; every session of the user is revoked and the user must change
    it at the next login before any other route answers."""
    result = account_recovery.reset_to_temporary(current_user(), user_id)
    return reply(result, "Password reset: the user must change the temporary password at next login")


@blp.route("/auth/forgot-password", methods=["POST"])
@blp.arguments(ForgotPasswordSchema)
@blp.response(200, envelope())
def forgot_password(body):
    """Mails a single-use reset token (valid 30 minutes); the same answer whether or not the email exists."""
    return reply({}, account_recovery.request_reset(body["email"], body["college_id"], client_info()))


@blp.route("/auth/reset-password", methods=["POST"])
@blp.arguments(ResetPasswordSchema)
@blp.response(200, envelope())
def reset_password_with_token(body):
    """Spends the emailed token and sets the new password; every session of the user is revoked."""
    account_recovery.reset_with_token(body["token"], body["new_password"], client_info())
    return reply({}, "Password has been reset; please log in with the new password")
