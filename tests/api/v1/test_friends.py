"""Friends as users meet them: asking, being asked, matching, answering, unfriending, privacy."""
import threading

from tests.factories import make_classroom, make_group


def ask(client, actor, target_id):
    return client.post("/api/v1/friends/requests", headers=actor.headers, json={"user_id": target_id})


def requests_of(client, actor, direction):
    r = client.get(f"/api/v1/friends/requests?direction={direction}", headers=actor.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]


def friend_ids(client, actor):
    r = client.get("/api/v1/friends", headers=actor.headers)
    assert r.status_code == 200, r.json
    return [f["user_id"] for f in r.json["data"]]


def notifications_of(client, actor, type_):
    r = client.get("/api/v1/notifications", headers=actor.headers)
    assert r.status_code == 200, r.json
    return [n for n in r.json["data"] if n["type"] == type_]


def test_request_then_accept_makes_friends_who_see_each_others_email(client, factory):
    kit = factory.college()
    alice, bob = kit.students

    r = ask(client, alice, bob.id)
    assert r.status_code == 201, r.json
    assert r.json["message"] == "Friend request sent"
    request = r.json["data"]["request"]
    assert r.json["data"]["status"] == "pending"
    assert request["sender"]["user_id"] == alice.id and request["receiver"]["user_id"] == bob.id

    incoming = requests_of(client, bob, "incoming")
    assert [x["request_id"] for x in incoming] == [request["request_id"]]
    assert requests_of(client, alice, "outgoing")[0]["request_id"] == request["request_id"]
    assert requests_of(client, alice, "incoming") == []

    (note,) = notifications_of(client, bob, "friend_request")
    assert note["data"] == {"requestId": request["request_id"], "senderId": alice.id, "senderName": alice.name}

    r = client.post(f"/api/v1/friends/requests/{request['request_id']}/accept", headers=bob.headers)
    assert r.status_code == 200, r.json
    assert r.json["data"]["status"] == "friends"
    assert r.json["data"]["friend"]["user_id"] == alice.id

    assert friend_ids(client, alice) == [bob.id]
    assert friend_ids(client, bob) == [alice.id]
    friend = client.get("/api/v1/friends", headers=alice.headers).json["data"][0]
    assert friend["email"] == bob.email and friend["name"] == bob.name
    assert {"major", "year", "friends_since"} <= friend.keys()
    assert requests_of(client, bob, "incoming") == []
    assert len(notifications_of(client, alice, "friend_request_accepted")) == 1


def test_friends_see_email_on_public_profile_and_classmates_do_not(client, factory):
    kit = factory.college(students_count=3)
    alice, bob, carol = kit.students
    request_id = ask(client, alice, bob.id).json["data"]["request"]["request_id"]
    assert client.post(f"/api/v1/friends/requests/{request_id}/accept", headers=bob.headers).status_code == 200

    as_friend = client.get(f"/api/v1/users/{bob.id}/profile", headers=alice.headers)
    assert as_friend.status_code == 200, as_friend.json
    assert as_friend.json["data"]["email"] == bob.email
    as_classmate = client.get(f"/api/v1/users/{bob.id}/profile", headers=carol.headers)
    assert as_classmate.status_code == 200
    assert "email" not in as_classmate.json["data"] or as_classmate.json["data"]["email"] is None

    assert client.delete(f"/api/v1/friends/{bob.id}", headers=alice.headers).status_code == 200
    after = client.get(f"/api/v1/users/{bob.id}/profile", headers=alice.headers).json["data"]
    assert after.get("email") is None


def test_asking_someone_who_already_asked_you_makes_you_friends(client, factory):
    kit = factory.college()
    alice, bob = kit.students
    first = ask(client, alice, bob.id).json["data"]["request"]

    r = ask(client, bob, alice.id)
    assert r.status_code == 200, r.json
    assert r.json["message"] == "You are now friends"
    assert r.json["data"]["status"] == "friends"
    assert r.json["data"]["request"]["request_id"] == first["request_id"]
    assert friend_ids(client, alice) == [bob.id] and friend_ids(client, bob) == [alice.id]
    assert requests_of(client, bob, "incoming") == [] and requests_of(client, alice, "outgoing") == []
    assert len(notifications_of(client, alice, "friend_request_accepted")) == 1


