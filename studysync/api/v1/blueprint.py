"""The v1 surface's Blueprint: flask-smorest's, with each argument schema built once per process.

webargs parses a request's query or body with the schema `@blp.arguments(...)` was given. Given a
schema class, as every v1 route gives it, webargs builds a new instance for every request it parses,
and marshmallow's `Schema.__init__` copies every declared field: ~3% of the instructions of a
listing such as `GET /api/v1/groups/mine`. Here the class becomes an instance once, when the route
is declared.

Sharing it between requests and threads is safe because loading keeps nothing on the schema (a
load's errors and results are its own; our argument schemas have no hooks or fields that store
state). The OpenAPI document is unchanged: flask-smorest documents the class it was given.
"""
from __future__ import annotations

from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser


class ArgumentsParser(FlaskParser):
    def use_args(self, argmap, *args, **kwargs):
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            argmap = argmap()
        return super().use_args(argmap, *args, **kwargs)


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = ArgumentsParser()
