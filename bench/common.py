"""What every benchmark shares: the benchmark database, the server, the clock, the stats.

Everything runs on this machine and talks only to 127.0.0.1. The benchmark
database (``transbordo_bench`` unless ``BENCH_DATABASE_URL`` says otherwise) is
dropped and rebuilt from a migrated template at the start of each benchmark,
so runs never see each other's rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/transbordo_bench"
)
# Redis database 13 belongs to the benchmarks (CI uses 15).
BENCH_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
HOST = "127.0.0.1"


def log(*parts) -> None:
    """Progress goes to stderr; stdout carries only the results."""
    print("[bench]", *parts, file=sys.stderr, flush=True)


# --- environment ----------------------------------------------------------------


def bench_env(**extra) -> dict[str, str]:
    """The environment of every process a benchmark starts: production-like settings."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=BENCH_DATABASE_URL,
        DEBUG="0",
        SECRET_KEY="benchmark-only-secret-key",
        ALLOWED_HOSTS=HOST,
        CELERY_BROKER_URL=BENCH_BROKER_URL,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # The throttles still run (their cache round trips are part of the cost measured)
        # but never refuse: benchmarks push one key and one address past real traffic.
        API_THROTTLE_INTAKE="1000000/s",
        API_THROTTLE_KEY="1000000/s",
        API_THROTTLE_ADDRESS="1000000/s",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def django_setup() -> None:
    """Load Django in this process against the benchmark database."""
    os.environ.update(bench_env())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


# --- the benchmark database --------------------------------------------------------


def _db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def dsn(url: str = BENCH_DATABASE_URL) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def connect(url: str = BENCH_DATABASE_URL, autocommit: bool = False):
    conn = psycopg2.connect(dsn(url))
    conn.autocommit = autocommit
    return conn


