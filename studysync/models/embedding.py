"""The embedding cache and the per-college matching version stamp.

`embeddings` keeps one vector per (owner, model): a profile's learning-style text (owner_id is the
student's user id) or a group's descriptive text. `text_hash` is the sha256 of the embedded text,
so a vector is recomputed only when its text changes, never per request.

`college_matching_state.version` grows whenever a profile, group or membership of the college is
flushed (one ORM listener in services/embeddings.py). Every worker keys its in-process candidate
matrices on it, so a change made through any worker is noticed by all of them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow

OWNER_TYPES = ("profile", "group")


class Embedding(IdMixin, TenantScoped, Base):
    __tablename__ = "embeddings"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "model", name="uq_embeddings_owner_model"),
        Index("ix_embeddings_college_model", "college_id", "model"),
    )

    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(36))
    model: Mapped[str] = mapped_column(String(200))
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, native little-endian
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CollegeMatchingState(Base):
    """Not TenantScoped on purpose: it is keyed by the college itself and written with Core
    statements from a flush listener, where the ORM tenant filter has nothing to add."""

    __tablename__ = "college_matching_state"

    college_id: Mapped[str] = mapped_column(String(36), ForeignKey("colleges.id", ondelete="CASCADE"),
                                            primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
