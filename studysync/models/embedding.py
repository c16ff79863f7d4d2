"""The embedding cache and the per-college log of matching changes.

`embeddings` keeps one vector per (owner, model): a profile's learning-style text (owner_id is the
student's user id) or a group's descriptive text. `text_hash` is the sha256 of the embedded text,
so a vector is recomputed only when its text changes, never per request.

`matching_changes` gets one row per profile, group or membership flushed (one ORM listener in
services/embeddings.py): which student or group of which college changed, nothing more. Every worker
remembers the last row it applied to its in-process index of the college and applies the newer
ones, so a change made through any worker is noticed by all of them. It is an append-only log, not
a counter, on purpose: an INSERT takes no lock another writer waits for, so two joins in one
college never queue on each other the way they did on the old `college_matching_state` row.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
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


class MatchingChange(Base):
    """Not TenantScoped on purpose: written with Core statements from a flush listener and read by
    the matching index with its college named explicitly, where the ORM tenant filter has nothing to
    add. SQLite's AUTOINCREMENT keeps ids from being reused after the newest rows are pruned."""

    __tablename__ = "matching_changes"
    __table_args__ = (
        Index("ix_matching_changes_college_id_id", "college_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    college_id: Mapped[str] = mapped_column(String(36), ForeignKey("colleges.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # "profile" (subject: a user id) or "group"
    subject_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
