"""The Celery application. Tasks are found in each app's ``tasks.py``."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("transbordo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs):
    """Workers and beat log as the web does (LOG_FORMAT, LOG_LEVEL, the quiet filters)."""
    from logging.config import dictConfig

    if not app.conf.worker_hijack_root_logger:
        return  # the process hosting the worker keeps its logging (tests/workers.py)

    from django.conf import settings

    dictConfig(settings.LOGGING)
