"""Bulk student imports: progress and per-row outcomes live in the database.

Each row commits on its own together with its outcome, so a killed worker leaves a job that says
exactly how far it got.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, IdMixin, TenantScoped, TimestampMixin

JOB_STATUSES = ("queued", "running", "finished", "failed", "interrupted")


class BulkImportJob(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "bulk_import_jobs"

    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(String(500))

    results: Mapped[list["BulkImportRow"]] = relationship(
        back_populates="job", order_by="BulkImportRow.row_index", cascade="all, delete-orphan"
    )


class BulkImportRow(IdMixin, TenantScoped, Base):
    __tablename__ = "bulk_import_rows"
    __table_args__ = (UniqueConstraint("job_id", "row_index"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("bulk_import_jobs.id", ondelete="CASCADE"))
    row_index: Mapped[int] = mapped_column()
    student_email: Mapped[str] = mapped_column(String(254))
    student_name: Mapped[str | None] = mapped_column(String(120))
    student_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(String(300))

    job: Mapped[BulkImportJob] = relationship(back_populates="results")

    @property
    def succeeded(self) -> bool:
        return self.reason is None
