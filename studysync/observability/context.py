"""Who and where a piece of work comes from, without a request object.

The HTTP layer fills it at the start of every request (`observability/requests.py`); services and
the audit log read it (`current()`), so a service knows the request id and the caller's address
without knowing that a request exists. A context variable, not `flask.g`: a CLI command or a
background job has none, and reads the empty default instead of failing.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import Iterator


@dataclass(frozen=True)
class WorkContext:
    request_id: str | None = None
    client_address: str | None = None
    user_id: str | None = None
    user_role: str | None = None
    college_id: str | None = None


_current: ContextVar[WorkContext] = ContextVar("studysync_work_context", default=WorkContext())


def current() -> WorkContext:
    return _current.get()


def begin(**values) -> Token:
    """Start a fresh context (the start of a request); `end(token)` restores the previous one."""
    return _current.set(WorkContext(**values))


def update(**values) -> None:
    """Add what became known later (the user, once the token is checked)."""
    _current.set(replace(_current.get(), **values))


def end(token: Token) -> None:
    _current.reset(token)


@contextmanager
def working_as(**values) -> Iterator[WorkContext]:
    """A context for work outside a request (a CLI command, a test)."""
    token = begin(**values)
    try:
        yield current()
    finally:
        end(token)
