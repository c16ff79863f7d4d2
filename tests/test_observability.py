"""What an operator sees: request ids in answers and logs, no secret in any log line, /metrics."""
from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from studysync.config import ConfigError

from .factories import PASSWORD
from .realtime.helpers import WAIT, connect, live_url  # noqa: F401 (live_url: fixture)
from .support.log_lines import LOG_LINES, leaked_secrets

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


def request_lines(mark: int, request_id: str) -> list[dict]:
    return [line for line in LOG_LINES.since(mark) if line.get("request_id") == request_id]


def test_a_failed_request_names_its_id_in_the_body_the_header_and_the_log_line(client, factory):
    kit = factory.college()
    mark = len(LOG_LINES.lines)
    response = client.get("/api/v1/students/00000000-0000-4000-8000-000000000000", headers=kit.admin.headers)

    assert response.status_code == 404
    request_id = response.headers["X-Request-ID"]
    assert response.json["request_id"] == request_id
    [line] = [l for l in request_lines(mark, request_id) if l["event"] == "request"]
    assert line["status"] == 404 and line["route"] == "/api/v1/students/<student_id>"
    assert line["user_id"] == kit.admin.id and line["college_id"] == kit.id and line["user_role"] == "admin"
    assert line["method"] == "GET" and line["duration_ms"] >= 0


def test_every_error_shape_names_the_request_id(client, factory):
    kit = factory.college()
    unauthenticated = client.get("/api/v1/students")
    validation = client.post("/api/v1/users", json={"name": "x"}, headers=kit.admin.headers)
    mobile = client.get("/api/groups/mine")  # the mobile app's own error shape
    for response in (unauthenticated, validation, mobile):
        assert response.status_code in (400, 401), response.json
        assert response.json["request_id"] == response.headers["X-Request-ID"]
    assert mobile.json["error"]
    ids = {r.headers["X-Request-ID"] for r in (unauthenticated, validation, mobile)}
    assert len(ids) == 3


def test_a_trusted_proxy_names_the_request_and_nobody_else_does(app_factory):
    proxied = app_factory(trusted_proxies=1).test_client()
    direct = app_factory().test_client()
    nginx_id = "5f0c9a7d2b3e4f6a8c1d0e9b7a6f5e4d"

    assert proxied.get("/api/v1/nope", headers={"X-Request-ID": nginx_id}).headers["X-Request-ID"] == nginx_id
    assert direct.get("/api/v1/nope", headers={"X-Request-ID": nginx_id}).headers["X-Request-ID"] != nginx_id
    forged = proxied.get("/api/v1/nope", headers={"X-Request-ID": 'x" injected=1'})
    assert forged.headers["X-Request-ID"] != 'x" injected=1'


def test_login_failures_are_logged_without_the_password(client, factory):
    kit = factory.college()
    mark = len(LOG_LINES.lines)
    wrong = "Wrong-Passw0rd-42"
    response = client.post("/api/v1/auth/login", json={"email": kit.admin.email, "password": wrong})

    assert response.status_code == 401
    lines = request_lines(mark, response.headers["X-Request-ID"])
    assert sorted(l["event"] for l in lines) == ["login_failed", "request"]  # the throttle logs it, then the request ends
    assert not leaked_secrets(LOG_LINES.lines[mark:], extra=[wrong, kit.admin.email])


def test_a_secret_that_reaches_a_log_line_is_redacted_whichever_way_the_line_came(app, capsys):
    """Defence in depth: we log no secret, but one that slips into a line (a key named like one, a
    JWT or a `token=` in a value) is written as `[redacted]`, for our own lines and the stdlib's."""
    import logging

    from studysync.observability.logging import get_logger

    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwcm9iZSJ9.c2lnbmF0dXJlLXByb2Jl"
    mark = len(LOG_LINES.lines)
    get_logger("studysync.events").info("probe", password="hunter2", api_key="k-123", note=f"Bearer {jwt}",
                                        url="/api/v1/stream?token=abc123&x=1", status=200)
    logging.getLogger("studysync.probe").warning("probe %s", jwt, extra={"password": "hunter2"})
    ours, stdlib = [line for line in LOG_LINES.since(mark) if line["event"].startswith("probe")]
    assert ours["password"] == ours["api_key"] == "[redacted]"
    assert ours["note"] == "Bearer [redacted]" and ours["url"] == "/api/v1/stream?token=[redacted]&x=1"
    assert ours["status"] == 200 and ours["level"] == "info" and ours["logger"] == "studysync.events"
    assert stdlib["event"] == "probe [redacted]" and stdlib["password"] == "[redacted]"
    written = capsys.readouterr().out
    assert "probe" in written and "hunter2" not in written and jwt not in written and "abc123" not in written


