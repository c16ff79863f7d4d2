"""Prometheus metrics and the `/metrics` route.

The metric objects are module globals, as prometheus_client intends: a counter is one series per
process whichever app instance bumps it. With several gunicorn workers, `PROMETHEUS_MULTIPROC_DIR`
(set by deploy/gunicorn.conf.py before the workers import anything) makes each worker write its
values to files there, and `/metrics` adds them up — whichever worker answers the scrape.

`/metrics` answers only to `METRICS_ALLOWED_NETWORKS` (loopback by default) or to
`Authorization: Bearer <METRICS_TOKEN>`; anyone else gets the API's 404, so it is not even
advertised. A request that came through a proxy we do not trust (an `X-Forwarded-For` with
`TRUSTED_PROXIES=0`) is not taken to be local, even though its socket address is.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
from functools import lru_cache

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess,
)
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..errors import NotFound

PATH = "/metrics"
UNMATCHED_ROUTE = "<unmatched>"

REQUESTS = Counter("studysync_http_requests_total", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("studysync_http_request_duration_seconds", "Time to answer a request, by route template",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
DATABASE_ERRORS = Counter("studysync_database_errors_total",
                          "Errors raised by the database driver, by kind (retry, unavailable, constraint, other)", ["kind"])
OPEN_SOCKETS = Gauge("studysync_open_websockets", "WebSocket streams open now", multiprocess_mode="livesum")
RATE_LIMITED = Counter("studysync_rate_limited_total", "Requests refused by a rate limit (429), by route",
                       ["route"])
BULK_ROWS = Counter("studysync_bulk_import_rows_total", "Bulk-import rows processed, by outcome",
                    ["outcome"])
EMBEDDING_CACHE_MISSES = Counter("studysync_embedding_cache_misses_total",
                                 "Texts embedded because the cache had no vector for them, by owner type",
                                 ["owner_type"])


# What other modules call -------------------------------------------------------------------------


def socket_opened() -> int:
    """A stream socket was accepted; returns how many this process now holds."""
    OPEN_SOCKETS.inc()
    return _local_sockets(+1)


def socket_closed() -> int:
    OPEN_SOCKETS.dec()
    return _local_sockets(-1)


def set_open_sockets(count: int) -> None:
    """For a stream that counts its own sockets (an asyncio loop): the number open in this process."""
    OPEN_SOCKETS.set(count)
    _sockets[0] = count


_sockets = [0]


def _local_sockets(delta: int) -> int:
    _sockets[0] += delta
    return _sockets[0]


def count_bulk_rows(outcome: str, rows: int = 1) -> None:
    BULK_ROWS.labels(outcome).inc(rows)


def count_embedding_misses(owner_type: str, texts: int) -> None:
    if texts:
        EMBEDDING_CACHE_MISSES.labels(owner_type).inc(texts)


# Every request's two series, by (method, route template, status): `labels()` checks and locks on
# each call, and these few dozen pairs are asked for on every request. As many as the metrics hold.
_request_series: dict[tuple[str, str, int], tuple] = {}


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    route = route or UNMATCHED_ROUTE
    key = (method, route, status)
    series = _request_series.get(key)
    if series is None:
        series = _request_series[key] = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
    series[0].inc()
    series[1].observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(route).inc()



# Installed on the app ----------------------------------------------------------------------------


def install(app: Flask, engine: Engine) -> None:
    from ..ratelimits import exempt

    watch_database(engine)
    app.add_url_rule(PATH, "metrics", exempt(metrics_view), methods=["GET"])  # scraped every few seconds


def watch_database(engine: Engine) -> None:
    from ..db import RETRY, UNAVAILABLE, failure_kind

    @event.listens_for(engine, "handle_error")
    def _count(context) -> None:
        error = context.sqlalchemy_exception
        if isinstance(error, IntegrityError):
            kind = "constraint"  # mostly expected: a duplicate the service turns into a 409
        else:
            kind = failure_kind(error) if isinstance(error, DBAPIError) else None
        DATABASE_ERRORS.labels(kind if kind in (RETRY, UNAVAILABLE, "constraint") else "other").inc()


def metrics_view() -> Response:
    if not _allowed():
        raise NotFound()
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _allowed() -> bool:
    from ..config import settings

    config = settings()
    token = config.metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    if "X-Forwarded-For" in request.headers and not config.trusted_proxies:
        return False  # relayed by a proxy we do not trust: its socket address says nothing of the client
    return _in_networks(request.remote_addr, config.metrics_allowed_networks)


def _in_networks(address: str | None, networks: str) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _parse_networks(networks))


@lru_cache(maxsize=8)
def _parse_networks(networks: str) -> tuple:
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks.split(",") if n.strip())
