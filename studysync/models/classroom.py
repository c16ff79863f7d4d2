"""Classrooms: a teacher's class and the students enrolled in it; classroom groups live inside one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, TimestampMixin, utcnow


class Classroom(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "classrooms"
    __table_args__ = (
        UniqueConstraint("college_id", "id"),  # target of composite foreign keys
        UniqueConstraint("college_id", "code"),
        ForeignKeyConstraint(["college_id", "teacher_id"], ["users.college_id", "users.id"],
                             name="fk_classrooms_college_teacher"),
        Index("ix_classrooms_college_teacher", "college_id", "teacher_id"),
    )

    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(String(1000))
    teacher_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class ClassroomEnrollment(TenantScoped, Base):
    __tablename__ = "classroom_enrollments"
    __table_args__ = (
        ForeignKeyConstraint(["college_id", "classroom_id"], ["classrooms.college_id", "classrooms.id"],
                             name="fk_classroom_enrollments_college_classroom", ondelete="CASCADE"),
        ForeignKeyConstraint(["college_id", "student_id"], ["users.college_id", "users.id"],
                             name="fk_classroom_enrollments_college_student", ondelete="CASCADE"),
        Index("ix_classroom_enrollments_student", "student_id"),
    )

    classroom_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
