"""Students in the PCRM naming (`student_*`), as the seed fixes it."""
from marshmallow import RAISE, Schema, fields, validate

from ..models.user import USER_STATUSES
from .common import Email, Int, PageQuerySchema, Password, Real, TrimmedString, UTCDateTime

NAME = validate.Length(min=2, max=120, error="Minimum 2 characters")
YEAR = validate.Range(min=1, max=10)


class StudentRecordFields(Schema):
    """Incoming record fields, mapped onto the user row's names."""

    student_name = TrimmedString(required=True, validate=NAME, attribute="name")
    student_email = Email(required=True, attribute="email")
    student_department = TrimmedString(validate=validate.Length(max=120), attribute="department", load_default=None)
    student_year = Int(validate=YEAR, attribute="year", load_default=None)
    roll_no = TrimmedString(validate=validate.Length(min=1, max=50), load_default=None)
    marks = Real(validate=validate.Range(min=0, max=100), load_default=None)


class StudentRegisterSchema(StudentRecordFields):
    college_id = fields.String(required=True)
    student_password = Password(required=True, attribute="password")


class StudentCreateSchema(StudentRecordFields):
    student_password = Password(attribute="password", load_default=None)
    rating = Real(validate=validate.Range(min=0), load_default=0)
    group_limit = Int(validate=validate.Range(min=1, max=50), load_default=None)


class BulkRowSchema(StudentRecordFields):
    student_password = Password(required=True, attribute="password")


class BulkRequestSchema(Schema):
    students = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1, max=1000,
                           error="Between 1 and 1000 students per request"))


class StudentLoginSchema(Schema):
    college_id = fields.String(required=True)
    student_email = Email(required=True)
    student_password = fields.String(required=True)


class StudentLoginResultSchema(Schema):
    token = fields.String()
    role = fields.String()
    student_id = fields.String()
    student_email = fields.String()
    student_name = fields.String()


class StudentSchema(Schema):
    student_id = fields.String(attribute="id")
    college_id = fields.String()
    student_name = fields.String(attribute="name")
    student_email = fields.String(attribute="email")
    student_department = fields.String(attribute="department", allow_none=True)
    student_year = fields.Integer(attribute="year", allow_none=True)
    student_status = fields.String(attribute="status")
    roll_no = fields.String(allow_none=True)
    marks = fields.Float(allow_none=True)
    rating = fields.Float()
    group_limit = fields.Integer(allow_none=True)
    created_at = UTCDateTime()


class StudentBriefSchema(Schema):
    student_id = fields.String(attribute="id")
    student_name = fields.String(attribute="name")
    student_email = fields.String(attribute="email")


class StudentCreatedSchema(StudentSchema):
    temporary_password = fields.String()


class StudentUpdateSchema(Schema):
    student_name = TrimmedString(validate=NAME, attribute="name")
    student_email = Email(attribute="email")
    student_department = TrimmedString(validate=validate.Length(max=120), attribute="department", allow_none=True)
    student_year = Int(validate=YEAR, attribute="year", allow_none=True)
    student_status = fields.String(validate=validate.OneOf(USER_STATUSES), attribute="status")
    roll_no = TrimmedString(validate=validate.Length(min=1, max=50), allow_none=True)
    marks = Real(validate=validate.Range(min=0, max=100), allow_none=True)
    rating = Real(validate=validate.Range(min=0))
    group_limit = Int(validate=validate.Range(min=1, max=50), allow_none=True)


class StudentListQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE  # unknown query parameters stay a 400 on this list (PageQuerySchema ignores them)

    q = fields.String()
    department = fields.String()
    year = Int()
    status = fields.String(validate=validate.OneOf(USER_STATUSES))
    roll_no = fields.String()
    format = fields.String(validate=validate.OneOf(("json", "csv")), load_default=None)  # or Accept: text/csv


class BulkFailureSchema(Schema):
    student_email = fields.String(allow_none=True)  # null when the row had no usable email
    reason = fields.String()
    row = fields.Integer()


class BulkResultSchema(Schema):
    success = fields.List(fields.Nested(StudentBriefSchema))
    failed = fields.List(fields.Nested(BulkFailureSchema))


class BulkJobSchema(Schema):
    """A bulk import: a small batch answers with only `success`/`failed` (the seed's shape); a large
    one with the job (`job_id`, `status`, `total`, `done`, `status_url`), then its progress."""

    job_id = fields.String(attribute="id")
    status = fields.String()
    total = fields.Integer()
    done = fields.Integer()
    succeeded = fields.Integer()
    failed_count = fields.Integer()
    created_at = UTCDateTime()
    finished_at = UTCDateTime(allow_none=True)
    success = fields.List(fields.Nested(StudentBriefSchema))
    failed = fields.List(fields.Nested(BulkFailureSchema))
    error = fields.String(allow_none=True)
    not_imported = fields.List(fields.Integer(), metadata={
        "description": "`interrupted` or `failed` jobs: the row numbers (1-based) never imported; submit those again"})
    status_url = fields.String()
