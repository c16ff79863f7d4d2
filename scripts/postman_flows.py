"""The flow collections: seed 004's TESTING FLOW (PCRM APIs 1–16) and the mobile app's story, as Postman
requests in order, each with a test script that checks the status and fields and keeps the tokens and
ids the next requests need. Re-runnable against the same server: each run makes its own college and
students (`{{run}}` is set by the first request).
"""
from __future__ import annotations

import json

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def step(name: str, method: str, path: str, *, body=None, token: str | None = None, status: int = 200,
         tests: list[str] = (), pre: list[str] = ()) -> dict:
    """One request. `token` names the variable holding the bearer token (None: no auth)."""
    raw_path = path
    request: dict = {
        "method": method,
        "header": [],
        "url": {"raw": "{{baseUrl}}" + raw_path, "host": ["{{baseUrl}}"],
                "path": [p for p in raw_path.split("?")[0].split("/") if p]},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{" + token + "}}", "type": "string"}]}
        if token else {"type": "noauth"},
    }
    if "?" in raw_path:
        request["url"]["query"] = [dict(zip(("key", "value"), pair.split("=", 1)))
                                   for pair in raw_path.split("?", 1)[1].split("&")]
    if body is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(body, indent=2, ensure_ascii=False),
                           "options": {"raw": {"language": "json"}}}
    script = [f"pm.test('{method} {path.split('?')[0]} answers {status}', function () {{",
              f"    pm.response.to.have.status({status});", "});",
              "const body = pm.response.json();", *tests]
    events = [{"listen": "test", "script": {"type": "text/javascript", "exec": script}}]
    if pre:
        events.insert(0, {"listen": "prerequest", "script": {"type": "text/javascript", "exec": list(pre)}})
    return {"name": name, "event": events, "request": request}


def expect(description: str, *conditions: str) -> list[str]:
    lines = [f"pm.test({json.dumps(description)}, function () {{"]
    lines += [f"    pm.expect({c}).to.be.true;" for c in conditions]
    return lines + ["});"]


def keep(variable: str, expression: str) -> str:
    return f"pm.collectionVariables.set('{variable}', {expression});"


def collection(name: str, description: str, items: list[dict]) -> dict:
    return {"info": {"name": name, "description": description, "schema": SCHEMA},
            "variable": [{"key": "baseUrl", "value": "http://localhost:5000"}], "item": items}


START_RUN = ["pm.collectionVariables.set('run', Date.now().toString(36));"]
FEATURES = ["core", "chat", "study_sessions", "ai_matching", "social"]
SUBDOMAIN = "mit{{run}}"
DOMAIN = "mit{{run}}.edu"

