"""Unbound extension objects; `create_app` binds them. Nothing connects at import."""
from flask_smorest import Api

api = Api()
