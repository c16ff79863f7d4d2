"""The earlier systems' clients (`api/legacy/`, shared/seeds/000, 001, 003), as documented: each surface
in its own bodies, answers and error shape, under a tag of its own.

Every error a legacy route answers comes in that surface's shape (its blueprint's error handlers
reshape ours, the rate limiter's and the edge's): seed 000 `{status, message, data, status_code}`,
seed 001 `{"detail": ...}` (FastAPI's), seed 003 `{"message": ...}` — so each surface lists its
statuses against its own schema here, not against `errors.py`'s envelope.
"""
from __future__ import annotations

from marshmallow import Schema, fields

from ...schemas.common import Real
from .errors import WHEN
from .surfaces import Operation

SEED000, SEED001, SEED003 = "legacy-seed000", "legacy-seed001", "legacy-seed003"

TAGS = [
    {"name": SEED000, "description": "Seed 000's student group client: `/signup`, `/signin`, `/group/create_group` "
                                     "(errors `{status, message, data, status_code}`)"},
    {"name": SEED001, "description": "Seed 001's student management client: `/register`, `/login` (an OAuth2 form), "
                                     "`/students` by roll number (errors `{\"detail\": ...}`)"},
    {"name": SEED003, "description": "Seed 003's classroom study groups at `/api/studygroups` "
                                     "(no envelope; errors `{\"message\": ...}`)"},
]

COLLEGE = ("The college comes from the email's domain (its `email_domains`), the request's subdomain or "
           "`DEFAULT_COLLEGE`; a 400 when none does.")
ACCOUNT = "401 for a wrong password; 403 when the college is suspended."
AUTHENTICATED = frozenset({401, 403, 429, 503})
FORM_BODY = AUTHENTICATED | {400, 413}
JSON_BODY = FORM_BODY | {415}


def _errors(schema: type[Schema], statuses, when: dict[int, str] | None = None) -> dict[str, dict]:
    when = {**WHEN, **(when or {})}
    return {str(status): {"description": when[status], "content": {"application/json": {"schema": schema}}}
            for status in sorted(statuses)}


def _nullable_string(**kwargs):
    return fields.String(allow_none=True, **kwargs)


# Seed 000 ---------------------------------------------------------------------------------------


class Seed000ErrorSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["error"]})
    message = fields.String(required=True)
    data = fields.Raw(required=True, allow_none=True, metadata={"description": "always null"})
    status_code = fields.Integer(required=True, metadata={"description": "the HTTP status again"})


class Seed000SignupSchema(Schema):
    user_id = fields.String(required=True, metadata={"description": "the student's handle"})
    name = fields.String(required=True)
    email = fields.String(required=True)
    password = fields.String(required=True, metadata={"description": "at least 6 characters"})
    rating = Real(min=0, metadata={"description": "kept only where the college's `self_reported_rating` allows it"})


class Seed000SigninSchema(Schema):
    email = fields.String(required=True, metadata={"description": "the email or the handle (`user_id`)"})
    password = fields.String(required=True)


class Seed000CreateGroupSchema(Schema):
    name = fields.String(required=True, metadata={"description": "at most 120 characters are kept"})
    feild = fields.String(metadata={"description": "the subject (the document's spelling)"})
    min_requirement = Real(min=0, metadata={"description": "the minimum rating to join, at least 0"})
    creator_id = fields.String(metadata={"description": "when given, the caller's own `user_id`"})


class Seed000StudentSchema(Schema):
    id = fields.String(required=True)
    user_id = _nullable_string(metadata={"description": "the handle (sign-in answers only)"})
    name = fields.String(required=True)
    email = fields.String(required=True)
    created_at = _nullable_string(required=True, metadata={"description": "naive UTC ISO 8601"})
    updated_at = _nullable_string(required=True)
    rating = fields.Float(required=True)
    group_list = fields.List(fields.String(), required=True, metadata={"description": "the ids of the student's groups"})
    group_limit = fields.Integer(required=True, allow_none=True)


class Seed000SessionSchema(Schema):
    token = fields.String(required=True)
    student = fields.Nested(Seed000StudentSchema, required=True)


class Seed000SessionReplySchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["success"]})
    message = fields.String(required=True)
    data = fields.Nested(Seed000SessionSchema, required=True)
    status_code = fields.Integer(required=True)


class Seed000EmptyReplySchema(Seed000SessionReplySchema):
    data = fields.Raw(required=True, allow_none=True, metadata={"description": "null"})


def _seed000(method, path, operation_id, summary, response, statuses, **kwargs) -> Operation:
    return Operation(method, path, operation_id, summary, SEED000, response, errors=frozenset(),
                     blueprint="legacy_seed000",
                     extra_responses=_errors(Seed000ErrorSchema, statuses), **kwargs)


