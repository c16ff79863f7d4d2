"""Matching: embeddings, scoring, search and group formation.

Plain data in, ranked results out — no Flask, no database, no request — so the
API layer, the CLI and the benchmarks all call the same functions.
"""

from .embedder import Embedder, HashingEmbedder, MiniLMEmbedder, create_embedder
from .explain import explain
from .formation import Formation, auto_form, form_groups, group_sizes
from .groups import GroupData, GroupIndex, GroupScores, score_groups, top_groups
from .matrix import CandidateMatrix
from .profile import DAYS, SLOTS, ProfileData
from .scoring import Match, Scores, Weights, pairwise_matrix, score, top_k
from .search import SearchHit, SearchIndex, SearchItem, search, search_items

__all__ = [
    "DAYS",
    "SLOTS",
    "CandidateMatrix",
    "Embedder",
    "Formation",
    "GroupData",
    "GroupIndex",
    "GroupScores",
    "HashingEmbedder",
    "Match",
    "MiniLMEmbedder",
    "ProfileData",
    "Scores",
    "SearchHit",
    "SearchIndex",
    "SearchItem",
    "Weights",
    "auto_form",
    "create_embedder",
    "explain",
    "form_groups",
    "group_sizes",
    "pairwise_matrix",
    "score",
    "score_groups",
    "search",
    "search_items",
    "top_groups",
    "top_k",
]
