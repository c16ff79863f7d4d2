"""Every app logs its matching changes, whatever SQLAlchemy's event registry remembers.

The registry keys a session class's listeners by the class's `id()`: a session factory made after
another one was dropped can look as if it were listening already while nothing is attached. The
change log's installer once trusted `event.contains`, and an app built in such a place (the tests
build one per test) logged no change at all: its recommendations never saw a join or a profile
edit (CI failed on it once in a while)."""
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import sessionmaker

from studysync.db import db
from studysync.models import MatchingChange, User
from studysync.services import embeddings
from studysync.tenancy import all_tenants


def _factory_that_looks_listened_to(engine) -> sessionmaker | None:
    for _ in range(200):
        dropped = sessionmaker(engine)
        event.listen(dropped, "after_flush", embeddings.log_on_flush)
        del dropped
        fresh = sessionmaker(engine)
        if event.contains(fresh, "after_flush", embeddings.log_on_flush):
            return fresh
    return None


def _logged(app, college_id: str) -> int:
    with app.app_context(), all_tenants():
        return db.session.execute(select(func.count()).select_from(MatchingChange)
                                  .where(MatchingChange.college_id == college_id)).scalar_one()


def test_a_session_factory_born_where_a_dropped_one_was_still_logs_changes(app, factory):
    kit = factory.college()
    fresh = _factory_that_looks_listened_to(app.extensions["studysync.db"].engine)
    if fresh is None:
        pytest.skip("SQLAlchemy's registry no longer mistakes a new session class for a dropped one")
    embeddings.install(fresh)
    before = _logged(app, kit.id)
    with fresh() as session:
        session.get(User, kit.student.id).name = "Renamed Student"
        session.commit()
    assert _logged(app, kit.id) == before + 1
