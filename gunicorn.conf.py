"""gunicorn reads this file from the working directory (/app in the image) by itself.

With PROMETHEUS_MULTIPROC_DIR set, each worker process writes its counters there and
/metrics adds them up: the directory starts empty, and a dead worker's live gauges go.
"""

import os
import shutil


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
