"""CPU per POST /api/v1/leads in one process, and what of it is the ORM.

    .venv/bin/python -m bench.ingest_cpu [--requests 500]

POSTs leads one after the other through Django's whole request handler
(middleware, DRF, the service, PostgreSQL) in this process, and reports this
process's CPU time and SQL statements per request: a figure that does not
depend on the load generator or on what else shares the cores. In the same
run, the raw baseline's client (``bench.ingest``: lead + two events, with the
round-robin lock) for the client CPU the same writes need, and the API-key
lookup of every request once through the ORM and once as the SQL it compiles
to, for the price of one ORM statement.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
import warnings

from . import common
from .common import Result, log
from .ingest import STORED_LEADS, _raw_worker, prepare, raw_context


def _cpu_ms_per_call(fn, n: int) -> float:
    for _ in range(min(50, n)):
        fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1000


def run(*, requests: int = 500) -> tuple[Result, dict]:
    result = Result("1b ingest CPU")
    key = prepare()
    warnings.filterwarnings("ignore", message="No directory at")  # static files: not served here
    common.django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from teams.models import ApiKey

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", SERVER_NAME=common.HOST)
    tag = uuid.uuid4().hex[:6]
    counter = iter(range(10**9))

    def post():
        n = next(counter)
        answer = client.post("/api/v1/leads", json.dumps(common.lead_body(tag, n)),
                             content_type="application/json")
        if answer.status_code != 201:
            raise RuntimeError(f"POST answered {answer.status_code}: {answer.content[:200]}")

    log(f"ingest CPU: {requests} POSTs in-process")
    for _ in range(30):
        post()
    with CaptureQueriesContext(connection) as ctx:
        post()
    statements = len(ctx.captured_queries)
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        post()
    cpu_ms = (time.process_time() - start_cpu) / requests * 1000
    wall_ms = (time.perf_counter() - start_wall) / requests * 1000

    # The raw client doing the same writes with the round-robin lock, in this process.
    raw_ctx = raw_context()
    start = time.process_time()
    raw_count = len(_raw_worker((raw_ctx, 0, time.time(), time.time() + 3, True)))
    raw_cpu_ms = (time.process_time() - start) / raw_count * 1000

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
               "raw_cpu_ms": raw_cpu_ms, "orm_ms": orm_ms, "sql_ms": sql_ms}
    result.add("CPU per POST in the server process (Django, DRF, service)", cpu_ms, "ms")
    result.add("wall time per POST, one at a time", wall_ms, "ms")
    result.add("SQL statements per POST (with BEGIN and COMMIT)", statements, digits=0)
    result.add("client CPU per lead of the raw baseline with the round-robin lock",
               raw_cpu_ms, "ms", digits=2)
    result.add("API-key lookup: CPU through the ORM / as its SQL by hand",
               f"{orm_ms:.2f} / {sql_ms:.2f}", "ms")
    result.note(f"{requests} sequential POSTs in one process after 30 to warm up; "
                f"{STORED_LEADS:,} earlier leads in the table; the raw client for 3 s")
    return result, figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args(argv)
    print(run(requests=args.requests)[0].markdown())


if __name__ == "__main__":
    main()