def test_a_console_line_reads_as_structlogs_console_renderer_writes_it(client, factory, capsys):
    """Development's console lines are written in one pass (`logging._ConsoleLine`), not by
    structlog's column formatters: what a developer reads must still be, to the character, the
    line `ConsoleRenderer(colors=False)` writes — values quoted where they hold spaces, a
    traceback under its line."""
    import logging

    from structlog.dev import ConsoleRenderer

    from studysync.observability.logging import get_logger

    kit = factory.college()
    capsys.readouterr()
    mark = len(LOG_LINES.lines)
    assert client.get("/api/v1/auth/me", headers=kit.admin.headers).status_code == 200
    get_logger("studysync.events").info("probe", note="two words", quote="it's", count=3, ratio=0.5,
                                        empty="", nothing=None, flags=["a", "b"])
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("studysync.probe").exception("failed %s", "here")
    written = capsys.readouterr().out
    events = LOG_LINES.since(mark)
    assert [event["event"] for event in events] == ["request", "probe", "failed here"]
    renderer = ConsoleRenderer(colors=False)
    for event in events[:2]:  # our own lines; the stdlib's record is formatted per handler (its time)
        assert renderer(None, event["level"], dict(event)) + "\n" in written
    assert "note='two words'" in written and " quote=\"it's\" " in written
    failed = written.split("[error    ] failed here", 1)[1].splitlines()
    assert failed[1] == "Traceback (most recent call last):" and failed[-1] == "ValueError: boom"


def test_requests_are_answered_when_stdout_cannot_be_written(client, factory, monkeypatch):
    """A log reader that went away (a closed pipe) loses lines, not requests."""
    import sys

    class Gone:
        def write(self, _text):
            raise BrokenPipeError(32, "Broken pipe")

        flush = write

    kit = factory.college()
    for stdout in (Gone(), None):
        monkeypatch.setattr(sys, "stdout", stdout)
        assert client.get("/api/v1/auth/me", headers=kit.admin.headers).status_code == 200
        assert client.get("/api/v1/nowhere").status_code == 404


def test_lockouts_are_logged(app_factory):
    from .factories import Factory

    app = app_factory(ratelimit_auth="2 per 15 minutes")
    client = app.test_client()
    kit = Factory(app, client).college()
    mark = len(LOG_LINES.lines)
    for _ in range(3):
        response = client.post("/api/v1/auth/login", json={"email": kit.admin.email, "password": "Nope-nope-1"})
    assert response.status_code == 429
    assert [l["event"] for l in LOG_LINES.since(mark) if l["event"].startswith("login_")] == [
        "login_failed", "login_failed", "login_lockout"]


