"""Unbound extension objects; `create_app` binds them. Nothing connects at import."""
from flask_cors import CORS
from flask_limiter import Limiter
from flask_smorest import Api

from .ratelimits import api_limit, is_exempt, rate_limit_key

api = Api()
# Redis down: count in this process instead (logged by Flask-Limiter as "falling back to in-memory
# storage") and go back to Redis once it answers again; an error even then lets the request through.
limiter = Limiter(key_func=rate_limit_key, default_limits=[api_limit],
                  in_memory_fallback_enabled=True, swallow_errors=True)
limiter.request_filter(is_exempt)
cors = CORS()
