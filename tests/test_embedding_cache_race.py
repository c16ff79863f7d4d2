"""Two requests embedding the same profile at once (found by the fuzzing pass: GET /api/v1/search
answered 500 on PostgreSQL with a duplicate key on the embeddings cache)."""
from sqlalchemy import func, select

from studysync.db import db
from studysync.models import Embedding
from studysync.services import embeddings
from studysync.tenancy import tenant_context


def test_a_profile_embedded_by_a_concurrent_request_first_is_not_an_error(app, factory):
    kit = factory.college()
    with app.app_context(), tenant_context(kit.id):
        model = embeddings.embedder()
        vector = model.embed(["visual learner"])[0]
        row = {kit.student.id: ("visual learner", vector)}
        embeddings._store("profile", model.name, row, cached={})  # the other request's write
        embeddings._store("profile", model.name, row, cached={})  # this one read the cache before it
        stored = embeddings.vectors_for("profile", {kit.student.id: "visual learner"}, model)
        count = db.session.execute(select(func.count()).select_from(Embedding)).scalar_one()
    assert count == 1
    assert stored[kit.student.id].tolist() == vector.tolist()
