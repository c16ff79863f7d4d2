"""Query helpers shared by every service: scoped lookups and bounded pages."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError

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


def paginate(stmt: Select, page: int, limit: int, *, scalars: bool = True, params: dict | None = None) -> Page:
    """A page of `stmt` and the total, in one statement: the total rides along as a window count.
    Only a page past the end (no row to carry it) asks for the total separately. `scalars=False`
    gives each item as a tuple of the statement's columns; `params` fill a prebuilt statement's
    bind parameters."""
    if stmt._distinct:  # a window counts before DISTINCT removes duplicates: count them apart
        return _paginate_counted(stmt, page, limit, scalars=scalars, params=params)
    bounds = page_bounds(page, limit)
    rows = db.session.execute(_paged(stmt), {**params, **bounds} if params else bounds).all()
    if rows:
        total = rows[0][-1]
    elif page == 1:
        total = 0
    else:
        total = _count(stmt, params)
    items = [row[0] for row in rows] if scalars else [tuple(row[:-1]) for row in rows]
    return Page(items=items, page=page, limit=limit, total=total)


PAGE_LIMIT, PAGE_OFFSET = "studysync_page_limit", "studysync_page_offset"
_PAGED: WeakKeyDictionary = WeakKeyDictionary()


def bounded(stmt: Select) -> Select:
    """`stmt` with a page's LIMIT and OFFSET as named parameters (`page_bounds` fills them): a
    statement built once per process stays one statement object for every page. A new object per
    page would be a new cache key for SQLAlchemy to work out, a walk of the whole statement, and
    new tenant criteria to add (`tenancy._scoped` keys on the object)."""
    return stmt.limit(bindparam(PAGE_LIMIT, type_=Integer)).offset(bindparam(PAGE_OFFSET, type_=Integer))


def page_bounds(page: int, limit: int) -> dict[str, int]:
    return {PAGE_LIMIT: limit, PAGE_OFFSET: (page - 1) * limit}


def _paged(stmt: Select) -> Select:
    """`stmt` with the total and the page's bounds, built once per statement object (the polled
    lists, my groups and the notifications, run statements built once per process)."""
    paged = _PAGED.get(stmt)
    if paged is None:
        paged = _PAGED[stmt] = bounded(stmt.add_columns(func.count().over().label("page_total")))
    return paged


def _count(stmt: Select, params: dict | None = None) -> int:
    return db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()), params).scalar_one()


def _paginate_counted(stmt: Select, page: int, limit: int, *, scalars: bool, params: dict | None) -> Page:
    total = _count(stmt, params)
    result = db.session.execute(stmt.limit(limit).offset((page - 1) * limit), params)
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, page=page, limit=limit, total=total)


def text_search(q: str, *columns):
    """Rows where any of `columns` contains `q`, case-insensitively, with `q` taken literally: `%`
    and `_` are escaped (`autoescape`), so `q=%` finds a percent sign instead of every row."""
    needle = q.strip().lower()
    return or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))


# Rows created on first use -----------------------------------------------------------------------


def locked_or_created(model: type[T], keys: dict, **defaults) -> tuple[T, bool]:
    """The row of `model` matching `keys` (a unique key), locked until the caller commits; inserted
    with `defaults` if there is none, and then `created` is True. Two requests inserting it at once
    meet at the unique constraint: the loser's savepoint rolls back and it gets the winner's row."""
    stmt = select(model).filter_by(**keys).with_for_update().execution_options(populate_existing=True)
    row = db.session.execute(stmt).scalar_one_or_none()
    if row is not None:
        return row, False
    try:
        with db.session.begin_nested():
            row = model(**keys, **defaults)
            db.session.add(row)
        return row, True
    except IntegrityError:
        return db.session.execute(stmt).scalar_one(), False


# Cursor pages (message threads) ----------------------------------------------------------------
#
# A thread is ordered by (created_at, id), and writers of one thread stamp strictly increasing
# times under a lock on the thread's row, so a cursor naming a message compares against that
# message's (created_at, id): paging backwards while new messages arrive never skips or repeats one,
# and `after=<newest seen>` fetches exactly what is new.


@dataclass
class CursorPage(Generic[T]):
    """Items oldest → newest. `has_more`: older ones exist (a `before`/latest page) or newer ones
    beyond this page (an `after` page). `key` names the id field of each item."""

    items: list[T]
    has_more: bool
    key: str = "message_id"

    @property
    def cursor(self) -> dict:
        return {"oldest": self.items[0][self.key] if self.items else None,
                "newest": self.items[-1][self.key] if self.items else None,
                "has_more": self.has_more}


def after_row(created_col, id_col, moment, row_id):
    """Rows strictly after (moment, row_id) in (created_at, id) order."""
    return or_(created_col > moment, and_(created_col == moment, id_col > row_id))


def before_row(created_col, id_col, moment, row_id):
    """Rows strictly before (moment, row_id) in (created_at, id) order."""
    return or_(created_col < moment, and_(created_col == moment, id_col < row_id))


def cursor_rows(stmt: Select, created_col, id_col, *, before=None, after=None, limit: int) -> tuple[list, bool]:
    """One page of `stmt`'s rows, oldest → newest, and whether more lie beyond it.

    `before`/`after` are (created_at, id) pairs already resolved from the client's message ids.
    No cursor: the newest `limit`. `before`: the `limit` rows just older. `after`: the `limit` rows
    just newer (with `before` too: between the two).
    """
    if after is not None:
        stmt = stmt.where(after_row(created_col, id_col, *after))
    if before is not None:
        stmt = stmt.where(before_row(created_col, id_col, *before))
    if after is not None:
        rows = db.session.execute(stmt.order_by(created_col, id_col).limit(limit + 1)).scalars().all()
        return list(rows[:limit]), len(rows) > limit
    rows = db.session.execute(stmt.order_by(created_col.desc(), id_col.desc()).limit(limit + 1)).scalars().all()
    return list(reversed(rows[:limit])), len(rows) > limit
