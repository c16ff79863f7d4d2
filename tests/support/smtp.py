"""A real SMTP server for tests (aiosmtpd), started on a local port, that keeps what it receives."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from .processes import free_port


class Inbox:
    """aiosmtpd's handler: every accepted message, parsed, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        """At least `count` messages (the app sends from a background thread)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


@contextmanager
def smtp_server():
    """Yield (smtp_url, inbox). TEST_SMTP_PORT picks the port (else a free one)."""
    port = int(os.environ.get("TEST_SMTP_PORT") or free_port())
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()
