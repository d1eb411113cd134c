"""CPU per POST /api/v1/leads in one process, and what of it is the ORM.

    .venv/bin/python -m bench.ingest_cpu [--requests 1000]

POSTs leads one after the other through Django's whole request handler
(middleware, DRF, the service, PostgreSQL) in this process, and reports this
process's CPU time and SQL statements per request: a figure that does not
depend on the load generator or on what else shares the cores. Each request is
a WSGI call, as gunicorn makes it (a prepared environ, the answer read and
closed): Django's test client would add its own work (signals it connects per
request, the request it builds) to the server's. In the same
run, the raw baseline's client (``bench.ingest``: lead + two events, with the
round-robin lock) for the client CPU the same writes need, and the API-key
lookup of every request once through the ORM and once as the SQL it compiles
to, for the price of one ORM statement.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
import uuid
import warnings

from . import common
from .common import Result, log
from .ingest import STORED_LEADS, _raw_worker, prepare, raw_context

ROUNDS = 5
RAW_SECONDS = 0.6
TARGET_RATIO = 10


def _cpu_ms_per_call(fn, n: int) -> float:
    for _ in range(min(50, n)):
        fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1000


def _environ(key: str, body: bytes) -> dict:
    """The WSGI environ of one POST as gunicorn hands it to Django."""
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/leads", "SCRIPT_NAME": "",
        "QUERY_STRING": "", "SERVER_NAME": common.HOST, "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": common.HOST,
        "HTTP_AUTHORIZATION": f"Api-Key {key}", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def run(*, requests: int = 1000) -> tuple[Result, dict]:
    result = Result("1b ingest CPU")
    key = prepare()
    warnings.filterwarnings("ignore", message="No directory at")  # static files: not served here
    common.django_setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from teams.models import ApiKey

    handler = WSGIHandler()
    tag = uuid.uuid4().hex[:6]
    counter = iter(range(10**9))

    def post():
        n = next(counter)
        body = json.dumps(common.lead_body(tag, n)).encode()
        status = []
        answer = handler(_environ(key, body), lambda code, headers: status.append(code))
        content = b"".join(answer)
        answer.close()  # request_finished: what gunicorn does after writing the answer
        if not status[0].startswith("201"):
            raise RuntimeError(f"POST answered {status[0]}: {content[:200]}")

    log(f"ingest CPU: {requests} POSTs in-process, in {ROUNDS} rounds with the raw client")
    for _ in range(30):
        post()
    with CaptureQueriesContext(connection) as ctx:
        post()
    statements = len(ctx.captured_queries)
    # Rounds that alternate the server's POSTs and the raw client, so that whatever else
    # the machine does falls on both; each figure is the median of its rounds.
    raw_ctx = raw_context()
    rounds = []
    for round_no in range(ROUNDS):
        per_round = max(1, requests // ROUNDS)
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        for _ in range(per_round):
            post()
        cpu = (time.process_time() - start_cpu) / per_round * 1000
        wall = (time.perf_counter() - start_wall) / per_round * 1000
        # The raw client doing the same writes with the round-robin lock, in this process.
        start = time.process_time()
        until = time.time() + RAW_SECONDS
        raw_count = len(_raw_worker((raw_ctx, round_no, time.time(), until, True)))
        raw = (time.process_time() - start) / raw_count * 1000
        rounds.append((cpu, wall, raw, cpu / raw))
    cpu_ms, wall_ms, raw_cpu_ms, ratio = (statistics.median(r[i] for r in rounds)
                                          for i in range(4))

    key_hash = ApiKey.hash(key)
    related = ("organization", "organization__default_team__overflow_policy")
    query = ApiKey.objects.select_related(*related).filter(key_hash=key_hash)[:1]
    sql, params = query.query.sql_with_params()

    def orm_lookup():
        list(ApiKey.objects.select_related(*related).filter(key_hash=key_hash)[:1])

    def sql_lookup():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    orm_ms, sql_ms = _cpu_ms_per_call(orm_lookup, 500), _cpu_ms_per_call(sql_lookup, 500)

    from django.db import connections

    connections.close_all()  # the next benchmark drops this database
    figures = {"cpu_ms": cpu_ms, "wall_ms": wall_ms, "statements": statements,
               "raw_cpu_ms": raw_cpu_ms, "ratio": ratio, "orm_ms": orm_ms, "sql_ms": sql_ms}
    result.add("CPU per POST in the server process (Django, DRF, service)", cpu_ms, "ms")
    result.add("wall time per POST, one at a time", wall_ms, "ms")
    result.add("SQL statements per POST (with BEGIN and COMMIT)", statements, digits=0)
    result.add("client CPU per lead of the raw baseline with the round-robin lock",
               raw_cpu_ms, "ms", digits=2)
    result.add("CPU per POST against the raw client's per lead", ratio, "x",
               f"<= {TARGET_RATIO}x", ratio <= TARGET_RATIO)
    result.add("API-key lookup: CPU through the ORM / as its SQL by hand",
               f"{orm_ms:.2f} / {sql_ms:.2f}", "ms")
    result.note(f"{requests} sequential POSTs in one process after 30 to warm up, in "
                f"{ROUNDS} rounds each followed by the raw client for {RAW_SECONDS} s "
                f"(medians; ratio per round: "
                f"{', '.join(f'{r[3]:.1f}' for r in rounds)}); "
                f"{STORED_LEADS:,} earlier leads in the table")
    return result, figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    print(run(requests=args.requests)[0].markdown())


if __name__ == "__main__":
    main()
