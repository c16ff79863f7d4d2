"""Fixtures for the pure matching package (no app, no database)."""

import pytest

from studysync.matching import HashingEmbedder


def pytest_configure(config):
    config.addinivalue_line("markers", "model: loads the real all-MiniLM-L6-v2 model (slow, ~5 s)")


@pytest.fixture(scope="session")
def hashing():
    return HashingEmbedder()
