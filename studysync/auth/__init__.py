"""Passwords, tokens, server-side sessions, the login throttle and the current user."""
from .current import current_user, current_session, login_required

__all__ = ["current_user", "current_session", "login_required"]