SEED_004 = collection("StudySync — seed 004 (PCRM) testing flow", (
    "PCRM APIs 1–16 in order, as seed 004's TESTING FLOW plays them: the sysadmin creates a college, its "
    "admin enables features and registers students, a student logs in, out and changes the password, the "
    "admin and a teacher update the student. Needs `sysadminEmail`/`sysadminPassword` (the environment "
    "file has `make run`'s demo sysadmin)."), [
    step("API 1: sysadmin login", "POST", "/api/v1/auth/login", pre=START_RUN,
         body={"email": "{{sysadminEmail}}", "password": "{{sysadminPassword}}"},
         tests=expect("a sysadmin token", "body.success === true", "body.data.role === 'sysadmin'",
                      "typeof body.data.token === 'string'", "!('college_id' in body.data)")
         + [keep("sysToken", "body.data.token")]),
    step("API 2: create college", "POST", "/api/v1/colleges", token="sysToken", status=201, body={
        "college_name": "MIT", "college_subdomain": SUBDOMAIN, "admin_name": "Dr. John Smith",
        "admin_email": "admin@" + DOMAIN, "admin_password": "Admin@1234"},
        tests=expect("the college and its admin", "body.message === 'College created successfully'",
                     "body.data.college.college_status === 'active'",
                     "JSON.stringify(body.data.college.enabled_features) === JSON.stringify(['core'])",
                     "body.data.admin.user_role === 'admin'")
        + [keep("collegeId", "body.data.college.college_id"), keep("adminEmail", "body.data.admin.user_email")]),
    step("API 3: list colleges", "GET", "/api/v1/colleges?page=1&limit=20", token="sysToken",
         tests=expect("a page of colleges", "body.message === 'Colleges retrieved'", "body.pagination.page === 1",
                      "body.pagination.limit === 20", "Array.isArray(body.data)")),
    step("API 4: get single college", "GET", "/api/v1/colleges/{{collegeId}}", token="sysToken",
         tests=expect("the college", "body.data.college_id === pm.collectionVariables.get('collegeId')",
                      "body.data.college_name === 'MIT'")),
    step("API 5: update college", "PUT", "/api/v1/colleges/{{collegeId}}", token="sysToken", body={
        "college_name": "Massachusetts Institute of Technology", "college_status": "active"},
        tests=expect("renamed", "body.message === 'College updated successfully'",
                     "body.data.college_name === 'Massachusetts Institute of Technology'",
                     "typeof body.data.updated_at === 'string'")),
    step("API 6: update college features", "PUT", "/api/v1/colleges/{{collegeId}}/features", token="sysToken",
         body={"enabled_features": FEATURES},
         tests=expect("features enabled", "body.message === 'College features updated successfully'",
                      f"JSON.stringify(body.data.enabled_features) === '{json.dumps(FEATURES, separators=(',', ':'))}'")),
    step("API 6: core is mandatory (400)", "PUT", "/api/v1/colleges/{{collegeId}}/features", token="sysToken",
         status=400, body={"enabled_features": ["chat"]},
         tests=expect("the seed's message", "body.success === false",
                      "body.message === 'Core feature must always be included in enabled features'")),
    step("API 7: college admin login", "POST", "/api/v1/auth/login",
         body={"email": "admin@" + DOMAIN, "password": "Admin@1234"},
         tests=expect("an admin token for this college", "body.data.role === 'admin'",
                      "body.data.college_id === pm.collectionVariables.get('collegeId')")
         + [keep("adminToken", "body.data.token")]),
    # The sysadmin chose that password, so it is temporary: every other route answers 403 until it is changed.
    step("API 7: the admin replaces the temporary password", "PUT", "/api/v1/auth/password", token="adminToken",
         body={"old_password": "Admin@1234", "new_password": "Admin@5678x"}),
    step("API 8: college details with features", "GET", "/api/v1/colleges/{{collegeId}}", token="adminToken",
         tests=expect("the admin sees its college's features", "body.data.enabled_features.includes('chat')",
                      "body.data.enabled_features.includes('core')")),
    step("API 9: student registration", "POST", "/api/v1/students/register", status=201, body={
        "college_id": "{{collegeId}}", "student_name": "John Doe", "student_email": "john.doe@" + DOMAIN,
        "student_password": "Student@1234", "student_department": "Computer Science", "student_year": 2},
        tests=expect("the student", "body.message === 'Student registered successfully'",
                     "body.data.student_name === 'John Doe'", "typeof body.data.student_id === 'string'")
        + [keep("studentId", "body.data.student_id")]),
    step("API 9: the same email again (409)", "POST", "/api/v1/students/register", status=409, body={
        "college_id": "{{collegeId}}", "student_name": "John Doe", "student_email": "john.doe@" + DOMAIN,
        "student_password": "Student@1234", "student_department": "Computer Science", "student_year": 2},
        tests=expect("the seed's message", "body.success === false", "body.message === 'Email already exists'")),
    step("API 10: bulk register students", "POST", "/api/v1/students/bulk", token="adminToken", body={"students": [
        {"student_name": "Alice Johnson", "student_email": "alice.johnson@" + DOMAIN,
         "student_password": "Student@1234", "student_department": "Electrical Engineering", "student_year": 1},
        {"student_name": "Bob Smith", "student_email": "bob.smith@" + DOMAIN, "student_password": "Student@1234",
         "student_department": "Mechanical Engineering", "student_year": 3}]},
        tests=expect("both registered", "body.message === '2 students registered, 0 failed'",
                     "body.data.success.length === 2", "body.data.failed.length === 0")),
    step("API 11: student login", "POST", "/api/v1/students/login", body={
        "college_id": "{{collegeId}}", "student_email": "john.doe@" + DOMAIN, "student_password": "Student@1234"},
        tests=expect("a student token", "body.message === 'Login successful'", "body.data.role === 'student'",
                     "body.data.student_name === 'John Doe'")
        + [keep("studentToken", "body.data.token")]),
    step("API 11: wrong password (401)", "POST", "/api/v1/students/login", status=401, body={
        "college_id": "{{collegeId}}", "student_email": "john.doe@" + DOMAIN, "student_password": "Wrong@1234"},
        tests=expect("the seed's message", "body.message === 'Invalid email or password'")),
    step("API 12: student logout", "POST", "/api/v1/students/logout", token="studentToken",
         tests=expect("logged out", "body.message === 'Logout successful'")),
    step("API 12: the token is dead (401)", "POST", "/api/v1/students/logout", token="studentToken", status=401,
         tests=expect("refused", "body.message === 'Invalid or expired token'")),
    step("API 11 again: the student logs in again", "POST", "/api/v1/students/login", body={
        "college_id": "{{collegeId}}", "student_email": "john.doe@" + DOMAIN, "student_password": "Student@1234"},
        tests=[keep("studentToken", "body.data.token")]),
    step("API 13: wrong old password (401)", "PUT", "/api/v1/students/password", token="studentToken", status=401,
         body={"old_password": "Nope@12345", "new_password": "NewPassword@1234"},
         tests=expect("the seed's message", "body.message === 'Old password is incorrect'")),
    step("API 13: update student password", "PUT", "/api/v1/students/password", token="studentToken",
         body={"old_password": "Student@1234", "new_password": "NewPassword@1234"},
         tests=expect("updated", "body.message === 'Password updated successfully'")),
    step("API 14: admin updates the student's profile", "PUT", "/api/v1/students/{{studentId}}/profile",
         token="adminToken", body={"student_name": "John Michael Doe", "student_year": 3, "student_status": "active"},
         tests=expect("updated", "body.message === 'Student profile updated successfully'",
                      "body.data.student_name === 'John Michael Doe'", "body.data.student_year === 3")),
    step("Admin creates a teacher", "POST", "/api/v1/users", token="adminToken", status=201, body={
        "name": "Teacher", "email": "teacher@" + DOMAIN, "password": "Teacher@1234", "role": "teacher"}),
    step("API 15: teacher login", "POST", "/api/v1/auth/login",
         body={"email": "teacher@" + DOMAIN, "password": "Teacher@1234"},
         tests=expect("a teacher token", "body.data.role === 'teacher'",
                      "body.data.college_id === pm.collectionVariables.get('collegeId')")
         + [keep("teacherToken", "body.data.token")]),
    step("API 16: teacher updates the student's status", "PUT", "/api/v1/students/{{studentId}}/profile",
         token="teacherToken", body={"student_status": "active"},
         tests=expect("updated", "body.message === 'Student profile updated successfully'",
                      "body.data.student_status === 'active'", "body.data.student_name === 'John Michael Doe'")),
    step("Errors: no token (401)", "GET", "/api/v1/colleges", status=401,
         tests=expect("the seed's message", "body.message === 'Missing Authorization header'")),
    step("Errors: a teacher may not list colleges (403)", "GET", "/api/v1/colleges", token="teacherToken",
         status=403, tests=expect("the seed's message", "body.message === 'Forbidden - insufficient permissions'")),
])

