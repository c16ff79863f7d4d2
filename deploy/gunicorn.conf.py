"""gunicorn settings for StudySync: `gunicorn -c deploy/gunicorn.conf.py wsgi:app` (what `make run` does).

Threads, not async workers: the WebSocket stream (/api/v1/stream, flask-sock) holds one thread per open
socket, and the database drivers are ordinary blocking ones. PORT, WEB_CONCURRENCY, GUNICORN_THREADS and
GUNICORN_TIMEOUT override the defaults below from the environment; gunicorn's command line overrides anything.
"""
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Each open WebSocket occupies a thread for as long as it is connected; keep room for plain requests.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5

accesslog = "-"  # stdout
errorlog = "-"
loglevel = "info"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

