"""Each worker on a core of its own: Python's threads hand its one interpreter lock over faster there.

A worker's event loop and request threads take turns at the interpreter lock, many thousand times a
second under load. When they run on different cores, each hand-over has to wake a thread on another
core; on one core it is a plain switch between threads. Kept on one core, one SQLite worker
served the app's polling mix nearly twice as fast on a 2-core machine; two PostgreSQL workers gained
less (bench/request_threads.py --pin 1,0; the README has the figures). The work that runs outside the
lock, bcrypt above all, does better spread over every core: those threads lift the pin for themselves
(`unpin_thread`).

`deploy/gunicorn.conf.py` picks each new worker the core fewest live workers hold (`least_used`) before
forking it, and the worker pins itself to it (`pin`) before it loads the app, so every thread it starts
inherits the pin. Linux only; elsewhere, with one core, or with GUNICORN_PIN_WORKERS=0, nothing is pinned.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import Iterable

_all_cores: set[int] | None = None  # what the process might use before `pin` narrowed it


def available() -> list[int]:
    """The cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def least_used(taken: Iterable[int | None]) -> int | None:
    """The allowed core that the fewest of `taken` (the live workers' cores) hold, or None: no pinning."""
    cores = available()
    if len(cores) < 2:
        return None
    counts = Counter(core for core in taken if core is not None)
    return min(cores, key=lambda core: (counts[core], core))


def pin(core: int) -> None:
    """Keep this process's calling thread, and every thread it starts from now on, on `core`."""
    global _all_cores
    _all_cores = set(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})


def unpin_thread() -> None:
    """Let the calling thread run on every core the process had before `pin` (a ThreadPoolExecutor
    initializer, for threads whose work runs outside the interpreter lock)."""
    if _all_cores is not None:
        os.sched_setaffinity(0, _all_cores)
