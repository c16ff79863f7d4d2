"""Seed 001's student management API at `/register`, `/login`, `/students`, `/students/{roll_no}`
(shared/seeds/001_*.txt).

`/login` is an OAuth2 password form whose `username` is the handle or the email; students are
`{roll_no, name, branch, marks}` addressed by roll number; errors are FastAPI's `{"detail": "..."}`.
A deleted student is deactivated (their groups keep their history) and is gone from this surface.
Who may manage students is the services' decision, as on every surface.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..bodies import json_object
from ...auth.current import current_user
from ...auth.passwords import password_problem
from ...errors import ApiError, BadRequest, NotFound, handle_http_exception
from ...models import User
from ...auth import sessions
from ...services import students
from ..request_college import college_for_request

bp = Blueprint("legacy_seed001", __name__)

NO_COLLEGE = "No college found for this request; register from your college's address"
STUDENT_NOT_FOUND = "Student not found"
LIST_LIMIT = 100
MARKS_MIN, MARKS_MAX = 0, 100  # as /api/v1's StudentSchema
NO_EMAIL_DOMAIN = "students.invalid"  # the document's students have no email; ours must


def _detail(status: int, message: str) -> Response:
    response = jsonify({"detail": message})
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    response = _detail(exc.status, exc.message)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    shaped = handle_http_exception(exc)
    response = _detail(shaped.status_code, (shaped.get_json(silent=True) or {}).get("message") or "Error")
    if "Retry-After" in shaped.headers:
        response.headers["Retry-After"] = shaped.headers["Retry-After"]
    return response


_body = json_object


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _student(user: User) -> dict[str, Any]:
    return {"roll_no": user.roll_no, "name": user.name, "branch": user.department, "marks": user.marks}


def _client() -> sessions.ClientInfo:
    return sessions.ClientInfo(request.headers.get("User-Agent"), request.remote_addr)


# Accounts --------------------------------------------------------------------------------------


@bp.post("/register")
def register():
    body = _body()
    username, email = _text(body.get("username")), _text(body.get("email")).lower()
    password = body.get("password") if isinstance(body.get("password"), str) else ""
    if not username or not email or "@" not in email:
        raise BadRequest("username, a valid email and password are required")
    problem = password_problem(password, strong=False)
    if problem:
        raise BadRequest(problem)
    college = college_for_request(email)
    if college is None:
        raise BadRequest(NO_COLLEGE)
    user = students.register(college.id, {"name": username, "email": email, "username": username}, password,
                             _client())
    return jsonify({"message": "User registered successfully", "username": user.username, "email": user.email}), 201


@bp.post("/login")
def login():
    username, password = _text(request.form.get("username")), request.form.get("password") or ""
    if not username or not password:
        raise ApiError("username and password are required", status=422)
    college = college_for_request(username.lower())
    result = sessions.login_handle_or_email(username, password, _client(),
                                            college_id=college.id if college is not None else None)
    return jsonify({"access_token": result.token, "token_type": "bearer"})


# Students --------------------------------------------------------------------------------------


def _record(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if "roll_no" in body or not partial:
        roll_no = body.get("roll_no")
        roll_no = str(roll_no).strip() if isinstance(roll_no, (str, int)) and not isinstance(roll_no, bool) else ""
        if not roll_no or len(roll_no) > 50:
            raise BadRequest("roll_no is required (at most 50 characters)")
        record["roll_no"] = roll_no
    if "name" in body or not partial:
        name = _text(body.get("name"))
        if not name or len(name) > 120:
            raise BadRequest("name is required (at most 120 characters)")
        record["name"] = name
    if "branch" in body:
        branch = body.get("branch")
        if branch is not None and (not isinstance(branch, str) or len(branch) > 120):
            raise BadRequest("branch must be text of at most 120 characters")
        record["department"] = branch.strip() if isinstance(branch, str) else None
    if "marks" in body:
        marks = body.get("marks")
        if marks is not None and (isinstance(marks, bool) or not isinstance(marks, (int, float))
                                  or not MARKS_MIN <= marks <= MARKS_MAX):
            raise BadRequest(f"marks must be a number from {MARKS_MIN} to {MARKS_MAX}")
        record["marks"] = marks
    return record


def _by_roll_no(actor: User, roll_no: str) -> User:
    """An active student with this roll number (a deleted one is gone)."""
    page = students.list_students(actor, 1, 1, {"roll_no": roll_no, "status": "active"})
    if not page.items:
        raise NotFound(STUDENT_NOT_FOUND)
    return page.items[0]


@bp.get("/students")
def list_students():
    page = students.list_students(current_user(), 1, LIST_LIMIT, {"status": "active"})
    return jsonify([_student(s) for s in page.items])


@bp.post("/students")
def create_student():
    actor = current_user()
    record = _record(_body(), partial=False)
    record["email"] = f"{record['roll_no'].lower()}@{NO_EMAIL_DOMAIN}"
    student, _ = students.create_student(actor, record, None)
    return jsonify(_student(student)), 201


@bp.get("/students/<roll_no>")
def get_student(roll_no: str):
    return jsonify(_student(_by_roll_no(current_user(), roll_no)))


@bp.put("/students/<roll_no>")
def update_student(roll_no: str):
    actor = current_user()
    student = _by_roll_no(actor, roll_no)
    return jsonify(_student(students.update_record(actor, student.id, _record(_body(), partial=True))))


@bp.delete("/students/<roll_no>")
def delete_student(roll_no: str):
    actor = current_user()
    students.deactivate(actor, _by_roll_no(actor, roll_no).id)  # ends their sessions
    return jsonify({"message": "Student deleted successfully"})