# Seed 001 ---------------------------------------------------------------------------------------


class Seed001ErrorSchema(Schema):
    detail = fields.String(required=True)


class Seed001RegisterSchema(Schema):
    username = fields.String(required=True)
    email = fields.String(required=True)
    password = fields.String(required=True, metadata={"description": "at least 6 characters"})


LOGIN_FORM = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string", "description": "the handle or the email"},
        "password": {"type": "string"},
        "grant_type": {"type": "string", "description": "ignored (OAuth2's `password`)"},
        "scope": {"type": "string", "description": "ignored"},
    },
}


class Seed001RegisteredSchema(Schema):
    message = fields.String(required=True)
    username = fields.String(required=True)
    email = fields.String(required=True)


class Seed001TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"enum": ["bearer"]})


class Seed001StudentBodySchema(Schema):
    roll_no = fields.String(required=True, metadata={"description": "at most 50 characters (a number is read as text)"})
    name = fields.String(required=True, metadata={"description": "at most 120 characters"})
    branch = _nullable_string(metadata={"description": "at most 120 characters"})
    marks = Real(min=0, max=100, allow_none=True)


class Seed001StudentUpdateSchema(Seed001StudentBodySchema):
    class Meta:
        description = "Any of the fields; those sent are changed"

    roll_no = fields.String(metadata={"description": "at most 50 characters"})
    name = fields.String(metadata={"description": "at most 120 characters"})


class Seed001StudentSchema(Schema):
    roll_no = _nullable_string(required=True)
    name = fields.String(required=True)
    branch = _nullable_string(required=True)
    marks = fields.Float(required=True, allow_none=True)


class Seed001MessageSchema(Schema):
    message = fields.String(required=True)


def _seed001(method, path, operation_id, summary, response, statuses, **kwargs) -> Operation:
    return Operation(method, path, operation_id, summary, SEED001, response, errors=frozenset(),
                     blueprint="legacy_seed001",
                     extra_responses=_errors(Seed001ErrorSchema, statuses, {
                         404: "No active student with this roll number (`Student not found`).",
                         422: "The form lacks `username` or `password`."}), **kwargs)


# Seed 003 ---------------------------------------------------------------------------------------


class Seed003ErrorSchema(Schema):
    message = fields.String(required=True)
    retryAfter = fields.Integer(metadata={"description": "429 only: seconds until the limit resets"})


class Seed003CreateSchema(Schema):
    classroomId = fields.String(required=True)
    memberUserIds = fields.List(fields.String(), required=True, metadata={"description": "at least one user id"})
    name = fields.String(metadata={"description": "at most 120 characters; default `Study group`"})


class Seed003MembersSchema(Schema):
    memberUserIds = fields.List(fields.String(), required=True, metadata={"description": "the whole new list"})


class Seed003UserIdsSchema(Schema):
    userIds = fields.List(fields.String(), required=True, metadata={"description": "at least one user id"})


class Seed003StudyGroupSchema(Schema):
    _id = fields.String(required=True)
    classroomId = _nullable_string(required=True)
    name = fields.String(required=True)
    memberUserIds = fields.List(fields.String(), required=True)
    createdBy = _nullable_string(required=True)
    lastMessageAt = _nullable_string(required=True, metadata={"format": "date-time"})
    isArchived = fields.Boolean(required=True)
    createdAt = _nullable_string(required=True, metadata={"format": "date-time"})
    updatedAt = _nullable_string(required=True, metadata={"format": "date-time"})


class Seed003MemberSchema(Schema):
    _id = fields.String(required=True)
    name = fields.String(required=True)
    email = _nullable_string(required=True, metadata={"description": "null when our rules hide it"})
    role = fields.String(required=True)


class Seed003PopulatedGroupSchema(Seed003StudyGroupSchema):
    memberUserIds = fields.List(fields.Nested(Seed003MemberSchema), required=True)


def _seed003(method, path, operation_id, summary, response, statuses, **kwargs) -> Operation:
    return Operation(method, path, operation_id, summary, SEED003, response, errors=frozenset(),
                     blueprint="legacy_seed003",
                     extra_responses=_errors(Seed003ErrorSchema, statuses, {
                         401: "No token, or an invalid one (`Unauthorized - Invalid or missing token`).",
                         404: "`Study group not found` (or `Classroom not found`); another college's id looks "
                              "exactly like a missing one."}), **kwargs)


GROUP = "/api/studygroups/{group_id}"

