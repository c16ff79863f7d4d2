"""Unbound extension objects; `create_app` binds them. Nothing connects at import."""
from flask_cors import CORS
from flask_limiter import Limiter
from flask_smorest import Api

from .ratelimits import api_limit, is_exempt, rate_limit_key

api = Api()
limiter = Limiter(key_func=rate_limit_key, default_limits=[api_limit])
limiter.request_filter(is_exempt)
cors = CORS()
