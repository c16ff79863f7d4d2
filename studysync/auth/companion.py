"""What a service declares for the token's statement to load with the caller (plain data, no
request: `auth/current.py` reads it for the views marked with its `loads_with_token`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True, eq=False)
class Companion:
    """What a route's service reads first about the caller (and the user its URL names), loaded by
    the token's own statement instead of by a statement of its own (`auth/current.loads_with_token`):
    the polls of the app's DM thread and of its bell are then one statement when they answer 304.

    `columns` come with `joins`, outer joins as (target, on clause), where `User` is the caller.
    The statement runs under all tenants, so each clause keeps to the caller's rows itself.
    `parameters(caller id, URL user id or None)` binds what they name; the view reads the columns
    back with `companion_row()` and hands them to its service. A companion is compared by identity:
    each is one module-level object, and the token's statement is built once per companion."""

    columns: tuple
    joins: tuple[tuple[Any, Any], ...]
    parameters: Callable[[str, str | None], dict[str, Any]]
