import sys
import threading
import time
import types
import uuid

import numpy as np
import pytest

from studysync.matching import HashingEmbedder, MiniLMEmbedder, create_embedder


def test_hashing_rows_are_unit_float32_and_deterministic():
    texts = ["I learn with diagrams", "Group discussion helps me"]
    a = HashingEmbedder().embed(texts)
    b = HashingEmbedder().embed(texts)
    assert a.dtype == np.float32 and a.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(a, b)


def test_hashing_shared_words_score_higher():
    v = HashingEmbedder().embed(["visual learner with diagrams", "a visual learner", "I prefer listening to podcasts"])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_blank_text_is_a_zero_vector_and_not_encoded():
    e = HashingEmbedder(dim=64)
    v = e.embed(["", "   ", "hello"])
    assert not v[0].any() and not v[1].any() and v[2].any()
    assert (e.calls, e.texts_embedded) == (1, 1)


def test_create_embedder_specs():
    assert create_embedder("hashing").name == "hashing-v1"
    default = create_embedder(None)
    assert isinstance(default, MiniLMEmbedder)
    assert default.name == "sentence-transformers/all-MiniLM-L6-v2" and default.dim == 384
    assert create_embedder("").name == default.name
    assert create_embedder("/models/other").name == "/models/other"


@pytest.fixture
def fake_sentence_transformers(monkeypatch):
    """A stand-in SentenceTransformer that is slow to construct and counts constructions."""
    made = []

    class FakeModel:
        def __init__(self, path, device=None):
            time.sleep(0.2)
            if "broken" in path:
                raise OSError("no such model")
            made.append(path)

        def get_embedding_dimension(self):
            return 384

        def encode(self, texts, **kwargs):
            return np.ones((len(texts), 384), dtype=np.float32)

    monkeypatch.setitem(sys.modules, "sentence_transformers", types.SimpleNamespace(SentenceTransformer=FakeModel))
    return made


def test_model_loads_once_across_threads_and_embedders(fake_sentence_transformers):
    path = f"fake-{uuid.uuid4()}"
    first, second = MiniLMEmbedder(path), MiniLMEmbedder(path)
    assert first.state == "not_loaded"
    first.start_loading()
    assert first.state == "loading"
    results = []
    threads = [threading.Thread(target=lambda e=e: results.append(e.embed(["x"]))) for e in (first, second) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake_sentence_transformers == [path]
    assert first.state == second.state == "loaded"
    assert len(results) == 6 and all(r.shape == (1, 384) for r in results)


def test_model_load_failure_is_reported(fake_sentence_transformers):
    e = MiniLMEmbedder(f"broken-{uuid.uuid4()}")
    with pytest.raises(RuntimeError, match="failed to load"):
        e.embed(["x"])
    assert e.state == "error"
