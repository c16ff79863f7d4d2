"""Bulk student registration (PCRM API 10, the `import-students` command, `bench/bulk_register.py`).

One pipeline serves every caller. A batch becomes a `BulkImportJob`; its rows are validated one by
one (a bad row fails on its own, the others go on), bcrypt hashes are computed by a thread pool
(bcrypt releases the GIL, so N cores give about N hashes at a time), and each row commits in its
own transaction together with its `BulkImportRow` outcome and a conditional `done = done + 1`. A
killed worker therefore leaves a job that says exactly how far it got, and submitting the same file
again is harmless: rows already registered come back as "Email already exists".

Small batches run inside the request; larger ones run in a background thread while the client
polls the job. A statement the database refuses for its own reasons (unreachable, timed out, a
deadlock) is retried with back-off for up to BULK_RETRY_SECONDS (`_Patience`); committing a row is
idempotent, so a commit whose answer was lost is not counted twice. Plain passwords never touch the
database, so a job that gave up is not resumed: it ends `interrupted`, and so does one whose worker
died, once it has not moved for BULK_STALLED_SECONDS. Either way its progress names the rows not
imported (`not_imported`), which are exactly the rows from `done` on, and the operator re-submits
those.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterable

from flask import Flask
from marshmallow import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..access import allow, presenter
from ..auth.passwords import hash_password
from ..cores import unpin_thread
from ..config import settings
from ..conflicts import EMAIL_TAKEN, ROLL_NO_TAKEN
from ..db import RETRY, UNAVAILABLE, db, failure_kind, new_id, utcnow
from ..errors import Conflict
from ..models import College, User
from ..models.bulk_job import BulkImportJob, BulkImportRow
from ..observability import metrics
from ..queries import get_scoped_or_404
from ..schemas.student import BulkRowSchema
from ..tenancy import tenant_context
from . import audit
from .students import domain_problem, new_student

log = logging.getLogger(__name__)

DUPLICATE_EMAIL = "Duplicate email in this file"
DUPLICATE_ROLL_NO = "Duplicate roll number in this file"
NOT_AN_OBJECT = "Each row must be an object with the student's fields"
UNKNOWN_CONFLICT = "Could not register this row (conflicting record)"
JOB_NOT_FOUND = "Import job not found"
# Every committed row touches the job (`updated_at`), a few times a second while it runs; a job that
# says "running" but has not moved for BULK_STALLED_SECONDS lost its worker (a restart, a kill).
INTERRUPTED = "interrupted"
INTERRUPTED_MESSAGE = ("The import stopped (its server process ended); submit the rows listed in "
                       "not_imported again")
GAVE_UP_MESSAGE = ("The database was unavailable for too long; submit the rows listed in not_imported "
                   "again")
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 2.0
IN_CHUNK = 500  # bound on the size of one IN (...) list
REASON_MAX, EMAIL_MAX, NAME_MAX, ERROR_MAX = 300, 254, 120, 500

_row_schema = BulkRowSchema()


@dataclass
class PreparedRow:
    """One input row after validation: either a record to register or the reason it fails."""

    index: int
    email: str
    name: str | None = None
    record: dict | None = None
    password: str | None = None
    reason: str | None = None


# --- entry points -----------------------------------------------------------------------------


@allow("admin")
def submit(actor: User, rows: list[Any], app: Flask) -> BulkImportJob:
    """The API's bulk register: a small batch is processed now, a larger one in the background.

    Returns the job; it is `finished` for a small batch and `queued` for a large one. A small batch
    does not wait for a failing database (the client gets its 503 at once).
    """
    if len(rows) <= settings().bulk_sync_max_rows:
        return import_rows(rows, created_by=actor.id, retry_seconds=0)
    job = create_job(len(rows), created_by=actor.id)
    worker = threading.Thread(target=_run_in_background, args=(app, job.college_id, job.id, list(rows)),
                              name=f"bulk-import-{job.id[:8]}", daemon=True)
    worker.start()
    return job


def import_rows(rows: list[Any], created_by: str | None = None,
                on_row: Callable[[PreparedRow], None] | None = None,
                retry_seconds: float | None = None) -> BulkImportJob:
    """Create a job for `rows` and run it in this thread (the current college must be set)."""
    job = create_job(len(rows), created_by=created_by)
    return run_job(job.id, rows, on_row=on_row, retry_seconds=retry_seconds)


def create_job(total: int, created_by: str | None = None) -> BulkImportJob:
    job = BulkImportJob(id=new_id(), status="queued", total=total, done=0, created_by=created_by)
    db.session.add(job)
    audit.record(None, "student.bulk_import", "bulk_import_job", job, {"rows": total})
    db.session.commit()
    return job


class DatabaseGaveUp(Exception):
    """The database kept refusing one step for longer than the job's patience."""