def test_no_token_or_password_in_the_logs_of_the_account_flows(client, factory):
    """Register, log in (right and wrong), use the token, change the password, log out, on both
    surfaces: the log lines name the requests but hold none of the secrets that went through them."""
    kit = factory.college(domain="flows.edu")
    mark = len(LOG_LINES.lines)
    secrets = [PASSWORD, "N3w-Passw0rd!", "Mobile-Passw0rd1", "Wrong-Passw0rd1"]

    r = client.post("/api/v1/students/register", json={"college_id": kit.id, "student_name": "Flow Student",
                                                        "student_email": "flow@flows.edu", "student_password": PASSWORD})
    assert r.status_code == 201, r.json
    r = client.post("/api/v1/students/login", json={"college_id": kit.id, "student_email": "flow@flows.edu",
                                                     "student_password": "Wrong-Passw0rd1"})
    assert r.status_code == 401
    r = client.post("/api/v1/students/login", json={"college_id": kit.id, "student_email": "flow@flows.edu",
                                                     "student_password": PASSWORD})
    token = r.json["data"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.get(f"/api/v1/stream?token={token}").status_code in (400, 404, 405, 426)  # not a WebSocket
    r = client.put("/api/v1/students/password", json={"old_password": PASSWORD, "new_password": "N3w-Passw0rd!"},
                   headers=headers)
    assert r.status_code == 200, r.json
    r = client.post("/api/auth/register", json={"name": "Mobile Flow", "email": "mobile@flows.edu",
                                                "password": "Mobile-Passw0rd1"})
    assert r.status_code == 201, r.json
    secrets.append(r.json["token"])
    r = client.post("/api/auth/login", json={"email": "mobile@flows.edu", "password": "Mobile-Passw0rd1"})
    secrets.append(r.json["token"])
    assert client.post("/api/v1/students/logout", headers=headers).status_code in (200, 401)
    secrets.append(token)

    lines = LOG_LINES.lines[mark:]
    assert sum('"event": "request"' in line for line in lines) >= 9
    assert leaked_secrets(lines, extra=secrets) == []


def scrape(client, **kwargs) -> dict:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def requests_counted(samples: dict, route: str, status: str) -> float:
    key = ("studysync_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def test_metrics_count_the_requests_that_were_made(client, factory):
    kit = factory.college()
    route = "/api/v1/students/<student_id>"
    before = scrape(client)
    client.get(f"/api/v1/students/{kit.student.id}", headers=kit.admin.headers)
    client.get("/api/v1/students/00000000-0000-4000-8000-000000000000", headers=kit.admin.headers)
    after = scrape(client)

    assert requests_counted(after, route, "200") - requests_counted(before, route, "200") == 1
    assert requests_counted(after, route, "404") - requests_counted(before, route, "404") == 1
    latency = ("studysync_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))
    assert after[latency] - before.get(latency, 0.0) == 2


def test_metrics_count_rate_limit_refusals(app_factory):
    from .factories import Factory

    app = app_factory(ratelimit_api="1 per minute")
    client = app.test_client()
    kit = Factory(app, client).college()
    route = "/api/v1/students"
    before = scrape(client).get(("studysync_rate_limited_total", (("route", route),)), 0.0)
    statuses = [client.get(route, headers=kit.admin.headers).status_code for _ in range(2)]
    assert statuses == [200, 429]
    assert scrape(client)[("studysync_rate_limited_total", (("route", route),))] - before == 1


def counted(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_bulk_rows_embedding_misses_and_database_errors(app, client, factory):
    from sqlalchemy import text

    from studysync.db import db
    from studysync.services import embeddings
    from studysync.tenancy import tenant_context

    kit = factory.college()
    before = scrape(client)
    rows = [{"student_name": "Bulk One", "student_email": "bulk1@bulk.edu", "student_password": PASSWORD},
            {"student_name": "Bulk Two", "student_email": "not-an-email", "student_password": PASSWORD}]
    r = client.post("/api/v1/students/bulk", json={"students": rows}, headers=kit.admin.headers)
    assert r.status_code == 200 and len(r.json["data"]["failed"]) == 1, r.json
    with app.app_context(), tenant_context(kit.id):
        embeddings.vectors_for("profile", {kit.student.id: "visual learner, evenings", kit.teacher.id: "quiet"})
        embeddings.vectors_for("profile", {kit.student.id: "visual learner, evenings"})  # cached now
        with pytest.raises(Exception):
            db.session.execute(text("SELECT * FROM no_such_table"))
    after = scrape(client)

    def delta(name, **labels):
        return counted(after, name, **labels) - counted(before, name, **labels)

    assert delta("studysync_bulk_import_rows_total", outcome="imported") == 1
    assert delta("studysync_bulk_import_rows_total", outcome="failed") == 1
    assert delta("studysync_embedding_cache_misses_total", owner_type="profile") == 2
    assert delta("studysync_database_errors_total", kind="other") == 1


def open_sockets(client) -> float:
    return scrape(client)[("studysync_open_websockets", ())]


def test_open_sockets_are_counted_and_logged(app, client, live_url, factory):
    kit = factory.college()
    before = open_sockets(client)
    mark = len(LOG_LINES.lines)
    ws = connect(live_url, kit.student)  # answered "ready"
    assert open_sockets(client) == before + 1
    ws.close()
    deadline = time.monotonic() + WAIT
    while open_sockets(client) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_sockets(client) == before
    sockets = [l for l in LOG_LINES.since(mark) if l["event"].startswith("socket ")]
    assert [(l["event"], l["open_sockets"]) for l in sockets] == [("socket opened", before + 1),
                                                                  ("socket closed", before)]


def test_metrics_are_refused_outside_the_allowed_networks(app_factory):
    client = app_factory(metrics_token="scrape-token-0123456789").test_client()

    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer wrong"}).status_code == 404
    relayed = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})  # a proxy we do not trust
    assert relayed.status_code == 404
    assert client.get("/metrics").status_code == 200  # loopback
    allowed = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert allowed.status_code == 200 and b"studysync_http_requests_total" in allowed.data


def test_metrics_follow_the_configured_networks(app_factory):
    client = app_factory(metrics_allowed_networks="10.0.0.0/8").test_client()

    assert client.get("/metrics").status_code == 404  # loopback is no longer listed
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


def test_behind_a_trusted_proxy_the_client_address_decides(app_factory):
    client = app_factory(trusted_proxies=1).test_client()

    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_portal_url_comes_from_the_template(app_factory):
    from .factories import Factory

    app = app_factory(portal_url_template="https://{subdomain}.studysync.example")
    client = app.test_client()
    sysadmin = Factory(app, client).sysadmin()
    r = client.post("/api/v1/colleges", headers=sysadmin.headers, json={
        "college_name": "Template College", "college_subdomain": "tmpl", "admin_name": "Tmpl Admin",
        "admin_email": "admin@tmpl.edu", "admin_password": PASSWORD})
    assert r.status_code == 201, r.json
    assert r.json["data"]["portal_url"] == "https://tmpl.studysync.example"


def test_settings_that_would_fail_later_are_refused_at_start(app_factory):
    with pytest.raises(ConfigError, match="PORTAL_URL_TEMPLATE"):
        app_factory(portal_url_template="https://studysync.example")
    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS"):
        app_factory(metrics_allowed_networks="10.0.0.0/8,campus")
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        app_factory(log_format="xml")
