"""Staff login, sessions and passwords."""
from __future__ import annotations

from ...auth import current_session, current_user, login_required, sessions
from ...schemas.auth import (
    LoginResultSchema,
    LoginSchema,
    MeSchema,
    PasswordChangeSchema,
    RevokedSchema,
    SessionSchema,
    TokenFormSchema,
    TokenResultSchema,
)
from ...schemas.common import envelope, reply
from .blueprint import Blueprint
from .common import client_info, subdomain_from_host

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Login, sessions and passwords")


def login_result(login: sessions.Login) -> dict:
    user = login.user
    data = {"token": login.token, "role": user.role, "email": user.email, "user_id": user.id}
    if user.college_id:
        data["college_id"] = user.college_id
    return data


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, envelope(LoginResultSchema))
def login(body):
    result = sessions.login_staff(body["email"], body["password"], client_info(),
                                  college_id=body["college_id"], subdomain=subdomain_from_host())
    return reply(login_result(result), "Login successful")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenFormSchema, location="form")
@blp.response(200, TokenResultSchema)
def token(form):
    """OAuth2 password grant: `username` is the email."""
    result = sessions.login_any(form["username"], form["password"], client_info(), college_id=form["college_id"])
    expires_in = int((result.session.expires_at - result.session.created_at).total_seconds())
    return {"access_token": result.token, "token_type": "bearer", "expires_in": expires_in}


@blp.route("/logout", methods=["POST"])
@login_required
@blp.response(200, envelope())
def logout():
    sessions.revoke(current_user(), current_session())
    return reply({}, "Logout successful")


@blp.route("/logout-all", methods=["POST"])
@login_required
@blp.response(200, envelope(RevokedSchema))
def logout_all():
    count = sessions.revoke_all(current_user())
    return reply({"revoked": count}, "Logged out of every session")


@blp.route("/me", methods=["GET"])
@login_required
@blp.response(200, envelope(MeSchema))
def me():
    return reply(current_user(), "Current user")


@blp.route("/sessions", methods=["GET"])
@login_required
@blp.response(200, envelope(SessionSchema, many=True))
def list_sessions():
    current = current_session()
    items = [
        {**{k: getattr(s, k) for k in ("id", "created_at", "last_used_at", "expires_at", "user_agent", "ip_address")},
         "current": s.id == current.id}
        for s in sessions.live_sessions(current_user())
    ]
    return reply(items, "Sessions retrieved")


@blp.route("/sessions/<session_id>", methods=["DELETE"])
@login_required
@blp.response(200, envelope())
def revoke_session(session_id):
    sessions.revoke_one(current_user(), session_id)
    return reply({}, "Session revoked")


@blp.route("/password", methods=["PUT"])
@login_required
@blp.arguments(PasswordChangeSchema)
@blp.response(200, envelope())
def change_password(body):
    sessions.change_password(current_user(), current_session(), body["old_password"], body["new_password"],
                             client_info())
    return reply({}, "Password updated successfully")
