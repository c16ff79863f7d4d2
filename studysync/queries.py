"""Query helpers shared by every service: scoped lookups and bounded pages."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

from sqlalchemy import Select, func, select

from .db import db
from .errors import NotFound

T = TypeVar("T")


def get_scoped_or_404(model: type[T], object_id: str, message: str | None = None, **options) -> T:
    """Load by id through the tenant criteria: another college's id is simply not found."""
    obj = db.session.execute(
        select(model).where(model.id == object_id).execution_options(populate_existing=False), **options
    ).scalar_one_or_none()
    if obj is None:
        raise NotFound(message)
    return obj


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    limit: int
    total: int

    @property
    def pagination(self) -> dict:
        return {"page": self.page, "limit": self.limit, "total": self.total,
                "pages": math.ceil(self.total / self.limit) if self.limit else 0}


def paginate(stmt: Select, page: int, limit: int, *, scalars: bool = True) -> Page:
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    result = db.session.execute(stmt.limit(limit).offset((page - 1) * limit))
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, page=page, limit=limit, total=total)
