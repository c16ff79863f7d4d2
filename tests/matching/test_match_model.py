"""The one test with the real all-MiniLM-L6-v2 (loaded once for this module)."""

import numpy as np
import pytest

from studysync.matching import CandidateMatrix, MiniLMEmbedder, ProfileData, score

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def minilm():
    embedder = MiniLMEmbedder()
    embedder.start_loading()
    embedder.wait_loaded()
    return embedder


def test_visual_learners_are_each_others_best_style_match(minilm):
    texts = ["I learn with diagrams and charts", "visual learner, I draw mind maps", "I prefer listening to lectures"]
    vectors = minilm.embed(texts)
    assert minilm.state == "loaded" and vectors.shape == (3, 384)
    profiles = [ProfileData(f"p{i}", [], {}, None, v) for i, v in enumerate(vectors)]
    matrix = CandidateMatrix.build(profiles, minilm.dim)
    best = [int(np.argmax(score(p, matrix).learning_style * (np.arange(3) != i))) for i, p in enumerate(profiles)]
    assert best[0] == 1 and best[1] == 0
