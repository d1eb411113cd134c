"""Issue 17 §4: docker-compose.yml checked where Docker cannot run, and multiprocess metrics."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from config.celery import app
from ops.probes import PROBES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
OURS = {name: service for name, service in COMPOSE["services"].items()
        if service.get("image", "").startswith("transbordo")}
# Read by something else than config/settings.py, and why.
READ_ELSEWHERE = {
    "PROMETHEUS_MULTIPROC_DIR": "prometheus-client, ops/metrics.py and gunicorn.conf.py",
    "GUNICORN_THREADS": "gunicorn.conf.py (threads per worker, for the live inbox streams)",
}


def settings_variables() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z0-9_]+)["']""", source))


def test_compose_runs_web_workers_beat_and_migrate_from_our_image():
    assert {"web", "worker", "sweeper", "beat", "migrate"} <= set(OURS)


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_service_command_exists_in_the_image(name):
    command = OURS[name]["command"]
    program = command[0]
    if program == "python":
        assert command[1] == "manage.py" and command[2] in get_commands()
    elif program == "gunicorn":
        module, _sep, attribute = command[1].partition(":")
        assert getattr(__import__(module, fromlist=[attribute]), attribute)
        assert (ROOT / "gunicorn.conf.py").exists()
    elif program == "celery":
        assert command[1:3] == ["-A", "config"] and command[3] in ("worker", "beat")
        if "-Q" in command:
            queues = command[command.index("-Q") + 1].split(",")
            assert set(queues) <= set(app.amqp.queues), queues
    else:
        pytest.fail(f"{name}: unknown program {program}")


def test_the_workers_together_consume_every_queue():
    consumed = set()
    for service in OURS.values():
        command = service["command"]
        if command[:4] == ["celery", "-A", "config", "worker"]:
            consumed |= set(command[command.index("-Q") + 1].split(",")) if "-Q" in command \
                else set(app.amqp.queues)
    assert consumed == set(app.amqp.queues)


def test_every_environment_variable_compose_sets_is_read():
    read = settings_variables() | set(READ_ELSEWHERE)
    environment = COMPOSE["x-app"]["environment"]

    assert set(environment) - read == set()


def test_every_variable_of_env_example_is_read():
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    read = settings_variables() | set(READ_ELSEWHERE) | {"WEB_CONCURRENCY", "REDIS_URL"}

    assert names - read == set()


def test_healthchecks_point_at_real_endpoints():
    web = " ".join(OURS["web"]["healthcheck"]["test"])
    [url] = re.findall(r"http://127\.0\.0\.1:8000(/\w+)", web)
    assert url in PROBES and url == "/readyz"
    for name in ("worker", "sweeper"):
        check = " ".join(OURS[name]["healthcheck"]["test"])
        node = re.search(r"-n (\w+)@%h", " ".join(OURS[name]["command"])).group(1)
        assert "inspect ping" in check and f"-d {node}@$$HOSTNAME" in check


def test_probe_paths_answer_through_the_wsgi_application(client, db):
    for path in PROBES:
        assert client.get(path).status_code == 200


def test_counters_of_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """As under gunicorn: each process writes its own file, /metrics reads them all."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    count = ("import django; django.setup(); from ops import metrics; "
             "metrics.OVERFLOW_TRANSFERS.inc(3); "
             "metrics.TASK_DURATION.labels(task='leads.tasks.overflow_sweep').observe(0.2)")
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, cwd=ROOT, check=True,
                       timeout=60)
    read = ("import django; django.setup(); from ops import metrics; "
            "print(metrics.exposition(with_database=False)[0].decode())")
    out = subprocess.run([sys.executable, "-c", read], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=60).stdout

    assert "transbordo_overflow_transfers_total 6.0" in out
    assert ('transbordo_celery_task_duration_seconds_count'
            '{task="leads.tasks.overflow_sweep"} 2.0') in out