class _Patience:
    """Run a database step again, with back-off, while the database refuses it for its own reasons.

    Each step gets `seconds` from its first attempt; 0 means one attempt. Anything else (a bug, a
    constraint) is raised at once. Giving up raises `DatabaseGaveUp` from the last error.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds

    def run(self, step: Callable[[], Any]) -> Any:
        deadline, pause = time.monotonic() + self.seconds, BACKOFF_FIRST
        while True:
            try:
                return step()
            except (DBAPIError, PoolTimeout) as exc:
                if isinstance(exc, DBAPIError) and failure_kind(exc) not in (RETRY, UNAVAILABLE):
                    raise
                _rollback_quietly()
                if time.monotonic() + pause > deadline:
                    raise DatabaseGaveUp(str(exc)) from exc
                log.warning("Bulk import: database step failed (%s); retrying in %.1fs", type(exc).__name__, pause)
                time.sleep(pause)
                pause = min(pause * 2, BACKOFF_MAX)


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the next step gets a fresh one from the pool
        db.session.close()


def run_job(job_id: str, rows: list[Any], on_row: Callable[[PreparedRow], None] | None = None,
            retry_seconds: float | None = None) -> BulkImportJob:
    """The pipeline: validate every row, hash in parallel, commit row by row in input order."""
    session = db.session
    patience = _Patience(settings().bulk_retry_seconds if retry_seconds is None else retry_seconds)
    job = patience.run(lambda: get_scoped_or_404(BulkImportJob, job_id, JOB_NOT_FOUND))
    if not patience.run(lambda: _claim(job_id)):
        raise Conflict("Import job already started")
    try:
        college = patience.run(lambda: session.get(College, job.college_id))
        prepared = patience.run(lambda: prepare_rows(rows, college))
        _process(job_id, prepared, on_row, patience)
        patience.run(lambda: _end(job_id, "finished"))
    except DatabaseGaveUp as exc:
        log.error("Bulk import job %s interrupted: %s", job_id, exc)
        _end_after_failure(job_id, INTERRUPTED, GAVE_UP_MESSAGE, patience)
        raise exc.__cause__ from None
    except Exception as exc:
        _end_after_failure(job_id, "failed", f"{type(exc).__name__}: {exc}"[:ERROR_MAX], patience)
        raise
    job = session.get(BulkImportJob, job_id, populate_existing=True)  # `done` moved by atomic UPDATEs
    log.info("bulk import finished", extra={"job_id": job.id, "rows": job.total, "done": job.done})
    return job


def _claim(job_id: str) -> bool:
    claimed = db.session.execute(
        update(BulkImportJob).where(BulkImportJob.id == job_id, BulkImportJob.status == "queued")
        .values(status="running")
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _end(job_id: str, status: str, error: str | None = None) -> None:
    db.session.execute(update(BulkImportJob).where(BulkImportJob.id == job_id)
                       .values(status=status, finished_at=utcnow(), error=error)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _end_after_failure(job_id: str, status: str, error: str, patience: _Patience) -> None:
    """Record how the job ended if the database lets us; if not, it reads interrupted once stalled."""
    _rollback_quietly()
    try:
        patience.run(lambda: _end(job_id, status, error))
    except Exception:
        log.exception("Bulk import job %s: could not record that it ended (%s)", job_id, status)


def _run_in_background(app: Flask, college_id: str, job_id: str, rows: list[Any]) -> None:
    with app.app_context(), tenant_context(college_id):
        try:
            run_job(job_id, rows)
        except Exception:  # recorded on the job by run_job; nobody else would see it
            log.exception("Bulk import job %s failed", job_id)


# --- reading jobs -----------------------------------------------------------------------------


@allow("admin")
def get_job(actor: User, job_id: str) -> BulkImportJob:
    """A job of the current college (another college's id is a 404)."""
    return get_scoped_or_404(BulkImportJob, job_id, JOB_NOT_FOUND)


@presenter
def results(job: BulkImportJob) -> dict:
    """The seed's `{success: [...], failed: [...]}` lists, in input order."""
    outcomes = db.session.execute(
        select(BulkImportRow).where(BulkImportRow.job_id == job.id).order_by(BulkImportRow.row_index)
    ).scalars()
    success, failed = [], []
    for outcome in outcomes:
        if outcome.succeeded:
            success.append({"id": outcome.student_id, "email": outcome.student_email, "name": outcome.student_name})
        else:
            failed.append({"student_email": outcome.student_email or None, "reason": outcome.reason,
                           "row": outcome.row_index + 1})
    return {"success": success, "failed": failed}


@presenter
def summary(data: dict) -> str:
    """`"N students registered, M failed"` for a job's result lists, as the seed words it."""
    return f"{len(data['success'])} students registered, {len(data['failed'])} failed"


@presenter
def job_progress(job: BulkImportJob) -> dict:
    """Where a job stands; once finished, with its success and failed lists.

    One statement reads the status, the counter and the outcomes, so they agree with each other
    while the worker keeps committing rows.
    """
    columns = (BulkImportJob.status, BulkImportJob.done, BulkImportJob.finished_at, BulkImportJob.error,
               BulkImportJob.updated_at)
    status, done, finished_at, error, touched, recorded, succeeded = db.session.execute(
        select(*columns, func.count(BulkImportRow.id), func.count(BulkImportRow.student_id))
        .outerjoin(BulkImportRow, BulkImportRow.job_id == BulkImportJob.id)
        .where(BulkImportJob.id == job.id)
        .group_by(BulkImportJob.id, *columns)
    ).one()
    stalled_after = timedelta(seconds=settings().bulk_stalled_seconds)
    if status in ("queued", "running") and utcnow() - (touched or job.created_at) > stalled_after:
        status, error = INTERRUPTED, INTERRUPTED_MESSAGE
    data = {"id": job.id, "status": status, "total": job.total, "done": done, "succeeded": succeeded,
            "failed_count": recorded - succeeded, "created_at": job.created_at, "finished_at": finished_at,
            "error": error}
    if status == "finished":
        data.update(results(job))
    elif status in (INTERRUPTED, "failed"):
        data.update(results(job))
        data["not_imported"] = list(range(done + 1, job.total + 1))  # rows commit in input order
    return data


# --- validation -------------------------------------------------------------------------------


def prepare_rows(rows: Iterable[Any], college: College) -> list[PreparedRow]:
    """Validate each row on its own, then the rules that span rows and the database."""
    prepared = [_validate(index, raw, college) for index, raw in enumerate(rows)]
    _mark_duplicates_in_file(prepared)
    _mark_existing(prepared)
    return prepared


def _validate(index: int, raw: Any, college: College) -> PreparedRow:
    if not isinstance(raw, dict):
        return PreparedRow(index, "", reason=NOT_AN_OBJECT)
    email = raw.get("student_email")
    email = email.strip().lower()[:EMAIL_MAX] if isinstance(email, str) else ""
    name = raw.get("student_name")
    name = name.strip()[:NAME_MAX] if isinstance(name, str) else None
    try:
        record = _row_schema.load(raw)
    except ValidationError as err:
        return PreparedRow(index, email, name, reason=_reason(err.messages))
    password = record.pop("password")
    row = PreparedRow(index, record["email"], record["name"], record, password)
    row.reason = domain_problem(college, row.email)
    return row


def _reason(messages: Any) -> str:
    """`"student_email: Not a valid email address."`, one part per failing field."""
    if not isinstance(messages, dict):
        return "; ".join(str(m) for m in messages)[:REASON_MAX] if isinstance(messages, list) else str(messages)
    parts = []
    for field, problems in messages.items():
        first = problems[0] if isinstance(problems, list) and problems else problems
        if isinstance(first, dict):
            first = _reason(first)
        parts.append(str(first) if field == "_schema" else f"{field}: {first}")
    return "; ".join(parts)[:REASON_MAX]


def _mark_duplicates_in_file(prepared: list[PreparedRow]) -> None:
    """The first valid row with an email (or roll number) keeps it; later ones fail."""
    emails: set[str] = set()
    roll_nos: set[str] = set()
    for row in prepared:
        if row.reason is not None:
            continue
        roll_no = row.record.get("roll_no")
        if row.email in emails:
            row.reason = DUPLICATE_EMAIL
        elif roll_no and roll_no in roll_nos:
            row.reason = DUPLICATE_ROLL_NO
        else:
            emails.add(row.email)
            if roll_no:
                roll_nos.add(roll_no)


def _mark_existing(prepared: list[PreparedRow]) -> None:
    """Fail rows already registered before spending a bcrypt hash on them.

    This is only the cheap early answer: the unique constraints decide at commit (see `_commit_row`).
    """
    candidates = [row for row in prepared if row.reason is None]
    taken_emails = _existing(User.email, [row.email for row in candidates])
    taken_rolls = _existing(User.roll_no, [row.record["roll_no"] for row in candidates if row.record.get("roll_no")])
    for row in candidates:
        if row.email in taken_emails:
            row.reason = EMAIL_TAKEN
        elif row.record.get("roll_no") in taken_rolls:
            row.reason = ROLL_NO_TAKEN


def _existing(column, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start:start + IN_CHUNK]
        found.update(db.session.execute(select(column).where(column.in_(chunk))).scalars())
    return found


# --- processing -------------------------------------------------------------------------------


def _process(job_id: str, prepared: list[PreparedRow], on_row: Callable[[PreparedRow], None] | None,
             patience: _Patience) -> None:
    """Hash in a pool while this thread commits finished rows in input order."""
    rounds = settings().bcrypt_rounds
    to_hash = [row for row in prepared if row.reason is None]
    pool = ThreadPoolExecutor(max_workers=max(1, settings().bulk_workers), thread_name_prefix="bcrypt",
                              initializer=unpin_thread)  # every core, not the worker's one (cores.py)
    try:
        hashes = pool.map(lambda row: hash_password(row.password, rounds), to_hash)
        for row in prepared:
            password_hash = next(hashes) if row.reason is None else None
            row.password = None
            if not patience.run(lambda: _commit_row(job_id, row, password_hash)):
                raise RuntimeError(f"row {row.index + 1} was recorded by another worker")
            metrics.count_bulk_rows("imported" if row.reason is None else "failed")
            if on_row is not None:
                on_row(row)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _commit_row(job_id: str, row: PreparedRow, password_hash: str | None) -> bool:
    """One transaction: the student (if the row is good), its outcome and the job's progress.

    A unique-constraint race (someone registered the same email meanwhile) fails only this row.
    True too when the row is already recorded: a commit that went through but whose answer was lost
    is being retried. False when the job's counter was not at this row: another worker got there first.
    """
    try:
        return _record(job_id, row, password_hash)
    except IntegrityError:
        db.session.rollback()
        row.reason = _conflict_reason(row)
        return _record(job_id, row, None)


def _record(job_id: str, row: PreparedRow, password_hash: str | None) -> bool:
    session = db.session
    advanced = session.execute(
        update(BulkImportJob)
        .where(BulkImportJob.id == job_id, BulkImportJob.done == row.index)
        .values(done=BulkImportJob.done + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not advanced:
        session.rollback()
        return _recorded(job_id, row.index)
    student_id = None
    if row.reason is None:
        student = new_student(row.record, password_hash)
        student.id = student_id = new_id()
        session.add(student)
    session.add(BulkImportRow(job_id=job_id, row_index=row.index, student_email=row.email,
                              student_name=row.name, student_id=student_id, reason=row.reason))
    session.commit()
    return True


def _recorded(job_id: str, index: int) -> bool:
    return db.session.execute(select(BulkImportRow.id).where(
        BulkImportRow.job_id == job_id, BulkImportRow.row_index == index)).first() is not None


def _conflict_reason(row: PreparedRow) -> str:
    if db.session.execute(select(User.id).where(User.email == row.email)).first():
        return EMAIL_TAKEN
    roll_no = row.record.get("roll_no") if row.record else None
    if roll_no and db.session.execute(select(User.id).where(User.roll_no == roll_no)).first():
        return ROLL_NO_TAKEN
    return UNKNOWN_CONFLICT

