"""gunicorn for Mentorship: `gunicorn -c gunicorn.conf.py` (the Dockerfile and docker-compose.yml
run exactly that; flags on the command line override what is here).

The workload: server-rendered pages that spend much of their time waiting on PostgreSQL, with
every long job (publishing a run, invitations, announcements, imports' emails) handed to Celery.
So threaded workers: a process per CPU and then some, each serving several requests at once, so a
slow page or a database wait does not queue everyone behind it, as three sync workers did at 50
users. The timeout matches that design: a page that needs more than 30 s belongs in a task.

Signals to the master process (`docker compose kill -s HUP web`, or `kill -HUP <master pid>`):
- HUP: graceful reload. Re-reads this file, starts new workers with the current code, and lets
  the old ones finish their requests (up to `graceful_timeout`) before they exit. No request is
  dropped: use it after a deploy or a settings change.
- TERM: graceful stop (the same wait); INT or QUIT: stop now.
- TTIN / TTOU: one worker more / fewer.
"""

from __future__ import annotations

import os

from mentorship.settings.environment import env_choice, env_int, env_str

wsgi_app = "mentorship.wsgi:application"
bind = [env_str("GUNICORN_BIND", default="0.0.0.0:8000")]

# `gthread`: threads overlap database and network waits; processes use the CPUs. The CPUs this
# process may run on (a container's cpuset), not the host's.
worker_class = "gthread"
workers = env_int("WEB_CONCURRENCY", default=2 * len(os.sched_getaffinity(0)) + 1, minimum=1)
threads = env_int("GUNICORN_THREADS", default=4, minimum=1)
# Each thread keeps its own database connection (DJANGO_DB_CONN_MAX_AGE): workers x threads
# connections per web container, well under PostgreSQL's default 100 for a small machine.

# A worker whose main loop is silent this long is killed and replaced. (With threads this guards
# the worker, not one request: long work is the workers' job, not the web's.)
timeout = env_int("GUNICORN_TIMEOUT", default=30, minimum=1)
# HUP and TERM let running requests finish for this long; docker-compose.yml gives the container
# longer (stop_grace_period) so they can.
graceful_timeout = 30
# Behind a proxy that reuses connections; it must be shorter than the proxy's idle timeout.
keepalive = 5

# Replace each worker after about a thousand requests, at staggered moments, so slow leaks never
# build up and workers never all restart together.
max_requests = 1000
max_requests_jitter = 100

# Heartbeat files in memory: on a container's overlay filesystem a slow disk write can make a
# healthy worker look silent.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Signals are the documented interface; gunicorn's control socket sits at one path per user, so
# two servers of one user (a benchmark beside the test suite) would take it from each other.
control_socket_disable = True

# One access line per request with its duration and the request id we return (X-Request-ID), so
# a request's access line, its application lines and its tasks' lines share one id.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" '
    "forwarded_for=%({x-forwarded-for}i)s request_id=%({x-request-id}o)s"
)

if env_choice("LOG_FORMAT", choices=("text", "json"), default="text") == "json":
    # The same JSON lines as the application's (common/logging.py); access lines get method,
    # path, status, duration_ms and request_id as fields.
    _handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["log_context"],
    }
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"log_context": {"()": "common.logging.LogContextFilter"}},
        "formatters": {"json": {"()": "common.logging.JsonFormatter"}},
        "handlers": {
            "access": {**_handler, "stream": "ext://sys.stdout"},
            "error": {**_handler, "stream": "ext://sys.stderr"},
        },
        "root": {"level": "INFO", "handlers": ["error"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        },
    }


def post_worker_init(worker: object) -> None:
    """Load every URL pattern (and with them every view, form and selector module) and the base
    template before taking requests: a new worker, after a HUP or its max_requests, otherwise
    spends its first request on that (0.4-0.6 s measured) while a person waits."""
    from django.template.loader import get_template
    from django.urls import reverse

    reverse("core:home")  # builds the whole URL resolver
    get_template("base.html")
