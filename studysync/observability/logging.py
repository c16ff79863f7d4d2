"""Structured logs: one JSON object per line in production, readable colour-free lines in development.

structlog rather than python-json-logger: besides the JSON renderer it gives a processor chain that
every line goes through — our own events and the stdlib records of gunicorn, alembic, SQLAlchemy and
werkzeug alike — so the request context is added and secrets are scrubbed in one place, and the
same chain renders a console format for development. python-json-logger only formats stdlib records;
the context, the redaction and the console format would be ours to write.

`LOG_FORMAT=json|console` (json unless APP_ENV is development), `LOG_LEVEL` (INFO).
"""
from __future__ import annotations

import logging
import re
import sys
from functools import lru_cache
from typing import Any

import structlog

from . import context

HANDLER_NAME = "studysync"
SECRET_KEYS = re.compile(r"pass(word)?|token|secret|authorization|cookie|api[_-]?key", re.IGNORECASE)
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")
SECRET_QUERY = re.compile(r"((?:token|password|secret)=)[^&\s\"']+", re.IGNORECASE)
REDACTED = "[redacted]"


def _add_work_context(_logger, _method, event: dict[str, Any]) -> dict[str, Any]:
    work = context.current()
    for key in ("request_id", "user_id", "user_role", "college_id"):
        value = getattr(work, key)
        if value is not None:
            event.setdefault(key, value)
    return event


def scrub(value: Any) -> Any:
    """Tokens that slipped into a message or a URL become `[redacted]`."""
    # Both patterns need "eyJ" (a JWT) or "=" (a query parameter): most values have neither.
    if isinstance(value, str) and ("eyJ" in value or "=" in value):
        return SECRET_QUERY.sub(r"\1" + REDACTED, JWT.sub(REDACTED, value))
    return value


@lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    """Log lines reuse a few dozen keys: each is looked at once per process."""
    return key != "event" and SECRET_KEYS.search(key) is not None


def _redact(_logger, _method, event: dict[str, Any]) -> dict[str, Any]:
    """No password, token or secret in any line, whoever logged it (defence in depth: we log none).
    Runs for every line (one per request at least), hence the cheap tests before any regex."""
    for key, value in list(event.items()):
        if _secret_key(key):
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = scrub(value)
    return event


def _shared_processors() -> list:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _add_work_context,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def formatter(log_format: str = "json") -> logging.Formatter:
    """The formatter of every handler (the app's, gunicorn's, the tests' capture)."""
    renderer = (structlog.processors.JSONRenderer() if log_format == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
    )


def log_format_for(app_env: str, requested: str | None) -> str:
    if requested in ("json", "console"):
        return requested
    return "console" if app_env in ("development", "testing") else "json"


def configure(log_format: str, level: str = "INFO") -> None:
    """Route structlog through the stdlib and put one handler on the root logger (idempotent: the
    tests build many apps)."""
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *_shared_processors(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _skip_unused_record_fields()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _StdoutHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level.upper())


def _skip_unused_record_fields() -> None:
    """No line we render shows the caller's file and line, the thread or the process, so the stdlib
    need not work them out for every record (the Logging HOWTO's "Optimization" switches). The
    caller lookup walks the stack twice per line (structlog's and the stdlib's): with the others,
    ~1% of an authenticated read's instructions, the request's own log line being one per request."""
    logging._srcfile = None  # documented in the HOWTO: no findCaller
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is now, not what it was at start-up (a test runner swaps it
    per test; a thread still logging afterwards would otherwise write to a closed stream)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def get_logger(name: str):
    return structlog.stdlib.get_logger(name)
