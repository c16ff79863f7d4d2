"""`GET /api/v1/features`: the feature names StudySync knows and what each gates."""
from __future__ import annotations

from marshmallow import Schema, fields

from ...auth import login_required
from ...features import FEATURES
from ...schemas.common import envelope, reply
from .blueprint import Blueprint

blp = Blueprint("features", __name__, url_prefix="/api/v1/features", description="Known features")


class FeatureSchema(Schema):
    name = fields.String()
    gates = fields.String(metadata={"description": "the routes this feature gates"})


@blp.route("", methods=["GET"])
@login_required
@blp.response(200, envelope(FeatureSchema, many=True))
def list_features():
    """Other slugs a college stores are kept and shown, and gate nothing here."""
    return reply([{"name": name, "gates": gates} for name, gates in FEATURES.items()], "Features retrieved")
