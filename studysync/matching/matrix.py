"""Every candidate of a college packed into arrays, built once and reused per request.

The seed walked its candidates in Python and re-embedded both learning styles
for each pair. Here the per-candidate work is done once, when the matrix is
built (or rebuilt after profiles change); a recommendation is then a handful
of whole-array NumPy operations:

* subjects: a multi-hot (subject × candidate) uint8 matrix. It is stored
  subject-major so a query's few subjects are a few contiguous rows to add.
* schedule: each candidate's set of (day, slot) pairs as a bitset in uint64
  words (7 days × 4 slots fit in one word); overlap is AND + popcount.
* learning style: the (candidate × dim) float32 matrix of unit embeddings;
  cosine with the query is one matrix-vector product.
* performance: the level per candidate (missing → 3).

A query's subjects or slots that no candidate has are not in the vocabularies
but still count in the query's set sizes, so Jaccard denominators stay exact.

A college changes one student at a time, so ``with_changes`` returns a new
matrix with some rows replaced, appended or retired (``alive`` false, never
scored) instead of building it again; the matrix a request is reading is never
written to. Rows keep their positions, so a ``GroupIndex`` over it stays valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .profile import ProfileData, clamp_level

_WORD_BITS = 64


def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits per uint64 word (np.bitwise_count on NumPy ≥ 2, a byte table otherwise)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    as_bytes = words.view(np.uint8).reshape(words.shape + (8,))
    return _BYTE_POPCOUNT[as_bytes].sum(axis=-1)


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1; zero rows stay zero (cosine 0, not NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


@dataclass
class QueryFeatures:
    """A query profile expressed against one matrix's vocabularies."""

    subject_cols: np.ndarray  # columns of the query's subjects known to the matrix
    subject_keys: frozenset[str]
    subject_size: int  # all distinct query subjects, known or not
    slot_bits: np.ndarray  # (words,) uint64
    slot_size: int  # all distinct query (day, slot) pairs, known or not
    vector: np.ndarray  # (dim,) unit or zero
    level: float