JANE = {"name": "Jane Doe", "email": "jane.{{run}}@demo.edu", "password": "secret123", "major": "Computer Science",
        "year": "Junior", "subjects": ["Mathematics", "Computer Science"],
        "learning_style": "I learn best with visual aids and practice problems", "preferred_group_size": 3,
        "availability": {"Monday": ["Morning (8-12 PM)"], "Wednesday": ["Afternoon (12-5 PM)"]},
        "study_preferences": ["Exam Preparation", "Homework Help"]}
ALEX = {**JANE, "name": "Alex Kim", "email": "alex.{{run}}@demo.edu", "major": "Physics", "year": "Senior",
        "subjects": ["Mathematics", "Physics"]}
GROUP_TITLE = "Math 220 Study Group {{run}}"

MOBILE = collection("StudySync — mobile app story", (
    "The StudySync app's story on its `/api` routes: two students register (their email domain picks the "
    "college: `demo.edu` is the demo college's), one creates a group, the other finds it by recommendation and "
    "search, asks to join, the leader approves, they become friends, exchange direct messages and chat in "
    "the group."), [
    step("Jane registers", "POST", "/api/auth/register", body=JANE, status=201, pre=START_RUN,
         tests=expect("a token and the user", "body.success === true", "typeof body.token === 'string'",
                      "body.user.name === 'Jane Doe'")
         + [keep("janeToken", "body.token"), keep("janeId", "body.user.id")]),
    step("Alex registers", "POST", "/api/auth/register", body=ALEX, status=201,
         tests=[keep("alexToken", "body.token"), keep("alexId", "body.user.id")]),
    step("Alex registers again (409)", "POST", "/api/auth/register", body=ALEX, status=409,
         tests=expect("the app's error shape", "body.success === false", "body.error === body.message")),
    step("Alex logs in", "POST", "/api/auth/login", body={"email": ALEX["email"], "password": ALEX["password"]},
         tests=expect("the same user", "body.user.id === pm.collectionVariables.get('alexId')")
         + [keep("alexToken", "body.token")]),
    step("Alex's profile", "GET", "/api/auth/me", token="alexToken",
         tests=expect("the profile", "body.user.major === 'Physics'", "body.user.group_preferences.groupSize === 3")),
    step("Jane creates a group", "POST", "/api/groups/create", token="janeToken", status=201, body={
        "title": GROUP_TITLE, "subject": "Mathematics", "description": "", "schedule": "Flexible",
        "location": "TBD", "maxMembers": 6},
        tests=expect("its id", "typeof body.group_id === 'string'") + [keep("groupId", "body.group_id")]),
    step("Alex gets recommendations", "POST", "/api/recommend", token="alexToken", body={},
         tests=expect("Jane's group is recommended",
                      "body.recommendations.some(r => r.id === pm.collectionVariables.get('groupId') && "
                      "r.action === 'Request to Join' && r.memberInfo === '1/6 members')")),
    step("Alex searches for it", "POST", "/api/search", token="alexToken", body={"query": "Math 220"},
         tests=expect("found", "body.results.some(r => r.id === pm.collectionVariables.get('groupId'))")),
    step("Alex asks to join", "POST", "/api/groups/{{groupId}}/request-join", token="alexToken",
         tests=expect("pending", "body.status === 'pending'")),
    step("Jane's notifications show the request", "GET", "/api/notifications", token="janeToken",
         tests=["const note = body.notifications.find(n => n.type === 'join_request');"]
         + expect("a join_request naming Alex", "note !== undefined",
                  "note.data.requesterId === pm.collectionVariables.get('alexId')")
         + [keep("joinNoteId", "note.id")]),
    step("Jane approves", "POST", "/api/groups/{{groupId}}/requests/{{alexId}}/approve", token="janeToken",
         tests=expect("approved", "body.success === true")),
    step("Jane marks the notification read", "POST", "/api/notifications/{{joinNoteId}}/read", token="janeToken"),
    step("Alex is a member", "GET", "/api/groups/mine", token="alexToken",
         tests=expect("active member of a group of 2",
                      "body.groups.some(g => g.id === pm.collectionVariables.get('groupId') && "
                      "g.status === 'active' && g.role === 'member' && g.currentMembers === 2)")),
    step("Alex sends Jane a friend request", "POST", "/api/friends/request", token="alexToken",
         body={"userId": "{{janeId}}"},
         tests=expect("pending", "body.status === 'pending'") + [keep("friendRequestId", "body.requestId")]),
    step("Jane sees it", "GET", "/api/friends/requests", token="janeToken",
         tests=expect("from Alex", "body.requests.some(r => r.id === pm.collectionVariables.get('friendRequestId'))")),
    step("Jane accepts", "POST", "/api/friends/request/{{friendRequestId}}/accept", token="janeToken"),
    step("They are friends", "GET", "/api/friends", token="alexToken",
         tests=expect("Jane is Alex's friend", "body.friends.some(f => f.id === pm.collectionVariables.get('janeId'))")),
    step("Alex messages Jane", "POST", "/api/messages/send", token="alexToken",
         body={"receiverId": "{{janeId}}", "content": "Thanks for the invite!"},
         tests=expect("sent", "body.data.content === 'Thanks for the invite!'")),
    step("Jane reads the thread", "GET", "/api/messages/{{alexId}}", token="janeToken",
         tests=expect("the message", "body.messages.map(m => m.content).includes('Thanks for the invite!')")),
    step("Alex posts in the group chat", "POST", "/api/chat/{{groupId}}/message", token="alexToken", status=201,
         body={"content": "Hi all!", "message_type": "text"},
         tests=expect("posted", "body.data.content === 'Hi all!'")),
    step("Jane answers", "POST", "/api/chat/{{groupId}}/send", token="janeToken", status=201,
         body={"content": "Welcome, Alex", "message_type": "text"}, tests=[keep("chatMessageId", "body.data.id")]),
    step("Alex reacts", "POST", "/api/chat/message/{{chatMessageId}}/react", token="alexToken", body={"emoji": "👋"},
         tests=expect("one reaction", "body.reactions.length === 1")),
    step("Jane reads the group chat", "GET", "/api/chat/{{groupId}}/messages", token="janeToken",
         tests=expect("both messages in order",
                      "JSON.stringify(body.messages.map(m => m.content)) === '[\"Hi all!\",\"Welcome, Alex\"]'")),
])

FLOWS = {"seed-004-pcrm": SEED_004, "mobile-app-story": MOBILE}
