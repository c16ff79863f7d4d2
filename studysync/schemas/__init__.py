"""Marshmallow schemas, one module per resource. Shape only: no queries."""