def _admin(sql: str, params=None):
    conn = connect(_admin_url(BENCH_DATABASE_URL), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(REPO.glob("*/migrations/*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fresh_database() -> None:
    """Drop the benchmark database and clone it from a migrated template.

    The template is migrated once and again only when a migration file changes,
    so each benchmark starts from empty tables in about a second.
    """
    if "django.db" in sys.modules:
        # This process may hold a connection to the database about to be dropped.
        from django.db import connections

        connections.close_all()
    name = _db_name(BENCH_DATABASE_URL)
    template = f"{name}_template"
    fingerprint = _migrations_fingerprint()
    rows = _admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [template],
    )
    if not rows or rows[0][0] != fingerprint:
        log(f"migrating the template database {template}")
        _admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{template}"')
        template_url = urlunsplit(urlsplit(BENCH_DATABASE_URL)._replace(path=f"/{template}"))
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO, env=bench_env(DATABASE_URL=template_url), check=True,
        )
        _admin(f"COMMENT ON DATABASE \"{template}\" IS '{fingerprint}'")
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def seed_demo() -> str:
    """Run ``seed_demo`` against the benchmark database; returns its API key."""
    out = subprocess.run(
        [PYTHON, "manage.py", "seed_demo"], cwd=REPO, env=bench_env(),
        check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        if line.startswith("API key"):
            return line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError(f"seed_demo printed no API key:\n{out}")


def max_connections() -> int:
    return int(_admin("SHOW max_connections")[0][0])


def connections_in_use() -> int:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
    return int(_admin(sql)[0][0])


# --- processes ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout}s")


@contextlib.contextmanager
def started(args: list[str], *, env=None, log_path: Path | None = None, name: str = ""):
    """Start a process in its own process group; stop that group (and only it) on exit."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        args, cwd=REPO, env=env or bench_env(), stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        stop(proc, name=name or args[0])
        if log_path:
            out.close()


def stop(proc: subprocess.Popen, name: str = "", grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        log(f"{name or proc.pid} ignored SIGTERM for {grace}s; killing its group")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


# Two cores shared with PostgreSQL and the load generator. An ingest request is
# CPU-bound (~7 ms of Python, ~1 ms waiting on PostgreSQL) and the round-robin
# team lock serializes a team's leads anyway, so one sync worker per core gave
# the most leads/s and the lowest p99; 3-5 workers only fought over the cores
# (docs/benchmarks.md). Each worker holds one persistent connection (CONN_MAX_AGE).
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
GUNICORN_THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "1"))


@contextlib.contextmanager
def gunicorn(*, workers: int = GUNICORN_WORKERS, threads: int = GUNICORN_THREADS,
             log_path: Path | None = None, env: dict | None = None,
             pidfile: Path | None = None):
    """The real web server, production settings, on a free local port; yields its base URL."""
    port = free_port()
    budget = max_connections() - connections_in_use()
    if workers * threads >= budget:
        raise RuntimeError(
            f"{workers} workers x {threads} threads would need {workers * threads} "
            f"database connections; only {budget} are free"
        )
    args = [
        str(Path(PYTHON).parent / "gunicorn"), "config.wsgi:application",
        "--bind", f"{HOST}:{port}", "--workers", str(workers),
        "--worker-class", "gthread" if threads > 1 else "sync", "--threads", str(threads),
        "--backlog", "2048", "--log-level", "warning", "--timeout", "60",
        *(["--pid", str(pidfile)] if pidfile else []),
    ]
    with started(args, env=env, log_path=log_path, name="gunicorn") as proc:
        wait_for_port(port, proc=proc)
        yield f"http://{HOST}:{port}"


# --- what a benchmark posts ------------------------------------------------------------


def lead_body(tag: str, n: int) -> dict:
    """Lead ``n`` of a run tagged ``tag``: a new customer every time, own e-mail and phone
    (digits from the tag, so runs differ), so round robin picks the attendant, as in
    bench/post_lead.lua."""
    ext = f"{tag}-{n}"
    area = int(hashlib.sha256(tag.encode()).hexdigest(), 16) % 10**6
    return {"name": f"Bench {ext}", "email": f"{ext}@bench.example",
            "phone": f"+55 {area} {n:07d}", "external_id": ext,
            "custom": {"utm_source": "bench", "n": n}}


# --- numbers --------------------------------------------------------------------------


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def md_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def fmt(value, digits: int = 1) -> str:
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class Result:
    """Figures of one benchmark: each with its value, unit and, when it has one, its target."""

    def __init__(self, name: str):
        self.name = name
        self.rows: list[dict] = []
        self.notes: list[str] = []

    def add(self, figure: str, value, unit: str = "", target: str = "", met: bool | None = None,
            digits: int = 1):
        self.rows.append({
            "benchmark": self.name, "figure": figure,
            "value": f"{fmt(value, digits)} {unit}".strip(),
            "target": target,
            "met": "" if met is None else ("yes" if met else "**NO**"),
        })

    def note(self, text: str) -> None:
        self.notes.append(text)

    def markdown(self) -> str:
        text = md_table(self.rows, ["benchmark", "figure", "value", "target", "met"])
        if self.notes:
            text += "\n\n" + "\n".join(f"- {n}" for n in self.notes)
        return text


# --- raw SQL that keeps up with the schema ------------------------------------------------


def other_columns(model, written) -> tuple[str, str]:
    """The columns of ``model`` that a raw INSERT does not name, with their model defaults.

    Returns ``(", col, ...", ", literal, ...")`` to append to an INSERT's column and
    value lists, so the benchmarks' raw SQL keeps working when a field is added.
    Needs ``django_setup()``.
    """
    from django.db import connection

    columns, values = [], []
    conn = connect()
    try:
        with conn.cursor() as cur:
            for field in model._meta.concrete_fields:
                if field.primary_key or field.column in written:
                    continue
                value = field.get_db_prep_save(field.get_default(), connection)
                columns.append(connection.ops.quote_name(field.column))
                values.append(cur.mogrify("%s", [value]).decode())
    finally:
        conn.close()
    if not columns:
        return "", ""
    return ", " + ", ".join(columns), ", " + ", ".join(values)
