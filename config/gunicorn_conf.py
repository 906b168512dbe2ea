"""gunicorn's settings for ProfRoute in production (README, "Production")::

    gunicorn -c python:config.gunicorn_conf 'app:create_app()'

Every worker builds its own app from the same ``PROFROUTE_*`` settings, so they must share
``PROFROUTE_SECRET_KEY`` and a database all of them reach (PostgreSQL). The address comes from
``PROFROUTE_BIND`` (127.0.0.1:8000: put a TLS proxy in front), the number of workers from
``WEB_CONCURRENCY`` (2); command-line options win over both. Every log line, gunicorn's,
its access log (with the worker's pid) and ProfRoute's own, goes to standard output.
"""

import os

bind = [os.environ.get("PROFROUTE_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 120  # an upload of 20 MB is parsed within the request
accesslog = "-"
access_log_format = '%(h)s %(p)s "%(r)s" %(s)s %(b)s %(M)sms'  # %(p)s: <worker pid>
control_socket_disable = True  # gunicorn >= 25: no socket under ~/.gunicorn to clash on
loglevel = "info"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"},
        "access": {"format": "%(asctime)s [%(process)d] access: %(message)s"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                   "formatter": "line"},
        "access": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                   "formatter": "access"},
    },
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        "urllib3": {"level": "WARNING"},
        "alembic": {"level": "WARNING"},
    },
}