OPERATIONS = [
    _seed000("post", "/signup", "seed000_signup", "Sign up a student (seed 000)", Seed000SessionReplySchema,
             JSON_BODY | {409}, status=201, body=Seed000SignupSchema, public=True,
             example={"user_id": "jdoe", "name": "Jane Doe", "email": "jane@demo.edu", "password": "secret123"},
             description=COLLEGE + " 409 when the email or the handle is taken."),
    _seed000("post", "/signin", "seed000_signin", "Sign in with the email or handle (seed 000)",
             Seed000SessionReplySchema, JSON_BODY, body=Seed000SigninSchema, public=True,
             example={"email": "alice.johnson@demo.edu", "password": "Student@1234"}, description=ACCOUNT),
    _seed000("post", "/group/create_group", "seed000_create_group", "Create an open group (seed 000)",
             Seed000EmptyReplySchema, JSON_BODY | {409}, status=201, body=Seed000CreateGroupSchema,
             example={"name": "Calculus crew", "feild": "Mathematics", "min_requirement": 0}),

    _seed001("post", "/register", "seed001_register", "Register a student account (seed 001)",
             Seed001RegisteredSchema, JSON_BODY | {409}, status=201, body=Seed001RegisterSchema, public=True,
             example={"username": "jdoe", "email": "jane@demo.edu", "password": "secret123"},
             description=COLLEGE + " 409 when the email or the username is taken."),
    _seed001("post", "/login", "seed001_login", "Log in with an OAuth2 password form (seed 001)", Seed001TokenSchema,
             FORM_BODY | {422}, body=LOGIN_FORM, body_media="application/x-www-form-urlencoded", public=True,
             description="A form, not JSON: `username` (the handle or the email) and `password`. 422 when either "
                         "is missing (FastAPI's status). " + ACCOUNT),
    _seed001("get", "/students", "seed001_list_students", "The college's active students (first 100, seed 001)",
             {"type": "array", "items": Seed001StudentSchema}, AUTHENTICATED),
    _seed001("post", "/students", "seed001_create_student", "Add a student by roll number (seed 001)",
             Seed001StudentSchema, JSON_BODY | {409}, status=201, body=Seed001StudentBodySchema,
             example={"roll_no": "CS101", "name": "Jane Doe", "branch": "CSE", "marks": 88.5},
             description="Staff only. 409 when the roll number is taken."),
    _seed001("get", "/students/{roll_no}", "seed001_get_student", "A student by roll number (seed 001)",
             Seed001StudentSchema, AUTHENTICATED | {404}),
    _seed001("put", "/students/{roll_no}", "seed001_update_student", "Change a student (seed 001)",
             Seed001StudentSchema, JSON_BODY | {404, 409}, body=Seed001StudentUpdateSchema,
             example={"marks": 91}),
    _seed001("delete", "/students/{roll_no}", "seed001_delete_student", "Delete a student (seed 001)",
             Seed001MessageSchema, AUTHENTICATED | {404, 409},
             description="Deactivates the student (their groups keep their history) and ends their sessions; "
                         "they are gone from this surface."),

    _seed003("post", "/api/studygroups/", "seed003_create", "Create a classroom study group (seed 003)",
             Seed003StudyGroupSchema, JSON_BODY | {404, 409}, status=201, body=Seed003CreateSchema,
             example={"classroomId": "<a classroom id>", "memberUserIds": ["<a classmate's id>"],
                      "name": "Midterm prep"}),
    _seed003("get", "/api/studygroups/", "seed003_mine", "My active study groups (seed 003)",
             {"type": "array", "items": Seed003StudyGroupSchema}, AUTHENTICATED),
    _seed003("get", "/api/studygroups/classroom/{classroom_id}", "seed003_classroom",
             "A classroom's study groups (seed 003)", {"type": "array", "items": Seed003StudyGroupSchema},
             AUTHENTICATED | {404}),
    _seed003("get", GROUP, "seed003_get", "A study group with its members (seed 003)", Seed003PopulatedGroupSchema,
             AUTHENTICATED | {404}),
    _seed003("put", GROUP + "/members", "seed003_replace_members", "Replace a study group's members (seed 003)",
             Seed003StudyGroupSchema, JSON_BODY | {404, 409}, body=Seed003MembersSchema,
             example={"memberUserIds": ["<a classmate's id>"]}),
    _seed003("post", GROUP + "/members", "seed003_add_members", "Add members to a study group (seed 003)",
             Seed003StudyGroupSchema, JSON_BODY | {404, 409}, body=Seed003UserIdsSchema,
             example={"userIds": ["<a classmate's id>"]}),
    _seed003("delete", GROUP + "/members", "seed003_remove_members", "Remove members from a study group (seed 003)",
             Seed003StudyGroupSchema, JSON_BODY | {404, 409}, body=Seed003UserIdsSchema,
             example={"userIds": ["<a classmate's id>"]}),
    _seed003("post", GROUP + "/archive", "seed003_archive", "Archive a study group (seed 003)",
             Seed003StudyGroupSchema, AUTHENTICATED | {404, 409}),
]
