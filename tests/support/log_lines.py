"""The log lines of the whole test run, rendered by the app's JSON formatter, and what must not be in them."""
from __future__ import annotations

import json
import logging
import re

from structlog.processors import JSONRenderer

from studysync.observability.logging import formatter

from ..factories import PASSWORD

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")
BCRYPT_HASH = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{20,}")


class LogLines(logging.Handler):
    """A root handler for the stdlib's records and a tap for our own lines (`add_tap`)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(formatter("json"))
        self.lines: list[str] = []
        self._render = JSONRenderer()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a line that cannot be rendered is the logging module's report
            self.handleError(record)

    def take(self, event: dict) -> None:
        self.lines.append(self._render(None, "", event))

    def since(self, mark: int) -> list[dict]:
        """The JSON lines written after `mark = len(LOG_LINES.lines)`."""
        return [json.loads(line) for line in self.lines[mark:]]


LOG_LINES = LogLines()


def leaked_secrets(lines: list[str], extra: list[str] = ()) -> list[str]:
    """The lines holding a JWT, a bcrypt hash, the tests' password or any of `extra`."""
    needles = [PASSWORD, *extra]
    return [line for line in lines
            if JWT.search(line) or BCRYPT_HASH.search(line) or any(n and n in line for n in needles)]
