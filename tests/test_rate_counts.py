"""Where rate-limit counts live (studysync/rate_counts.py): windows counted in this process, and
Redis with its fallback while Redis is down. A clock the test moves stands in for waiting."""
from __future__ import annotations

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from studysync.rate_counts import Counts, LocalWindows
from tests.support.private_redis import private_redis  # noqa: F401 (fixture)


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_window_refuses_past_its_amount_and_opens_again_when_it_ends():
    clock, three_a_minute = Clock(), parse("3 per minute")
    windows = LocalWindows(clock)
    assert [windows.hit(three_a_minute, "user:a", "route") for _ in range(4)] == [True, True, True, False]
    assert windows.hit(three_a_minute, "user:b", "route"), "another user has a window of their own"
    assert windows.hit(three_a_minute, "user:a", "other-route"), "and so has another route"
    clock.now += 30
    stats = windows.get_window_stats(three_a_minute, "user:a", "route")
    assert (stats.reset_time - clock.now, stats.remaining) == (30, 0)
    clock.now += 30
    assert windows.hit(three_a_minute, "user:a", "route")


def test_windows_that_ended_are_dropped():
    clock, one_a_second = Clock(), parse("1 per second")
    windows = LocalWindows(clock, sweep_seconds=60)
    for user in range(1000):
        windows.hit(one_a_second, f"user:{user}", "route")
    clock.now += 61
    windows.hit(one_a_second, "user:late", "route")
    assert len(windows) == 1


def test_with_redis_down_counts_stay_in_this_process_until_redis_answers_a_recheck(private_redis):
    clock, two_a_minute = Clock(), parse("2 per minute")
    counts = Counts(private_redis.url, FixedWindowRateLimiter, LocalWindows(), clock=clock)
    assert counts.run("hit", two_a_minute, "user:a") and private_redis.keys()
    private_redis.kill()

    assert counts.run("hit", two_a_minute, "user:b") and counts.counting_locally
    assert counts.run("hit", two_a_minute, "user:b")
    assert not counts.run("hit", two_a_minute, "user:b"), "the limit holds while Redis is down"

    private_redis.start()  # an empty Redis: whatever lands in it was counted after the restart
    assert counts.run("hit", two_a_minute, "user:c")
    assert not private_redis.keys(), "no request tries Redis before the recheck is due"
    clock.now += 1
    assert counts.run("hit", two_a_minute, "user:c")
    assert not counts.counting_locally and private_redis.keys()
