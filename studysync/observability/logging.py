"""Structured logs: one JSON object per line in production, readable colour-free lines in development.

structlog rather than python-json-logger: besides the JSON renderer it gives a processor chain that
every line goes through — our own events and the stdlib records of gunicorn, alembic, SQLAlchemy and
werkzeug alike — so the request context is added and secrets are scrubbed in one place, and the
same chain renders a console format for development. python-json-logger only formats stdlib records;
the context, the redaction and the console format would be ours to write.

Our own lines (`get_logger`: a request's line, login events) run the chain in structlog and are
written to stdout straight away; the stdlib's records (gunicorn, SQLAlchemy, the modules that use
`logging.getLogger`) reach the same chain through the root handler's `ProcessorFormatter`. Sent
through the stdlib as well, each request's line paid for two `LogRecord`s, the logger hierarchy and
the handler's formatting: ~110,000 instructions, 30% of a whole bare Flask "hello" (3% of an
authenticated read).

`LOG_FORMAT=json|console` (json unless APP_ENV is development), `LOG_LEVEL` (INFO).
"""
from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any, Callable

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


_plain_keys: frozenset[str] = frozenset({"event"})  # keys seen that name no secret (a few dozen)
PLAIN_KEYS_KEPT = 1024


def _redact(_logger, _method, event: dict[str, Any]) -> dict[str, Any]:
    """No password, token or secret in any line, whoever logged it (defence in depth: we log none).
    Runs for every line (one per request at least): a key is looked at once per process, and a
    value is searched only if it holds "eyJ" or "=" (`scrub`)."""
    global _plain_keys
    for key in event.keys() - _plain_keys:
        if SECRET_KEYS.search(key):
            event[key] = REDACTED
        elif len(_plain_keys) < PLAIN_KEYS_KEPT:
            _plain_keys = _plain_keys | {key}
    for key, value in event.items():  # values of existing keys only: the dict keeps its size
        if isinstance(value, str) and ("eyJ" in value or "=" in value):
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


class _ConsoleLine:
    """structlog's `ConsoleRenderer(colors=False)` line, written in one pass. Its column formatters
    build each field in a StringIO of its own: ~24 µs for a request's line against ~7 here. A line
    that is not plain (a traceback, a stack, a column this does not write) goes to the renderer
    itself, so the text is the same either way."""

    COLUMNS = frozenset({"timestamp", "level", "event", "logger"})
    NOT_PLAIN = frozenset({"exception", "exc_info", "stack", "logger_name"})
    QUOTED = frozenset(" \t=\r\n\"'")  # a string value holding one of these is written as its repr()
    LEVEL_WIDTH = len("exception")  # the renderer's longest level name
    EVENT_WIDTH = 30  # its pad_event_to

    def __init__(self) -> None:
        self.full = structlog.dev.ConsoleRenderer(colors=False)

    def __call__(self, logger, method: str, event: dict[str, Any]) -> str:
        keys = event.keys()
        if not (keys >= self.COLUMNS and keys.isdisjoint(self.NOT_PLAIN)):
            return self.full(logger, method, event)
        fields = {key: value for key, value in event.items() if key not in self.COLUMNS}
        line = (f"{event['timestamp']} [{event['level']:<{self.LEVEL_WIDTH}}] "
                f"{str(event['event']):<{self.EVENT_WIDTH}} [{event['logger']}]")
        return line + "".join(f" {key}={self._value(fields[key])}" for key in sorted(fields))

    def _value(self, value: Any) -> str:
        if isinstance(value, str) and self.QUOTED.isdisjoint(value):
            return value
        return repr(value)


def _renderer(log_format: str):
    return structlog.processors.JSONRenderer() if log_format == "json" else _ConsoleLine()


def formatter(log_format: str = "json") -> logging.Formatter:
    """The formatter of every handler (the app's, gunicorn's, the tests' capture)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,
            _renderer(log_format),
        ],
    )


class _Output:
    """What `configure` last chose for our own lines; the chain below reads it on every line, so a
    logger cached before a later `configure` (the tests build many apps) follows it."""

    level = logging.INFO
    render: Callable = staticmethod(_renderer("json"))
    taps: list[Callable[[dict], None]] = []


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "warn": logging.WARNING,
           "error": logging.ERROR, "exception": logging.ERROR, "critical": logging.CRITICAL,
           "fatal": logging.CRITICAL}


def _below_level(_logger, method: str, event: dict[str, Any]) -> dict[str, Any]:
    if _LEVELS.get(method, logging.INFO) < _Output.level:
        raise structlog.DropEvent
    return event


def _tap(_logger, _method, event: dict[str, Any]) -> dict[str, Any]:
    for tap in _Output.taps:
        tap(dict(event))
    return event


def _render(logger, method: str, event: dict[str, Any]) -> str:
    return _Output.render(logger, method, event)


def add_tap(tap: Callable[[dict], None]) -> None:
    """`tap` also gets each of our own lines, redacted, before it is rendered (the tests' capture of
    every line of the run; the stdlib's records reach it as a root handler)."""
    _Output.taps.append(tap)


_WRITING = threading.RLock()  # one line at a time on stdout, whichever path it came by


class _StdoutLine:
    """Our own lines' last stop: one write per line to whatever `sys.stdout` is now."""

    def __init__(self, name: str = "studysync"):
        self.name = name  # structlog.stdlib.add_logger_name reads it

    def write(self, line: str) -> None:
        try:
            with _WRITING:
                stream = sys.stdout
                stream.write(line + "\n")
                stream.flush()
        except Exception:  # noqa: BLE001 - stdout closed, gone or None: the line is lost, never the request
            pass

    debug = info = warning = warn = error = exception = critical = fatal = msg = write


def log_format_for(app_env: str, requested: str | None) -> str:
    if requested in ("json", "console"):
        return requested
    return "console" if app_env in ("development", "testing") else "json"


def configure(log_format: str, level: str = "INFO") -> None:
    """Our own lines through structlog's chain to stdout, and one handler on the root logger for
    the stdlib's records, with the same processors (idempotent: the tests build many apps)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    _Output.level = root.level
    _Output.render = _renderer(log_format)
    structlog.configure(
        processors=[
            _below_level,
            *_shared_processors(),  # ExtraAdder does nothing here: it copies a stdlib record's extras
            structlog.processors.format_exc_info,
            _redact,
            _tap,
            _render,
        ],
        logger_factory=_StdoutLine,
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),  # the level: `_below_level`
        cache_logger_on_first_use=True,
    )
    _skip_unused_record_fields()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _StdoutHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)


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
    per test; a thread still logging afterwards would otherwise write to a closed stream), under
    the same lock as our own lines."""

    def __init__(self):
        super().__init__()

    def createLock(self) -> None:
        self.lock = _WRITING

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def get_logger(name: str):
    return structlog.get_logger(name)
