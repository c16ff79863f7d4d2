"""A redis-server of a test's own, on a free port: one it may kill, or whose counts no one else moves.

The machine's Redis is shared by everything on it (never stopped or reconfigured by a test)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter

import pytest
import redis

from .processes import free_port


class PrivateRedis:
    def __init__(self, port: int, binary: str):
        self.port, self.binary, self.process = port, binary, None
        self.stats: redis.Redis | None = None  # one connection: a new one would add its HELLO

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", prefix="redis-", suffix=".log")
        self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except redis.RedisError:
                if self.process.poll() is not None:
                    self.log.seek(0)
                    raise AssertionError(f"redis-server did not start: {self.log.read()[-2000:]}")
                assert time.monotonic() < deadline, "redis-server did not answer within 30 s"
                time.sleep(0.1)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)

    def keys(self) -> list:
        return redis.Redis(port=self.port, socket_connect_timeout=1).keys("*")

    def commands(self) -> Counter:
        """The commands this server has run since it started, by name (those a script ran included),
        the INFO calls that asked excepted."""
        if self.stats is None:
            self.stats = redis.Redis(port=self.port, socket_connect_timeout=1)
        return Counter({name.removeprefix("cmdstat_"): stat["calls"]
                        for name, stat in self.stats.info("commandstats").items() if name != "cmdstat_info"})


@pytest.fixture
def private_redis():
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI (a private Redis)")
        pytest.skip("redis-server not found on PATH")
    server = PrivateRedis(free_port(), binary)  # not a fixed port: one met another run's server once, in CI
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()
