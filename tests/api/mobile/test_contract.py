"""The React Native app's contract (shared/contracts/studysync-mobile.md), replayed with its exact bodies."""
from __future__ import annotations

import re

import pytest

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

JANE = {
    "name": "Jane Doe",
    "email": "jane@state.edu",
    "password": "secret123",
    "major": "Computer Science",
    "year": "Junior",
    "subjects": ["Mathematics", "Computer Science"],
    "learning_style": "I learn best with visual aids and practice problems",
    "preferred_group_size": 3,
    "availability": {
        "Monday": ["Morning (8-12 PM)", "Evening (5-9 PM)"],
        "Tuesday": [], "Wednesday": ["Afternoon (12-5 PM)"], "Thursday": [],
        "Friday": [], "Saturday": [], "Sunday": ["Night (9-12 AM)"],
    },
    "study_preferences": ["Exam Preparation", "Homework Help"],
}
ALEX = {**JANE, "name": "Alex Kim", "email": "alex@state.edu", "major": "Physics", "year": "Senior",
        "subjects": ["Mathematics", "Physics"]}
GROUP = {"title": "Math 220 Study Group", "subject": "Mathematics", "description": "",
         "schedule": "Flexible", "location": "TBD", "maxMembers": 6}


@pytest.fixture
def state(factory):
    kit = factory.college(domain="state.edu", students_count=0)
    factory.college(domain="other.edu", students_count=0)  # a second college, for isolation
    return kit


def register(client, body=JANE):
    r = client.post("/api/auth/register", json=body)
    assert r.status_code == 201, r.json
    assert r.json["success"] is True and isinstance(r.json["token"], str) and r.json["token"]
    return {"Authorization": f"Bearer {r.json['token']}"}


def error_shape(r, status):
    assert r.status_code == status, r.json
    assert r.json["success"] is False and isinstance(r.json["error"], str) and r.json["error"]
    assert r.json["message"] == r.json["error"]


def test_register_then_conflict_then_login(client, state):
    register(client)
    error_shape(client.post("/api/auth/register", json=JANE), 409)
    r = client.post("/api/auth/login", json={"email": "jane@state.edu", "password": "secret123"})
    assert r.status_code == 200 and r.json["success"] is True and isinstance(r.json["token"], str)
    user = r.json["user"]
    assert isinstance(user["id"], str) and user["name"] == "Jane Doe" and user["email"] == "jane@state.edu"
    assert user["major"] == "Computer Science" and user["year"] == "Junior"
    assert user["subjects"] == ["Mathematics", "Computer Science"]
    error_shape(client.post("/api/auth/login", json={"email": "jane@state.edu", "password": "wrong-one"}), 401)


def test_register_rules(client, state):
    error_shape(client.post("/api/auth/register", json={**JANE, "email": "x@nowhere.edu"}), 400)
    error_shape(client.post("/api/auth/register", json={**JANE, "password": "12345"}), 400)
    assert client.post("/api/auth/register", json={**JANE, "password": "123456"}).status_code == 201


def test_profile_and_me(client, state):
    headers = register(client)
    for path in ("/api/auth/profile", "/api/auth/me"):
        r = client.get(path, headers=headers)
        assert r.status_code == 200 and r.json["success"] is True
        user = r.json["user"]
        assert isinstance(user["id"], str) and user["email"] == "jane@state.edu"
        assert isinstance(user["university"], str) and user["university"]
        assert user["major"] == "Computer Science" and user["year"] == "Junior"
        assert user["subjects"] == ["Mathematics", "Computer Science"]
        assert user["learning_style"] == JANE["learning_style"]
        assert user["schedule"]["Monday"] == ["Morning (8-12 PM)", "Evening (5-9 PM)"]
        assert isinstance(user["performance_level"], int)
        assert user["group_preferences"]["groupSize"] == 3
        assert user["group_preferences"]["studyGoals"] == ["Exam Preparation", "Homework Help"]
        assert set(user["studyPreferences"]) == {"learningStyle", "sessionDuration"}
    error_shape(client.get("/api/auth/profile"), 401)


