"""AI matching (feature `ai_matching`): recommendations, semantic search, auto-formed classroom groups.

The auto-form route lives here rather than in classrooms.py so the whole feature is one blueprint;
`classroom_id` is registered (and tenant-checked) by the classrooms blueprint.
"""
from __future__ import annotations

from ...auth import current_user, login_required
from ...schemas.common import envelope, reply
from ...schemas.matching import (
    AutoFormResultSchema,
    AutoFormSchema,
    RecommendationQuerySchema,
    RecommendationSchema,
    SearchQuerySchema,
    SearchResultSchema,
)
from ...services import auto_form, recommendations, search
from .blueprint import Blueprint

blp = Blueprint("matching", __name__, url_prefix="/api/v1", description="AI matching")


@blp.route("/recommendations", methods=["GET"])
@login_required
@blp.arguments(RecommendationQuerySchema, location="query")
@blp.response(200, envelope(RecommendationSchema, many=True))
def recommend(query):
    results = recommendations.recommend(current_user(), query["kind"], query["limit"])
    return reply(results, "Recommendations retrieved")


@blp.route("/search", methods=["GET"])
@login_required
@blp.arguments(SearchQuerySchema, location="query")
@blp.response(200, envelope(SearchResultSchema, many=True))
def search_college(query):
    return reply(search.search(current_user(), query["q"], query["type"], query["limit"]), "Search results")


@blp.route("/classrooms/<classroom_id>/groups/auto-form", methods=["POST"])
@login_required
@blp.arguments(AutoFormSchema)
@blp.response(200, envelope(AutoFormResultSchema))
def auto_form_groups(body, classroom_id):
    result = auto_form.auto_form_groups(current_user(), classroom_id, body)
    return reply(result, "Groups previewed" if result["dry_run"] else "Groups created")
