"""Outgoing email through the SMTP server named by `SMTP_URL`, sent off the request thread.

`SMTP_URL` is `smtp://[user:password@]host[:port]` (plain, or STARTTLS when the server offers it
and `?starttls=1` asks for it) or `smtps://...` (TLS from the first byte, port 465 by default).
Callers send from a background thread (services/account_recovery.py), so a slow or unreachable
mail server never changes how long a request takes. Without `SMTP_URL` nothing is sent and a
warning says so; no message body is ever logged.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        tls = parts.scheme == "smtps"
        flags = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if tls else 25),
            tls=tls,
            starttls=flags.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, mail.to, mail.subject
    message.set_content(mail.body)
    return message


def send_now(server: SmtpServer, sender: str, mail: Mail) -> None:
    connect = smtplib.SMTP_SSL if server.tls else smtplib.SMTP
    with connect(server.host, server.port, timeout=TIMEOUT_SECONDS) as smtp:
        if server.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if server.username:
            smtp.login(server.username, server.password or "")
        smtp.send_message(_message(mail, sender))


def send(smtp_url: str | None, sender: str, mail: Mail) -> bool:
    """Send now (call it off the request thread); False, logged, when it could not be sent."""
    if not smtp_url:
        log.warning("SMTP_URL is not set: mail %r was not sent", mail.subject)
        return False
    try:
        send_now(SmtpServer.from_url(smtp_url), sender, mail)
        return True
    except (OSError, smtplib.SMTPException, ValueError) as error:
        log.error("mail %r could not be sent: %s", mail.subject, type(error).__name__)
        return False
