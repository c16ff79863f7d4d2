"""gunicorn settings for StudySync: `gunicorn -c deploy/gunicorn.conf.py asgi:app` (what `make run` does).

uvicorn's worker (`studysync.serving.Worker`): each worker runs one event loop. The live stream
(/api/v1/stream) is served on that loop, so an open socket holds no thread; plain HTTP requests go to
the Flask app in a pool of GUNICORN_THREADS threads per worker, requests of routes that hash passwords
in one of GUNICORN_HASHING_THREADS (asgi.py), each worker pinned to a core of its own. PORT,
WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_HASHING_THREADS, GUNICORN_PIN_WORKERS and GUNICORN_TIMEOUT
override the defaults from the environment; gunicorn's command line overrides anything.

Workers: without REDIS_URL the live events and the rate-limit counters live inside one process, so a
second worker would neither hear the first one's events nor share its counts: one worker by default
then, two once Redis carries both. WEB_CONCURRENCY above 1 without Redis is refused at start-up
rather than left to drop events silently.

Logs and metrics: see "Operating StudySync" in the README (LOG_FORMAT, PROMETHEUS_MULTIPROC_DIR).
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

# Request-line and header limits sit above nginx's (deploy/nginx.conf: each line and header ≤ 8 KiB,
# ~33 KiB of headers in all), so that nginx refuses oversized requests with its JSON error pages and
# gunicorn never answers with its own HTML 414/431. nginx may lengthen a header (X-Forwarded-For gains
# the client address), hence the margin. gunicorn is not meant to face clients without nginx.
limit_request_line = 0  # 0: no limit of its own (gunicorn still stops at 1 MiB)
limit_request_field_size = 16384
limit_request_fields = 10000


# Logs: the app writes one line per request itself (request id, user, college, route template, status,
# duration; observability/requests.py), so gunicorn's own access log is off. gunicorn's error log goes
# through the app's formatter: JSON unless APP_ENV=development or LOG_FORMAT=console.
accesslog = None
errorlog = "-"
loglevel = "info"
_log_format = os.environ.get("LOG_FORMAT") or (
    "console" if os.environ.get("APP_ENV", "development") in ("development", "testing") else "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"studysync": {"()": "studysync.observability.logging.formatter", "log_format": _log_format}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "studysync", "stream": "ext://sys.stdout"}},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False}},
    "root": {"level": "INFO", "handlers": []},  # the app puts its own handler there (no line twice)
}

# Metrics: with several workers each keeps its own counters, so prometheus_client's multiprocess mode
# has every worker write them to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. The
# directory must exist and be empty when the master starts (stale files would count old workers), and a
# dead worker's live gauges (open sockets) are dropped when it exits.
if workers > 1:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                          os.path.join(os.environ.get("TMPDIR", "/tmp"), f"studysync-metrics-{bind.rsplit(':', 1)[-1]}"))
    # gunicorn imports the worker class (and with it the app's metrics, which open their files in the
    # directory) before on_starting runs: on a fresh machine the master died with FileNotFoundError.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


# Cores: each worker is pinned to a core of its own (the one fewest live workers hold), before it loads
# the app, so its threads hand the interpreter lock over on one core (studysync/cores.py has the
# figures). GUNICORN_PIN_WORKERS=0 leaves the scheduler to place them.
_pin_workers = os.environ.get("GUNICORN_PIN_WORKERS", "1") != "0"


def pre_fork(server, worker):
    if _pin_workers:
        from studysync import cores

        worker.core = cores.least_used(getattr(sibling, "core", None) for sibling in server.WORKERS.values())


def post_fork(server, worker):
    if getattr(worker, "core", None) is not None:
        from studysync import cores

        cores.pin(worker.core)
        server.log.info("Worker %s pinned to core %s", worker.pid, worker.core)


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

