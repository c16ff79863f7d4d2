"""Search that understands both meaning and the few letters people actually type.

Embeddings alone fail on short fragments ("calc" embeds nowhere near
"Calculus II Crew"); keywords alone miss "visual learner" ↔ "I draw mind
maps". So each item scores

    score = SEMANTIC_WEIGHT · max(cosine, 0) + KEYWORD_WEIGHT · keyword

with ``keyword`` the fraction of the query's words that are a case-insensitive
prefix of some word in the item's name/title or subjects ("calc" → "Calculus").
The weights are 0.6 / 0.4: a full keyword hit (0.4) is worth about a cosine of
0.67 — enough to surface a name match the model misses, while a strong
semantic match (MiniLM cosines for related text run 0.5–0.8) still ranks
next to it.

``SearchIndex`` is built once per item list (sorted token vocabulary with
posting lists, a vector matrix), so a query costs a binary search per word and
one matrix-vector product, not a scan of every item's text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .matrix import unit_rows

SEMANTIC_WEIGHT = 0.6
KEYWORD_WEIGHT = 0.4
DEFAULT_MIN_SCORE = 0.1  # below this a hit is noise: no keyword and a weak cosine

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(str(text).casefold())


@dataclass
class SearchItem:
    id: str
    name: str = ""  # a person's name or a group's title
    subjects: Sequence[str] = ()
    vector: np.ndarray | None = None  # embedding of the item's descriptive text


@dataclass
class SearchHit:
    id: str
    score: float
    semantic: float
    keyword: float


@dataclass
class SearchIndex:
    ids: list[str]
    vectors: np.ndarray  # (n, dim) unit or zero rows
    vocab: list[str]  # sorted distinct tokens
    postings: list[np.ndarray] = field(repr=False)  # item positions per vocab token

    @classmethod
    def build(cls, items: Sequence[SearchItem], dim: int) -> SearchIndex:
        items = list(items)
        vectors = np.zeros((len(items), dim), dtype=np.float32)
        by_token: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            if item.vector is not None:
                vectors[i] = np.asarray(item.vector, dtype=np.float32).reshape(-1)
            words = set(tokens(item.name or ""))
            for s in item.subjects or ():
                words.update(tokens(s))
            for w in words:
                by_token.setdefault(w, []).append(i)
        vocab = sorted(by_token)
        return cls(
            ids=[it.id for it in items],
            vectors=unit_rows(vectors),
            vocab=vocab,
            postings=[np.array(by_token[w], dtype=np.intp) for w in vocab],
        )

    def keyword_scores(self, query: str) -> np.ndarray:
        """Fraction of distinct query words that prefix-match a word of each item."""
        words = list(dict.fromkeys(tokens(query)))
        hits = np.zeros(len(self.ids), dtype=np.float64)
        for w in words:
            lo = bisect_left(self.vocab, w)
            hi = bisect_left(self.vocab, w + "\U0010ffff")
            if hi > lo:
                matched = np.zeros(len(self.ids), dtype=bool)
                for p in self.postings[lo:hi]:
                    matched[p] = True
                hits += matched
        return hits / len(words) if words else hits


def search(
    index: SearchIndex,
    query: str,
    query_vector: np.ndarray | None,
    limit: int = 20,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[SearchHit]:
    """Ranked hits (score desc, then index order) with score ≥ ``min_score``."""
    n = len(index.ids)
    keyword = index.keyword_scores(query)
    if query_vector is None or n == 0:
        semantic = np.zeros(n)
    else:
        qv = unit_rows(np.asarray(query_vector, dtype=np.float32).reshape(1, -1))[0]
        semantic = np.maximum(index.vectors @ qv, 0.0).astype(np.float64)
    total = SEMANTIC_WEIGHT * semantic + KEYWORD_WEIGHT * keyword
    rows = np.flatnonzero(total >= min_score)
    if limit > 0 and len(rows) > limit:
        rows = rows[np.argpartition(-total[rows], limit - 1)[:limit]]
    rows = rows[np.lexsort((rows, -total[rows]))][: max(limit, 0)]
    return [SearchHit(index.ids[r], float(total[r]), float(semantic[r]), float(keyword[r])) for r in rows]


def search_items(
    items: Sequence[SearchItem],
    query: str,
    query_vector: np.ndarray | None,
    limit: int = 20,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[SearchHit]:
    """One-off convenience: build the index and search it."""
    dims = [np.asarray(i.vector).reshape(-1).shape[0] for i in items if i.vector is not None]
    if dims:
        dim = dims[0]
    else:
        dim = np.asarray(query_vector).reshape(-1).shape[0] if query_vector is not None else 1
    return search(SearchIndex.build(items, dim), query, query_vector, limit, min_score)