@dataclass
class CandidateMatrix:
    ids: list[str]
    index: dict[str, int]
    profiles: list[ProfileData]
    subject_vocab: dict[str, int]
    subject_rows: np.ndarray  # (subjects, n) uint8
    subject_count: np.ndarray  # (n,) int32
    slot_vocab: dict[tuple[str, str], int]
    slot_bits: np.ndarray  # (n, words) uint64
    slot_count: np.ndarray  # (n,) int32
    vectors: np.ndarray  # (n, dim) float32, unit or zero rows
    levels: np.ndarray  # (n,) float32
    alive: np.ndarray = field(default=None)  # (n,) bool: false for a retired row, which is never scored

    def __post_init__(self) -> None:
        if self.alive is None:
            self.alive = np.ones(len(self.ids), dtype=bool)

    @classmethod
    def build(cls, profiles: list[ProfileData], dim: int) -> CandidateMatrix:
        profiles = list(profiles)
        n = len(profiles)
        subject_vocab: dict[str, int] = {}
        slot_vocab: dict[tuple[str, str], int] = {}
        sub_r, sub_c, masks = [], [], []
        vectors = np.zeros((n, dim), dtype=np.float32)
        levels = np.empty(n, dtype=np.float32)
        for row, p in enumerate(profiles):
            for key in p.subject_map():
                sub_r.append(subject_vocab.setdefault(key, len(subject_vocab)))
                sub_c.append(row)
            mask = 0
            for pair in p.slot_map():
                mask |= 1 << slot_vocab.setdefault(pair, len(slot_vocab))
            masks.append(mask)
            if p.vector is not None:
                v = np.asarray(p.vector, dtype=np.float32).reshape(-1)
                if v.shape[0] != dim:
                    raise ValueError(f"profile {p.id!r}: vector has {v.shape[0]} dims, matrix has {dim}")
                vectors[row] = v
            levels[row] = clamp_level(p.performance_level)

        subject_rows = np.zeros((max(len(subject_vocab), 1), n), dtype=np.uint8)
        subject_rows[sub_r, sub_c] = 1
        slot_bits = _masks_to_words(masks, _words_for(len(slot_vocab)))
        ids = [p.id for p in profiles]
        return cls(
            ids=ids,
            index={pid: i for i, pid in enumerate(ids)},
            profiles=profiles,
            subject_vocab=subject_vocab,
            subject_rows=subject_rows,
            subject_count=subject_rows.sum(axis=0, dtype=np.int32),
            slot_vocab=slot_vocab,
            slot_bits=slot_bits,
            slot_count=popcount(slot_bits).sum(axis=1, dtype=np.int32),
            vectors=unit_rows(vectors),
            levels=levels,
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def retired(self) -> int:
        return len(self.ids) - len(self.index)

    def with_changes(self, upserts: Iterable[ProfileData], removed: Iterable[str] = ()) -> CandidateMatrix:
        """A new matrix where each of ``upserts`` replaces its row (or is appended) and each id of
        ``removed`` is retired. Copies the arrays once; this matrix is left as it was."""
        upserts = list({p.id: p for p in upserts}.values())
        ids, index, profiles = list(self.ids), dict(self.index), list(self.profiles)
        alive = self.alive.copy()
        for pid in removed:
            row = index.pop(pid, None)
            if row is not None:
                alive[row] = False
        old_n = len(ids)
        for p in upserts:
            if p.id not in index:
                index[p.id] = len(ids)
                ids.append(p.id)
                profiles.append(p)
        n = len(ids)
        alive = np.concatenate([alive, np.ones(n - old_n, dtype=bool)])
        subject_vocab, slot_vocab = dict(self.subject_vocab), dict(self.slot_vocab)
        for p in upserts:
            for key in p.subject_map():
                subject_vocab.setdefault(key, len(subject_vocab))
            for pair in p.slot_map():
                slot_vocab.setdefault(pair, len(slot_vocab))

        subject_rows = np.zeros((max(len(subject_vocab), 1), n), dtype=np.uint8)
        subject_rows[: self.subject_rows.shape[0], :old_n] = self.subject_rows
        words = _words_for(len(slot_vocab))
        slot_bits = np.zeros((n, words), dtype=np.uint64)
        slot_bits[:old_n, : self.slot_bits.shape[1]] = self.slot_bits
        vectors = np.zeros((n, self.dim), dtype=np.float32)
        vectors[:old_n] = self.vectors
        levels = np.full(n, 3, dtype=np.float32)
        levels[:old_n] = self.levels
        subject_count = np.zeros(n, dtype=np.int32)
        subject_count[:old_n] = self.subject_count
        slot_count = np.zeros(n, dtype=np.int32)
        slot_count[:old_n] = self.slot_count
        for p in upserts:
            row = index[p.id]
            profiles[row] = p
            keys = p.subject_map()
            subject_rows[:, row] = 0
            subject_rows[[subject_vocab[k] for k in keys], row] = 1
            subject_count[row] = len(keys)
            mask = 0
            for pair in p.slot_map():
                mask |= 1 << slot_vocab[pair]
            slot_bits[row] = _masks_to_words([mask], words)[0]
            slot_count[row] = popcount(slot_bits[row]).sum(dtype=np.int32)
            vectors[row] = 0
            if p.vector is not None:
                v = np.asarray(p.vector, dtype=np.float32).reshape(1, -1)
                if v.shape[1] != self.dim:
                    raise ValueError(f"profile {p.id!r}: vector has {v.shape[1]} dims, matrix has {self.dim}")
                vectors[row] = unit_rows(v)[0]
            levels[row] = clamp_level(p.performance_level)
        return CandidateMatrix(ids=ids, index=index, profiles=profiles, subject_vocab=subject_vocab,
                               subject_rows=subject_rows, subject_count=subject_count, slot_vocab=slot_vocab,
                               slot_bits=slot_bits, slot_count=slot_count, vectors=vectors, levels=levels,
                               alive=alive)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (not the profiles or vocabularies)."""
        arrays = (self.subject_rows, self.subject_count, self.slot_bits, self.slot_count, self.vectors, self.levels)
        return sum(a.nbytes for a in arrays)

    def features(self, query: ProfileData) -> QueryFeatures:
        subject_keys = frozenset(query.subject_map())
        cols = np.array(sorted(self.subject_vocab[k] for k in subject_keys if k in self.subject_vocab), dtype=np.intp)
        pairs = query.slot_map()
        mask = 0
        for pair in pairs:
            if pair in self.slot_vocab:
                mask |= 1 << self.slot_vocab[pair]
        bits = _masks_to_words([mask], self.slot_bits.shape[1])[0]
        if query.vector is None:
            vector = np.zeros(self.dim, dtype=np.float32)
        else:
            vector = unit_rows(np.asarray(query.vector, dtype=np.float32).reshape(1, -1))[0]
            if vector.shape[0] != self.dim:
                raise ValueError(f"query vector has {vector.shape[0]} dims, matrix has {self.dim}")
        return QueryFeatures(
            subject_cols=cols,
            subject_keys=subject_keys,
            subject_size=len(subject_keys),
            slot_bits=bits,
            slot_size=len(pairs),
            vector=vector,
            level=float(clamp_level(query.performance_level)),
        )


def _words_for(slots: int) -> int:
    return max(1, -(-slots // _WORD_BITS))


def _masks_to_words(masks: list[int], words: int) -> np.ndarray:
    out = np.zeros((len(masks), words), dtype=np.uint64)
    low = (1 << _WORD_BITS) - 1
    for w in range(words):
        shift = w * _WORD_BITS
        out[:, w] = np.array([(m >> shift) & low for m in masks], dtype=np.uint64)
    return out
