"""gunicorn settings for StudySync: `gunicorn -c deploy/gunicorn.conf.py asgi:app` (what `make run` does).

uvicorn's worker (`studysync.serving.Worker`): each worker runs one event loop. The live stream
(/api/v1/stream) is served on that loop, so an open socket holds no thread; plain HTTP requests go to
the Flask app in a pool of GUNICORN_THREADS threads per worker (asgi.py). PORT, WEB_CONCURRENCY,
GUNICORN_THREADS and GUNICORN_TIMEOUT override the defaults below from the environment; gunicorn's
command line overrides anything.

Workers: without REDIS_URL the live events and the rate-limit counters live inside one process, so a
second worker would neither hear the first one's events nor share its counts: one worker by default
then, two once Redis carries both. WEB_CONCURRENCY above 1 without Redis is refused at start-up
rather than left to drop events silently.
"""
import os
import resource

from dotenv import load_dotenv

load_dotenv()  # the app reads .env too: both must agree on REDIS_URL

_shared = bool(os.environ.get("REDIS_URL"))
bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2" if _shared else "1"))
if workers > 1 and not _shared:
    raise SystemExit("WEB_CONCURRENCY > 1 needs REDIS_URL: without it each worker has its own live events "
                     "and rate-limit counters")
worker_class = "studysync.serving.Worker"
# Every open socket is a file descriptor: lift the soft limit to the hard one (ulimit -Hn).
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _hard == resource.RLIM_INFINITY or _soft < _hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5

accesslog = "-"  # stdout
errorlog = "-"
loglevel = "info"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

