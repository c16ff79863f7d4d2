"""A browser build of the app (Expo web) calls `/api` from a page of another origin: `CORS_ORIGINS`
decides which pages may read the answers. The native app sends no `Origin` and is not subject to CORS."""
from __future__ import annotations

PAGE = "http://localhost:8081"  # Expo's web build in development


def preflight(client, path: str, origin: str = PAGE):
    """What a browser sends before a GET with an Authorization header."""
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "GET",
                                         "Access-Control-Request-Headers": "authorization"})


def test_by_default_a_page_of_any_origin_may_poll_with_its_token(client, factory):
    student = factory.college().student
    allowed = preflight(client, "/api/notifications")
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] in ("*", PAGE)
    assert "GET" in allowed.headers["Access-Control-Allow-Methods"]
    assert allowed.headers["Access-Control-Allow-Headers"].lower() == "authorization"

    polled = client.get("/api/notifications", headers={**student.headers, "Origin": PAGE})
    assert polled.status_code == 200
    assert polled.headers["Access-Control-Allow-Origin"] in ("*", PAGE)


def test_a_browser_keeps_the_preflight_answer_instead_of_asking_before_every_poll(client):
    """Every poll carries a token, so without `Access-Control-Max-Age` a browser would send an
    OPTIONS before each one: twice the requests from every open web app."""
    assert int(preflight(client, "/api/messages/someone").headers["Access-Control-Max-Age"]) >= 600


def test_with_a_list_of_origins_only_those_pages_may_read_the_answers(app_factory):
    client = app_factory(cors_origins=f"{PAGE}, https://app.studysync.example").test_client()

    for origin in (PAGE, "https://app.studysync.example"):
        answer = client.get("/api/health", headers={"Origin": origin})
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert "Origin" in answer.headers["Vary"]  # a cache must not hand one page's answer to another
        assert preflight(client, "/api/notifications", origin).headers["Access-Control-Allow-Origin"] == origin

    stranger = "https://elsewhere.example"
    assert "Access-Control-Allow-Origin" not in client.get("/api/health", headers={"Origin": stranger}).headers
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/notifications", stranger).headers


def test_a_page_can_read_why_its_call_failed(app_factory):
    """A 401 (token expired: the web app must log in again) or a 404 is read by the page like any
    answer; without the header the browser would hide it and the app could only see a network error."""
    client = app_factory(cors_origins=PAGE).test_client()
    expired = client.get("/api/notifications", headers={"Origin": PAGE, "Authorization": "Bearer not-a-token"})
    assert expired.status_code == 401
    assert expired.headers["Access-Control-Allow-Origin"] == PAGE
    missing = client.get("/api/no-such-route", headers={"Origin": PAGE})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == PAGE


def test_an_origin_is_compared_without_case_and_a_preflight_names_what_the_page_may_send(app_factory):
    client = app_factory(cors_origins="https://App.StudySync.example").test_client()
    answer = preflight(client, "/api/messages/someone", "https://app.studysync.example")
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.studysync.example"
    assert {"GET", "POST", "PUT", "DELETE"} <= {m.strip() for m in answer.headers["Access-Control-Allow-Methods"].split(",")}
    assert answer.headers["Access-Control-Allow-Headers"].lower() == "authorization"
