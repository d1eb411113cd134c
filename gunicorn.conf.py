"""gunicorn reads this file from the working directory (/app in the image) by itself.

With PROMETHEUS_MULTIPROC_DIR set, each worker process writes its counters there and
/metrics adds them up: the directory starts empty, and a dead worker's live gauges go.
"""

import os
import shutil

# Threaded workers: the inbox's live stream (live/views.py) keeps a request open for up to
# LIVE_STREAM_SECONDS (25 s), which would take a whole sync worker. A gthread worker serves
# GUNICORN_THREADS requests at once, so open inboxes hold threads, not processes. Each
# thread may hold a database connection (CONN_MAX_AGE): size PostgreSQL's max_connections
# for web replicas x WEB_CONCURRENCY x GUNICORN_THREADS. The stream closes before
# `timeout` (30 s), and with gthread the timeout watches the worker, not a single request.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = 30


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
