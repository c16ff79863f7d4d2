"""What an operator sees: the request context, structured logs and Prometheus metrics (issue 14)."""
from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import Engine

from ..config import Settings


def install(app: Flask, settings: Settings, engine: Engine) -> None:
    """Logs, request ids and `/metrics`; called once the auth hook is registered (see `requests.install`)."""
    from . import logging, metrics, requests

    logging.configure(logging.log_format_for(settings.app_env, settings.log_format), settings.log_level)
    requests.install(app)
    metrics.install(app, engine)
