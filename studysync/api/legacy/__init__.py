"""The earlier systems' clients, served at their documented paths (shared/seeds/000, 001, 003).

One module per surface, each a thin translator over the same services as `/api/v1` and the mobile
app's `/api`: its own bodies, answers and error shape, none of the rules. `LEGACY_SURFACES` (a comma
list of the names below, all by default) says which are served.
"""
from __future__ import annotations

from flask import Flask

SURFACES = ("seed000", "seed001", "seed003")


def enabled_surfaces(value: str) -> list[str]:
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SURFACES))
    if unknown:
        raise ValueError(f"Unknown LEGACY_SURFACES: {', '.join(unknown)} (known: {', '.join(SURFACES)})")
    return names


def register(app: Flask, value: str) -> None:
    from . import seed000, seed001, seed003

    modules = {"seed000": seed000, "seed001": seed001, "seed003": seed003}
    for name in enabled_surfaces(value):
        app.register_blueprint(modules[name].bp)