def test_only_the_addressee_answers(client, factory):
    kit = factory.college(students_count=3)
    alice, bob, carol = kit.students
    request_id = ask(client, alice, bob.id).json["data"]["request"]["request_id"]

    r = client.post(f"/api/v1/friends/requests/{request_id}/accept", headers=alice.headers)
    assert r.status_code == 403 and r.json["success"] is False
    assert client.post(f"/api/v1/friends/requests/{request_id}/accept", headers=carol.headers).status_code == 404
    assert client.post(f"/api/v1/friends/requests/{request_id}/reject", headers=carol.headers).status_code == 404

    r = client.post(f"/api/v1/friends/requests/{request_id}/reject", headers=bob.headers)
    assert r.status_code == 200 and r.json["data"]["status"] == "rejected"
    assert friend_ids(client, alice) == []
    r = client.post(f"/api/v1/friends/requests/{request_id}/accept", headers=bob.headers)
    assert r.status_code == 409 and "rejected" in r.json["message"]
    assert requests_of(client, bob, "incoming") == []
    # a rejection does not block asking again later
    assert ask(client, alice, bob.id).status_code == 201


def test_duplicates_self_and_strangers(client, factory):
    kit = factory.college()
    alice, bob = kit.students
    assert ask(client, alice, bob.id).status_code == 201
    r = ask(client, alice, bob.id)
    assert r.status_code == 409 and r.json["message"] == "Friend request already sent"

    r = ask(client, alice, alice.id)
    assert r.status_code == 400 and "yourself" in r.json["message"]
    assert ask(client, alice, "00000000-0000-0000-0000-000000000000").status_code == 404
    r = client.post("/api/v1/friends/requests", headers=alice.headers, json={"user_id": bob.id, "extra": 1})
    assert r.status_code == 400

    request_id = requests_of(client, bob, "incoming")[0]["request_id"]
    client.post(f"/api/v1/friends/requests/{request_id}/accept", headers=bob.headers)
    for actor, target in ((alice, bob), (bob, alice)):
        r = ask(client, actor, target.id)
        assert r.status_code == 409 and r.json["message"] == "You are already friends"


def test_unfriend(client, factory):
    kit = factory.college(students_count=3)
    alice, bob, carol = kit.students
    ask(client, alice, bob.id)
    ask(client, carol, alice.id)
    for actor in (bob, alice):
        request_id = requests_of(client, actor, "incoming")[0]["request_id"]
        assert client.post(f"/api/v1/friends/requests/{request_id}/accept", headers=actor.headers).status_code == 200
    assert sorted(friend_ids(client, alice)) == sorted([bob.id, carol.id])

    r = client.delete(f"/api/v1/friends/{bob.id}", headers=alice.headers)
    assert r.status_code == 200, r.json
    assert friend_ids(client, alice) == [carol.id]
    assert friend_ids(client, bob) == []
    r = client.delete(f"/api/v1/friends/{bob.id}", headers=alice.headers)
    assert r.status_code == 404 and r.json["message"] == "You are not friends with this user"
    # they may become friends again
    assert ask(client, bob, alice.id).status_code == 201


