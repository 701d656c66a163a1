"""Gunicorn settings for the web service: gunicorn -c gunicorn.conf.py ocop.wsgi:application

Tunable from the environment: WEB_CONCURRENCY (worker processes, default 2 x cores + 1),
GUNICORN_THREADS (threads per worker, default 4), GUNICORN_BIND (default 0.0.0.0:8000),
GUNICORN_TIMEOUT (seconds, default 60), GUNICORN_MAX_REQUESTS (default 10000).
"""

import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)

# Load Django once in the master: workers fork ready, so a recycled worker does not stall
# requests while it boots.
preload_app = True

# Recycle workers now and then (guards against slow leaks); the jitter keeps them from all
# restarting at once. Heavy work (PDF batches) runs in Celery, not here.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max(1, max_requests // 10)

timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5

# Logs to stdout/stderr for `docker compose logs`.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
capture_output = True

# Heartbeat files in memory rather than on the container's overlay filesystem.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Trust X-Forwarded-* only from the reverse proxy (a comma-separated list; "*" inside a
# private Docker network). Django reads X-Forwarded-Proto itself via SECURE_PROXY_SSL_HEADER.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