def test_create_group_and_mine(client, state):
    headers = register(client)
    r = client.post("/api/groups/create", json={**GROUP, "maxMembers": -3}, headers=headers)
    assert r.status_code == 201 and r.json["success"] is True and isinstance(r.json["group_id"], str)
    group_id = r.json["group_id"]
    r = client.get("/api/groups/mine", headers=headers)
    assert r.status_code == 200
    (group,) = r.json["groups"]
    assert group["id"] == group_id and group["maxMembers"] == 6  # -3 (or junk) becomes the app's default 6
    assert group["title"] == "Math 220 Study Group" and group["subject"] == "Mathematics"
    assert group["description"] == "" and group["schedule"] == "Flexible" and group["location"] == "TBD"
    assert group["currentMembers"] == 1 and group["leaderName"] == "Jane Doe"
    assert group["role"] == "leader" and group["status"] == "active"
    assert ISO_Z.match(group["createdAt"]) and ISO_Z.match(group["joinedAt"])
    error_shape(client.post("/api/groups/create", json={**GROUP, "title": ""}, headers=headers), 400)


def test_story_register_find_request_approve_befriend_message_and_chat(client, state):
    jane = register(client)
    r = client.post("/api/auth/register", json=ALEX)
    assert r.status_code == 201
    # the app's signup screen on a second phone: 409, so Alex logs in instead
    error_shape(client.post("/api/auth/register", json=ALEX), 409)
    r = client.post("/api/auth/login", json={"email": ALEX["email"], "password": ALEX["password"]})
    assert r.status_code == 200
    alex = {"Authorization": f"Bearer {r.json['token']}"}
    group_id = client.post("/api/groups/create", json=GROUP, headers=jane).json["group_id"]

    # Alex finds it by recommendation and by search
    r = client.post("/api/recommend", json={}, headers=alex)
    assert r.status_code == 200 and r.json["success"] is True
    recs = r.json["recommendations"]
    assert recs
    for rec in recs:
        assert isinstance(rec["title"], str) and isinstance(rec["suggested"], bool)
        assert rec["matchPercentage"] is None or (isinstance(rec["matchPercentage"], int) and rec["matchPercentage"] > 0)
        for key in ("memberInfo", "schedule", "focus", "location", "action", "explanation"):
            assert isinstance(rec[key], str)
        assert set(rec["compatibility"]) == {"subject", "schedule", "learningStyle", "performance"}
    (found,) = [rec for rec in recs if rec["id"] == group_id]
    assert found["suggested"] is False and found["memberInfo"] == "1/6 members"
    assert found["title"] == "Math 220 Study Group" and found["action"] == "Request to Join"
    r = client.post("/api/search", json={"query": "Math 220"}, headers=alex)
    assert r.status_code == 200
    hit = next(h for h in r.json["results"] if h["id"] == group_id)
    assert hit["title"] == "Math 220 Study Group" and hit["focus"] == "Mathematics"
    assert hit["matchPercentage"] is None or (isinstance(hit["matchPercentage"], int) and hit["matchPercentage"] > 0)
    for key in ("memberInfo", "schedule", "location", "explanation"):
        assert isinstance(hit[key], str)

    # request-join: a JSON content type with no body
    r = client.post(f"/api/groups/{group_id}/request-join", headers={**alex, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json["success"] is True and isinstance(r.json["message"], str)
    error_shape(client.post(f"/api/groups/{group_id}/join", headers=alex), 409)
    mine = client.get("/api/groups/mine", headers=alex).json["groups"]
    assert [(g["id"], g["status"]) for g in mine] == [(group_id, "pending")]

    # the leader sees the join_request and approves it (no body, no content type)
    r = client.get("/api/notifications", headers=jane)
    assert r.status_code == 200 and r.json["success"] is True
    note = next(n for n in r.json["notifications"] if n["type"] == "join_request")
    assert isinstance(note["id"], str) and isinstance(note["title"], str) and isinstance(note["message"], str)
    assert note["read"] is False and ISO_Z.match(note["createdAt"]) and isinstance(note["data"], dict)
    alex_id = client.get("/api/auth/me", headers=alex).json["user"]["id"]
    assert note["data"]["groupId"] == group_id and note["data"]["requesterId"] == alex_id
    r = client.post(f"/api/groups/{note['data']['groupId']}/requests/{note['data']['requesterId']}/approve",
                    headers=jane)
    assert r.status_code == 200 and r.json["success"] is True and isinstance(r.json["message"], str)
    r = client.post(f"/api/notifications/{note['id']}/read", headers=jane)
    assert r.status_code == 200 and r.json["success"] is True
    assert next(n for n in client.get("/api/notifications", headers=jane).json["notifications"]
                if n["id"] == note["id"])["read"] is True

    # Alex is now an active member and sees the approval
    mine = client.get("/api/groups/mine", headers=alex).json["groups"]
    assert [(g["id"], g["status"], g["role"], g["currentMembers"]) for g in mine] == [(group_id, "active", "member", 2)]
    notes = client.get("/api/notifications", headers=alex).json["notifications"]
    assert any(n["type"] == "request_approved" and n["data"]["groupId"] == group_id for n in notes)
    error_shape(client.post(f"/api/groups/{group_id}/requests/{alex_id}/reject", headers=jane), 404)

    # they become friends and exchange direct messages
    jane_id = client.get("/api/auth/me", headers=jane).json["user"]["id"]
    assert client.post("/api/friends/request", json={"userId": jane_id}, headers=alex).status_code == 200
    request_id = next(n for n in client.get("/api/notifications", headers=jane).json["notifications"]
                      if n["type"] == "friend_request")["data"]["requestId"]
    assert client.post(f"/api/friends/request/{request_id}/accept", headers=jane).status_code == 200
    assert [f["id"] for f in client.get("/api/friends", headers=alex).json["friends"]] == [jane_id]
    r = client.post("/api/messages/send", json={"receiverId": jane_id, "content": "Thanks for the invite!"},
                    headers=alex)
    assert r.status_code == 200
    assert [m["content"] for m in client.get(f"/api/messages/{alex_id}", headers=jane).json["messages"]] == [
        "Thanks for the invite!"]

    # and chat in the group through the backend (the app's sendMessage body, then the seed's /send)
    r = client.post(f"/api/chat/{group_id}/message", json={"content": "Hi all!", "message_type": "text"},
                    headers=alex)
    assert r.status_code == 201 and r.json["success"] is True
    r = client.post(f"/api/chat/{group_id}/send", json={"content": "Welcome, Alex", "message_type": "text"},
                    headers=jane)
    assert r.status_code == 201
    r = client.post(f"/api/chat/message/{r.json['data']['id']}/react", json={"emoji": "👋"}, headers=alex)
    assert r.status_code == 200 and r.json["reactions"] == [{"userId": alex_id, "emoji": "👋"}]
    messages = client.get(f"/api/chat/{group_id}/messages", headers=jane).json["messages"]
    assert [(m["userId"], m["userName"], m["content"]) for m in messages] == [
        (alex_id, "Alex Kim", "Hi all!"), (jane_id, "Jane Doe", "Welcome, Alex")]
    assert messages[1]["reactions"] == [{"userId": alex_id, "emoji": "👋"}]


def test_reject_join_request(client, state):
    jane = register(client)
    alex = {"Authorization": f"Bearer {client.post('/api/auth/register', json=ALEX).json['token']}"}
    group_id = client.post("/api/groups/create", json=GROUP, headers=jane).json["group_id"]
    client.post(f"/api/groups/{group_id}/request-join", headers={**alex, "Content-Type": "application/json"})
    alex_id = client.get("/api/auth/me", headers=alex).json["user"]["id"]
    r = client.post(f"/api/groups/{group_id}/requests/{alex_id}/reject", headers=jane)
    assert r.status_code == 200 and r.json["success"] is True and isinstance(r.json["message"], str)
    assert client.get("/api/groups/mine", headers=alex).json["groups"] == []


def test_people_search_and_user_profile(client, state):
    jane = register(client)
    alex = {"Authorization": f"Bearer {client.post('/api/auth/register', json=ALEX).json['token']}"}
    r = client.post("/api/search/people", json={"query": "Alex"}, headers=jane)
    assert r.status_code == 200
    hit = next(h for h in r.json["results"] if h["name"] == "Alex Kim")
    assert isinstance(hit["id"], str) and hit["major"] == "Physics" and hit["year"] == "Senior"
    assert hit["subjects"] == ["Mathematics", "Physics"]
    assert hit["matchPercentage"] is None or (isinstance(hit["matchPercentage"], int) and hit["matchPercentage"] > 0)
    r = client.get(f"/api/users/{hit['id']}", headers=jane)
    assert r.status_code == 200
    user = r.json["user"]
    assert user["id"] == hit["id"] and user["name"] == "Alex Kim" and user["major"] == "Physics"
    assert user["subjects"] == ["Mathematics", "Physics"] and user["learning_style"] == ALEX["learning_style"]
    assert isinstance(user["schedule"], dict) and user["schedule"]["Monday"]
    _ = alex


def test_friends_and_direct_messages(client, state):
    jane = register(client)
    alex = {"Authorization": f"Bearer {client.post('/api/auth/register', json=ALEX).json['token']}"}
    jane_id = client.get("/api/auth/profile", headers=jane).json["user"]["id"]
    alex_id = client.get("/api/auth/profile", headers=alex).json["user"]["id"]

    r = client.post("/api/friends/request", json={"userId": alex_id}, headers=jane)
    assert r.status_code == 200 and r.json["success"] is True and isinstance(r.json["message"], str)
    note = next(n for n in client.get("/api/notifications", headers=alex).json["notifications"]
                if n["type"] == "friend_request")
    assert isinstance(note["data"]["requestId"], str) and note["data"]["senderId"] == jane_id
    r = client.post(f"/api/friends/request/{note['data']['requestId']}/accept", headers=alex)
    assert r.status_code == 200 and r.json["success"] is True
    error_shape(client.post(f"/api/friends/request/{note['data']['requestId']}/reject", headers=alex), 409)
    (friend,) = client.get("/api/friends", headers=jane).json["friends"]
    assert friend["id"] == alex_id and friend["name"] == "Alex Kim" and friend["major"] == "Physics"
    assert friend["year"] == "Senior"

    for text in ("Hey, want to study Thursday?", "sure"):
        sender, receiver = (jane, alex_id) if text != "sure" else (alex, jane_id)
        r = client.post("/api/messages/send", json={"receiverId": receiver, "content": text}, headers=sender)
        assert r.status_code == 200 and r.json["success"] is True
    r = client.get(f"/api/messages/{alex_id}", headers=jane)
    assert r.status_code == 200
    messages = r.json["messages"]
    assert [(m["senderId"], m["content"]) for m in messages] == [(jane_id, "Hey, want to study Thursday?"),
                                                                 (alex_id, "sure")]
    assert messages[1]["senderName"] == "Alex Kim" and all(ISO_Z.match(m["createdAt"]) for m in messages)
    assert all(isinstance(m["id"], str) for m in messages)
    dm = next(n for n in client.get("/api/notifications", headers=alex).json["notifications"]
              if n["type"] == "direct_message")
    assert dm["data"]["senderId"] == jane_id and dm["data"]["senderName"] == "Jane Doe"
    error_shape(client.post("/api/messages/send", json={"receiverId": alex_id, "content": "  "}, headers=jane), 400)


def test_errors_are_json_without_token(client, state):
    for method, path in (("post", "/api/recommend"), ("get", "/api/groups/mine"), ("get", "/api/notifications"),
                         ("post", "/api/notifications/x/read"), ("get", "/api/friends")):
        error_shape(getattr(client, method)(path, json={} if method == "post" else None), 401)


def test_other_college_ids_are_not_found(client, state, factory):
    jane = register(client)
    group_id = client.post("/api/groups/create", json=GROUP, headers=jane).json["group_id"]
    r = client.post("/api/auth/register", json={**ALEX, "email": "alex@other.edu"})
    other = {"Authorization": f"Bearer {r.json['token']}"}
    error_shape(client.post(f"/api/groups/{group_id}/request-join", headers=other), 404)


def test_group_chat_routes(client, state):
    """§2.21–2.22 and seed 002's /send and /react: every field either reader of a message reads."""
    jane = register(client)
    alex = {"Authorization": f"Bearer {client.post('/api/auth/register', json=ALEX).json['token']}"}
    group_id = client.post("/api/groups/create", json=GROUP, headers=jane).json["group_id"]
    r = client.get(f"/api/chat/{group_id}/messages", headers=jane)
    assert r.status_code == 200 and r.json == {"success": True, "messages": []}

    r = client.post(f"/api/chat/{group_id}/message", json={"content": "Quiz on Friday", "message_type": "text"},
                    headers={**jane, "Content-Type": "application/json"})
    assert r.status_code == 201 and r.json["success"] is True and isinstance(r.json["message"], str)
    (message,) = client.get(f"/api/chat/{group_id}/messages", headers=jane).json["messages"]
    for key in ("id", "groupId", "userId", "userName", "senderId", "senderName", "content", "message",
                "messageType", "type"):
        assert isinstance(message[key], str) and message[key], key
    assert message["groupId"] == group_id and message["content"] == message["message"] == "Quiz on Friday"
    assert ISO_Z.match(message["timestamp"]) and message["timestamp"] == message["createdAt"]
    assert message["reactions"] == [] and message["imageUrl"] is None

    # reacting twice takes the reaction back
    for expected in (1, 0):
        r = client.post(f"/api/chat/message/{message['id']}/react", json={"emoji": "👍"}, headers=jane)
        assert r.status_code == 200 and len(r.json["reactions"]) == expected

    # Alex is no member (the app's group is request-only): JSON errors, nothing written
    error_shape(client.get(f"/api/chat/{group_id}/messages", headers=alex), 403)
    error_shape(client.post(f"/api/chat/{group_id}/send", json={"content": "hi"}, headers=alex), 403)
    error_shape(client.post(f"/api/chat/{group_id}/send", json={"content": "  "}, headers=jane), 400)
    error_shape(client.post(f"/api/chat/{group_id}/send", json={"content": "x", "message_type": "image",
                                                                 "image_url": "file:///etc/passwd"}, headers=jane), 400)
    assert len(client.get(f"/api/chat/{group_id}/messages", headers=jane).json["messages"]) == 1


def test_disabled_features_are_json_403s(client, factory):
    factory.college(domain="quiet.edu", students_count=0, features=["core"])
    jane = register(client, {**JANE, "email": "jane@quiet.edu"})
    group_id = client.post("/api/groups/create", json=GROUP, headers=jane).json["group_id"]
    for method, path, body in (("post", "/api/recommend", {}), ("post", "/api/search", {"query": "x"}),
                               ("get", "/api/friends", None), ("post", "/api/messages/send", {"receiverId": "x"}),
                               ("get", f"/api/chat/{group_id}/messages", None)):
        r = getattr(client, method)(path, json=body, headers=jane)
        error_shape(r, 403)


def test_polling_an_unchanged_thread_or_bell_answers_304(client, state):
    jane = register(client)
    alex = {"Authorization": f"Bearer {client.post('/api/auth/register', json=ALEX).json['token']}"}
    alex_id = client.get("/api/auth/me", headers=alex).json["user"]["id"]
    client.post("/api/messages/send", json={"receiverId": alex_id, "content": "first"}, headers=jane)

    for path in (f"/api/messages/{alex_id}", "/api/notifications"):
        first = client.get(path, headers=jane)
        assert first.status_code == 200 and first.headers["ETag"]
        assert "private" in first.headers["Cache-Control"]
        again = client.get(path, headers={**jane, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    etag = client.get(f"/api/messages/{alex_id}", headers=jane).headers["ETag"]
    client.post("/api/messages/send", json={"receiverId": alex_id, "content": "second"}, headers=jane)
    changed = client.get(f"/api/messages/{alex_id}", headers={**jane, "If-None-Match": etag})
    assert changed.status_code == 200 and [m["content"] for m in changed.json["messages"]] == ["first", "second"]


# Issue 12: the app's own service code, run unchanged -----------------------------------------------


SEED_002 = {  # shared/seeds/002_*.txt, "Register Example", verbatim but for a college address
    "name": "John Doe", "email": "john.doe@state.edu", "password": "securePassword123",
    "university": "State University", "major": "Computer Science", "year": "Junior",
    "learningStyle": "I learn best with visual aids and hands-on practice",
    "subjects": ["Mathematics", "Computer Science"],
    "schedule": {"Monday": ["Evening (5-9 PM)"], "Wednesday": ["Evening (5-9 PM)"]},
    "performanceLevel": 4,
    "groupPreferences": {"groupSize": 4, "sessionDuration": 2, "studyGoals": ["Exam Preparation"]},
}


def test_seed_002_registration_body_fills_the_profile(client, state):
    headers = register(client, SEED_002)
    user = client.get("/api/auth/profile", headers=headers).json["user"]
    assert user["university"] == "State University" and user["major"] == "Computer Science"
    assert user["learning_style"] == SEED_002["learningStyle"] and user["performance_level"] == 4
    assert user["schedule"] == SEED_002["schedule"]
    assert user["group_preferences"] == {"groupSize": 4, "sessionDuration": 2, "studyGoals": ["Exam Preparation"]}
    # the fields the app collects but does not send today are kept too, in either spelling
    headers = register(client, {**JANE, "email": "kim@state.edu", "studyEnvironments": ["Library"],
                                "study_methods": ["Flashcards"], "bio": "Night owl"})
    profile = client.get("/api/v1/me/profile", headers=headers).json["data"]
    assert profile["study_environments"] == ["Library"] and profile["study_methods"] == ["Flashcards"]
    assert profile["bio"] == "Night owl"


def test_days_come_monday_to_sunday(client, state):
    headers = register(client, {**JANE, "availability": {"Sunday": ["Night (9-12 AM)"], "Friday": ["Morning"],
                                                         "Monday": ["Evening (5-9 PM)"]}})
    for path in ("/api/auth/profile", "/api/v1/me/profile"):
        body = client.get(path, headers=headers).get_data(as_text=True)
        assert body.index('"Monday"') < body.index('"Friday"') < body.index('"Sunday"'), path


def test_passwords_are_trimmed_at_register_and_login_alike(client, state):
    register(client, {**JANE, "password": "secret123 "})  # sign-up sends it as typed
    r = client.post("/api/auth/login", json={"email": "jane@state.edu", "password": "secret123"})  # login trims
    assert r.status_code == 200 and r.json["success"] is True
    r = client.post("/api/auth/login", json={"email": "jane@state.edu", "password": " secret123 "})
    assert r.status_code == 200  # the 409 fallback sends it untrimmed


def test_group_search_results_are_filled_like_recommendation_cards(client, state):
    jane = register(client)
    alex = register(client, ALEX)
    group_id = client.post("/api/groups/create", json={**GROUP, "description": "Weekly problem sets"},
                           headers=jane).json["group_id"]
    r = client.post("/api/search", json={"query": "Math 220"}, headers=alex)
    (found,) = [g for g in r.json["results"] if g["id"] == group_id]
    assert found["explanation"] == "Weekly problem sets" and found["description"] == "Weekly problem sets"
    assert found["leaderName"] == "Jane Doe"
    assert found["members"] == [{"name": "Jane Doe", "major": "Computer Science", "role": "leader"}]


def test_people_search_and_profile_fall_back_to_the_record(client, state, factory):
    jane = register(client)
    imported = factory.student_in(state, "Priya Raman", department="Mechanical Engineering", year=3)
    r = client.post("/api/search/people", json={"query": "Priya"}, headers=jane)
    (found,) = [p for p in r.json["results"] if p["id"] == imported.id]
    assert found["name"] == "Priya Raman" and found["major"] == "Mechanical Engineering" and found["year"] == "3"
    r = client.get("/api/auth/profile", headers=imported.headers)
    assert r.json["user"]["major"] == "Mechanical Engineering" and r.json["user"]["year"] == "3"


def test_the_create_your_own_group_card_is_filled(client, state):
    headers = register(client)
    (card,) = client.post("/api/recommend", json={}, headers=headers).json["recommendations"]
    assert card["suggested"] is True and card["matchPercentage"] is None
    assert isinstance(card["id"], str) and card["id"]
    for key in ("title", "memberInfo", "schedule", "focus", "location", "action", "explanation"):
        assert isinstance(card[key], str) and card[key].strip(), key
    assert all(isinstance(v, float) for v in card["compatibility"].values())