def test_crossed_requests_at_the_same_moment_make_one_friendship(app, factory):
    kit = factory.college(students_count=2)
    alice, bob = kit.students
    for _ in range(3):
        barrier = threading.Barrier(2)
        statuses = []

        def send(actor, target):
            client = app.test_client()
            barrier.wait()
            statuses.append(ask(client, actor, target.id).status_code)

        threads = [threading.Thread(target=send, args=pair) for pair in ((alice, bob), (bob, alice))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        client = app.test_client()
        assert sorted(statuses) == [200, 201], statuses
        assert friend_ids(client, alice) == [bob.id] and friend_ids(client, bob) == [alice.id]
        assert requests_of(client, alice, "incoming") == [] and requests_of(client, bob, "incoming") == []
        assert client.delete(f"/api/v1/friends/{bob.id}", headers=alice.headers).status_code == 200


def test_another_colleges_users_get_404_on_every_id(client, factory):
    kit, other = factory.college(), factory.college()
    alice, bob = kit.students
    outsider = other.student
    request_id = ask(client, alice, bob.id).json["data"]["request"]["request_id"]

    assert ask(client, outsider, alice.id).status_code == 404
    assert ask(client, alice, outsider.id).status_code == 404
    for verb in ("accept", "reject"):
        assert client.post(f"/api/v1/friends/requests/{request_id}/{verb}", headers=outsider.headers).status_code == 404
    assert client.delete(f"/api/v1/friends/{alice.id}", headers=outsider.headers).status_code == 404
    assert client.delete(f"/api/v1/friends/{outsider.id}", headers=alice.headers).status_code == 404
    assert requests_of(client, outsider, "outgoing") == [] and requests_of(client, outsider, "incoming") == []
    # the request is untouched
    assert requests_of(client, bob, "incoming")[0]["request_id"] == request_id


def test_social_feature_off_is_403_naming_it(client, factory):
    kit = factory.college(features=["core", "chat"])
    alice, bob = kit.students
    for method, path, body in (
        ("post", "/api/v1/friends/requests", {"user_id": bob.id}),
        ("get", "/api/v1/friends/requests", None),
        ("get", "/api/v1/friends", None),
        ("delete", f"/api/v1/friends/{bob.id}", None),
    ):
        r = getattr(client, method)(path, headers=alice.headers, json=body)
        assert r.status_code == 403, (path, r.json)
        assert "social" in r.json["message"]


def test_requires_a_token_and_a_college_role(client, factory):
    assert client.get("/api/v1/friends").status_code == 401
    sysadmin = factory.sysadmin()
    assert client.get("/api/v1/friends", headers=sysadmin.headers).status_code == 403


def test_staff_and_students_of_a_college_can_be_friends(client, factory):
    kit = factory.college()
    r = ask(client, kit.teacher, kit.student.id)
    assert r.status_code == 201
    request_id = r.json["data"]["request"]["request_id"]
    assert client.post(f"/api/v1/friends/requests/{request_id}/accept", headers=kit.student.headers).status_code == 200
    assert friend_ids(client, kit.student) == [kit.teacher.id]


def test_a_friends_email_shows_in_every_listing_of_people_and_a_classmates_in_none(client, factory):
    """One rule for profiles, group member lists and classroom rosters."""
    kit = factory.college(students_count=3)
    me, friend, classmate = kit.students
    r = ask(client, me, friend.id)
    client.post(f"/api/v1/friends/requests/{r.json['data']['request']['request_id']}/accept", headers=friend.headers)
    classroom = make_classroom(client, kit, students=kit.students)
    group = make_group(client, me, classroom_id=classroom["classroom_id"], member_ids=[friend.id, classmate.id])

    members = client.get(f"/api/v1/groups/{group['group_id']}/members", headers=me.headers).json["data"]
    roster = client.get(f"/api/v1/classrooms/{classroom['classroom_id']}/students", headers=me.headers).json["data"]
    for people in (members, roster):
        emails = {p.get("user_id") or p.get("id"): p.get("email") for p in people}
        assert emails[friend.id] == friend.email and emails[classmate.id] is None, people
    profile = client.get(f"/api/v1/users/{friend.id}/profile", headers=me.headers).json["data"]
    assert profile["email"] == friend.email
    assert "email" not in client.get(f"/api/v1/users/{classmate.id}/profile", headers=me.headers).json["data"]
