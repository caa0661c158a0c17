"""gunicorn settings, read from the environment: `gunicorn wingman.wsgi` picks this file up.

PORT              port to listen on (default 8000), on all interfaces
WEB_CONCURRENCY   worker processes (default: 2 per CPU plus 1, at most 8)
GUNICORN_THREADS  threads per worker (default 4; the app keeps no process-local state)
GUNICORN_TIMEOUT  seconds before a stuck worker is replaced (default 30)
GUNICORN_FREEZE_AFTER  requests after which a worker's objects are frozen for the garbage collector
                  (default 1000; 0: only once the app has loaded; see post_request below)
FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (default: none; Django
                  reads the same variable, see sessions_app/proxies.py)

The access log is off: sessions_app.observability logs one structured line per
request, with its request id, through Django's logging to stderr.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)

# A request should take milliseconds; a worker stuck for 30 s is replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5  # behind a load balancer that keeps connections open

# No recycling by default: the bench measured worker memory flat without it (README, "Benchmark":
# the RSS of each worker over the whole run). GUNICORN_MAX_REQUESTS=N recycles after ~N requests.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Heartbeat files on tmpfs: a slow disk must not make healthy workers look dead.
# (S108: gunicorn creates them there with mkstemp and unlinks them at once, so no
# other user of /dev/shm can guess or replace them; this is gunicorn's advice.)
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# gunicorn's own default trusts 127.0.0.1, so any local client could claim
# https. Trust nobody unless named, and only the header Django reads.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# No runtime control socket: its default path in $HOME is shared by every
# instance on a host (and may be read-only in a container); we don't use it.
control_socket_disable = True

accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
capture_output = False


# Garbage collection. A full collection scans every object in the worker, about 140,000 once it has
# served each kind of request: 50–85 ms with the GIL held, which every request in flight on that worker
# waits out (it was the p99 of the writes and of stats under load). Objects alive once the app has loaded,
# and again after the worker's first requests (URL patterns, templates and caches made on first use),
# are frozen (gc.freeze): the collector no longer scans them, and a full collection then takes ≤ 7 ms.
# They are long-lived anyway; a collection just before freezing keeps garbage out.
FREEZE_AFTER = _int("GUNICORN_FREEZE_AFTER", 1000)


def _freeze_long_lived() -> None:
    import gc

    gc.collect()
    gc.freeze()


def post_worker_init(worker):
    _freeze_long_lived()


def post_request(worker, req, environ, resp):
    if FREEZE_AFTER and not getattr(worker, "warm_frozen", False) and worker.nr >= FREEZE_AFTER:
        worker.warm_frozen = True  # once: set before freezing, so another thread's request does not repeat it
        _freeze_long_lived()
