"""Colleges: the tenants. Not tenant-scoped themselves; only the sysadmin lists them all."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, IdMixin, TimestampMixin

COLLEGE_STATUSES = ("active", "suspended")


class College(IdMixin, TimestampMixin, Base):
    __tablename__ = "colleges"

    name: Mapped[str] = mapped_column(String(200))
    subdomain: Mapped[str] = mapped_column(String(63), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    enabled_features: Mapped[list[str]] = mapped_column(default=lambda: ["core"])
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    email_domains: Mapped[list["CollegeEmailDomain"]] = relationship(
        back_populates="college", cascade="all, delete-orphan", lazy="selectin", order_by="CollegeEmailDomain.domain"
    )

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def domain_names(self) -> list[str]:
        return [d.domain for d in self.email_domains]


class CollegeEmailDomain(Base):
    """A domain belongs to one college, so an app user's email names their college unambiguously."""

    __tablename__ = "college_email_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    college_id: Mapped[str] = mapped_column(ForeignKey("colleges.id", ondelete="CASCADE"), index=True)

    college: Mapped[College] = relationship(back_populates="email_domains")
