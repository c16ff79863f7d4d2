"""gunicorn settings for StudySync: `gunicorn -c deploy/gunicorn.conf.py wsgi:app` (what `make run` does).

Threads, not async workers: the WebSocket stream (/api/v1/stream, flask-sock) holds one thread per open
socket, and the database drivers are ordinary blocking ones. PORT, WEB_CONCURRENCY, GUNICORN_THREADS and
GUNICORN_TIMEOUT override the defaults below from the environment; gunicorn's command line overrides anything.

Workers: without REDIS_URL the live events and the rate-limit counters live inside one process, so a
second worker would neither hear the first one's events nor share its counts: one worker (with more
threads) by default then, two once Redis carries both. WEB_CONCURRENCY above 1 without Redis is
refused at start-up rather than left to drop events silently.
"""
import os

from dotenv import load_dotenv

load_dotenv()  # the app reads .env too: both must agree on REDIS_URL

_shared = bool(os.environ.get("REDIS_URL"))
bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2" if _shared else "1"))
if workers > 1 and not _shared:
    raise SystemExit("WEB_CONCURRENCY > 1 needs REDIS_URL: without it each worker has its own live events "
                     "and rate-limit counters")
worker_class = "gthread"
# Each open WebSocket occupies a thread for as long as it is connected; keep room for plain requests.
threads = int(os.environ.get("GUNICORN_THREADS", "16" if _shared else "32"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5

# Request-line and header limits sit above nginx's (deploy/nginx.conf: each line and header ≤ 8 KiB,
# ~33 KiB of headers in all), so that nginx refuses oversized requests with its JSON error pages and
# gunicorn never answers with its own HTML 414/431. nginx may lengthen a header (X-Forwarded-For gains
# the client address), hence the margin. gunicorn is not meant to face clients without nginx.
limit_request_line = 0  # 0: no limit of its own (gunicorn still stops at 1 MiB)
limit_request_field_size = 16384
limit_request_fields = 10000

accesslog = "-"  # stdout
errorlog = "-"
loglevel = "info"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

