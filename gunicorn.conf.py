"""gunicorn settings, read from the working directory (docker compose's web
runs `gunicorn clinic.wsgi:application --config gunicorn.conf.py`; `make
bench` starts its HTTP measures with this same file).

Access log lines hold the path (ids) but never the query string or the
referrer: a patient search is `?q=<name>` (logs hold ids, not names).

Workers: the pages are CPU-bound Python with short database waits, so the
count follows the cores. Sync workers handle one request each; with two of
them on two cores a slow day sheet makes every request behind it wait (the
issue-19 measure saturated at 17.6 req/s with p95 580 ms for 50 users).
gthread workers (cores + 1 processes, 4 threads each) let a short request
(calendar feed, healthz) pass a long one and overlap database round-trips;
the database sees at most workers × threads connections (CONN_MAX_AGE
keeps them). cores + 1, not gunicorn's usual 2 × cores + 1: the work is
CPU-bound, and more processes than cores only take turns on them. On the
2-core bench machine, 100 front-desk users (locust, 30 s a setting, settings
taking turns in two runs on an idle machine), p95: 5×4 517–652 ms, 3×4
346–436 ms, 3×2 250–681 ms, 4×2 311 ms, 2×4 776 ms (runs with another
benchmark on the machine ranked them the same way); 3×4 was the steadiest.
WEB_CONCURRENCY and GUNICORN_THREADS override both, e.g. on a bigger host.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # compose publishes ${PORT:-8000} to this
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker):
    """Once a worker has loaded the app: its modules, URL patterns and
    templates live as long as the process, so they leave the garbage
    collector's scans (gc.freeze), and a full collection waits for more
    allocations (a 300-row day sheet allocates tens of thousands of objects;
    with the default thresholds a request could pay for a full scan of the
    heap, the p95's spikes)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
